/**
 * TURN on the mirror port: a SPAN port on the external side of an Edge or TURN server carries the
 * media of relayed calls wrapped in TURN. Traffic to or from a configured TURN server port
 * (`turn.serverPorts`) goes through the shared unwrap step (turn-unwrapper.ts, the agent's too), and
 * each inner packet enters the recorder's UDP path (flow table, calls, spool) as a datagram between
 * the relay address and the peer, stamped with the outer packet's capture time: what the agent
 * would have forwarded, recorded directly.
 *
 * Only those ports are looked at, and there by the RFC 7983 first-byte demux (0–3 STUN, 64–79
 * ChannelData), so ordinary RTP elsewhere is never read as TURN. An inner packet the unwrapper
 * could not resolve (Allocate or ChannelBind not in the capture: started mid-call) carries the
 * client's address in place of the relay's; the SDP's `a=candidate … typ relay raddr … rport …`
 * turns it back, through the same relay-candidate table the HEP input uses (hep/relay-candidates.ts).
 */
import type { Frame } from '../capture/frame.js';
import type { Counters } from '../core/counters.js';
import { IpProto, Packet } from '../core/packet.js';
import type { DemuxPorts } from '../demux/classify.js';
import type { PayloadKind } from '../demux/payload-kind.js';
import { TurnFlag } from '../hep/hep3.js';
import type { RelayCandidates } from '../hep/relay-candidates.js';
import type { TcpConnection, TcpStreamConsumer } from '../tcp/stream-reassembler.js';
import { StunFamily } from './stun-message.js';
import type { TurnLimits } from './turn-tracker.js';
import { type InnerPacket, TurnTcpFlow, TurnTcpMode, TurnUnwrapper, type TurnUnwrapSink } from './turn-unwrapper.js';

/** The TURN server ports unwrapped by default: RFC 8656 §4 (3478 UDP/TCP, 5349 TLS/DTLS), the alternate 3479, and 443 ([MS-TURN] Edge over TCP). */
export const DEFAULT_TURN_SERVER_PORTS: readonly number[] = [3478, 3479, 443, 5349];

export interface TurnInputOptions {
  counters: Counters;
  serverPorts: readonly number[];
  demuxPorts: DemuxPorts;
  limits?: Partial<TurnLimits>;
  /** SDP relay candidates (learned by the call registry) for packets unwrapped with a TurnFlag. */
  relays: RelayCandidates;
  /** The UDP handler captured datagrams take: inner packets go there too. */
  deliver: (p: Packet, kind: PayloadKind) => void;
}

/** Pseudo link type of frames stamped for inner packets of TCP data delivered after its segment. */
const TURN_LINKTYPE = -4;

export class TurnInput implements TurnUnwrapSink {
  readonly unwrapper: TurnUnwrapper;
  readonly tcpStreams: TcpStreamConsumer;
  private readonly packet = new Packet();
  /** IPv6 addresses of the inner packet: source at 0, destination at 16. */
  private readonly addr6 = Buffer.alloc(32);
  private readonly stamp: Frame = { linkType: TURN_LINKTYPE, iface: 0, tsSec: 0, tsNsec: 0, caplen: 0, len: 0, data: Buffer.alloc(0) };
  /** The outer packet's frame (its capture stamp), or null when the inner packet must be stamped from its time. */
  private outer: Frame | null = null;
  private tcpPacket: Packet | null = null;

  constructor(private readonly opts: TurnInputOptions) {
    this.unwrapper = new TurnUnwrapper(opts.counters, this, {
      serverPorts: opts.serverPorts,
      demuxPorts: opts.demuxPorts,
      ...(opts.limits ? { limits: opts.limits } : {}),
    });
    this.tcpStreams = {
      onData: (c, dir, buf, off, len, now) => {
        const flow = this.flowOf(c, buf, off, len);
        if (flow === null) return;
        const p = this.tcpPacket;
        this.outer = p && p.time === now ? p.frame : null;
        this.unwrapper.tcpData(flow, dir, buf, off, len, now);
      },
      onGap: (c) => {
        if (c.user instanceof TurnTcpFlow && c.user.mode !== TurnTcpMode.NotTurn) this.opts.counters.inc('turn.tcp_gap');
      },
      onClose: (c) => {
        c.user = undefined;
      },
    };
  }

  /** True when the datagram was TURN's (unwrapped, or counted); false: handle it as usual. */
  onUdp(p: Packet, kind: PayloadKind): boolean {
    if (!this.unwrapper.onServerPort(p.srcPort, p.dstPort)) return false;
    if (p.truncated) {
      this.opts.counters.inc('turn.snaplen');
      return true;
    }
    this.outer = p.frame;
    return this.unwrapper.udpOnServerPort(p, kind);
  }

  /** TCP connections to a TURN server port belong to tcpStreams. */
  isTurnConnection(c: TcpConnection): boolean {
    return this.unwrapper.onServerPort(c.clientPort, c.serverPort);
  }

  /** The TCP segment being reassembled: its frame stamps inner packets delivered during its add(). */
  onTcpSegment(p: Packet): void {
    this.tcpPacket = p;
  }

  sweep(now: number): void {
    this.unwrapper.sweep(now);
  }

  private flowOf(c: TcpConnection, buf: Buffer, off: number, len: number): TurnTcpFlow | null {
    if (c.user === null) return null;
    let f: TurnTcpFlow | null = c.user instanceof TurnTcpFlow ? c.user : null;
    if (f === null) {
      f = this.unwrapper.openTcp(c);
      c.user = f;
      if (f === null) return null;
    }
    if (f.mode === TurnTcpMode.Unknown && !this.unwrapper.detectTcp(f, buf, off, len)) {
      // TLS to port 443 (or 5349) and the like: nothing we can read.
      this.opts.counters.inc(buf[off] === 0x16 ? 'turn.tcp_tls' : 'turn.tcp_not_turn');
    }
    return f.mode === TurnTcpMode.NotTurn ? null : f;
  }

  onInner(x: InnerPacket): void {
    let frame = this.outer;
    if (frame === null) {
      frame = this.stamp;
      frame.tsSec = Math.floor(x.time);
      frame.tsNsec = Math.min(999_999_999, Math.round((x.time - frame.tsSec) * 1e9));
    }
    const p = this.packet;
    p.reset(frame, x.time);
    if (x.src.family === StunFamily.IPv4) {
      p.ipVersion = 4;
      p.src4 = x.src.ipv4;
      p.dst4 = x.dst.ipv4;
    } else {
      p.ipVersion = 6;
      x.src.ipv6.copy(this.addr6, 0);
      x.dst.ipv6.copy(this.addr6, 16);
      p.addrBuf = this.addr6;
      p.srcOff = 0;
      p.dstOff = 16;
    }
    p.ipProto = IpProto.Udp;
    p.srcPort = x.src.port;
    p.dstPort = x.dst.port;
    p.payload = x.buf;
    p.payloadOff = x.off;
    p.payloadLen = x.len;
    if (x.flags & TurnFlag.RelayUnknown) {
      this.opts.counters.inc(this.opts.relays.resolve(p, (x.flags & TurnFlag.ToClient) !== 0) ? 'turn.relay_resolved' : 'turn.relay_unresolved');
    }
    this.opts.deliver(p, x.kind);
  }
}
