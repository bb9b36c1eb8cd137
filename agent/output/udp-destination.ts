/**
 * HEP over UDP (the default, as heplify and Kamailio send it): one HEP packet per datagram on a
 * connected socket. Nothing is buffered beyond the kernel: a datagram is either sent or, when
 * Node's own send queue already holds MAX_QUEUED datagrams (the host cannot keep up), dropped
 * and counted as overflow.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { newStats, type Destination, type DestinationSpec } from './destination.js';

const MAX_QUEUED = 4096;

export class UdpDestination implements Destination {
  seq = 0;
  readonly stats = newStats();
  private readonly socket: Socket;
  private connected = false;
  private readonly ready: Promise<void>;
  private readonly waiting: Buffer[] = [];

  constructor(readonly spec: DestinationSpec) {
    this.socket = createSocket(isIPv6(spec.host) ? 'udp6' : 'udp4');
    this.socket.on('error', () => {
      this.stats.errors++;
    });
    this.ready = new Promise<void>((resolve) => {
      this.socket.connect(spec.port, spec.host, () => {
        this.connected = true;
        for (const b of this.waiting.splice(0)) this.write(b);
        resolve();
      });
    });
  }

  get up(): boolean {
    return true;
  }

  send(buf: Buffer, _seq: number): void {
    if (!this.connected) {
      if (this.waiting.length < MAX_QUEUED) this.waiting.push(buf);
      else this.stats.overflow++;
      return;
    }
    if (this.socket.getSendQueueCount() >= MAX_QUEUED) {
      this.stats.overflow++;
      return;
    }
    this.write(buf);
  }

  private write(buf: Buffer): void {
    this.stats.sent++;
    this.socket.send(buf);
  }

  async drain(timeoutMs: number): Promise<boolean> {
    await this.ready;
    const until = Date.now() + timeoutMs;
    while (this.socket.getSendQueueCount() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    return this.socket.getSendQueueCount() === 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
