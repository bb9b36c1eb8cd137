/**
 * HEP input: each received HEP3 (or HEPv2/v1, hep12.ts) packet becomes a Packet with its original
 * 5-tuple and capture time and enters the pipeline at the UDP/TCP stage (Pipeline.inject), so SIP,
 * RTP and RTCP from any HEP sender (our agent, heplify, Kamailio, OpenSIPS, FreeSWITCH) are recorded like mirrored traffic.
 *
 * - Auth: with a key configured, a packet without that auth key chunk is dropped (`hep.auth_failed`).
 * - Sequence numbers (our agent) feed the per-sender loss tracker; `processed()` gives the ack value.
 * - TURN flags (our agent started mid-call): the TURN client's address stands for its relay address,
 *   resolved through the SDP relay candidates (relay-candidates.ts).
 * - TCP payloads (SIP over TCP) become segments of a synthetic byte stream per direction (our own
 *   sequence numbers), so the pipeline's TCP reassembly and SIP framer work on them unchanged.
 * - Bad input is counted by reason (`hep.truncated`, `hep.malformed`, `hep.unsupported`,
 *   `hep.v2_truncated`, `hep.v2_malformed`, `hep.not_ip`, …), never thrown; every table is capped.
 */
import type { Frame } from '../capture/frame.js';
import type { Counters } from '../core/counters.js';
import { IpProto, Packet, TcpFlag } from '../core/packet.js';
import { Status } from '../core/status.js';
import { decodeHep12, isHep12 } from './hep12.js';
import { decodeHep3, HepFamily, HepPacket, TurnFlag } from './hep3.js';
import { HepLossTracker } from './hep-loss.js';
import { RelayCandidates } from './relay-candidates.js';

export interface HepInputOptions {
  counters: Counters;
  /** Required auth key ('' accepts any). */
  authKey: string;
  /** Where packets go: the pipeline's UDP/TCP stage. */
  inject: (p: Packet) => void;
  /** Relay-candidate table to resolve TURN flags with (shared with the recorder's own TURN unwrap); default a new one. */
  relays?: RelayCandidates;
}

/** Pseudo link type of frames made from HEP (not a LINKTYPE_ value; nothing decodes the frame). */
export const HEP_LINKTYPE = -3;
const MAX_TCP_FLOWS = 65536;
const TCP_FLOW_IDLE_SEC = 900;

interface TcpFlowSeq {
  next: [number, number];
  last: number;
}

export class HepInput {
  readonly loss = new HepLossTracker();
  readonly relays: RelayCandidates;
  packets = 0;
  bytes = 0;
  private readonly hep = new HepPacket();
  private readonly packet = new Packet();
  private readonly frame: Frame = { linkType: HEP_LINKTYPE, iface: 0, tsSec: 0, tsNsec: 0, caplen: 0, len: 0, data: Buffer.alloc(0) };
  /** IPv6 addresses of the packet being injected: source at 0, destination at 16. */
  private readonly addr6 = Buffer.alloc(32);
  private readonly key: Buffer;
  private readonly tcpFlows = new Map<string, TcpFlowSeq>();
  private lastTcpSweep = 0;

  constructor(private readonly opts: HepInputOptions) {
    this.key = Buffer.from(opts.authKey, 'utf8');
    this.relays = opts.relays ?? new RelayCandidates();
  }

