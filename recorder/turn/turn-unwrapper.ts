/**
 * The TURN unwrap step shared by the agent and the recorder: given a UDP datagram or the ordered
 * bytes of a TCP connection between a TURN client C and its server S, produce each relayed inner
 * packet with the 5-tuple the relay R exchanges with the peer P (RFC 8656 §2.2), or, when the
 * allocation or binding was not seen (capture started mid-call), with C (and S) standing in and a
 * TurnFlag saying so.
 *
 * What it unwraps (whatever the wire decoders of this folder read):
 * - RFC 8656 §12.4 ChannelData over UDP, and over TCP with the §12.5 padding (TurnStreamFramer);
 * - RFC 8656 §11.4/§11.6 Send and Data indications (XOR-PEER-ADDRESS + DATA);
 * - [MS-TURN] §2.2 Send request / Data indication, and §3.1.5 unframed data after Set Active
 *   Destination, over UDP and over TCP with the §2.1.4 framing (MsTurnStreamFramer);
 * - [MS-TURN] §2.2.3 Multiplexed TURN frames (0xFF10 + session id) around any of the above, each
 *   session tracked as its own allocation.
 *
 * State is the TurnTracker (allocation per 5-tuple, channel → peer, relay, active destination), on
 * capture time. Inner packets are classified with the RFC 7983 demux; what is not RTP, RTCP or SIP
 * (ICE checks and DTLS through the relay) is counted `turn.inner_not_media` and dropped. Bad input is
 * counted by reason (`turn.truncated`, `turn.malformed`, …), never thrown.
 *
 * The caller decides which traffic is TURN at all (the agent: anything STUN-like it captured; the
 * recorder: only the configured server ports), then hands it here. Inner packets go to the sink
 * synchronously and point into the caller's (or a framer's) buffer: valid during the call only.
 */
import type { Counters } from '../core/counters.js';
import type { Packet } from '../core/packet.js';
import { Status } from '../core/status.js';
import { classifyUdp, type DemuxPorts } from '../demux/classify.js';
import { PayloadKind } from '../demux/payload-kind.js';
import { TurnFlag } from '../hep/hep3.js';
import type { TcpConnection, TcpDir } from '../tcp/stream-reassembler.js';
import { ChannelData, decodeChannelData, TurnFrameKind, TurnStreamFramer } from './channel-data.js';
import { copyAddress, type EndpointKey, fromPacket, keyOf, parseAddress } from './endpoint.js';
import { decodeTurnRelay, TurnRelay, TurnRelayKind } from './indications.js';
import { isMsTurnTcpHeader, isPseudoTlsStart, MsTcpFrame, MsTurnStreamFramer, PseudoTls, PseudoTlsSkipper } from './ms-turn-framing.js';
import { decodeStunMessage, StunAddress, StunMessage } from './stun-message.js';
import { type Allocation, TurnTracker, type TurnLimits } from './turn-tracker.js';

/** One unwrapped packet, refilled per packet; addresses and bytes are valid during onInner only. */
export class InnerPacket {
  /** Inner source and destination (R or P; C and S when unresolved, see flags). */
  src: StunAddress = new StunAddress();
  dst: StunAddress = new StunAddress();
  /** hep3 TurnFlag bits: RelayUnknown, PeerUnknown, ToClient; 0 when fully resolved. */
  flags = 0;
  /** ChannelData channel number, 0 for indications and [MS-TURN] data. */
  channel = 0;
  /** RFC 7983 class of the inner payload: Rtp, Rtcp or Sip. */
  kind: PayloadKind = PayloadKind.Unknown;
  buf: Buffer = Buffer.alloc(0);
  off = 0;
  len = 0;
  /** Capture time of the outer packet (seconds). */
  time = 0;
}

export interface TurnUnwrapSink {
  onInner(p: InnerPacket): void;
}

/** Plain numbers bumped per packet (the agent's status line and metrics read them). */
export class TurnUnwrapStats {
  /** Relay messages with a payload (ChannelData, indications, active-destination data), media or not. */
  relayMessages = 0;
  /** Inner packets delivered. */
  unwrapped = 0;
  /** Delivered with a TurnFlag (binding or allocation not seen). */
  unresolved = 0;
}

