import { frameTime, LinkType, type Frame } from '../capture/frame.js';
import type { Counters } from '../core/counters.js';
import { IpProto, type Packet } from '../core/packet.js';
import { Status } from '../core/status.js';
import { FragmentReassembler, type FragmentLimits } from '../ip/fragment-reassembler.js';
import { IpResult } from '../ip/ip-result.js';
import { decodeIpv4 } from '../ip/ipv4.js';
import { decodeIpv6, walkIpv6Extensions } from '../ip/ipv6.js';
import { decodeTcpHeader, type TcpResult } from '../tcp/tcp-header.js';
import { decodeUdp, type UdpResult } from '../udp/udp.js';
import { decodeErspanII, decodeErspanIII } from './erspan.js';
import { decodeEthernet, EtherType, type LinkResult } from './ethernet.js';
import { decodeGre, type GreResult } from './gre.js';
import { LayerCounts } from './layer-counts.js';
import { decodeSll, decodeSll2 } from './linux-sll.js';
import { decodeNullLoopback } from './null-loopback.js';
import { decodeVxlan, VXLAN_PORT } from './vxlan.js';

/** What a frame decoded to. */
export const Decoded = {
  /** Nothing usable: counted under a `stage.reason`. */
  Dropped: 0,
  Udp: 1,
  Tcp: 2,
  /** An IP fragment kept for reassembly; the datagram is not complete yet. */
  FragmentHeld: 3,
  /** IP, but a protocol the recorder does not look into (ICMP, SCTP, ESP…). */
  OtherIp: 4,
  /** A link-layer protocol other than IP (ARP, LLDP…). */
  NonIp: 5,
} as const;
export type Decoded = (typeof Decoded)[keyof typeof Decoded];

/** Tunnels inside tunnels beyond this are treated as malformed (loops in crafted input). */
const MAX_TUNNELS = 4;

export interface FrameDecoderOptions {
  fragments?: Partial<FragmentLimits>;
  /** UDP destination ports decoded as VXLAN (default 4789). */
  vxlanPorts?: readonly number[];
  /**
   * Called for each UDP layer that carries a tunnel (VXLAN), before the inner packet is decoded:
   * tools that list conversations count the outer flow too, as tshark does.
   */
  onTunnelUdp?: (p: Packet) => void;
}

/**
 * Decodes a captured frame down to its innermost UDP or TCP layer, filling a reused Packet:
 * link layer → (VLAN) → IPv4/IPv6 (+ fragment reassembly) → tunnels (GRE/ERSPAN, IP-in-IP,
 * VXLAN) → UDP/TCP. The only state is the fragment table, swept on capture time.
 */
export class FrameDecoder {
  readonly layers = new LayerCounts();
  readonly fragments: FragmentReassembler;
  private readonly link: LinkResult = { etherType: 0, off: 0, vlan: -1, tags: 0 };
  private readonly ip = new IpResult();
  private readonly gre: GreResult = { protocol: 0, off: 0, hasSeq: false };
  private readonly udp: UdpResult = { srcPort: 0, dstPort: 0, payloadOff: 0, payloadLen: 0 };
  private readonly tcp: TcpResult = { srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, payloadOff: 0, payloadLen: 0 };
  /** 1 at each UDP port decoded as VXLAN: an array index is cheaper than a Set per datagram. */
  readonly vxlanPorts = new Uint8Array(65536);
  private readonly onTunnelUdp: ((p: Packet) => void) | undefined;
  /** Whether the frame being decoded was cut by the snaplen (tells truncation from malformation). */
  private cut = false;

  constructor(
    private readonly counters: Counters,
    opts: FrameDecoderOptions = {},
  ) {
    this.fragments = new FragmentReassembler(counters, opts.fragments);
    for (const port of opts.vxlanPorts ?? [VXLAN_PORT]) this.vxlanPorts[port] = 1;
    this.onTunnelUdp = opts.onTunnelUdp;
  }

  decode(frame: Frame, p: Packet): Decoded {
    const L = this.layers;
    L.frames++;
    L.bytes += frame.len;
    p.reset(frame, frameTime(frame));
    this.cut = frame.caplen < frame.len;
    const buf = frame.data;
    const end = frame.caplen;
    switch (frame.linkType) {
      case LinkType.Ethernet:
        L.ethernet++;
        return this.ether(buf, 0, end, p);
      case LinkType.LinuxSll:
        L.sll++;
        return this.linkResult(decodeSll(buf, 0, end, this.link), 'sll', buf, end, p);
      case LinkType.LinuxSll2:
        L.sll2++;
        return this.linkResult(decodeSll2(buf, 0, end, this.link), 'sll2', buf, end, p);
      case LinkType.Null:
      case LinkType.Loop:
        L.loopback++;
        return this.linkResult(decodeNullLoopback(buf, 0, end, frame.linkType === LinkType.Loop, this.link), 'loopback', buf, end, p);
      case LinkType.Raw:
      case LinkType.Ipv4:
      case LinkType.Ipv6: {
        L.rawIp++;
        if (end < 1) return this.drop('raw', Status.Truncated);
        const v = buf[0]! >> 4;
        if (v === 4) return this.ipv4(buf, 0, end, p);
        if (v === 6) return this.ipv6(buf, 0, end, p);
        return this.drop('raw', Status.Malformed);
      }
      default:
        this.counters.inc('frames.unsupported_linktype');
        return Decoded.Dropped;
    }
  }

