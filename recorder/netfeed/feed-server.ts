/**
 * The recorder's call-event feed listener (default TCP 8008): one FeedSession per Front End
 * connection, authenticated feed messages handed to the netfeed tracker. Connections are capped;
 * one that says nothing for `idleSec` (no frame, not even a keep-alive) is closed; a sender that
 * fails authentication or breaks the framing is disconnected (feed-session.ts). Nothing a sender
 * does can throw out of here: a handler error is counted (`netfeed.bug`) and that connection closed.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { Counters } from '../core/counters.js';
import { parseListen } from '../ops/listen-address.js';
import { NONCE_LEN } from './feed-frame.js';
import { FeedSession } from './feed-session.js';
import type { FeedSip } from './feed-frame.js';

export const DEFAULT_NETFEED_PORT = 8008;

export interface FeedServerOptions {
  /** `host:port`; port 0 picks a free one (tests). */
  listen: string;
  /** The shared key every Front End's sender holds. */
  key: string;
  maxConnections?: number;
  /** Seconds of silence before a connection is closed (senders send keep-alives). */
  idleSec?: number;
  log?: (line: string) => void;
}

export type FeedSipHandler = (frontEnd: string, f: FeedSip, buf: Buffer) => void;

export class FeedServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Map<Socket, FeedSession>();

  private constructor(
    private readonly opts: FeedServerOptions,
    private readonly counters: Counters,
    private readonly onSip: FeedSipHandler,
  ) {
    this.server = createServer((socket) => this.accept(socket));
    this.server.maxConnections = opts.maxConnections ?? 256;
  }

  /** Starts listening; resolves with the server once bound (rejects with the bind error). */
  static async start(opts: FeedServerOptions, counters: Counters, onSip: FeedSipHandler): Promise<FeedServer> {
    if (!opts.key) throw new Error('netfeed: a shared key is required');
    const addr = parseListen(opts.listen);
    if (typeof addr === 'string') throw new Error(`netfeed: ${opts.listen}: ${addr}`);
    const s = new FeedServer(opts, counters, onSip);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(addr.port, addr.host, () => {
        s.server.off('error', reject);
        resolve();
      });
    });
    return s;
  }

  get port(): number {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a.port : 0;
  }

  /** Front Ends connected and authenticated now, by identity. */
  get frontEnds(): string[] {
    return [...this.sessions.values()].filter((s) => s.authenticated).map((s) => s.frontEnd);
  }

  get connections(): number {
    return this.sockets.size;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout((this.opts.idleSec ?? 300) * 1000);
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    const session = new FeedSession(this.opts.key, randomBytes(NONCE_LEN), this.counters, {
      send: (frame) => {
        if (!socket.destroyed) socket.write(frame);
      },
      close: (reason) => {
        this.opts.log?.(`netfeed ${peer}${session.frontEnd ? ` (${session.frontEnd})` : ''}: closed: ${reason}`);
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      },
      onSip: (frontEnd, f, buf) => this.onSip(frontEnd, f, buf),
    });
    this.sessions.set(socket, session);
    socket.on('data', (chunk: Buffer) => {
      try {
        const wasAuthenticated = session.authenticated;
        session.push(chunk);
        if (!wasAuthenticated && session.authenticated) this.opts.log?.(`netfeed ${peer}: Front End "${session.frontEnd}" connected`);
      } catch {
        // Our bug, not the sender's: count it, keep the recorder running, drop this connection.
        this.counters.inc('netfeed.bug');
        socket.destroy();
      }
    });
    socket.on('timeout', () => {
      this.counters.inc('netfeed.idle_closed');
      socket.destroy();
    });
    socket.on('error', () => this.counters.inc('netfeed.socket_error'));
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.sessions.delete(socket);
    });
    session.start();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
