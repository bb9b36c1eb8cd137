import { formatEpochNs } from '../capture/frame.js';
import type { Counters } from '../core/counters.js';
import type { Packet } from '../core/packet.js';
import { Status } from '../core/status.js';
import { RtpFastPath } from '../fastpath/rtp-fast-path.js';
import { PayloadKind } from '../demux/payload-kind.js';
import { decodeRtpHeader, RtpHeader } from '../rtp/header.js';
import { staticPayloadFormat } from '../rtp/payload-types.js';
import { RtpStreamStats } from '../rtp/stream-stats.js';
import { DtmfDetector } from '../rtp/telephone-event.js';
import type { SessionDescription } from '../sdp/session-description.js';
import type { CallSpool } from '../spool/call-spool.js';
import type { SpoolDirectory } from '../spool/spool-directory.js';
import { Call, CallState, type Party, type PayloadMapping } from './call.js';
import type { CallProtocol, CallRecord, PartyInfo, StreamRecord } from './call-record.js';
import { dstKey, endpointAddress, endpointKey, formatEndpointKey, srcKey, type EndpointKey } from './endpoint-key.js';
import { UsersDirectory } from './users-directory.js';

/** When a signaling message was captured: a Packet, or the time a TCP stream delivered it. */
export interface SignalTime {
  time: number;
  frame: { tsSec: number; tsNsec: number } | null;
}

/** Timeouts by call state (Oreka's VoIpSession idea), in seconds of capture time. */
export interface CallTimeouts {
  /** INVITE without a final answer. */
  setupSec: number;
  /** Established call with neither SIP nor RTP for this long. */
  mediaSec: number;
  /** On hold (no RTP is expected) with no SIP for this long. */
  holdSec: number;
  /** Unattached RTP flow with no packet for this long is forgotten. */
  orphanRtpSec: number;
  /** Longest call; a call that never sees a BYE ends here at the latest. */
  maxCallSec: number;
}

export const DEFAULT_TIMEOUTS: CallTimeouts = { setupSec: 300, mediaSec: 120, holdSec: 7200, orphanRtpSec: 60, maxCallSec: 14400 };

export interface RegistryOptions {
  timeouts?: Partial<CallTimeouts>;
  users?: UsersDirectory;
  /** Spool media of calls (null: track and report only). */
  spool?: SpoolDirectory | null;
  /** Record RTP that matches no call, as calls of protocol `rtp` grouped by address pair. */
  recordUnattached?: boolean;
  /** Payload type mappings used when no SDP says otherwise (`--pt 96=opus/48000/2`). */
  payloadOverrides?: ReadonlyMap<number, PayloadMapping>;
  /** Most calls tracked at once; more are refused and counted. */
  maxCalls?: number;
  /** Most unattached flows remembered. */
  maxUnattached?: number;
  /** Packets the capture has dropped so far (kernel/interface): a call spanning drops is incomplete. */
  captureDrops?: () => number;
  /** Called once per call when it ends, with its final record (recording filled in later). */
  onCallEnded?: (call: Call, record: CallRecord, spool: CallSpool | null) => void;
  /** false: no native fast path for known RTP flows (tests compare both; default: when the capture addon is built). */
  fastPath?: boolean;
}

/** One RTP stream: one SSRC in one flow. */
export interface RtpStream {
  ssrc: number;
  party: Party;
  src: EndpointKey;
  dst: EndpointKey;
  pt: number;
  codec: string;
  clockRate: number;
  stats: RtpStreamStats;
  dtmf: DtmfDetector | null;
  /** Payload types of this SSRC that carry RFC 4733 events / RFC 3389 comfort noise (-1: none). */
  dtmfPt: number;
  cnPt: number;
  spoolIndex: number;
  first: number;
}

/** Packets between two endpoints in one direction. */
interface Flow {
  src: EndpointKey;
  dst: EndpointKey;
  call: Call | null;
  /** The call's entry (spool), kept on the flow so the per-packet path needs no lookup. */
  entry: CallEntry | null;
  /** Next flow in the same IPv4 hash bucket. */
  next: Flow | undefined;
  /** RTP to or from an ended call's endpoints during its linger time: counted, not recorded. */
  afterEnd: Call | null;
  party: Party;
  streams: RtpStream[];
  /** The stream of the flow's latest RTP packet (the per-packet lookup's first guess). */
  recent: RtpStream | null;
  rtcp: number;
  /** A copy of a party's audio sent elsewhere (a Cisco built-in-bridge recording fork): tracked, not recorded. */
  copy: boolean;
  /** Its slot in the native fast path, -1 when not registered there. */
  fastSlot: number;
}

