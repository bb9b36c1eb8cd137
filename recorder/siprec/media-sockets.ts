/**
 * The UDP sockets behind the ports the SRS answers with: RTP on the even port, RTCP on the odd
 * one (RFC 3550 §11). Every datagram goes to the MediaInjector with the socket's port and our
 * advertised address as its destination, so it matches the expectations registered for the call.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Counters } from '../core/counters.js';
import { wallMs, type MediaInjector } from './media-injector.js';

interface PortSockets {
  rtp: Socket;
  rtcp: Socket | null;
  /** Datagrams are counted and dropped instead of recorded (a duplicate session's media). */
  muted: boolean;
  packets: number;
}

export interface MediaSocketOptions {
  /** Address the sockets bind to ('0.0.0.0' for all). */
  bindHost: string;
  /** Address put in the SDP answer: the destination of every datagram we inject. */
  advertised: string;
  /** Bind the RTCP port too (RTCP is counted, not needed for the recording). */
  rtcp: boolean;
  /** Kernel receive buffer per RTP socket. */
  recvBufferBytes: number;
}

export class MediaSockets {
  private readonly open = new Map<number, PortSockets>();

  constructor(
    private readonly injector: MediaInjector,
    private readonly counters: Counters,
    private readonly opts: MediaSocketOptions,
  ) {}

  get count(): number {
    return this.open.size;
  }

  /** Bind RTP `port` and RTCP `port + 1`; false (nothing left open) when either fails. */
  async bind(port: number): Promise<boolean> {
    if (this.open.has(port)) return true;
    const rtp = await this.socket(port);
    if (rtp === null) return false;
    let rtcp: Socket | null = null;
    if (this.opts.rtcp) {
      rtcp = await this.socket(port + 1);
      if (rtcp === null) {
        rtp.close();
        return false;
      }
    }
    const entry: PortSockets = { rtp, rtcp, muted: false, packets: 0 };
    this.open.set(port, entry);
    const { advertised } = this.opts;
    const injector = this.injector;
    const counters = this.counters;
    const onRtp = (msg: Buffer, rinfo: { address: string; port: number }): void => {
      entry.packets++;
      if (entry.muted) {
        counters.inc('siprec.media_muted');
        return;
      }
      injector.inject(msg, rinfo.address, rinfo.port, advertised, port, wallMs());
    };
    rtp.on('message', onRtp);
    rtcp?.on('message', (msg: Buffer, rinfo: { address: string; port: number }) => {
      if (!entry.muted) injector.inject(msg, rinfo.address, rinfo.port, advertised, port + 1, wallMs());
    });
    try {
      rtp.setRecvBufferSize(this.opts.recvBufferBytes);
    } catch {
      // The kernel caps it (net.core.rmem_max); the default still works.
      this.counters.inc('siprec.media_rcvbuf_capped');
    }
    return true;
  }

  setMuted(port: number, muted: boolean): void {
    const e = this.open.get(port);
    if (e) e.muted = muted;
  }

  /** Datagrams received on the RTP port so far. */
  packets(port: number): number {
    return this.open.get(port)?.packets ?? 0;
  }

  close(port: number): void {
    const e = this.open.get(port);
    if (!e) return;
    this.open.delete(port);
    e.rtp.close();
    e.rtcp?.close();
  }

  closeAll(): void {
    for (const p of [...this.open.keys()]) this.close(p);
  }

  private socket(port: number): Promise<Socket | null> {
    const family = this.opts.bindHost.includes(':') ? 'udp6' : 'udp4';
    const s = createSocket({ type: family, reuseAddr: false });
    return new Promise((resolve) => {
      const onError = (): void => {
        this.counters.inc('siprec.media_bind_failed');
        s.close();
        resolve(null);
      };
      s.once('error', onError);
      s.bind(port, this.opts.bindHost, () => {
        s.off('error', onError);
        // A socket error later (ICMP-induced, buffer) is counted, never fatal.
        s.on('error', () => this.counters.inc('siprec.media_socket_error'));
        resolve(s);
      });
    });
  }
}
