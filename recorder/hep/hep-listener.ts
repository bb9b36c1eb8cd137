/**
 * The recorder's HEP listener: UDP (one HEP packet per datagram) and TCP (packets back to back,
 * hep-stream.ts) on one configured address. Hostile input is bounded: a datagram is at most 64 KiB
 * and decoded in place; a TCP connection buffers at most one packet; connections are capped and
 * idle ones closed; every rejection is counted.
 *
 * On TCP, senders that number their packets (our agent, hep3 OurChunk.Sequence) get acknowledgements
 * back (OurChunk.Ack, the highest sequence number processed, at most every ACK_INTERVAL_MS), so the
 * agent can resend what a killed recorder never processed. Senders without sequence numbers get
 * nothing back.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Counters } from '../core/counters.js';
import { encodeHep3, HepPacket, hep3Size } from './hep3.js';
import type { HepInput } from './hep-input.js';
import { HepStreamFramer } from './hep-stream.js';

export interface HepListenOptions {
  host: string;
  port: number;
  udp: boolean;
  tcp: boolean;
  maxConnections?: number;
  /** Kernel receive buffer for UDP (bursts while the main thread is busy). */
  udpBufferBytes?: number;
}

const ACK_INTERVAL_MS = 100;
const IDLE_MS = 15 * 60 * 1000;

export class HepListener {
  udpPort = 0;
  tcpPort = 0;
  connections = 0;
  private udp: UdpSocket | null = null;
  private tcp: Server | null = null;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly input: HepInput,
    private readonly counters: Counters,
    private readonly opts: HepListenOptions,
  ) {}

  static async start(input: HepInput, counters: Counters, opts: HepListenOptions): Promise<HepListener> {
    const l = new HepListener(input, counters, opts);
    if (opts.udp) await l.startUdp();
    if (opts.tcp) await l.startTcp(opts.udp ? l.udpPort : opts.port);
    return l;
  }

  private startUdp(): Promise<void> {
    const s = createSocket({ type: isIPv6(this.opts.host) ? 'udp6' : 'udp4', recvBufferSize: this.opts.udpBufferBytes ?? 8 * 1024 * 1024 });
    this.udp = s;
    s.on('message', (msg, rinfo) => {
      // Arrival time: what HEPv1 (no time header) is stamped with.
      this.input.onPacket(msg, 0, msg.length, rinfo.address, Date.now() / 1000);
    });
    return new Promise((resolve, reject) => {
      s.once('error', (err) => reject(new Error(`HEP listener: cannot listen on udp:${this.opts.host}:${this.opts.port}: ${err.message}`)));
      s.bind(this.opts.port, this.opts.host, () => {
        s.removeAllListeners('error');
        s.on('error', () => this.counters.inc('hep.udp_error'));
        this.udpPort = s.address().port;
        resolve();
      });
    });
  }

  private startTcp(port: number): Promise<void> {
    const server = createServer((sock) => this.accept(sock));
    this.tcp = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`HEP listener: cannot listen on tcp:${this.opts.host}:${port}: ${err.message}`)));
      server.listen(port, this.opts.host, () => {
        server.removeAllListeners('error');
        server.on('error', () => this.counters.inc('hep.tcp_error'));
        this.tcpPort = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private accept(sock: Socket): void {
    if (this.sockets.size >= (this.opts.maxConnections ?? 256)) {
      this.counters.inc('hep.tcp_refused');
      sock.destroy();
      return;
    }
    this.sockets.add(sock);
    this.connections++;
    const remote = sock.remoteAddress ?? '';
    let acked = -1;
    let processed = -1;
    const ack = new HepPacket();
    const sendAck = (): void => {
      if (processed < 0 || processed === acked || sock.destroyed) return;
      acked = processed;
      ack.ack = processed;
      ack.payloadLen = 0;
      const buf = Buffer.allocUnsafe(hep3Size(ack));
      encodeHep3(ack, buf);
      sock.write(buf);
    };
    const timer = setInterval(sendAck, ACK_INTERVAL_MS);
    const framer = new HepStreamFramer((b, off, len) => {
      const seq = this.input.onPacket(b, off, len, remote);
      if (seq >= 0) processed = seq;
    });
    sock.setTimeout(IDLE_MS, () => sock.destroy());
    sock.on('data', (d: Buffer) => {
      const before = framer.resyncs;
      framer.push(d);
      if (framer.resyncs !== before) this.counters.inc('hep.tcp_resync', framer.resyncs - before);
    });
    sock.on('error', () => this.counters.inc('hep.tcp_error'));
    sock.on('close', () => {
      clearInterval(timer);
      this.sockets.delete(sock);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([
      this.udp ? new Promise<void>((r) => this.udp!.close(() => r())) : Promise.resolve(),
      this.tcp ? new Promise<void>((r) => this.tcp!.close(() => r())) : Promise.resolve(),
    ]);
  }
}