export interface TurnUnwrapperOptions {
  /** Ports TURN servers listen on: tells client from server when no TURN control message was seen. */
  serverPorts: readonly number[];
  /** Demux hints for the inner payload. */
  demuxPorts: DemuxPorts;
  limits?: Partial<TurnLimits>;
  /** Where the figures go (the agent passes its own stats object, which extends this one). */
  stats?: TurnUnwrapStats;
  /** Counter for STUN-format messages that relay nothing (ICE checks, Allocate/Refresh requests…). */
  notRelayCounter?: string;
}

export const TurnTcpMode = { Unknown: 0, Turn: 1, MsTurn: 2, NotTurn: 3 } as const;
export type TurnTcpMode = (typeof TurnTcpMode)[keyof typeof TurnTcpMode];

/** Per TCP connection: its mode (decided by the first bytes) and a framer per direction. */
export class TurnTcpFlow {
  mode: TurnTcpMode = TurnTcpMode.Unknown;
  /** For the owner: a stream that is not TURN but that it keeps (the agent forwards SIP over TCP). */
  passThrough = false;
  turn: [TurnStreamFramer, TurnStreamFramer] | null = null;
  ms: [MsTurnStreamFramer, MsTurnStreamFramer] | null = null;
  /** [MS-TURN] §2.1.3 pseudo-TLS hello to skip first, per direction (port-443 connections). */
  hello: [PseudoTlsSkipper, PseudoTlsSkipper] | null = null;
  constructor(
    /** TCP client and server addresses (direction 0 is client → server). */
    readonly client: StunAddress,
    readonly server: StunAddress,
  ) {}
}

export class TurnUnwrapper {
  readonly tracker: TurnTracker;
  readonly stats: TurnUnwrapStats;
  private readonly msg = new StunMessage();
  private readonly relay = new TurnRelay();
  private readonly cd = new ChannelData();
  private readonly srcA = new StunAddress();
  private readonly dstA = new StunAddress();
  private readonly inner = new InnerPacket();
  private readonly turnPorts = new Uint8Array(65536);
  private readonly notRelay: string;
  /** Capture time of the packet being unwrapped. */
  private now = 0;
  /** Set by findEither: the allocation found has srcA as its client. */
  private fromClient = false;
  /** [MS-TURN] §2.2.3 MTURN_Session_ID (hex) of the multiplexed frame being unwrapped, '' outside one. */
  private mux = '';
  // Context of the framer callbacks (set before each push: the framers call back synchronously).
  private cur: TurnTcpFlow | null = null;
  private curDir: TcpDir = 0;

  constructor(
    private readonly counters: Counters,
    private readonly sink: TurnUnwrapSink,
    private readonly opts: TurnUnwrapperOptions,
  ) {
    this.tracker = new TurnTracker(counters, opts.limits);
    this.stats = opts.stats ?? new TurnUnwrapStats();
    this.notRelay = opts.notRelayCounter ?? 'turn.not_relay';
    for (const port of opts.serverPorts) this.turnPorts[port] = 1;
  }

  /** True when either port is a configured TURN server port. */
  onServerPort(srcPort: number, dstPort: number): boolean {
    return this.turnPorts[srcPort] === 1 || this.turnPorts[dstPort] === 1;
  }

  sweep(now: number): void {
    this.tracker.sweep(now);
  }

  // ---- UDP ----

  /**
   * A UDP datagram and its RFC 7983 class (demux/classify). Returns true when it was TURN's (a
   * control message, relayed data, or bad TURN input, counted), false when TURN has nothing to do
   * with it (the caller handles it as usual).
   */
  udp(p: Packet, kind: PayloadKind): boolean {
    this.now = p.time;
    switch (kind) {
      case PayloadKind.Stun:
        this.packetAddresses(p);
        this.stun(p.payload, p.payloadOff, p.payloadLen, false);
        return true;
      case PayloadKind.ChannelData:
        this.packetAddresses(p);
        this.channelData(p.payload, p.payloadOff, p.payloadLen, false);
        return true;
      case PayloadKind.Rtp:
      case PayloadKind.Rtcp:
        // [MS-TURN] §3.1.5: after Set Active Destination, media flows unframed on the TURN 5-tuple.
        if (this.tracker.size === 0) return false;
        this.packetAddresses(p);
        return this.activeFrame(p.payload, p.payloadOff, p.payloadLen);
      default:
        if (p.payloadLen < 4 || p.payload[p.payloadOff] !== 0xff) return false;
        this.packetAddresses(p);
        return this.multiplexed(p.payload, p.payloadOff, p.payloadLen, false);
    }
  }

