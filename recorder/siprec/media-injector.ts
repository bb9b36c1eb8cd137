/**
 * The seam between the SRS's media sockets and the recording path: a datagram received on one
 * of our ports enters the packet path (Pipeline.inject, where the HEP listener's packets enter
 * too) as a UDP packet with its real 5-tuple (the SRC's address and port → our address and port)
 * and its receive time. From there it is demultiplexed, joined to its call by the flow table and
 * spooled exactly like captured RTP, so SIPREC recordings get the same loss/jitter statistics,
 * DTMF, spool crash-safety and rendering.
 *
 * One Packet and one Frame are reused for every datagram (nothing is allocated per packet here);
 * the pipeline's own Packet is untouched, so injection can interleave with live capture.
 */
import { LinkType, type Frame } from '../capture/frame.js';
import type { Counters } from '../core/counters.js';
import { parseIpv4 } from '../core/address.js';
import { EMPTY, IpProto, Packet } from '../core/packet.js';
import { classifyUdp, DEFAULT_DEMUX_PORTS, type DemuxPorts } from '../demux/classify.js';
import { parseIpv6 } from '../calls/endpoint-key.js';
import type { PacketSink } from '../pipeline.js';

/** Wall-clock time in ms with sub-ms precision (the receive time stands in for a capture time). */
export const wallMs = (): number => performance.timeOrigin + performance.now();

/** Where injected packets go: `(p) => pipeline.inject(p)`, or straight to a sink (sinkDelivery). */
export type PacketDelivery = (p: Packet) => void;

/** Delivery to a PacketSink without a Pipeline (tests, benchmarks): demux, then onUdp. */
export function sinkDelivery(sink: PacketSink, counters: Counters, ports: DemuxPorts = DEFAULT_DEMUX_PORTS): PacketDelivery {
  return (p) => {
    try {
      sink.onUdp?.(p, classifyUdp(p.payload, p.payloadOff, p.payloadLen, p.srcPort, p.dstPort, ports));
    } catch {
      // Backstop as in Pipeline.inject: a throw is our bug, never the datagram's fault.
      counters.inc('pipeline.bug');
    }
  };
}

export class MediaInjector {
  private readonly packet = new Packet();
  private readonly frame: Frame = { linkType: LinkType.Raw, iface: 0, tsSec: 0, tsNsec: 0, caplen: 0, len: 0, data: EMPTY };
  private readonly addr6 = Buffer.alloc(32);
  private lastSrc = '';
  private lastSrc4 = -1;
  /** Datagrams handed to the sink. */
  injected = 0;

  constructor(
    private readonly deliver: PacketDelivery,
    private readonly counters: Counters,
  ) {}

  /** One datagram `payload` from src:srcPort to dst:dstPort, received at `timeMs` (epoch ms). */
  inject(payload: Buffer, src: string, srcPort: number, dst: string, dstPort: number, timeMs: number): void {
    const f = this.frame;
    const sec = Math.floor(timeMs / 1000);
    f.tsSec = sec;
    f.tsNsec = Math.min(999_999_999, Math.round((timeMs - sec * 1000) * 1e6));
    f.caplen = payload.length;
    f.len = payload.length;
    f.data = payload;
    const p = this.packet;
    p.reset(f, timeMs / 1000);
    if (!this.addresses(p, src, dst)) {
      this.counters.inc('siprec.media_bad_address');
      return;
    }
    p.ipProto = IpProto.Udp;
    p.srcPort = srcPort;
    p.dstPort = dstPort;
    p.payload = payload;
    p.payloadOff = 0;
    p.payloadLen = payload.length;
    this.injected++;
    this.deliver(p);
  }

  private addresses(p: Packet, src: string, dst: string): boolean {
    let s4 = src === this.lastSrc ? this.lastSrc4 : parseIpv4(src);
    if (src !== this.lastSrc) {
      this.lastSrc = src;
      this.lastSrc4 = s4;
    }
    // An IPv4-mapped IPv6 source (dual-stack socket) is the IPv4 address it maps.
    if (s4 < 0 && src.startsWith('::ffff:')) s4 = parseIpv4(src.slice(7));
    const d4 = parseIpv4(dst);
    if (s4 >= 0 && d4 >= 0) {
      p.ipVersion = 4;
      p.src4 = s4;
      p.dst4 = d4;
      return true;
    }
    const s6 = parseIpv6(src);
    const d6 = parseIpv6(dst);
    if (s6 === null || d6 === null) return false;
    s6.copy(this.addr6, 0);
    d6.copy(this.addr6, 16);
    p.ipVersion = 6;
    p.addrBuf = this.addr6;
    p.srcOff = 0;
    p.dstOff = 16;
    return true;
  }
}
