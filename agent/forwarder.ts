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
import { Status } from '../recorder/core/status.js';
import { parseIpv4 } from '../recorder/core/address.js';
import { parseIpv6 } from '../recorder/calls/endpoint-key.js';
import { classifyUdp, isSipStartLine, type DemuxPorts } from '../recorder/demux/classify.js';
import { PayloadKind } from '../recorder/demux/payload-kind.js';
import { HepFamily, HepPacket, HepProtoType, TurnFlag } from '../recorder/hep/hep3.js';
import type { PacketSink } from '../recorder/pipeline.js';
import type { TcpConnection, TcpDir, TcpStreamConsumer } from '../recorder/tcp/stream-reassembler.js';
import { ChannelData, decodeChannelData, TurnFrameKind, TurnStreamFramer } from '../recorder/turn/channel-data.js';
import { decodeTurnRelay, TurnRelay, TurnRelayKind } from '../recorder/turn/indications.js';
import { isMsTurnTcpHeader, MsTcpFrame, MsTurnStreamFramer } from '../recorder/turn/ms-turn-framing.js';
import { decodeStunMessage, StunAddress, StunFamily, StunMessage } from '../recorder/turn/stun-message.js';
import type { Interest } from './capture/interest.js';
import { fromPacket, keyOf } from './turn/endpoint.js';
import { type Allocation, TurnTracker, type TurnLimits } from './turn/turn-tracker.js';

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

/** What the forwarder did, for the status line and /metrics (plain numbers: bumped per packet). */
export class ForwarderStats {
  forwarded = 0;
  sip = 0;
  rtp = 0;
  rtcp = 0;
  /** Packets taken out of TURN (ChannelData, indications, active-destination data). */
  unwrapped = 0;
  /** Unwrapped with a TurnFlag (binding or allocation not seen). */
  unresolved = 0;
  /** Relay messages with a payload (ChannelData, indications, active-destination data), media or not. */
  relayMessages = 0;
}

/** Largest payload per HEP packet: HEP's 16-bit total length less room for the chunks. */
const MAX_HEP_PAYLOAD = 65000;
/** RTP and RTCP run on unprivileged ports; below 1024 a V=2 first byte is a coincidence (DNS ids…). */
const MIN_MEDIA_PORT = 1024;

const TcpMode = { Unknown: 0, Sip: 1, Turn: 2, MsTurn: 3, Ignore: 4 } as const;
type TcpMode = (typeof TcpMode)[keyof typeof TcpMode];

/** Per TCP connection: its mode (decided by the first bytes) and a framer per direction. */
class TcpFlow {
  mode: TcpMode = TcpMode.Unknown;
  turn: [TurnStreamFramer, TurnStreamFramer] | null = null;
  ms: [MsTurnStreamFramer, MsTurnStreamFramer] | null = null;
  constructor(
    /** TCP client and server addresses (direction 0 is client → server). */
    readonly client: StunAddress,
    readonly server: StunAddress,
  ) {}
}

function parseAddress(text: string, port: number, out: StunAddress): StunAddress | null {
  const v4 = parseIpv4(text);
  out.port = port;
  if (v4 >= 0) {
    out.family = StunFamily.IPv4;
    out.ipv4 = v4;
    return out;
  }
  const v6 = parseIpv6(text);
  if (!v6) return null;
  out.family = StunFamily.IPv6;
  v6.copy(out.ipv6);
  return out;
}

export class Forwarder implements PacketSink {
  readonly tcpStreams: TcpStreamConsumer;
  readonly stats = new ForwarderStats();
  readonly turn: TurnTracker;
  private readonly hep = new HepPacket();
  private readonly msg = new StunMessage();
  private readonly relay = new TurnRelay();
  private readonly cd = new ChannelData();
  private readonly srcA = new StunAddress();
  private readonly dstA = new StunAddress();
  private readonly turnPorts = new Uint8Array(65536);
  private readonly authKey: Buffer;
  /** The TCP segment being reassembled: its frame stamps data delivered during its add(). */
  private tcpPacket: Packet | null = null;
  // Context of the framer callbacks (set before each push: the framers call back synchronously).
  private cur: TcpFlow | null = null;
  private curDir: TcpDir = 0;
  private curNow = 0;