  /**
   * A datagram on a TURN server port, told apart by its first byte alone (RFC 7983 §7: 0–3 STUN,
   * 64–79 ChannelData, 128–191 RTP/RTCP): unlike demux/classify this also sees STUN and ChannelData
   * whose length fields lie, so they are counted as bad TURN instead of passing as unknown.
   */
  udpOnServerPort(p: Packet, kind: PayloadKind): boolean {
    if (p.payloadLen === 0) return false;
    const b0 = p.payload[p.payloadOff]!;
    if (b0 <= 3) return this.udp(p, PayloadKind.Stun);
    if (b0 >= 64 && b0 <= 79 && kind !== PayloadKind.Sip) return this.udp(p, PayloadKind.ChannelData);
    return this.udp(p, kind);
  }

  private packetAddresses(p: Packet): void {
    fromPacket(p, true, this.srcA);
    fromPacket(p, false, this.dstA);
  }

  // ---- TURN messages ----

  /**
   * The tracker's key for an address: within a multiplexed frame the session id is part of it, since
   * streams of many clients share one server-to-server 5-tuple ([MS-TURN] §2.2.3).
   */
  private key(a: StunAddress): EndpointKey {
    const k = keyOf(a);
    return this.mux === '' ? k : `${k}#${this.mux}`;
  }

  /**
   * [MS-TURN] §2.2.3 Multiplexed TURN: Channel_ID 0xFF10, Length (bytes after it), an 8-byte
   * MTURN_Session_ID, then the wrapped data: a TURN message, ChannelData, or data for the session's
   * active destination, unwrapped as if it had its own 5-tuple (srcA/dstA set by the caller).
   * True when the bytes are such a frame (bad ones are counted), false when they are not one.
   */
  private multiplexed(buf: Buffer, off: number, len: number, tcp: boolean): boolean {
    if (len < 4 || buf[off] !== 0xff || buf[off + 1] !== 0x10) return false;
    const flen = buf.readUInt16BE(off + 2);
    if (flen < 8 || 4 + flen > len) {
      this.counters.inc(4 + flen > len ? 'turn.truncated' : 'turn.malformed');
      return true;
    }
    this.counters.inc('turn.multiplexed');
    const d = off + 12;
    const dlen = flen - 8;
    this.mux = buf.toString('hex', off + 4, off + 12);
    try {
      const b0 = dlen > 0 ? buf[d]! : 0xff;
      if (b0 <= 3) this.stun(buf, d, dlen, tcp);
      else if (b0 >= 64 && b0 <= 79) this.channelData(buf, d, dlen, tcp);
      else if (!this.activeFrame(buf, d, dlen)) this.counters.inc('turn.multiplexed_unmatched');
    } finally {
      this.mux = '';
    }
    return true;
  }

  /** Which side of srcA/dstA is the TURN server when no control message told us. */
  private serverIsDst(): boolean {
    const s = this.turnPorts[this.srcA.port] === 1;
    const d = this.turnPorts[this.dstA.port] === 1;
    if (s !== d) return d;
    return this.dstA.port <= this.srcA.port;
  }

  private countBad(st: Status): void {
    this.counters.inc(st === Status.Truncated ? 'turn.truncated' : 'turn.malformed');
  }

