/**
 * The agent's packet sink: picks what is of interest (SIP, RTP, RTCP), unwraps TURN (RFC 8656
 * ChannelData and Send/Data indications, [MS-TURN] Send/Data and active-destination data, over UDP
 * and TCP), and hands each result to the output as a filled HepPacket (HEP3: inner 5-tuple, capture
 * time, protocol type, agent id, auth key; the sequence number is the destination's business).
 *
 * Everything else is counted by reason and dropped: the agent never forwards traffic of no interest
 * (DNS, TLS, DTLS, STUN connectivity checks…). Bad input is counted, never thrown.
 */
import type { Counters } from '../recorder/core/counters.js';
import { IpProto, type Packet } from '../recorder/core/packet.js';
import { isSipStartLine, type DemuxPorts } from '../recorder/demux/classify.js';
import { PayloadKind } from '../recorder/demux/payload-kind.js';
import { HepFamily, HepPacket, HepProtoType } from '../recorder/hep/hep3.js';
import type { PacketSink } from '../recorder/pipeline.js';
import type { TcpConnection, TcpDir, TcpStreamConsumer } from '../recorder/tcp/stream-reassembler.js';
import { StunFamily, type StunAddress } from '../recorder/turn/stun-message.js';
import type { TurnLimits } from '../recorder/turn/turn-tracker.js';
import { type InnerPacket, TurnTcpFlow, TurnTcpMode, TurnUnwrapper, TurnUnwrapStats } from '../recorder/turn/turn-unwrapper.js';
import type { Interest } from './capture/interest.js';

/** Where forwarded packets go; `pkt` (and the payload it points to) is valid during the call only. */
export interface HepOutput {
  send(pkt: HepPacket): void;
}

export interface ForwarderOptions {
  interest: Interest;
  /** HEP capture agent id (chunk 0x000c). */
  agentId: number;
  /** HEP auth key (chunk 0x000e); '' sends none. */
  authKey: string;
  /** Ports TURN servers listen on: tells client from server when the agent saw no TURN control message. */
  turnServerPorts: readonly number[];
  demuxPorts: DemuxPorts;
  turnLimits?: Partial<TurnLimits>;
}

/**
 * What the forwarder did, for the status line and /metrics (plain numbers: bumped per packet). The
 * TURN figures (relayMessages, unwrapped, unresolved) are kept by the shared unwrapper.
 */
export class ForwarderStats extends TurnUnwrapStats {
  forwarded = 0;
  sip = 0;
  rtp = 0;
  rtcp = 0;
}

/** Largest payload per HEP packet: HEP's 16-bit total length less room for the chunks. */
const MAX_HEP_PAYLOAD = 65000;
/** RTP and RTCP run on unprivileged ports; below 1024 a V=2 first byte is a coincidence (DNS ids…). */
const MIN_MEDIA_PORT = 1024;

export class Forwarder implements PacketSink {
  readonly tcpStreams: TcpStreamConsumer;
  readonly stats = new ForwarderStats();
  /** The shared TURN unwrap step (recorder/turn): tracker, ChannelData, indications, [MS-TURN]. */
  readonly unwrapper: TurnUnwrapper;
  private readonly hep = new HepPacket();
  private readonly authKey: Buffer;
  /** The TCP segment being reassembled: its frame stamps data delivered during its add(). */
  private tcpPacket: Packet | null = null;

  constructor(
    private readonly counters: Counters,
    private readonly out: HepOutput,
    private readonly opts: ForwarderOptions,
  ) {
    this.unwrapper = new TurnUnwrapper(counters, { onInner: (x) => this.inner(x) }, {
      serverPorts: opts.turnServerPorts,
      demuxPorts: opts.demuxPorts,
      stats: this.stats,
      notRelayCounter: 'agent.stun_not_media',
      ...(opts.turnLimits ? { limits: opts.turnLimits } : {}),
    });
    this.authKey = Buffer.from(opts.authKey, 'utf8');
    const h = this.hep;
    h.captureId = opts.agentId >>> 0;
    h.authKeyBuf = this.authKey;
    h.authKeyOff = 0;
    h.authKeyLen = this.authKey.length;
    this.tcpStreams = {
      onOpen: (c) => this.tcpOpen(c),
      onData: (c, dir, buf, off, len, now) => this.tcpData(c, dir, buf, off, len, now),
      onGap: (c) => this.tcpGap(c),
    };
  }

  // ---- UDP ----

  onUdp(p: Packet, kind: PayloadKind): void {
    if (!this.opts.interest.udpPacket(p)) {
      this.counters.inc('agent.filtered');
      return;
    }
    if (p.truncated) {
      this.counters.inc('agent.truncated');
      return;
    }
    this.stampFrame(p);
    switch (kind) {
      case PayloadKind.Sip:
        this.direct(p, HepProtoType.SIP);
        return;
      case PayloadKind.Rtp:
      case PayloadKind.Rtcp:
        // [MS-TURN] active-destination data on a TURN 5-tuple is the unwrapper's.
        if (this.unwrapper.udp(p, kind)) return;
        if (p.srcPort < MIN_MEDIA_PORT || p.dstPort < MIN_MEDIA_PORT) {
          this.counters.inc('agent.not_of_interest');
          return;
        }
        this.direct(p, kind === PayloadKind.Rtp ? HepProtoType.RTP : HepProtoType.RTCP);
        return;
      case PayloadKind.Stun:
      case PayloadKind.ChannelData:
        this.unwrapper.udp(p, kind);
        return;
      default:
        // [MS-TURN] §2.2.3 multiplexed frames (0xFF10) are outside RFC 7983's ranges.
        if (!this.unwrapper.udp(p, kind)) this.counters.inc('agent.not_of_interest');
    }
  }