interface Expectation {
  call: Call;
  /** The party that receives at this endpoint. */
  party: Party;
  since: number;
  /** Packets to this endpoint copy audio the call already has (expectCopy). */
  copy?: boolean;
}

interface CallEntry {
  call: Call;
  key: string;
  flows: Flow[];
  spool: CallSpool | null;
}

const other = (p: Party): Party => (p === 'caller' ? 'callee' : 'caller');

const iso = (t: number): string => new Date(Math.round(t * 1000)).toISOString();

const MAX_STREAMS_PER_FLOW = 16;

/**
 * Seconds an ended call's endpoints stay known: phones keep sending a few packets after BYE (and
 * some early media after a rejection); without this they would be reported as unattached RTP and
 * raise the operators' "unrecorded media" alarm for every call.
 */
const END_LINGER_SEC = 10;

/**
 * The call registry: calls and their parties, the flow table of expectations (address:port →
 * call and receiving party, from SDP and learned from traffic), RTP streams per flow and SSRC,
 * spooling, timeouts on capture time. Signaling trackers (SIP dialogs, later SCCP and SIPREC)
 * drive it; the packet path feeds it RTP/RTCP.
 */
export class CallRegistry {
  readonly timeouts: CallTimeouts;
  readonly users: UsersDirectory;
  private readonly calls = new Map<string, CallEntry>();
  private readonly expectations = new Map<EndpointKey, Expectation>();
  /**
   * IPv4 flows by a 30-bit hash of the 4-tuple: small-integer Map keys are V8's fast path
   * (endpoint keys up to 2^48 are heap numbers, which profiled at twice the cost). Buckets
   * chain through `Flow.next`; the full endpoint keys decide.
   */
  private readonly flows4 = new Map<number, Flow>();
  private readonly flows6 = new Map<string, Flow>();
  private readonly unattached: Flow[] = [];
  private readonly unattachedCalls = new Map<string, CallEntry>();
  /** Every tracked call's entry, by identity (SIP, SCCP… and unattached pseudo-calls alike). */
  private readonly entries = new Map<Call, CallEntry>();
  private readonly rtp = new RtpHeader();
  /** Ended calls whose endpoints still absorb trailing RTP, oldest first. */
  private readonly lingering: { call: Call; until: number; flows: Flow[] }[] = [];
  private readonly opts: RegistryOptions;
  private nextSeq = 0;
  private flowCount = 0;

  constructor(
    private readonly counters: Counters,
    opts: RegistryOptions = {},
  ) {
    this.opts = opts;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.users = opts.users ?? new UsersDirectory();
    this.fastPath = opts.fastPath === false ? null : RtpFastPath.create(opts.spool?.ringWriter ?? null);
  }

  /**
   * The native path for in-order RTP of known IPv4 flows (null without the capture addon): the
   * pipeline runs it over frames; this registry tells it which flows it may take.
   */
  readonly fastPath: RtpFastPath | null;

  get activeCalls(): number {
    return this.calls.size + this.unattachedCalls.size;
  }

  /** Find a tracked call by its protocol key (SIP: Call-ID). */
  get(key: string): Call | undefined {
    return this.calls.get(key)?.call;
  }

  start(key: string, protocol: CallProtocol, callId: string, from: PartyInfo, to: PartyInfo, p: SignalTime): Call | null {
    if (this.calls.size >= (this.opts.maxCalls ?? 100_000)) {
      this.counters.inc('calls.table_full');
      return null;
    }
    const f = p.frame ?? { tsSec: Math.floor(p.time), tsNsec: Math.round((p.time % 1) * 1e9) % 1e9 };
    const id = `${formatEpochNs(f.tsSec, f.tsNsec).replace('.', '-')}-${(this.nextSeq++).toString(36)}`;
    const call = new Call(id, protocol, callId, from, to, p.time, { sec: f.tsSec, nsec: f.tsNsec });
    call.dropsAtStart = this.opts.captureDrops?.() ?? 0;
    const entry: CallEntry = { call, key, flows: [], spool: null };
    this.calls.set(key, entry);
    this.entries.set(call, entry);
    this.counters.inc('calls.started');
    return call;
  }

