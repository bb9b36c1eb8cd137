/**
 * HEP over UDP (the default, as heplify and Kamailio send it): one HEP packet per datagram on a
 * connected socket. On Linux the datagrams of one capture batch leave in one sendmmsg(2)
 * (recorder/capture/batch-sender.ts), flushed in a microtask after the batch is forwarded; elsewhere,
 * or for a host name, through dgram. Nothing is buffered beyond the kernel: a datagram the socket
 * buffer (or Node's send queue, MAX_QUEUED) cannot take is dropped and counted as overflow.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP, isIPv6 } from 'node:net';
import { BatchSender } from '../../recorder/capture/batch-sender.js';
import { newStats, type Destination, type DestinationSpec } from './destination.js';

const MAX_QUEUED = 4096;

export class UdpDestination implements Destination {
  seq = 0;
  readonly stats = newStats();
  private readonly socket: Socket | null = null;
  private connected = false;
  private readonly ready: Promise<void> = Promise.resolve();
  private readonly waiting: Buffer[] = [];
  private readonly batch: BatchSender | null = null;
  private flushQueued = false;
  private readonly flushNow = (): void => {
    this.flushQueued = false;
    this.flushBatch();
  };

  constructor(readonly spec: DestinationSpec) {
    if (process.env['AGENT_UDP_DGRAM'] !== '1' && isIP(spec.host) !== 0) this.batch = BatchSender.udp(spec.host, spec.port);
    if (this.batch !== null) return;
    const socket = createSocket(isIPv6(spec.host) ? 'udp6' : 'udp4');
    this.socket = socket;
    socket.on('error', () => {
      this.stats.errors++;
    });
    this.ready = new Promise<void>((resolve) => {
      socket.connect(spec.port, spec.host, () => {
        this.connected = true;
        for (const b of this.waiting.splice(0)) this.write(b);
        resolve();
      });
    });
  }

  get up(): boolean {
    return true;
  }

  private readonly room: { buf: Buffer; off: number } = { buf: Buffer.alloc(0), off: 0 };

  reserve(size: number): { buf: Buffer; off: number } | null {
    const batch = this.batch;
    if (batch === null) return null;
    let off = batch.reserve(size);
    if (off < 0) {
      this.flushBatch();
      off = batch.reserve(size);
      if (off < 0) return null; // larger than the whole batch buffer: send() counts it
    }
    this.scheduleFlush();
    this.room.buf = batch.buffer;
    this.room.off = off;
    return this.room;
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(this.flushNow);
  }

  send(buf: Buffer, _seq: number): void {
    const batch = this.batch;
    if (batch !== null) {
      if (!batch.push(buf)) {
        this.flushBatch();
        if (!batch.push(buf)) this.stats.overflow++; // larger than the whole batch buffer
      }
      this.scheduleFlush();
      return;
    }
    const socket = this.socket!;
    if (!this.connected) {
      if (this.waiting.length < MAX_QUEUED) this.waiting.push(buf);
      else this.stats.overflow++;
      return;
    }
    if (socket.getSendQueueCount() >= MAX_QUEUED) {
      this.stats.overflow++;
      return;
    }
    this.write(buf);
  }

  private flushBatch(): void {
    const r = this.batch!.flush();
    this.stats.sent += r.sent;
    this.stats.overflow += r.dropped;
  }

  private write(buf: Buffer): void {
    this.stats.sent++;
    this.socket!.send(buf);
  }

  async drain(timeoutMs: number): Promise<boolean> {
    if (this.batch !== null) {
      this.flushBatch();
      return true;
    }
    await this.ready;
    const socket = this.socket!;
    const until = Date.now() + timeoutMs;
    while (socket.getSendQueueCount() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    return socket.getSendQueueCount() === 0;
  }

  close(): Promise<void> {
    if (this.batch !== null) {
      this.flushBatch();
      this.batch.close();
      return Promise.resolve();
    }
    const socket = this.socket!;
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}