  /** A STUN-format message between srcA and dstA (UDP datagram or TCP frame). */
  private stun(buf: Buffer, off: number, len: number, tcp: boolean): void {
    const m = this.msg;
    const st = decodeStunMessage(buf, off, len, m);
    if (st !== Status.Ok) return this.countBad(st);
    const r = this.relay;
    const rs = decodeTurnRelay(buf, m, r);
    if (rs === Status.Unsupported) {
      // Binding requests (ICE checks, keep-alives), Allocate/Refresh/CreatePermission requests…
      this.counters.inc(this.notRelay);
      return;
    }
    if (rs !== Status.Ok) {
      this.counters.inc('turn.malformed');
      return;
    }
    const now = this.now;
    const srcK = this.key(this.srcA);
    const dstK = this.key(this.dstA);
    const txid = (): string => buf.toString('latin1', m.txOff, m.txOff + m.txLen);
    switch (r.kind) {
      case TurnRelayKind.Send:
      case TurnRelayKind.MsSend: {
        const a = this.tracker.open(srcK, dstK, tcp, now);
        this.relayed(a, true, r.peer, buf, r.dataOff, r.dataLen, 0);
        return;
      }
      case TurnRelayKind.Data:
      case TurnRelayKind.MsData: {
        const a = this.tracker.open(dstK, srcK, tcp, now);
        this.relayed(a, false, r.peer, buf, r.dataOff, r.dataLen, 0);
        return;
      }
      case TurnRelayKind.ChannelBindRequest:
      case TurnRelayKind.MsSetActiveDestination: {
        const a = this.tracker.open(srcK, dstK, tcp, now);
        if (a) this.tracker.request(a, txid(), r.channel, r.peer, now);
        this.counters.inc('turn.bind_requests');
        return;
      }
      case TurnRelayKind.ChannelBindSuccess:
      case TurnRelayKind.MsSetActiveDestinationSuccess: {
        const a = this.tracker.find(dstK, srcK);
        if (a && this.tracker.confirm(a, txid())) this.counters.inc('turn.bindings');
        else this.counters.inc('turn.bind_unmatched');
        return;
      }
      case TurnRelayKind.AllocateSuccess:
      case TurnRelayKind.MsAllocateSuccess: {
        const a = this.tracker.open(dstK, srcK, tcp, now);
        if (a) this.tracker.setRelay(a, r.relay);
        this.counters.inc('turn.allocations');
        return;
      }
      default:
        this.counters.inc(this.notRelay);
    }
  }

  /** ChannelData (RFC 8656 §12.4) between srcA and dstA. */
  private channelData(buf: Buffer, off: number, len: number, tcp: boolean): void {
    const cd = this.cd;
    const st = decodeChannelData(buf, off, len, cd);
    if (st !== Status.Ok) return this.countBad(st);
    const srcK = this.key(this.srcA);
    const dstK = this.key(this.dstA);
    let a = this.findEither(srcK, dstK);
    let fromClient = this.fromClient;
    if (!a) {
      // Capture started after the Allocate: infer which side is the server from the port.
      fromClient = this.serverIsDst();
      a = (fromClient ? this.tracker.open(srcK, dstK, tcp, this.now) : this.tracker.open(dstK, srcK, tcp, this.now)) ?? undefined;
      if (a) {
        a.inferred = true;
        this.counters.inc('turn.inferred_allocations');
      }
    }
    const peer = a?.channels.get(cd.channel) ?? null;
    this.relayed(a ?? null, fromClient, peer, buf, cd.dataOff, cd.dataLen, cd.channel);
  }

  /** Data on a TURN 5-tuple with an [MS-TURN] active destination; false when it is not one. */
  private activeFrame(buf: Buffer, off: number, len: number): boolean {
    const a = this.findEither(this.key(this.srcA), this.key(this.dstA));
    if (!a || (a.active === null && a.channels.size > 0)) return false;
    this.relayed(a, this.fromClient, a.active, buf, off, len, 0);
    return true;
  }

  /** The allocation of the srcA–dstA 5-tuple with either side as the client; sets fromClient. */
  private findEither(srcK: EndpointKey, dstK: EndpointKey): Allocation | undefined {
    const a = this.tracker.find(srcK, dstK);
    this.fromClient = a !== undefined;
    return a ?? this.tracker.find(dstK, srcK);
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
    if (kind !== PayloadKind.Rtp && kind !== PayloadKind.Rtcp && kind !== PayloadKind.Sip) {
      // ICE checks through the relay, DTLS handshakes, keep-alives: not media.
      this.counters.inc('turn.inner_not_media');
      return;
    }
    if (a) a.last = this.now;
    const x = this.inner;
    x.src = src;
    x.dst = dst;
    x.flags = flags;
    x.channel = channel;
    x.kind = kind;
    x.buf = buf;
    x.off = off;
    x.len = len;
    x.time = this.now;
    this.stats.unwrapped++;
    if (flags !== 0) this.stats.unresolved++;
    this.sink.onInner(x);
  }

  // ---- TCP ----

