/**
 * The sending side of the call-event feed (recorder/netfeed/feed-frame.ts): connect, answer the
 * recorder's challenge with a HELLO proving the shared key, then stream SIP frames, each sealed
 * with the session key and numbered. Writes respect the socket's backpressure; keep-alives go
 * out when nothing else does, so the recorder's idle timeout never closes a quiet feed.
 */
import { connect, type Socket } from 'node:net';
import { sealFrame, helloProof, sessionKey } from '../../recorder/netfeed/feed-auth.js';
import { encodeHello, encodeKeepAlive, encodeSip, FrameType, NONCE_LEN, type FeedSipFields } from '../../recorder/netfeed/feed-frame.js';
import { parseIpv4 } from '../../recorder/core/address.js';
import { parseIpv6 } from '../../recorder/calls/endpoint-key.js';

export class FeedClientError extends Error {
  override readonly name = 'FeedClientError';
}

const ipBytes = (ip: string): Buffer | null => {
  const v4 = parseIpv4(ip);
  if (v4 >= 0) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v4, 0);
    return b;
  }
  return parseIpv6(ip);
};

export interface FeedClientOptions {
  host: string;
  port: number;
  key: string;
  frontEnd: string;
  keepAliveSec?: number;
  connectTimeoutSec?: number;
}

export class FeedClient {
  private seq = 1;
  private session: Buffer | null = null;
  private keepAlive: NodeJS.Timeout | null = null;
  private lastWrite = 0;
  sent = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly opts: FeedClientOptions,
  ) {}

  /** Connects and authenticates; rejects with FeedClientError when refused or unreachable. */
  static async open(opts: FeedClientOptions): Promise<FeedClient> {
    const socket = connect({ host: opts.host, port: opts.port });
    socket.setNoDelay(true);
    const client = new FeedClient(socket, opts);
    await client.handshake();
    return client;
  }

  private handshake(): Promise<void> {
    const { socket, opts } = this;
    return new Promise<void>((resolve, reject) => {
      let buf = Buffer.alloc(0);
      let nonce: Buffer | null = null;
      const timer = setTimeout(() => done(new FeedClientError(`no answer from ${opts.host}:${opts.port}`)), (opts.connectTimeoutSec ?? 10) * 1000);
      const done = (err: Error | null): void => {
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', onError);
        socket.off('close', onClose);
        if (err) {
          socket.destroy();
          reject(err);
        } else resolve();
      };
      const onError = (e: Error): void => done(new FeedClientError(`${opts.host}:${opts.port}: ${e.message}`));
      const onClose = (): void => done(new FeedClientError(`${opts.host}:${opts.port} closed the connection`));
      const onData = (chunk: Buffer): void => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 5) {
          const len = buf.readUInt32BE(0) + 4;
          if (len > 4096) return done(new FeedClientError('not a feed recorder (frame too large)'));
          if (buf.length < len) return;
          const type = buf[4];
          const body = buf.subarray(5, len);
          buf = buf.subarray(len);
          if (type === FrameType.Challenge && nonce === null && body.length === 1 + NONCE_LEN) {
            nonce = Buffer.from(body.subarray(1));
            socket.write(encodeHello(opts.frontEnd, helloProof(opts.key, nonce, opts.frontEnd)));
          } else if (type === FrameType.Accept && nonce !== null) {
            this.session = sessionKey(opts.key, nonce, opts.frontEnd);
            this.startKeepAlive();
            return done(null);
          } else if (type === FrameType.Reject) {
            return done(new FeedClientError(`refused: ${body.toString('utf8')}`));
          } else return done(new FeedClientError(`unexpected frame type ${type}`));
        }
      };
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('close', onClose);
    });
  }

  private startKeepAlive(): void {
    const every = (this.opts.keepAliveSec ?? 30) * 1000;
    this.keepAlive = setInterval(() => {
      if (Date.now() - this.lastWrite >= every) void this.write(sealFrame(this.session!, encodeKeepAlive(this.seq++)));
    }, every);
    this.keepAlive.unref();
  }

  private write(frame: Buffer): Promise<void> {
    this.lastWrite = Date.now();
    if (this.socket.write(frame)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = (): void => {
        this.socket.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        this.socket.off('drain', onDrain);
        reject(new FeedClientError('the recorder closed the connection'));
      };
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /** Sends one SIP message (the frame's seq is assigned here). */
  async sendSip(fields: Omit<FeedSipFields, 'seq'>, message: Buffer): Promise<void> {
    if (this.session === null) throw new FeedClientError('not authenticated');
    if (this.socket.destroyed) throw new FeedClientError('the recorder closed the connection');
    const frame = sealFrame(this.session, encodeSip({ ...fields, seq: this.seq++ }, message, ipBytes));
    this.sent++;
    await this.write(frame);
  }

  /** Flushes and closes (resolves once the recorder has everything). */
  async close(): Promise<void> {
    if (this.keepAlive) clearInterval(this.keepAlive);
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 5000).unref();
    });
  }
}