  /**
   * An offer or answer from `party`: where it receives media. Every audio m-line's address and
   * port, its RTCP port, and every ICE candidate become expectations; a later SDP supersedes.
   */
  setMedia(call: Call, party: Party, sdp: SessionDescription, now: number): void {
    const m = call.media[party];
    m.endpoints = [];
    m.payloads = [];
    let hold = sdp.audio.length > 0;
    for (const media of sdp.audio) {
      if (!media.hold) hold = false;
      for (const pf of media.payloads) {
        if (!m.payloads.some((x) => x.pt === pf.pt)) m.payloads.push({ pt: pf.pt, codec: pf.codec, clockRate: pf.clockRate, channels: pf.channels, fmtp: pf.fmtp });
      }
      if (media.port === 0) continue;
      this.expect(call, party, media.connection, media.port, now);
      if (!media.rtcpMux) this.expect(call, party, media.rtcpAddress || media.connection, media.rtcpPort, now);
      for (const c of media.candidates) if (c.component === 1 || c.component === 2) this.expect(call, party, c.ip, c.port, now);
    }
    if (hold !== m.hold) call.note(hold ? `hold by ${party}` : `resume by ${party}`);
    m.hold = hold;
  }

  private expect(call: Call, party: Party, ip: string, port: number, now: number): void {
    if (!ip || ip === '0.0.0.0' || ip === '::' || port <= 0 || port > 65535) return;
    const key = endpointKey(ip, port);
    if (key === null) {
      this.counters.inc('calls.bad_sdp_address');
      return;
    }
    const prev = this.expectations.get(key);
    if (prev && prev.call !== call) this.counters.inc('calls.expectation_superseded');
    this.expectations.set(key, { call, party, since: now });
    call.expectations.add(key);
    call.media[party].endpoints.push(key);
  }

  /**
   * Media that `speaker` sends arrives at ip:port, an address that belongs to neither party (a
   * SIPREC SRS's own port, RFC 7866 §8.1.8): packets to it join the call as `speaker`'s. The
   * parties' own endpoints (used to match users by address) are left alone.
   */
  expectSent(call: Call, speaker: Party, ip: string, port: number, now: number): void {
    const key = ip && port > 0 && port <= 65535 ? endpointKey(ip, port) : null;
    if (key === null) {
      this.counters.inc('calls.bad_sdp_address');
      return;
    }
    const prev = this.expectations.get(key);
    if (prev && prev.call !== call) this.counters.inc('calls.expectation_superseded');
    // The registry stores the receiving party; packets to the key are spoken by the other one.
    this.expectations.set(key, { call, party: other(speaker), since: now });
    call.expectations.add(key);
  }

  /**
   * `party` receives media at ip:port, told by signaling other than SDP (SCCP OpenReceiveChannelAck
   * and StartMediaTransmission, Lync candidate forms the SDP model does not carry): the same
   * expectation setMedia registers for an SDP address. False when the address is unusable.
   */
  expectAt(call: Call, party: Party, ip: string, port: number, now: number): boolean {
    if (!ip || ip === '0.0.0.0' || ip === '::' || port <= 0 || port > 65535) return false;
    const key = endpointKey(ip, port);
    if (key === null) {
      this.counters.inc('calls.bad_sdp_address');
      return false;
    }
    const e = this.expectations.get(key);
    if (e?.call === call && e.party === party && call.media[party].endpoints.includes(key)) return true;
    this.expect(call, party, ip, port, now);
    return true;
  }

  /**
   * Packets to ip:port carry a copy of what `speaker` says (a Cisco phone's built-in-bridge fork
   * to a recording server): reported with the call's streams, marked `copy`, never recorded twice.
   */
  expectCopy(call: Call, speaker: Party, ip: string, port: number, now: number): void {
    const key = ip && port > 0 && port <= 65535 ? endpointKey(ip, port) : null;
    if (key === null) return;
    if (this.expectations.get(key)?.call !== call) this.expectations.set(key, { call, party: other(speaker), since: now, copy: true });
    call.expectations.add(key);
  }

  /** The live call and receiving party expected at ip:port, if any (SCCP joins a device's leg to the call its far end belongs to). */
  expecting(ip: string, port: number): { call: Call; party: Party } | null {
    const key = endpointKey(ip, port);
    const e = key === null ? undefined : this.expectations.get(key);
    return e && !e.copy && e.call.state !== CallState.Ended ? { call: e.call, party: e.party } : null;
  }