  /** Expire held fragments by capture time. */
  sweep(now: number): void {
    this.fragments.sweep(now);
  }

  private drop(stage: string, st: Status): Decoded {
    this.counters.inc(
      st === Status.Truncated ? (this.cut ? `${stage}.snaplen` : `${stage}.truncated`) : st === Status.Malformed ? `${stage}.malformed` : `${stage}.unsupported`,
    );
    return Decoded.Dropped;
  }

  private ether(buf: Buffer, off: number, end: number, p: Packet): Decoded {
    const st = decodeEthernet(buf, off, end, this.link);
    if (st === Status.Unsupported) {
      this.layers.nonIp++; // 802.3/LLC: spanning tree, CDP…
      return Decoded.NonIp;
    }
    if (this.link.tags > 0) {
      this.layers.vlan++;
      if (p.vlan < 0) p.vlan = this.link.vlan;
    }
    return this.linkResult(st, 'ethernet', buf, end, p);
  }

  private linkResult(st: Status, stage: string, buf: Buffer, end: number, p: Packet): Decoded {
    if (st === Status.Unsupported) {
      this.layers.nonIp++;
      return Decoded.NonIp;
    }
    if (st !== Status.Ok) return this.drop(stage, st);
    return this.byEtherType(this.link.etherType, buf, this.link.off, end, p);
  }

  private byEtherType(type: number, buf: Buffer, off: number, end: number, p: Packet): Decoded {
    if (type === EtherType.Ipv4) return this.ipv4(buf, off, end, p);
    if (type === EtherType.Ipv6) return this.ipv6(buf, off, end, p);
    this.layers.nonIp++;
    return Decoded.NonIp;
  }

  private ipv4(buf: Buffer, off: number, end: number, p: Packet): Decoded {
    this.layers.ipv4++;
    const ip = this.ip;
    ip.payloadOff = 0;
    const st = decodeIpv4(buf, off, end, ip);
    if (st === Status.Truncated && ip.payloadOff === 0) return this.drop('ipv4', st);
    if (st === Status.Malformed) return this.drop('ipv4', st);
    if (st === Status.Truncated) {
      if (ip.isFragment) return this.drop('ipv4', st); // a cut fragment cannot be reassembled
      p.truncated = true;
      this.counters.inc(this.cut ? 'ipv4.snaplen' : 'ipv4.truncated');
    }
    p.ipVersion = 4;
    p.src4 = ip.src4;
    p.dst4 = ip.dst4;
    if (ip.isFragment) {
      this.layers.ipFragments++;
      // RFC 791: a datagram is identified by source, destination, protocol and identification.
      const key = `4/${ip.src4}/${ip.dst4}/${ip.proto}/${ip.fragId}`;
      const whole = this.fragments.add(key, ip.fragOffset, ip.moreFragments, buf, ip.payloadOff, ip.payloadEnd - ip.payloadOff, p.time);
      if (whole === null) return Decoded.FragmentHeld;
      this.layers.ipReassembled++;
      p.reassembled = true;
      return this.transport(ip.proto, whole, 0, whole.length, p);
    }
    return this.transport(ip.proto, buf, ip.payloadOff, ip.payloadEnd, p);
  }

  private ipv6(buf: Buffer, off: number, end: number, p: Packet): Decoded {
    this.layers.ipv6++;
    const ip = this.ip;
    ip.payloadOff = 0;
    const st = decodeIpv6(buf, off, end, ip);
    if (st === Status.Truncated && ip.payloadOff === 0) return this.drop('ipv6', st);
    if (st !== Status.Ok && st !== Status.Truncated) return this.drop('ipv6', st);
    if (st === Status.Truncated) {
      if (ip.isFragment) return this.drop('ipv6', st);
      p.truncated = true;
      this.counters.inc(this.cut ? 'ipv6.snaplen' : 'ipv6.truncated');
    }
    p.ipVersion = 6;
    p.addrBuf = buf;
    p.srcOff = ip.srcOff;
    p.dstOff = ip.dstOff;
    if (ip.isFragment) {
      this.layers.ipFragments++;
      // RFC 8200 §4.5: source, destination and Fragment Identification name the packet.
      const key = `6/${buf.toString('latin1', ip.srcOff, ip.srcOff + 32)}/${ip.fragId}`;
      const nextHeader = ip.proto;
      const whole = this.fragments.add(key, ip.fragOffset, ip.moreFragments, buf, ip.payloadOff, ip.payloadEnd - ip.payloadOff, p.time);
      if (whole === null) return Decoded.FragmentHeld;
      this.layers.ipReassembled++;
      p.reassembled = true;
      // The reassembled payload may hold more extension headers before the transport (RFC 8200 §4.5).
      ip.isFragment = false;
      const st2 = walkIpv6Extensions(whole, 0, whole.length, nextHeader, ip);
      if (st2 !== Status.Ok || ip.isFragment) return this.drop('ipv6', st2 === Status.Ok ? Status.Malformed : st2);
      return this.transport(ip.proto, whole, ip.payloadOff, ip.payloadEnd, p);
    }
    return this.transport(ip.proto, buf, ip.payloadOff, ip.payloadEnd, p);
  }