  /**
   * One HEP packet at buf[off, off + len) from `remote` (the sender's IP), received at `arrivalSec`
   * (wall clock; only HEPv1 needs it, default now). Returns our sequence number when the packet
   * carried one and was processed, else -1.
   */
  onPacket(buf: Buffer, off: number, len: number, remote: string, arrivalSec?: number): number {
    const c = this.opts.counters;
    const h = this.hep;
    // HEPv1/v2 (version byte 1 or 2) or HEP3 ("HEP3"); v1 carries no time: its arrival time stands in.
    const v12 = isHep12(buf, off, len);
    const st = v12 ? decodeHep12(buf, off, len, arrivalSec ?? Date.now() / 1000, h) : decodeHep3(buf, off, len, h);
    if (st !== Status.Ok) {
      const reason = st === Status.Truncated ? 'truncated' : st === Status.Malformed ? 'malformed' : 'unsupported';
      c.inc(v12 ? `hep.v2_${reason}` : `hep.${reason}`);
      return -1;
    }
    if (v12) c.inc('hep.v2_packets');
    if (h.ack >= 0 && h.payloadLen === 0) return -1;
    if (this.key.length > 0 && (h.authKeyLen !== this.key.length || h.authKeyBuf.compare(this.key, 0, this.key.length, h.authKeyOff, h.authKeyOff + h.authKeyLen) !== 0)) {
      c.inc('hep.auth_failed');
      return -1;
    }
    if (h.family !== HepFamily.IPv4 && h.family !== HepFamily.IPv6) {
      c.inc('hep.not_ip');
      return -1;
    }
    if (h.ipProto !== IpProto.Udp && h.ipProto !== IpProto.Tcp) {
      c.inc('hep.unsupported_transport');
      return -1;
    }
    if (h.tsUsec > 999_999) {
      c.inc('hep.malformed');
      return -1;
    }
    this.packets++;
    this.bytes += len;
    const time = h.tsSec + h.tsUsec / 1e6;
    if (h.seq >= 0) this.loss.onSequence(h.captureId, remote, h.seq, time);
    const p = this.fill(h, time);
    if (h.turnFlags & TurnFlag.RelayUnknown) this.resolveRelay(p, (h.turnFlags & TurnFlag.ToClient) !== 0);
    if (p.ipProto === IpProto.Tcp) this.tcpSequence(p, time);
    this.opts.inject(p);
    return h.seq;
  }

  private fill(h: HepPacket, time: number): Packet {
    const f = this.frame;
    f.tsSec = h.tsSec;
    f.tsNsec = h.tsUsec * 1000;
    f.data = h.payloadBuf.subarray(h.payloadOff, h.payloadOff + h.payloadLen);
    f.caplen = f.len = h.payloadLen;
    const p = this.packet;
    p.reset(f, time);
    if (h.family === HepFamily.IPv4) {
      p.ipVersion = 4;
      p.src4 = h.src4;
      p.dst4 = h.dst4;
    } else {
      p.ipVersion = 6;
      h.src6.copy(this.addr6, 0);
      h.dst6.copy(this.addr6, 16);
      p.addrBuf = this.addr6;
      p.srcOff = 0;
      p.dstOff = 16;
    }
    p.ipProto = h.ipProto;
    p.srcPort = h.srcPort;
    p.dstPort = h.dstPort;
    p.payload = h.payloadBuf;
    p.payloadOff = h.payloadOff;
    p.payloadLen = h.payloadLen;
    return p;
  }

  /** The TURN client's address (destination when toClient) becomes its SDP relay address. */
  private resolveRelay(p: Packet, toClient: boolean): void {
    this.opts.counters.inc(this.relays.resolve(p, toClient) ? 'hep.turn_resolved' : 'hep.turn_unresolved');
  }

  /** HEP carries no TCP sequence numbers: number each direction's payload bytes ourselves. */
  private tcpSequence(p: Packet, time: number): void {
    const a = `${p.ipVersion === 4 ? p.src4 : p.addrBuf.toString('hex', 0, 16)}:${p.srcPort}`;
    const b = `${p.ipVersion === 4 ? p.dst4 : p.addrBuf.toString('hex', 16, 32)}:${p.dstPort}`;
    const fwd = a < b;
    const key = fwd ? `${a} ${b}` : `${b} ${a}`;
    let f = this.tcpFlows.get(key);
    if (!f) {
      if (this.tcpFlows.size >= MAX_TCP_FLOWS) this.sweepTcp(time, true);
      f = { next: [1, 1], last: time };
      this.tcpFlows.set(key, f);
    }
    const [mine, theirs] = fwd ? [0, 1] as const : [1, 0] as const;
    p.tcpSeq = f.next[mine];
    p.tcpAck = f.next[theirs];
    p.tcpFlags = TcpFlag.Ack | TcpFlag.Psh;
    f.next[mine] = (f.next[mine] + p.payloadLen) >>> 0;
    f.last = time;
    if (time - this.lastTcpSweep > 60) this.sweepTcp(time, false);
  }

  private sweepTcp(now: number, full: boolean): void {
    this.lastTcpSweep = now;
    for (const [k, f] of this.tcpFlows) if (full || now - f.last > TCP_FLOW_IDLE_SEC) this.tcpFlows.delete(k);
    if (full) this.opts.counters.inc('hep.tcp_flows_evicted');
  }
}