  /**
   * Forgets a call that turned out to be another view of a tracked one (an SCCP device's leg of a
   * conversation whose other device's call holds it) while no RTP has joined it: no record, no
   * end counter. False, and nothing changes, when it already has streams: then it must end().
   */
  discard(call: Call): boolean {
    const entry = this.entryOf(call);
    if (!entry || call.state === CallState.Ended || entry.call.protocol === 'rtp') return false;
    if (entry.flows.some((f) => f.streams.length > 0 || f.rtcp > 0)) return false;
    for (const f of entry.flows) this.dropFlow(f);
    for (const k of call.expectations) if (this.expectations.get(k)?.call === call) this.expectations.delete(k);
    this.calls.delete(entry.key);
    this.entries.delete(call);
    call.state = CallState.Ended;
    call.endReason = 'discarded';
    this.counters.inc('calls.discarded');
    return true;
  }

  /** Forget an expectation of `call` at ip:port (a SIPREC stream removed, its port released). */
  unexpect(call: Call, ip: string, port: number): void {
    const key = endpointKey(ip, port);
    if (key !== null && this.expectations.get(key)?.call === call) this.expectations.delete(key);
  }

  /** RTP or RTCP from the packet path. */
  onMedia(p: Packet, kind: PayloadKind): void {
    if (p.truncated) {
      this.counters.inc('rtp.truncated');
      return;
    }
    const flow = this.flow(p);
    if (flow === null) return;
    if (flow.afterEnd !== null) {
      this.counters.inc('rtp.after_call_end');
      return;
    }
    if (kind === PayloadKind.Rtcp) {
      flow.rtcp++;
      if (flow.call) flow.call.lastActivity = p.time;
      return;
    }
    const h = this.rtp;
    if (decodeRtpHeader(p.payload, p.payloadOff, p.payloadLen, h) !== Status.Ok) {
      this.counters.inc('rtp.malformed');
      if (flow.call) flow.call.lastActivity = p.time; // still the call's endpoints talking
      return;
    }
    // The stream of the flow's previous packet, else a search (an SSRC change, several SSRCs).
    let s: RtpStream | undefined = flow.recent ?? undefined;
    if (s === undefined || s.ssrc !== h.ssrc) {
      s = undefined;
      for (const x of flow.streams) if (x.ssrc === h.ssrc) s = x;
    }
    if (s === undefined) {
      if (flow.streams.length >= MAX_STREAMS_PER_FLOW) {
        this.counters.inc('rtp.too_many_ssrcs');
        if (flow.call) flow.call.lastActivity = p.time;
        return;
      }
      s = this.newStream(flow, h.ssrc, h.pt, p);
    }
    flow.recent = s;
    if (h.pt !== s.pt && h.pt !== s.dtmfPt && h.pt !== s.cnPt) this.switchPayload(flow, s, h.pt);
    const verdict = s.stats.update(h.seq, h.timestamp, p.time);
    if (h.pt === s.dtmfPt && s.dtmf && verdict !== 'dup') s.dtmf.push(h.timestamp, h.marker, p.payload, h.payloadOff, h.payloadLen, p.time);
    const entry = flow.entry;
    if (entry?.spool && s.spoolIndex >= 0 && verdict !== 'dup') {
      const f = p.frame!;
      // The frame's view of its memory, when the payload is the frame's own bytes (not reassembled).
      const own = f.view !== undefined && p.payload === f.data;
      entry.spool.append(s.spoolIndex, h.seq, h.timestamp, h.marker, h.pt, f.tsSec, f.tsNsec, p.payload, h.payloadOff, h.payloadLen, own ? f.view : undefined, own ? f.viewAt : 0);
    }
    const fast = this.fastPath;
    if (fast !== null) {
      if (fast.current === p) this.registerFast(fast, flow, s, h.pt, p);
      // A packet that did not come from a captured frame (HEP, SIPREC, TURN's inner packets) may
      // have changed the flow's stream: the native path leaves the flow alone from now on.
      else fast.unregister(flow);
    }
  }

  /**
   * After this path handled a captured packet of `flow`: the native path may take the flow's next
   * packets if they would be handled just like this one (same stream and payload type, plain
   * IPv4 frames), else it must leave them all here.
   */
  private registerFast(fast: RtpFastPath, flow: Flow, s: RtpStream, pt: number, p: Packet): void {
    if (p.ipVersion === 4 && !p.reassembled && flow.afterEnd === null && pt === s.pt && pt !== s.dtmfPt && pt !== s.cnPt && s.stats.slot >= 0) {
      const spool = flow.entry?.spool ?? null;
      const spooled = spool !== null && spool.isOpen && s.spoolIndex >= 0;
      fast.register(flow, s.ssrc, pt, s.stats.slot, spooled ? spool.sid : 0, spooled ? s.spoolIndex : -1);
    } else fast.unregister(flow);
  }