  /** State for a TCP connection the caller thinks may carry TURN; null when its addresses do not parse. */
  openTcp(c: TcpConnection): TurnTcpFlow | null {
    const client = parseAddress(c.clientAddr, c.clientPort, new StunAddress());
    const server = parseAddress(c.serverAddr, c.serverPort, new StunAddress());
    return client && server ? new TurnTcpFlow(client, server) : null;
  }

  /**
   * The stream's first bytes decide: an [MS-TURN] frame header, or STUN/ChannelData (RFC 7983: 0–3
   * STUN, 64–79 ChannelData; RFC 8656 §12.5 puts both back to back on TCP). Sets flow.mode; returns
   * false (mode NotTurn) when it is neither.
   */
  detectTcp(flow: TurnTcpFlow, buf: Buffer, off: number, len: number): boolean {
    const hello = isPseudoTlsStart(buf, off, len);
    if (hello || isMsTurnTcpHeader(buf, off, len)) {
      flow.mode = TurnTcpMode.MsTurn;
      const h = (type: MsTcpFrame, b: Buffer, o: number, l: number): void => this.msFrame(type, b, o, l);
      flow.ms = [new MsTurnStreamFramer(h), new MsTurnStreamFramer(h)];
      // A TLS-looking start: the pseudo-TLS hello, or a real TLS session (told apart after the hello).
      if (hello) flow.hello = [new PseudoTlsSkipper(), new PseudoTlsSkipper()];
      return true;
    }
    const b0 = buf[off] ?? 0xff;
    if (len >= 4 && (b0 <= 3 || (b0 >= 64 && b0 <= 79))) {
      flow.mode = TurnTcpMode.Turn;
      const h = (kind: TurnFrameKind, b: Buffer, o: number, l: number): void => this.turnFrame(kind, b, o, l);
      flow.turn = [new TurnStreamFramer(h), new TurnStreamFramer(h)];
      return true;
    }
    flow.mode = TurnTcpMode.NotTurn;
    return false;
  }

  /** Ordered bytes of one direction of a TURN connection (detectTcp said Turn or MsTurn). */
  tcpData(flow: TurnTcpFlow, dir: TcpDir, buf: Buffer, off: number, len: number, now: number): void {
    this.now = now;
    this.cur = flow;
    this.curDir = dir;
    if (flow.mode === TurnTcpMode.Turn) this.push(flow.turn![dir], buf, off, len);
    else if (flow.mode === TurnTcpMode.MsTurn) {
      const sk = flow.hello?.[dir];
      const start = sk ? sk.take(buf, off, len) : off;
      if (sk && (sk.state === PseudoTls.RealTls || sk.state === PseudoTls.NotTls)) {
        // Encrypted (TURNS, HTTPS) or not TLS-shaped after all: nothing readable in either direction.
        this.counters.inc(sk.state === PseudoTls.RealTls ? 'turn.tcp_tls' : 'turn.tcp_not_turn');
        flow.mode = TurnTcpMode.NotTurn;
      } else if (start >= 0) this.push(flow.ms![dir], buf, start, off + len - start);
    }
    this.cur = null;
  }

  private push(f: TurnStreamFramer | MsTurnStreamFramer, buf: Buffer, off: number, len: number): void {
    const wasLost = f.lost;
    f.push(buf, off, len);
    // TCP offers no resync point: once a framer loses sync the rest of the direction is unreadable.
    if (!wasLost && f.lost) this.counters.inc('turn.tcp_lost_sync');
  }

  /** Copies a flow's address pair into srcA/dstA for direction `dir`. */
  tcpAddresses(flow: TurnTcpFlow, dir: TcpDir): { src: StunAddress; dst: StunAddress } {
    copyAddress(dir === 0 ? flow.client : flow.server, this.srcA);
    copyAddress(dir === 0 ? flow.server : flow.client, this.dstA);
    return { src: this.srcA, dst: this.dstA };
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
    if (this.multiplexed(buf, off, len, true)) return;
    // End-to-end data: relayed to or from the active destination (unknown → flagged).
    if (!this.activeFrame(buf, off, len)) {
      const srcK = this.key(this.srcA);
      const dstK = this.key(this.dstA);
      const fromClient = this.dstA.port === flow.server.port && dstK === this.key(flow.server);
      const a = fromClient ? this.tracker.open(srcK, dstK, true, this.now) : this.tracker.open(dstK, srcK, true, this.now);
      this.relayed(a, fromClient, a?.active ?? null, buf, off, len, 0);
    }
  }
}