  constructor(
    private readonly counters: Counters,
    private readonly out: HepOutput,
    private readonly opts: ForwarderOptions,
  ) {
    this.turn = new TurnTracker(counters, opts.turnLimits);
    for (const port of opts.turnServerPorts) this.turnPorts[port] = 1;
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
        // [MS-TURN] §3.1.5: after Set Active Destination, media flows unframed on the TURN 5-tuple.
        if (this.turn.size > 0 && this.activeData(p)) return;
        if (p.srcPort < MIN_MEDIA_PORT || p.dstPort < MIN_MEDIA_PORT) {
          this.counters.inc('agent.not_of_interest');
          return;
        }
        this.direct(p, kind === PayloadKind.Rtp ? HepProtoType.RTP : HepProtoType.RTCP);
        return;
      case PayloadKind.Stun:
        fromPacket(p, true, this.srcA);
        fromPacket(p, false, this.dstA);
        this.stun(p.payload, p.payloadOff, p.payloadLen, false);
        return;
      case PayloadKind.ChannelData:
        fromPacket(p, true, this.srcA);
        fromPacket(p, false, this.dstA);
        this.channelData(p.payload, p.payloadOff, p.payloadLen, false);
        return;
      default:
        this.counters.inc('agent.not_of_interest');
    }
  }

  onTcpSegment(p: Packet): void {
    this.tcpPacket = p;
  }

  sweep(now: number): void {
    this.turn.sweep(now);
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

  // ---- TURN ----

  /** Which side of srcA/dstA is the TURN server when no control message told us. */
  private serverIsDst(): boolean {
    const s = this.turnPorts[this.srcA.port] === 1;
    const d = this.turnPorts[this.dstA.port] === 1;
    if (s !== d) return d;
    return this.dstA.port <= this.srcA.port;
  }

  /** A STUN-format message between srcA and dstA (UDP datagram or TCP frame). */
  private stun(buf: Buffer, off: number, len: number, tcp: boolean): void {
    const m = this.msg;
    const st = decodeStunMessage(buf, off, len, m);
    if (st !== Status.Ok) {
      this.counters.inc(st === Status.Truncated ? 'turn.truncated' : 'turn.malformed');
      return;
    }
    const r = this.relay;
    const rs = decodeTurnRelay(buf, m, r);
    if (rs === Status.Unsupported) {
      // Binding requests (ICE checks, keep-alives), Allocate/Refresh/CreatePermission requests…
      this.counters.inc('agent.stun_not_media');
      return;
    }
    if (rs !== Status.Ok) {
      this.counters.inc('turn.malformed');
      return;
    }
    const now = this.hep.tsSec + this.hep.tsUsec / 1e6;
    const srcK = keyOf(this.srcA);
    const dstK = keyOf(this.dstA);
    const txid = (): string => buf.toString('latin1', m.txOff, m.txOff + m.txLen);
    switch (r.kind) {
      case TurnRelayKind.Send:
      case TurnRelayKind.MsSend: {
        const a = this.turn.open(srcK, dstK, tcp, now);
        this.relayed(a, true, r.peer, buf, r.dataOff, r.dataLen, 0);
        return;
      }
      case TurnRelayKind.Data:
      case TurnRelayKind.MsData: {
        const a = this.turn.open(dstK, srcK, tcp, now);
        this.relayed(a, false, r.peer, buf, r.dataOff, r.dataLen, 0);
        return;
      }
      case TurnRelayKind.ChannelBindRequest:
      case TurnRelayKind.MsSetActiveDestination: {
        const a = this.turn.open(srcK, dstK, tcp, now);
        if (a) this.turn.request(a, txid(), r.channel, r.peer, now);
        this.counters.inc('turn.bind_requests');
        return;
      }
      case TurnRelayKind.ChannelBindSuccess:
      case TurnRelayKind.MsSetActiveDestinationSuccess: {
        const a = this.turn.find(dstK, srcK);
        if (a && this.turn.confirm(a, txid())) this.counters.inc('turn.bindings');
        else this.counters.inc('turn.bind_unmatched');
        return;
      }
      case TurnRelayKind.AllocateSuccess:
      case TurnRelayKind.MsAllocateSuccess: {
        const a = this.turn.open(dstK, srcK, tcp, now);
        if (a) this.turn.setRelay(a, r.relay);
        this.counters.inc('turn.allocations');
        return;
      }
      default:
        this.counters.inc('agent.stun_not_media');
    }
  }

  /** ChannelData (RFC 8656 §12.4) between srcA and dstA. */
  private channelData(buf: Buffer, off: number, len: number, tcp: boolean): void {
    const cd = this.cd;
    const st = decodeChannelData(buf, off, len, cd);
    if (st !== Status.Ok) {
      this.counters.inc(st === Status.Truncated ? 'turn.truncated' : 'turn.malformed');
      return;
    }
    const srcK = keyOf(this.srcA);
    const dstK = keyOf(this.dstA);
    let a = this.turn.find(srcK, dstK);
    let fromClient = true;
    if (!a) {
      a = this.turn.find(dstK, srcK);
      fromClient = false;
    }
    if (!a) {
      // Agent started after the Allocate: infer which side is the server from the port.
      fromClient = this.serverIsDst();
      const now = this.hep.tsSec + this.hep.tsUsec / 1e6;
      a = (fromClient ? this.turn.open(srcK, dstK, tcp, now) : this.turn.open(dstK, srcK, tcp, now)) ?? undefined;
      if (a) {
        a.inferred = true;
        this.counters.inc('turn.inferred_allocations');
      }
    }
    const peer = a?.channels.get(cd.channel) ?? null;
    this.relayed(a ?? null, fromClient, peer, buf, cd.dataOff, cd.dataLen, cd.channel);
  }

  /** RTP/RTCP on a TURN 5-tuple with an [MS-TURN] active destination; false when it is not one. */
  private activeData(p: Packet): boolean {
    fromPacket(p, true, this.srcA);
    fromPacket(p, false, this.dstA);
    return this.activeFrame(p.payload, p.payloadOff, p.payloadLen);
  }

  private activeFrame(buf: Buffer, off: number, len: number): boolean {
    const srcK = keyOf(this.srcA);
    const dstK = keyOf(this.dstA);
    let a = this.turn.find(srcK, dstK);
    let fromClient = true;
    if (!a) {
      a = this.turn.find(dstK, srcK);
      fromClient = false;
    }
    if (!a || (a.active === null && a.channels.size > 0)) return false;
    this.relayed(a, fromClient, a.active, buf, off, len, 0);
    return true;
  }

  /**
   * The inner packet of a relay message: between the relay address R (the client's side; the
   * client's own address when R is unknown) and the peer P (the server when P is unknown).
   */
  private relayed(a: Allocation | null, fromClient: boolean, peer: StunAddress | null, buf: Buffer, off: number, len: number, channel: number): void {
    this.stats.relayMessages++;
    const clientAddr = fromClient ? this.srcA : this.dstA;
    const serverAddr = fromClient ? this.dstA : this.srcA;
    let flags = 0;
    let mine: StunAddress = clientAddr;
    if (a?.relay) mine = a.relay;
    else flags |= TurnFlag.RelayUnknown;
    let far: StunAddress = serverAddr;
    if (peer && peer.family !== 0) far = peer;
    else flags |= TurnFlag.PeerUnknown;
    if (flags !== 0 && !fromClient) flags |= TurnFlag.ToClient;
    if (mine.family !== far.family) {
      this.counters.inc('turn.family_mismatch');
      return;
    }
    const src = fromClient ? mine : far;
    const dst = fromClient ? far : mine;
    const kind = classifyUdp(buf, off, len, src.port, dst.port, this.opts.demuxPorts);
    let proto: number;
    if (kind === PayloadKind.Rtp) proto = HepProtoType.RTP;
    else if (kind === PayloadKind.Rtcp) proto = HepProtoType.RTCP;
    else if (kind === PayloadKind.Sip) proto = HepProtoType.SIP;
    else {
      // ICE checks through the relay, DTLS handshakes, keep-alives: not media.
      this.counters.inc('turn.inner_not_media');
      return;
    }
    if (a) a.last = this.hep.tsSec;
    const h = this.hep;
    h.ipProto = IpProto.Udp;
    this.setAddresses(src, dst);
    h.turnFlags = flags;
    h.turnChannel = channel;
    this.stats.unwrapped++;
    if (flags !== 0) this.stats.unresolved++;
    this.emit(proto, buf, off, len);
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
    if (!p || !this.opts.interest.tcpPacket(p)) {
      c.user = null;
      return;
    }
    const client = parseAddress(c.clientAddr, c.clientPort, new StunAddress());
    const server = parseAddress(c.serverAddr, c.serverPort, new StunAddress());
    c.user = client && server ? new TcpFlow(client, server) : null;
  }

  private tcpGap(c: TcpConnection): void {
    if (c.user instanceof TcpFlow) this.counters.inc('agent.tcp_gap');
  }

  private tcpData(c: TcpConnection, dir: TcpDir, buf: Buffer, off: number, len: number, now: number): void {
    const flow = c.user;
    if (!(flow instanceof TcpFlow)) return;
    if (flow.mode === TcpMode.Unknown) this.detect(flow, buf, off, len);
    if (flow.mode === TcpMode.Ignore) return;
    const p = this.tcpPacket;
    if (p && p.time === now) this.stampFrame(p);
    else this.stampTime(now);
    this.cur = flow;
    this.curDir = dir;
    this.curNow = now;
    if (flow.mode === TcpMode.Sip) this.tcpSip(flow, dir, buf, off, len);
    else if (flow.mode === TcpMode.Turn) flow.turn![dir].push(buf, off, len);
    else if (flow.mode === TcpMode.MsTurn) flow.ms![dir].push(buf, off, len);
    this.cur = null;
  }

  /** The stream's first bytes decide: SIP start line, [MS-TURN] frame, STUN/ChannelData, or not ours. */
  private detect(flow: TcpFlow, buf: Buffer, off: number, len: number): void {
    if (isSipStartLine(buf, off, len)) {
      flow.mode = TcpMode.Sip;
      return;
    }
    if (isMsTurnTcpHeader(buf, off, len)) {
      flow.mode = TcpMode.MsTurn;
      const h = (type: MsTcpFrame, b: Buffer, o: number, l: number): void => this.msFrame(type, b, o, l);
      flow.ms = [new MsTurnStreamFramer(h), new MsTurnStreamFramer(h)];
      return;
    }
    const b0 = buf[off] ?? 0xff;
    // RFC 7983: 0–3 STUN, 64–79 ChannelData; RFC 8656 §12.5 puts both back to back on TCP.
    if (len >= 4 && (b0 <= 3 || (b0 >= 64 && b0 <= 79))) {
      flow.mode = TcpMode.Turn;
      const h = (kind: TurnFrameKind, b: Buffer, o: number, l: number): void => this.turnFrame(kind, b, o, l);
      flow.turn = [new TurnStreamFramer(h), new TurnStreamFramer(h)];
      return;
    }
    this.counters.inc(b0 === 0x16 ? 'agent.tcp_tls' : 'agent.tcp_not_of_interest');
    flow.mode = TcpMode.Ignore;
  }

  private tcpAddresses(flow: TcpFlow, dir: TcpDir): void {
    const [s, d] = dir === 0 ? [flow.client, flow.server] : [flow.server, flow.client];
    this.srcA.family = s.family;
    this.srcA.port = s.port;
    this.srcA.ipv4 = s.ipv4;
    s.ipv6.copy(this.srcA.ipv6);
    this.dstA.family = d.family;
    this.dstA.port = d.port;
    this.dstA.ipv4 = d.ipv4;
    d.ipv6.copy(this.dstA.ipv6);
  }

  /** SIP over TCP: the ordered bytes as they come; the recorder frames them (Content-Length). */
  private tcpSip(flow: TcpFlow, dir: TcpDir, buf: Buffer, off: number, len: number): void {
    this.tcpAddresses(flow, dir);
    const h = this.hep;
    h.ipProto = IpProto.Tcp;
    this.setAddresses(this.srcA, this.dstA);
    h.turnFlags = 0;
    h.turnChannel = 0;
    for (let p = off; p < off + len; p += MAX_HEP_PAYLOAD) this.emit(HepProtoType.SIP, buf, p, Math.min(MAX_HEP_PAYLOAD, off + len - p));
  }

  private turnFrame(kind: TurnFrameKind, buf: Buffer, off: number, len: number): void {
    const flow = this.cur;
    if (!flow) return;
    this.tcpAddresses(flow, this.curDir);
    if (kind === TurnFrameKind.Stun) this.stun(buf, off, len, true);
    else this.channelData(buf, off, len, true);
  }

  private msFrame(type: MsTcpFrame, buf: Buffer, off: number, len: number): void {
    const flow = this.cur;
    if (!flow) return;
    this.tcpAddresses(flow, this.curDir);
    if (type === MsTcpFrame.Control) {
      this.stun(buf, off, len, true);
      return;
    }
    // End-to-end data: relayed to or from the active destination (unknown → flagged).
    if (!this.activeFrame(buf, off, len)) {
      const srcK = keyOf(this.srcA);
      const dstK = keyOf(this.dstA);
      const fromClient = this.dstA.port === flow.server.port && dstK === keyOf(flow.server);
      const a = fromClient ? this.turn.open(srcK, dstK, true, this.curNow) : this.turn.open(dstK, srcK, true, this.curNow);
      this.relayed(a, fromClient, a?.active ?? null, buf, off, len, 0);
    }
  }
}