  private flow(p: Packet): Flow | null {
    if (p.ipVersion === 4) {
      const h = flowHash4(p.src4, p.dst4, p.srcPort, p.dstPort);
      const sk = p.src4 * 65536 + p.srcPort;
      const dk = p.dst4 * 65536 + p.dstPort;
      const head = this.flows4.get(h);
      for (let f = head; f !== undefined; f = f.next) if (f.src === sk && f.dst === dk) return f;
      const f = this.newFlow(sk, dk, p);
      if (f === null) return null;
      f.next = head;
      this.flows4.set(h, f);
      return f;
    }
    const sk = srcKey(p);
    const dk = dstKey(p);
    const key = `${sk} ${dk}`;
    const hit = this.flows6.get(key);
    if (hit) return hit;
    const f = this.newFlow(sk, dk, p);
    if (f !== null) this.flows6.set(key, f);
    return f;
  }

  private newFlow(src: EndpointKey, dst: EndpointKey, p: Packet): Flow | null {
    if (this.flowCount >= 200_000) {
      this.counters.inc('rtp.flow_table_full');
      return null;
    }
    // The receiver's advertised address is the best evidence (NAT rewrites the sender's);
    // symmetric RTP makes the sender's own advertised address the second best.
    const byDst = this.expectations.get(dst);
    const bySrc = byDst ? undefined : this.expectations.get(src);
    let call: Call | null = null;
    let party: Party = 'caller';
    const ended = (byDst ?? bySrc)?.call;
    if (ended && ended.state === CallState.Ended) {
      const flow: Flow = { src, dst, call: null, entry: null, next: undefined, afterEnd: ended, party, streams: [], recent: null, rtcp: 0, copy: false, fastSlot: -1 };
      this.flowCount++;
      const l = this.lingering.find((x) => x.call === ended);
      if (l) l.flows.push(flow);
      return flow;
    }
    if (byDst?.copy) {
      // A fork of the call's audio (expectCopy): its sender is not a new endpoint of the call.
      call = byDst.call;
      party = other(byDst.party);
    } else if (byDst) {
      call = byDst.call;
      party = other(byDst.party);
      this.learn(call, party, src, p.time);
    } else if (bySrc) {
      call = bySrc.call;
      party = bySrc.party;
      this.learn(call, other(party), dst, p.time);
    }
    const flow: Flow = { src, dst, call, entry: null, next: undefined, afterEnd: null, party, streams: [], recent: null, rtcp: 0, copy: byDst?.copy === true, fastSlot: -1 };
    this.flowCount++;
    if (call) {
      flow.entry = this.entryOf(call) ?? null;
      flow.entry?.flows.push(flow);
    } else {
      this.attachUnattached(flow, p);
    }
    return flow;
  }

  /** The far end seen in traffic (NAT, symmetric RTP) becomes an expectation too. */
  private learn(call: Call, party: Party, key: EndpointKey, now: number): void {
    if (this.expectations.has(key)) return;
    this.expectations.set(key, { call, party, since: now });
    call.expectations.add(key);
    this.counters.inc('calls.learned_endpoint');
  }

  private attachUnattached(flow: Flow, p: Packet): void {
    if (!this.opts.recordUnattached) {
      if (this.unattached.length < (this.opts.maxUnattached ?? 10_000)) this.unattached.push(flow);
      else this.counters.inc('rtp.unattached_overflow');
      return;
    }
    // One pseudo-call per address pair, whichever direction came first is the "caller".
    const a = formatEndpointKey(flow.src);
    const b = formatEndpointKey(flow.dst);
    const key = a < b ? `${a} ${b}` : `${b} ${a}`;
    let entry = this.unattachedCalls.get(key);
    if (!entry) {
      const f = p.frame!;
      const call = new Call(`${formatEpochNs(f.tsSec, f.tsNsec).replace('.', '-')}-${(this.nextSeq++).toString(36)}`, 'rtp', '', endpointParty(flow.src), endpointParty(flow.dst), p.time, {
        sec: f.tsSec,
        nsec: f.tsNsec,
      });
      call.state = CallState.Established;
      call.answer = p.time;
      call.note('RTP without signaling (recorded because record-unattached is on)');
      entry = { call, key, flows: [], spool: null };
      this.unattachedCalls.set(key, entry);
      this.entries.set(call, entry);
      this.counters.inc('calls.unattached_recorded');
      flow.party = 'caller';
    } else {
      flow.party = formatEndpointKey(flow.src) === entry.call.from.uri ? 'caller' : 'callee';
    }
    flow.call = entry.call;
    flow.entry = entry;
    entry.flows.push(flow);
  }