  onTcpSegment(p: Packet): void {
    this.tcpPacket = p;
  }

  sweep(now: number): void {
    this.unwrapper.sweep(now);
  }

  private stampFrame(p: Packet): void {
    const f = p.frame;
    const h = this.hep;
    if (f) {
      h.tsSec = f.tsSec;
      h.tsUsec = Math.floor(f.tsNsec / 1000);
    } else this.stampTime(p.time);
  }

  private stampTime(t: number): void {
    const h = this.hep;
    h.tsSec = Math.floor(t);
    h.tsUsec = Math.min(999_999, Math.round((t - h.tsSec) * 1e6));
  }

  /** Forwarded as captured: the packet's own 5-tuple. */
  private direct(p: Packet, protoType: number): void {
    const h = this.hep;
    h.ipProto = p.ipProto;
    if (p.ipVersion === 4) {
      h.family = HepFamily.IPv4;
      h.src4 = p.src4;
      h.dst4 = p.dst4;
    } else {
      h.family = HepFamily.IPv6;
      p.addrBuf.copy(h.src6, 0, p.srcOff, p.srcOff + 16);
      p.addrBuf.copy(h.dst6, 0, p.dstOff, p.dstOff + 16);
    }
    h.srcPort = p.srcPort;
    h.dstPort = p.dstPort;
    h.turnFlags = 0;
    h.turnChannel = 0;
    this.emit(protoType, p.payload, p.payloadOff, p.payloadLen);
  }

  private emit(protoType: number, buf: Buffer, off: number, len: number): void {
    const h = this.hep;
    h.protoType = protoType;
    h.payloadBuf = buf;
    h.payloadOff = off;
    h.payloadLen = len;
    const s = this.stats;
    s.forwarded++;
    if (protoType === HepProtoType.SIP) s.sip++;
    else if (protoType === HepProtoType.RTP) s.rtp++;
    else s.rtcp++;
    this.out.send(h);
  }

  /** An unwrapped packet: its inner 5-tuple, the TURN flags and channel, the outer capture time. */
  private inner(x: InnerPacket): void {
    const h = this.hep;
    h.ipProto = IpProto.Udp;
    this.setAddresses(x.src, x.dst);
    h.turnFlags = x.flags;
    h.turnChannel = x.channel;
    const proto = x.kind === PayloadKind.Rtp ? HepProtoType.RTP : x.kind === PayloadKind.Rtcp ? HepProtoType.RTCP : HepProtoType.SIP;
    this.emit(proto, x.buf, x.off, x.len);
  }

  private setAddresses(src: StunAddress, dst: StunAddress): void {
    const h = this.hep;
    if (src.family === StunFamily.IPv4) {
      h.family = HepFamily.IPv4;
      h.src4 = src.ipv4;
      h.dst4 = dst.ipv4;
    } else {
      h.family = HepFamily.IPv6;
      src.ipv6.copy(h.src6);
      dst.ipv6.copy(h.dst6);
    }
    h.srcPort = src.port;
    h.dstPort = dst.port;
  }

  // ---- TCP ----

  private tcpOpen(c: TcpConnection): void {
    const p = this.tcpPacket;
    c.user = p && this.opts.interest.tcpPacket(p) ? this.unwrapper.openTcp(c) : null;
  }

  private tcpGap(c: TcpConnection): void {
    if (c.user instanceof TurnTcpFlow) this.counters.inc('agent.tcp_gap');
  }

  private tcpData(c: TcpConnection, dir: TcpDir, buf: Buffer, off: number, len: number, now: number): void {
    const flow = c.user;
    if (!(flow instanceof TurnTcpFlow)) return;
    if (flow.mode === TurnTcpMode.Unknown) this.detect(flow, buf, off, len);
    if (flow.mode === TurnTcpMode.NotTurn && !flow.passThrough) return;
    const p = this.tcpPacket;
    if (p && p.time === now) this.stampFrame(p);
    else this.stampTime(now);
    if (flow.passThrough) this.tcpSip(flow, dir, buf, off, len);
    else this.unwrapper.tcpData(flow, dir, buf, off, len, now);
  }

  /** The stream's first bytes decide: SIP start line, TURN or [MS-TURN] (the unwrapper), or not ours. */
  private detect(flow: TurnTcpFlow, buf: Buffer, off: number, len: number): void {
    if (isSipStartLine(buf, off, len)) {
      flow.mode = TurnTcpMode.NotTurn;
      flow.passThrough = true;
      return;
    }
    if (this.unwrapper.detectTcp(flow, buf, off, len)) return;
    this.counters.inc(buf[off] === 0x16 ? 'agent.tcp_tls' : 'agent.tcp_not_of_interest');
  }

  /** SIP over TCP: the ordered bytes as they come; the recorder frames them (Content-Length). */
  private tcpSip(flow: TurnTcpFlow, dir: TcpDir, buf: Buffer, off: number, len: number): void {
    const { src, dst } = this.unwrapper.tcpAddresses(flow, dir);
    const h = this.hep;
    h.ipProto = IpProto.Tcp;
    this.setAddresses(src, dst);
    h.turnFlags = 0;
    h.turnChannel = 0;
    for (let p = off; p < off + len; p += MAX_HEP_PAYLOAD) this.emit(HepProtoType.SIP, buf, p, Math.min(MAX_HEP_PAYLOAD, off + len - p));
  }
}