  private transport(proto: number, buf: Buffer, off: number, end: number, p: Packet): Decoded {
    p.ipProto = proto;
    switch (proto) {
      case IpProto.Udp:
        return this.udpLayer(buf, off, end, p);
      case IpProto.Tcp: {
        this.layers.tcp++;
        const t = this.tcp;
        const st = decodeTcpHeader(buf, off, end, t);
        if (st !== Status.Ok) return this.drop('tcp', st);
        p.srcPort = t.srcPort;
        p.dstPort = t.dstPort;
        p.tcpSeq = t.seq;
        p.tcpAck = t.ack;
        p.tcpFlags = t.flags;
        p.payload = buf;
        p.payloadOff = t.payloadOff;
        p.payloadLen = t.payloadLen;
        return Decoded.Tcp;
      }
      case IpProto.IpInIp:
        this.layers.ipInIp++;
        return this.tunnel(p) ? this.ipv4(buf, off, end, p) : this.drop('tunnel', Status.Malformed);
      case IpProto.Ipv6:
        this.layers.ipInIp++;
        return this.tunnel(p) ? this.ipv6(buf, off, end, p) : this.drop('tunnel', Status.Malformed);
      case IpProto.Gre:
        return this.greLayer(buf, off, end, p);
      case IpProto.Icmp:
      case IpProto.Icmpv6:
        this.layers.icmp++;
        return Decoded.OtherIp;
      default:
        this.layers.otherIp++;
        return Decoded.OtherIp;
    }
  }

  private udpLayer(buf: Buffer, off: number, end: number, p: Packet): Decoded {
    this.layers.udp++;
    const u = this.udp;
    const st = decodeUdp(buf, off, end, u);
    if (st === Status.Malformed) return this.drop('udp', st);
    if (st === Status.Truncated) {
      if (end - off < 8) return this.drop('udp', st);
      p.truncated = true;
      this.counters.inc(this.cut ? 'udp.snaplen' : 'udp.truncated');
    }
    p.srcPort = u.srcPort;
    p.dstPort = u.dstPort;
    p.payload = buf;
    p.payloadOff = u.payloadOff;
    p.payloadLen = u.payloadLen;
    if (this.vxlanPorts[u.dstPort] === 1 && !p.truncated) {
      const inner = decodeVxlan(buf, u.payloadOff, u.payloadOff + u.payloadLen);
      if (inner >= 0) {
        this.onTunnelUdp?.(p);
        this.layers.vxlan++;
        return this.tunnel(p) ? this.ether(buf, inner, u.payloadOff + u.payloadLen, p) : this.drop('tunnel', Status.Malformed);
      }
    }
    return Decoded.Udp;
  }

  private greLayer(buf: Buffer, off: number, end: number, p: Packet): Decoded {
    this.layers.gre++;
    const g = this.gre;
    const st = decodeGre(buf, off, end, g);
    if (st !== Status.Ok) return this.drop('gre', st);
    if (!this.tunnel(p)) return this.drop('tunnel', Status.Malformed);
    switch (g.protocol) {
      case EtherType.TransparentEthernet:
        return this.ether(buf, g.off, end, p);
      case EtherType.ErspanII: {
        this.layers.erspan++;
        // Type I has no sequence number and no ERSPAN header (draft-foschiano-erspan-03 §4.1).
        const inner = g.hasSeq ? decodeErspanII(buf, g.off, end) : g.off;
        return inner < 0 ? this.drop('erspan', -inner as Status) : this.ether(buf, inner, end, p);
      }
      case EtherType.ErspanIII: {
        this.layers.erspan++;
        const inner = decodeErspanIII(buf, g.off, end);
        return inner < 0 ? this.drop('erspan', -inner as Status) : this.ether(buf, inner, end, p);
      }
      default:
        return this.byEtherType(g.protocol, buf, g.off, end, p);
    }
  }

  /** Enter one more tunnel level; false past the depth limit. */
  private tunnel(p: Packet): boolean {
    p.tunnels++;
    return p.tunnels <= MAX_TUNNELS;
  }
}