  private entryOf(call: Call): CallEntry | undefined {
    return this.entries.get(call);
  }

  private mapping(call: Call | null, party: Party, pt: number): PayloadMapping | undefined {
    if (call) {
      // RFC 3264 §5.1: a sender uses the payload numbers of the receiver's SDP.
      const byReceiver = call.media[other(party)].payloads.find((x) => x.pt === pt);
      if (byReceiver) return byReceiver;
      const bySender = call.media[party].payloads.find((x) => x.pt === pt);
      if (bySender) return bySender;
    }
    return this.opts.payloadOverrides?.get(pt) ?? staticPayloadFormat(pt) ?? undefined;
  }

  private newStream(flow: Flow, ssrc: number, pt: number, p: Packet): RtpStream {
    const map = this.mapping(flow.call, flow.party, pt);
    const codec = map?.codec ?? `PT${pt}`;
    const clockRate = map?.clockRate ?? 8000;
    const s: RtpStream = {
      ssrc,
      party: flow.party,
      src: flow.src,
      dst: flow.dst,
      pt,
      codec,
      clockRate,
      stats: new RtpStreamStats(clockRate),
      dtmf: null,
      dtmfPt: -1,
      cnPt: -1,
      spoolIndex: -1,
      first: p.time,
    };
    if (flow.streams.length > 0) flow.call?.note(`SSRC change on ${formatEndpointKey(flow.src)} → ${formatEndpointKey(flow.dst)}`);
    flow.streams.push(s);
    this.classifyPayload(flow, s, pt, map);
    if (flow.call && !flow.copy) this.spoolStream(flow.call, s);
    else if (!flow.call) this.counters.inc('rtp.unattached_streams');
    return s;
  }

  /**
   * Telephone-event (RFC 4733) and comfort noise (RFC 3389) share the SSRC of the audio they
   * accompany: remember their payload types instead of treating them as codec changes.
   */
  private classifyPayload(flow: Flow, s: RtpStream, pt: number, map: PayloadMapping | undefined): boolean {
    const codec = map?.codec.toLowerCase();
    if (codec === 'telephone-event') {
      s.dtmfPt = pt;
      if (!s.dtmf) {
        const call = flow.call;
        const party = s.party;
        s.dtmf = new DtmfDetector((ev) => flow.copy || call?.dtmf.push({ digit: ev.digit, time: iso(ev.firstArrival), durationMs: Math.round(ev.durationMs), party }), map?.clockRate ?? 8000);
      }
      return true;
    }
    if (codec === 'cn') {
      s.cnPt = pt;
      return true;
    }
    return false;
  }

  /** A payload type change inside one SSRC: DTMF or CN interleaved, or a codec switch. */
  private switchPayload(flow: Flow, s: RtpStream, pt: number): void {
    const map = this.mapping(flow.call, flow.party, pt);
    if (this.classifyPayload(flow, s, pt, map)) return;
    const codec = map?.codec ?? `PT${pt}`;
    // A stream that began with DTMF or CN takes its real codec silently.
    if (s.pt !== s.dtmfPt && s.pt !== s.cnPt && s.codec !== codec) flow.call?.note(`codec change to ${codec} by ${s.party}`);
    s.pt = pt;
    s.codec = codec;
    s.clockRate = map?.clockRate ?? s.clockRate;
  }


  private spoolStream(call: Call, s: RtpStream): void {
    const spoolDir = this.opts.spool;
    if (!spoolDir) return;
    const entry = this.entryOf(call);
    if (!entry) return;
    if (!entry.spool) entry.spool = spoolDir.open({ id: call.id, callId: call.callId, record: this.record(call, entry) });
    const payloads = [...call.media[other(s.party)].payloads, ...call.media[s.party].payloads];
    for (const [pt, m] of this.opts.payloadOverrides ?? []) if (!payloads.some((x) => x.pt === pt)) payloads.push(m);
    const st = staticPayloadFormat(s.pt);
    if (st && !payloads.some((x) => x.pt === s.pt)) payloads.push(st);
    s.spoolIndex = entry.spool.addStream({
      ssrc: s.ssrc,
      party: s.party,
      channel: s.party === 'caller' ? 0 : 1,
      src: formatEndpointKey(s.src),
      dst: formatEndpointKey(s.dst),
      payloads,
    });
  }

  /** Ends a call: removes its expectations and flows, builds its record, hands it on. */
  end(call: Call, reason: string, now: number): void {
    if (call.state === CallState.Ended) return;
    this.refreshActivity(call);
    // A call left waiting after a challenge or redirect ends with that answer as its outcome.
    if (call.state === CallState.Setup && call.status >= 300 && reason !== 'bye' && reason !== 'cancel') reason = `rejected:${call.status}`;
    call.state = CallState.Ended;
    call.end = Math.max(now, call.start);
    call.endReason = reason;
    const entry = this.entryOf(call);
    // Its expectations stay for the linger time (trailing RTP), then sweep() removes them.
    this.lingering.push({ call, until: call.end + END_LINGER_SEC, flows: [] });
    if (entry) {
      for (const f of entry.flows) for (const st of f.streams) st.dtmf?.flush();
      for (const f of entry.flows) this.dropFlow(f);
      if (call.protocol === 'rtp') this.unattachedCalls.delete(entry.key);
      else this.calls.delete(entry.key);
      this.entries.delete(call);
    }
    this.counters.inc(`calls.ended_${reason.split(':')[0]}`);
    const drops = (this.opts.captureDrops?.() ?? 0) - call.dropsAtStart;
    if (drops > 0) call.note(`capture dropped ${drops} packets during the call`);
    const record = this.record(call, entry);
    // Its streams' statistics are final: their records leave the shared slab.
    if (entry) for (const f of entry.flows) for (const st of f.streams) st.stats.release();
    // The handler closes the spool with this record as its final meta (the usual case); without
    // one the spool stays open, so its meta.json takes the record now.
    if (this.opts.onCallEnded) this.opts.onCallEnded(call, record, entry?.spool ?? null);
    else entry?.spool?.updateMeta({ id: call.id, callId: call.callId, record });
  }

  private dropFlow(f: Flow): void {
    this.fastPath?.unregister(f);
    if (typeof f.src === 'number' && typeof f.dst === 'number') {
      const h = flowHash4(Math.floor(f.src / 65536), Math.floor(f.dst / 65536), f.src % 65536, f.dst % 65536);
      const head = this.flows4.get(h);
      if (head === f) {
        if (f.next) this.flows4.set(h, f.next);
        else this.flows4.delete(h);
        this.flowCount--;
      } else {
        for (let x = head; x !== undefined; x = x.next)
          if (x.next === f) {
            x.next = f.next;
            this.flowCount--;
            break;
          }
      }
    } else {
      const key = `${f.src} ${f.dst}`;
      if (this.flows6.get(key) === f) {
        this.flows6.delete(key);
        this.flowCount--;
      }
    }
  }

  /** Timeouts by state, on capture time. */
  sweep(now: number): void {
    while (this.lingering.length > 0 && this.lingering[0]!.until <= now) {
      const { call, flows } = this.lingering.shift()!;
      for (const k of call.expectations) if (this.expectations.get(k)?.call === call) this.expectations.delete(k);
      for (const f of flows) this.dropFlow(f);
    }
    const t = this.timeouts;
    for (const e of this.calls.values()) this.refreshActivity(e.call, e);
    for (const e of this.unattachedCalls.values()) this.refreshActivity(e.call, e);
    for (const { call } of [...this.calls.values()]) {
      const age = now - call.start;
      if (age > t.maxCallSec) this.end(call, 'timeout:max', now);
      else if (call.state === CallState.Setup && now - call.lastSignal > t.setupSec) this.end(call, 'timeout:setup', call.lastActivity);
      else if (call.state === CallState.Established) {
        const idle = now - call.lastActivity;
        if (call.onHold ? now - call.lastSignal > t.holdSec : idle > t.mediaSec) this.end(call, call.onHold ? 'timeout:hold' : 'timeout:media', call.lastActivity);
      }
    }
    for (const { call } of [...this.unattachedCalls.values()]) if (now - call.lastActivity > t.orphanRtpSec) this.end(call, 'timeout:media', call.lastActivity);
    // Unattached flows are only reported; keep them, they are capped.
  }

  /**
   * RTP leaves no time on its call per packet (one more cold cache line each): the call's last
   * activity takes its streams' latest arrivals when it is read (sweep, end, record). RTCP and
   * signaling write it directly.
   */
  private refreshActivity(call: Call, entry = this.entryOf(call)): void {
    if (entry === undefined) return;
    let last = call.lastActivity;
    for (const f of entry.flows) for (const s of f.streams) if (s.stats.lastArrival > last) last = s.stats.lastArrival;
    call.lastActivity = last;
  }

  /** The call's last activity, its RTP included (read this, not `call.lastActivity`, while it is up). */
  lastActivity(call: Call): number {
    this.refreshActivity(call);
    return call.lastActivity;
  }

  /** End of input (replay) or shutdown: every open call ends now. */
  finish(now: number, reason: string): void {
    for (const e of this.calls.values()) this.refreshActivity(e.call, e);
    for (const e of this.unattachedCalls.values()) this.refreshActivity(e.call, e);
    for (const { call } of [...this.calls.values()]) this.end(call, reason, Math.max(now, call.lastActivity));
    for (const { call } of [...this.unattachedCalls.values()]) this.end(call, reason, call.lastActivity);
  }

  /** Streams that matched no call (for the JSON `unattached` list). */
  unattachedStreams(): { ssrc: number; src: string; dst: string; packets: number; payloadType: number; codec: string }[] {
    const out = [];
    for (const f of this.unattached)
      for (const s of f.streams) out.push({ ssrc: s.ssrc, src: formatEndpointKey(s.src), dst: formatEndpointKey(s.dst), packets: s.stats.packets, payloadType: s.pt, codec: s.codec });
    return out;
  }

  /** The call as reported and indexed (DESIGN.md `--json` schema). */
  record(call: Call, entry = this.entryOf(call)): CallRecord {
    if (call.state !== CallState.Ended) this.refreshActivity(call, entry);
    const streams: StreamRecord[] = [];
    for (const f of entry?.flows ?? [])
      for (const s of f.streams) {
        streams.push({
          ssrc: s.ssrc,
          src: formatEndpointKey(s.src),
          dst: formatEndpointKey(s.dst),
          payloadType: s.pt,
          codec: s.codec,
          packets: s.stats.packets,
          lost: Math.max(0, s.stats.lost),
          outOfOrder: s.stats.outOfOrder,
          duplicates: s.stats.duplicates,
          jitterMs: Math.round(s.stats.jitterMs * 1000) / 1000,
          party: s.party,
          first: iso(s.first),
          last: iso(s.stats.lastArrival),
          ...(f.copy ? { copy: true } : {}),
        });
      }
    const callerAddrs = new Set<string>();
    const calleeAddrs = new Set<string>();
    for (const k of call.media.caller.endpoints) callerAddrs.add(endpointAddress(k));
    for (const k of call.media.callee.endpoints) calleeAddrs.add(endpointAddress(k));
    let { user, direction } = this.users.classify(call.from, call.to, callerAddrs, calleeAddrs);
    // Other identities of the sides (SIPREC SBC headers) when the parties themselves match nobody.
    if (user === null) {
      for (const a of call.aliases.caller) if (user === null && (user = this.users.match(a, callerAddrs)) !== null) direction = 'outbound';
      for (const a of call.aliases.callee) if (user === null && (user = this.users.match(a, calleeAddrs)) !== null) direction = 'inbound';
    }
    if (call.direction !== null) direction = call.direction;
    call.user = user;
    return {
      id: call.id,
      protocol: call.protocol,
      callId: call.callId,
      from: call.from,
      to: call.to,
      user,
      direction,
      start: iso(call.start),
      answer: call.answer === null ? null : iso(call.answer),
      end: iso(call.state === CallState.Ended ? call.end : call.lastActivity),
      endReason: call.endReason,
      status: call.status,
      streams,
      dtmf: [...call.dtmf],
      notes: [...call.notes],
      recording: call.recording,
      ...(call.siprec ? { siprec: call.siprec } : {}),
      ...(call.links.length ? { linked: [...call.links] } : {}),
      ...(call.sccp ? { sccp: call.sccp } : {}),
      ...(call.netfeed ? { netfeed: call.netfeed } : {}),
    };
  }
}

/** 30-bit hash of an IPv4 4-tuple (multiplicative mixing; stays a V8 small integer). */
function flowHash4(src: number, dst: number, sport: number, dport: number): number {
  let h = Math.imul(src ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ dst, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ ((sport << 16) | dport), 0x27d4eb2f);
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

function endpointParty(k: EndpointKey): PartyInfo {
  return { uri: formatEndpointKey(k), number: '', name: '' };
}
