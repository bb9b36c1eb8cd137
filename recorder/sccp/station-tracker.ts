/**
 * SCCP (Skinny) station state as a passive observer sees it, driving the call registry.
 *
 * A station is one device's TCP connection to CallManager (a phone, gateway or media resource):
 * its RegisterMessage names it (`SEP001122334455`) and LineStat gives its lines' directory
 * numbers. Each call reference CallManager gives the device is a *leg*: CallState (off hook, ring
 * out/in, connected, hold, on hook), CallInfo / DialedNumber (numbers and names, original and
 * last redirecting party), the media messages (OpenReceiveChannelAck: where the station receives
 * RTP; StartMediaTransmission: where it sends), KeypadButton (DTMF once connected).
 *
 * Legs become registry calls (protocol `sccp`) when their first media address is known, so that
 * the two legs of a call between two observed phones become ONE call: a leg whose far address
 * (StartMediaTransmission) or own address (OpenReceiveChannelAck) is already expected by another
 * SCCP call takes the free party of that call (CallManager sends StartMediaTransmission only
 * after the far station's OpenReceiveChannelAck, so the far address is known by then). Media
 * addresses register flow-table expectations exactly as SDP addresses do (registry.expectAt).
 * A leg that never gets media becomes a call record when it ends (unanswered, busy).
 *
 * When a leg of a two-device call starts sending somewhere new (a conference bridge, a transfer
 * target), it leaves that call for its own or the new far end's call; the calls are linked
 * (QMS call chaining), as are a call and its consultation when Transfer/Confrn is pressed.
 *
 * Built-in-bridge recording forks (StartMediaTransmission for a call reference the device does
 * not have, whose conferenceID is one of its legs) register copy expectations: the streams are
 * reported with the call, marked `copy`, and not recorded twice.
 *
 * Counters: sccp.messages, sccp.unsupported_message_id, sccp.truncated, sccp.malformed,
 * sccp.registered, sccp.calls_started, sccp.legs_merged, sccp.legs_moved, sccp.forks,
 * sccp.media_resource_message, sccp.unknown_leg, sccp.abandoned_offhook, sccp.legs_evicted.
 */
import type { Call, Party, PayloadMapping } from '../calls/call.js';
import { CallState } from '../calls/call.js';
import type { PartyInfo, SccpDeviceRecord } from '../calls/call-record.js';
import type { CallRegistry, SignalTime } from '../calls/call-registry.js';
import { deviceUri } from '../calls/users-directory.js';
import type { Counters } from '../core/counters.js';
import { Status } from '../core/status.js';
import { CallStateValue } from './call-state.js';
import { decodeSkinnyHeader, SkinnyHeader } from './header.js';
import { compressionCodec } from './media-channel.js';
import { decodeSkinnyBody, SkinnyMessage } from './message.js';
import { isKnownMessageId, MessageId } from './message-ids.js';
import { keypadDigit, SoftKey, StimulusValue } from './station-input.js';

const other = (p: Party): Party => (p === 'caller' ? 'callee' : 'caller');
const iso = (t: number): string => new Date(Math.round(t * 1000)).toISOString();

/** Device types that are media resources, not phones: their channels are not calls (tshark `skinny.deviceType`). */
const MEDIA_RESOURCE_TYPES = new Set([50, 51, 52, 53, 70, 82, 83, 84, 85, 86, 87, 88, 110, 111, 112, 113, 126, 127, 128, 129, 600]);

/** Messages about calls (the rest are registration, display, keep-alive…). */
const CALL_MESSAGES = new Set<number>([
  MessageId.CallState,
  MessageId.CallInfo,
  MessageId.CallInfoV2,
  MessageId.DialedNumber,
  MessageId.KeypadButton,
  MessageId.SoftKeyEvent,
  MessageId.Stimulus,
  MessageId.OpenReceiveChannel,
  MessageId.OpenReceiveChannelAck,
  MessageId.StartMediaTransmission,
  MessageId.StopMediaTransmission,
  MessageId.CloseReceiveChannel,
  MessageId.OnHook,
  MessageId.OffHook,
]);

/** Legs tracked per station and stations tracked at once; more are evicted (counted). */
const MAX_LEGS_PER_STATION = 64;
const MAX_STATIONS = 100_000;
/** Seconds a Transfer/Confrn press waits for its consultation call. */
const FEATURE_WINDOW_SEC = 120;

interface Endpoint {
  ip: string;
  port: number;
}

export interface Station {
  /** `ip:port` of the station's end of the connection. */
  readonly key: string;
  ip: string;
  device: string;
  deviceType: number;
  /** Line instance → directory number (LineStat). */
  readonly lines: Map<number, string>;
  readonly legs: Map<number, Leg>;
  /** A Transfer/Confrn press on `leg` waiting for its consultation call. */
  feature: { kind: 'transfer' | 'conference'; leg: Leg; at: number } | null;
  lastSeen: number;
}

interface Leg {
  readonly station: Station;
  readonly callRef: number;
  line: number;
  state: number;
  first: SignalTime;
  last: number;
  connectedAt: number | null;
  /** caller / callee from RingOut/RingIn or CallInfo callType; null while unknown. */
  role: Party | null;
  /** Party of the registry call this leg is (once in a call). */
  party: Party;
  calling: PartyInfo;
  called: PartyInfo;
  originalCalled: PartyInfo | null;
  lastRedirecting: PartyInfo | null;
  dialed: string;
  outcome: string;
  own: Endpoint | null;
  far: Endpoint | null;
  passThru: number;
  /** Payload formats of the leg's channel (OpenReceiveChannel / StartMediaTransmission): codec, RFC 2833 events. */
  payloads: PayloadMapping[];
  call: Call | null;
  ended: boolean;
  /** The leg this one consults for a transfer/conference (or is linked to by a move). */
  linkedTo: { leg: Leg; relation: string } | null;
  pendingDtmf: { digit: string; time: string }[];
  hold: boolean;
  /** Built-in-bridge forks of this leg's audio (applied when it is in a call). */
  forks: Fork[];
}

interface Fork {
  ip: string;
  port: number;
  /** The device's own voice (partyDirection 1) rather than the far end's (2). */
  own: boolean;
}

interface CallLegs {
  caller: Leg | null;
  callee: Leg | null;
  devices: SccpDeviceRecord[];
  forks: string[];
}

const party = (number: string, name: string): PartyInfo => ({ uri: '', number, name });

export class StationTracker {
  private readonly stations = new Map<string, Station>();
  private readonly calls = new Map<Call, CallLegs>();
  private readonly header = new SkinnyHeader();
  private readonly msg = new SkinnyMessage();
  private nextKey = 0;

  constructor(
    private readonly registry: CallRegistry,
    private readonly counters: Counters,
  ) {}

  /** The station at the connection end `ip:port` (created on first use). */
  station(ip: string, port: number, now: number): Station {
    const key = `${ip}:${port}`;
    let st = this.stations.get(key);
    if (st === undefined) {
      if (this.stations.size >= MAX_STATIONS) this.evictOldestStation();
      st = { key, ip, device: '', deviceType: 0, lines: new Map(), legs: new Map(), feature: null, lastSeen: now };
      this.stations.set(key, st);
    }
    return st;
  }

  /**
   * One whole Skinny message buf[off, off + len) on `st`'s connection, either way (the message
   * id says who sent it).
   */
  onMessage(st: Station, buf: Buffer, off: number, len: number, t: SignalTime): void {
    const h = this.header;
    const status = decodeSkinnyHeader(buf, off, len, h);
    if (status !== Status.Ok) {
      this.counters.inc(status === Status.Truncated ? 'sccp.truncated' : 'sccp.malformed');
      return;
    }
    this.counters.inc('sccp.messages');
    st.lastSeen = t.time;
    if (!isKnownMessageId(h.messageId)) {
      this.counters.inc('sccp.unsupported_message_id');
      return;
    }
    const m = this.msg;
    const ds = decodeSkinnyBody(h.messageId, h.version, buf, h.bodyOff, h.bodyLen, m);
    if (ds === Status.Unsupported) return;
    if (ds !== Status.Ok) {
      this.counters.inc(ds === Status.Truncated ? 'sccp.truncated' : 'sccp.malformed');
      return;
    }
    this.apply(st, m, t);
  }

  private apply(st: Station, m: SkinnyMessage, t: SignalTime): void {
    const now = t.time;
    switch (m.id) {
      case MessageId.Register:
        st.device = m.deviceName;
        st.deviceType = m.deviceType;
        this.counters.inc('sccp.registered');
        return;
      case MessageId.LineStat:
      case MessageId.LineStatV2:
        if (m.lineDirNumber) st.lines.set(m.lineNumber, m.lineDirNumber);
        return;
      case MessageId.Unregister:
        for (const leg of [...st.legs.values()]) this.endLeg(leg, now, 'unregistered');
        return;
      default:
        break;
    }
    if (!CALL_MESSAGES.has(m.id)) return;
    if (MEDIA_RESOURCE_TYPES.has(st.deviceType)) {
      // Conference bridges, MTPs, MOH servers: their channels belong to other devices' calls.
      this.counters.inc('sccp.media_resource_message');
      return;
    }
    switch (m.id) {
      case MessageId.CallState:
        this.callState(st, m, t);
        break;
      case MessageId.CallInfo:
      case MessageId.CallInfoV2:
        this.callInfo(this.leg(st, m.callRef, m.lineInstance, t), m, now);
        break;
      case MessageId.DialedNumber:
        if (m.hasCallRef) {
          const leg = this.leg(st, m.callRef, m.lineInstance, t);
          leg.dialed = m.dialedNumber;
          if (!leg.called.number) leg.called.number = m.dialedNumber;
          this.touch(leg, now);
        }
        break;
      case MessageId.KeypadButton:
        this.keypad(st, m, now);
        break;
      case MessageId.SoftKeyEvent:
      case MessageId.Stimulus:
        this.feature(st, m, now);
        break;
      case MessageId.OpenReceiveChannel: {
        if (!m.hasCallRef) break;
        const leg = this.leg(st, m.callRef, 0, t);
        leg.passThru = m.passThruPartyId;
        this.channelFormats(leg, m);
        this.touch(leg, now);
        break;
      }
      case MessageId.OpenReceiveChannelAck: {
        if (m.status !== 0 || !m.ip || m.port === 0) break;
        let leg = m.hasCallRef ? st.legs.get(m.callRef) : undefined;
        if (leg === undefined) for (const l of st.legs.values()) if (l.passThru === m.passThruPartyId && !l.ended) leg = l;
        if (leg === undefined && m.hasCallRef) leg = this.leg(st, m.callRef, 0, t);
        if (leg === undefined) {
          this.counters.inc('sccp.unknown_leg');
          break;
        }
        this.media(leg, 'own', { ip: m.ip, port: m.port }, t);
        break;
      }
      case MessageId.StartMediaTransmission:
        this.startMedia(st, m, t);
        break;
      case MessageId.StopMediaTransmission:
      case MessageId.CloseReceiveChannel: {
        const leg = m.hasCallRef ? st.legs.get(m.callRef) : undefined;
        if (leg) this.touch(leg, now);
        break;
      }
      case MessageId.OnHook:
      case MessageId.OffHook:
        if (m.hasCallRef) {
          const leg = st.legs.get(m.callRef);
          if (leg) this.touch(leg, now);
        }
        break;
      default:
        break;
    }
  }

  private leg(st: Station, callRef: number, line: number, t: SignalTime): Leg {
    let leg = st.legs.get(callRef);
    if (leg && leg.call && leg.call.state === CallState.Ended && !leg.ended) {
      // The registry ended its call (timeout): the reference is reused or this is a new call.
      this.forget(leg);
      leg = undefined;
    }
    if (leg === undefined) {
      if (st.legs.size >= MAX_LEGS_PER_STATION) {
        const oldest = [...st.legs.values()].sort((a, b) => a.last - b.last)[0]!;
        this.counters.inc('sccp.legs_evicted');
        this.endLeg(oldest, t.time, 'evicted');
      }
      leg = {
        station: st,
        callRef,
        line,
        state: 0,
        first: { time: t.time, frame: t.frame ? { tsSec: t.frame.tsSec, tsNsec: t.frame.tsNsec } : null },
        last: t.time,
        connectedAt: null,
        role: null,
        party: 'caller',
        calling: party('', ''),
        called: party('', ''),
        originalCalled: null,
        lastRedirecting: null,
        dialed: '',
        outcome: '',
        own: null,
        far: null,
        passThru: 0,
        payloads: [],
        call: null,
        ended: false,
        linkedTo: null,
        pendingDtmf: [],
        hold: false,
        forks: [],
      };
      st.legs.set(callRef, leg);
      // A Transfer/Confrn press on another leg of this device: this is its consultation call.
      const f = st.feature;
      if (f && f.leg !== leg && !f.leg.ended && t.time - f.at <= FEATURE_WINDOW_SEC) leg.linkedTo = { leg: f.leg, relation: f.kind };
    }
    if (line && !leg.line) leg.line = line;
    return leg;
  }

  private touch(leg: Leg, now: number): void {
    leg.last = now;
    if (leg.call && leg.call.state !== CallState.Ended) {
      leg.call.lastSignal = Math.max(leg.call.lastSignal, now);
      leg.call.lastActivity = Math.max(leg.call.lastActivity, now);
    }
  }

  private callState(st: Station, m: SkinnyMessage, t: SignalTime): void {
    const now = t.time;
    const leg = this.leg(st, m.callRef, m.lineInstance, t);
    const prev = leg.state;
    leg.state = m.callState;
    this.touch(leg, now);
    switch (m.callState) {
      case CallStateValue.RingOut:
      case CallStateValue.Proceed:
        leg.role ??= 'caller';
        break;
      case CallStateValue.RingIn:
      case CallStateValue.CallWaiting:
        leg.role ??= 'callee';
        break;
      case CallStateValue.Connected:
        if (leg.connectedAt === null) leg.connectedAt = now;
        if (leg.call) this.established(leg, now);
        if (leg.hold) this.setHold(leg, false);
        break;
      case CallStateValue.Hold:
        this.setHold(leg, true);
        break;
      case CallStateValue.RemoteHold:
        leg.call?.note(`held by the far end of ${this.deviceName(leg)}`);
        break;
      case CallStateValue.Busy:
      case CallStateValue.Congestion:
      case CallStateValue.InvalidNumber:
        leg.outcome = m.callState === CallStateValue.Busy ? 'busy' : m.callState === CallStateValue.Congestion ? 'congestion' : 'invalid-number';
        break;
      case CallStateValue.CallTransfer:
        leg.call?.note(`transfer on ${this.deviceName(leg)}`);
        break;
      case CallStateValue.CallPark:
        leg.call?.note(`parked on ${this.deviceName(leg)}`);
        break;
      case CallStateValue.OnHook:
        if (prev !== CallStateValue.OnHook) this.endLeg(leg, now, '');
        break;
      default:
        break;
    }
  }

  private setHold(leg: Leg, hold: boolean): void {
    if (leg.hold === hold) return;
    leg.hold = hold;
    const call = leg.call;
    if (!call) return;
    call.media[leg.party].hold = hold;
    call.note(`${hold ? 'hold' : 'resume'} by ${leg.party}`);
  }

  private callInfo(leg: Leg, m: SkinnyMessage, now: number): void {
    this.touch(leg, now);
    if (m.callingNumber || m.callingName) leg.calling = party(m.callingNumber, m.callingName);
    if (m.calledNumber || m.calledName) leg.called = party(m.calledNumber, m.calledName);
    if (m.callType === 1 || m.callType === 3) leg.role ??= 'callee';
    else if (m.callType === 2) leg.role ??= 'caller';
    if (m.originalCalledNumber && m.originalCalledNumber !== m.calledNumber) leg.originalCalled = party(m.originalCalledNumber, m.originalCalledName);
    // CallManager repeats the called party here for calls that were never redirected.
    if (m.lastRedirectingNumber && m.lastRedirectingNumber !== m.calledNumber) leg.lastRedirecting = party(m.lastRedirectingNumber, m.lastRedirectingName);
    if (leg.call) this.describe(leg.call);
  }

  private keypad(st: Station, m: SkinnyMessage, now: number): void {
    const digit = keypadDigit(m.button);
    if (!digit) return;
    let leg = m.hasCallRef ? st.legs.get(m.callRef) : undefined;
    if (leg === undefined) for (const l of st.legs.values()) if (!l.ended && (leg === undefined || l.last > leg.last)) leg = l;
    if (leg === undefined) return;
    this.touch(leg, now);
    if (leg.connectedAt === null) {
      // Digits before the call is answered are the number being dialed, not DTMF.
      leg.dialed += digit;
      return;
    }
    const ev = { digit, time: iso(now) };
    if (leg.call) leg.call.dtmf.push({ ...ev, durationMs: 0, party: leg.party });
    else leg.pendingDtmf.push(ev);
  }

  private feature(st: Station, m: SkinnyMessage, now: number): void {
    const isSoftKey = m.id === MessageId.SoftKeyEvent;
    const b = m.button;
    const kind =
      (isSoftKey && (b === SoftKey.Transfer || b === SoftKey.DirTrfr)) || (!isSoftKey && b === StimulusValue.Transfer)
        ? 'transfer'
        : (isSoftKey && (b === SoftKey.Confrn || b === SoftKey.Join)) || (!isSoftKey && b === StimulusValue.Conference)
          ? 'conference'
          : null;
    if (kind === null) return;
    const leg = m.hasCallRef ? st.legs.get(m.callRef) : undefined;
    const f = st.feature;
    if (f && now - f.at <= FEATURE_WINDOW_SEC && (leg === undefined || leg !== f.leg)) {
      // The second press (on the consultation call) completes the transfer or conference.
      const note = `${kind} completed on ${this.deviceName(f.leg)}`;
      f.leg.call?.note(note);
      leg?.call?.note(note);
      st.feature = null;
      return;
    }
    if (leg) st.feature = { kind, leg, at: now };
  }

  /** StartMediaTransmission: the station sends RTP to ip:port. */
  private startMedia(st: Station, m: SkinnyMessage, t: SignalTime): void {
    if (!m.ip || m.port === 0) return;
    const leg = m.hasCallRef ? st.legs.get(m.callRef) : undefined;
    const conf = m.conferenceId !== m.callRef ? st.legs.get(m.conferenceId) : undefined;
    if (leg === undefined && conf !== undefined) {
      // A built-in-bridge fork: the device copies its call's audio to a recorder. Direction 1
      // carries the device's own voice, 2 the far end's (StartMediaTransmission partyDirection).
      this.fork(conf, m, t.time);
      return;
    }
    const l = leg ?? this.leg(st, m.callRef, 0, t);
    this.channelFormats(l, m);
    this.media(l, 'far', { ip: m.ip, port: m.port }, t);
  }

  /**
   * The codec (Media_PayloadType) and RFC 2833 payload type of a channel: the call's payload map
   * for this leg's party, so DTMF events in RTP are recognised like SDP's telephone-event.
   */
  private channelFormats(leg: Leg, m: SkinnyMessage): void {
    const list: PayloadMapping[] = [];
    const codec = compressionCodec(m.compression);
    if (codec) list.push({ pt: codec.pt, codec: codec.codec, clockRate: codec.clockRate, channels: 1 });
    if (m.rfc2833Pt >= 96 && m.rfc2833Pt <= 127) list.push({ pt: m.rfc2833Pt, codec: 'telephone-event', clockRate: 8000, channels: 1 });
    if (list.length === 0) return;
    leg.payloads = list;
    if (leg.call && leg.call.state !== CallState.Ended) leg.call.media[leg.party].payloads = list;
  }

  private fork(leg: Leg, m: SkinnyMessage, now: number): void {
    this.counters.inc('sccp.forks');
    const f = { ip: m.ip, port: m.port, own: m.partyDirection !== 2 };
    if (!leg.forks.some((x) => x.ip === f.ip && x.port === f.port)) leg.forks.push(f);
    this.touch(leg, now);
    if (leg.call && leg.call.state !== CallState.Ended) this.registerFork(leg, leg.call, f, now);
  }

  private registerFork(leg: Leg, call: Call, f: Fork, now: number): void {
    const speaker = f.own ? leg.party : other(leg.party);
    this.registry.expectCopy(call, speaker, f.ip, f.port, now);
    const legs = this.calls.get(call);
    const text = `${this.deviceName(leg)} forks ${speaker} audio to ${f.ip.includes(':') ? `[${f.ip}]` : f.ip}:${f.port}`;
    if (legs && !legs.forks.includes(text)) legs.forks.push(text);
  }

  /**
   * A media address of `leg`: its own receive address (OpenReceiveChannelAck) or the far end it
   * sends to (StartMediaTransmission). Decides which call the leg belongs to, then registers.
   */
  private media(leg: Leg, which: 'own' | 'far', ep: Endpoint, t: SignalTime): void {
    const now = t.time;
    this.touch(leg, now);
    if (which === 'own') leg.own = ep;
    else leg.far = ep;
    const target = this.registry.expecting(ep.ip, ep.port);
    // The place for this leg in the call that expects the address: a far address is where the
    // other party receives, an own address is where this leg's party receives.
    const slot = target ? (which === 'far' ? other(target.party) : target.party) : null;
    const joinable = target !== null && slot !== null && this.canJoin(target.call, slot, leg);
    const cur = leg.call && leg.call.state !== CallState.Ended ? leg.call : null;
    if (cur === null) {
      if (joinable) {
        this.join(leg, target.call, slot, now);
        this.counters.inc('sccp.legs_merged');
      } else this.startCall(leg, now);
      return;
    }
    if (joinable && target.call !== cur) {
      // Its far end is a leg of another call whose place for it is free: one conversation.
      this.move(leg, target.call, slot, now);
      return;
    }
    const peer = this.calls.get(cur)?.[other(leg.party)] ?? null;
    if (which === 'far' && peer !== null && peer !== leg && !peer.ended && (target === null || target.call !== cur)) {
      // Sending somewhere that is not the other device of this call any more (a conference
      // bridge, a transfer target): the leg leaves the two-device call for one of its own.
      this.leave(leg, cur, now);
      this.startCall(leg, now);
      if (leg.call) this.link(cur, leg.call, 'continuation');
      return;
    }
    if (which === 'own') this.registry.expectAt(cur, leg.party, ep.ip, ep.port, now);
    else this.registry.expectAt(cur, other(leg.party), ep.ip, ep.port, now);
  }

  private canJoin(call: Call, slot: Party, leg: Leg): boolean {
    const legs = this.calls.get(call);
    if (!legs || call.state === CallState.Ended) return false;
    const occupant = legs[slot];
    const peer = legs[other(slot)];
    return (occupant === null || occupant.ended || occupant === leg) && peer !== leg;
  }

  /** A new call for `leg` (it is the only observed leg so far). */
  private startCall(leg: Leg, now: number): void {
    const st = leg.station;
    const role = leg.role ?? (leg.dialed ? 'caller' : 'callee');
    const callId = `${leg.callRef}@${st.device || st.ip}`;
    const call = this.registry.start(`sccp:${st.key}:${leg.callRef}:${this.nextKey++}`, 'sccp', callId, { uri: '', number: '', name: '' }, { uri: '', number: '', name: '' }, leg.first);
    if (call === null) return;
    this.counters.inc('sccp.calls_started');
    this.calls.set(call, { caller: null, callee: null, devices: [], forks: [] });
    this.join(leg, call, role, now);
  }

  /** Puts `leg` into `call` as `slot` and registers what it knows of its media. */
  private join(leg: Leg, call: Call, slot: Party, now: number): void {
    const legs = this.calls.get(call)!;
    leg.call = call;
    leg.party = slot;
    legs[slot] = leg;
    const device = this.deviceRecord(leg);
    const i = legs.devices.findIndex((d) => d.device === device.device && d.callRef === device.callRef);
    if (i >= 0) legs.devices[i] = device;
    else legs.devices.push(device);
    if (leg.connectedAt !== null) this.established(leg, leg.connectedAt);
    if (leg.hold) {
      call.media[slot].hold = true;
      call.note(`hold by ${slot}`);
    }
    if (leg.payloads.length) call.media[slot].payloads = leg.payloads;
    for (const d of leg.pendingDtmf) call.dtmf.push({ ...d, durationMs: 0, party: slot });
    leg.pendingDtmf = [];
    if (leg.own) this.registry.expectAt(call, slot, leg.own.ip, leg.own.port, now);
    if (leg.far) this.registry.expectAt(call, other(slot), leg.far.ip, leg.far.port, now);
    for (const f of leg.forks) this.registerFork(leg, call, f, now);
    const linked = leg.linkedTo?.leg.call;
    if (leg.linkedTo && linked && linked.state !== CallState.Ended) this.link(call, linked, leg.linkedTo.relation);
    this.touch(leg, now);
    this.describe(call);
  }

  /** Moves a leg that is already in a call into another (its far end's) call. */
  private move(leg: Leg, target: Call, slot: Party, now: number): void {
    const from = leg.call!;
    const kept = this.leave(leg, from, now);
    this.counters.inc('sccp.legs_moved');
    this.join(leg, target, slot, now);
    if (kept) this.link(from, target, 'continuation');
  }

  /**
   * The leg leaves `call`. A call left with no observed leg ends; one that never had media is
   * forgotten instead (it was this leg's view of a conversation another call now holds).
   * Returns whether the old call still exists as a record of its own.
   */
  private leave(leg: Leg, call: Call, now: number): boolean {
    const legs = this.calls.get(call);
    if (legs && legs[leg.party] === leg) legs[leg.party] = null;
    leg.call = null;
    if (!legs || this.liveLegs(legs) > 0) {
      call.note(`${this.deviceName(leg)} left the call`);
      return true;
    }
    if (this.registry.discard(call)) {
      this.calls.delete(call);
      return false;
    }
    this.registry.end(call, 'transfer', now);
    return true;
  }

  private link(a: Call, b: Call, relation: string): void {
    if (a === b) return;
    if (!a.links.some((l) => l.id === b.id)) a.links.push({ id: b.id, callId: b.callId, relation });
    if (!b.links.some((l) => l.id === a.id)) b.links.push({ id: a.id, callId: a.callId, relation });
  }

  private liveLegs(legs: CallLegs): number {
    return (legs.caller && !legs.caller.ended ? 1 : 0) + (legs.callee && !legs.callee.ended ? 1 : 0);
  }

  /** Connected: the call is answered at the first of its legs' Connected states. */
  private established(leg: Leg, at: number): void {
    const call = leg.call;
    if (!call || call.state === CallState.Ended) return;
    const answer = Math.max(call.start, at);
    if (call.state === CallState.Setup) {
      call.state = CallState.Established;
      call.status = 200;
      call.answer = answer;
    } else if (call.answer === null || answer < call.answer) call.answer = answer;
  }

  /** Parties, aliases, direction and the sccp record of a call from its legs. */
  private describe(call: Call): void {
    const legs = this.calls.get(call);
    if (!legs) return;
    const caller = legs.caller;
    const callee = legs.callee;
    // Each leg's CallInfo names both sides; the caller's leg is the better source for "calling".
    const info = caller ?? callee;
    if (info) {
      const calling = caller?.calling.number || caller?.calling.name ? caller.calling : info.calling;
      const called = callee?.called.number || callee?.called.name ? callee.called : info.called;
      Object.assign(call.from, { number: calling.number || (caller ? this.lineNumber(caller) : ''), name: calling.name });
      Object.assign(call.to, { number: called.number || info.dialed || (callee ? this.lineNumber(callee) : ''), name: called.name });
    }
    for (const p of ['caller', 'callee'] as const) {
      const leg = legs[p];
      if (!leg) continue;
      const uri = leg.station.device ? deviceUri(leg.station.device, leg.line) : '';
      (p === 'caller' ? call.from : call.to).uri = uri;
      if (leg.station.device) {
        const any = deviceUri(leg.station.device);
        if (!call.aliases[p].some((a) => a.uri === any)) call.aliases[p].push({ uri: any, number: '', name: '' });
      }
    }
    const redirect = (caller ?? callee)?.originalCalled ?? callee?.originalCalled ?? null;
    const last = callee?.lastRedirecting ?? caller?.lastRedirecting ?? null;
    if (redirect && !call.aliases.callee.some((a) => a.number === redirect.number)) call.aliases.callee.push({ ...redirect });
    call.sccp = { devices: legs.devices, originalCalled: redirect, lastRedirecting: last, forks: legs.forks };
    if (redirect) call.note(`originally called ${redirect.number}${redirect.name ? ` (${redirect.name})` : ''}`);
    if (last) call.note(`last redirected by ${last.number}${last.name ? ` (${last.name})` : ''}`);
    // Direction from the call state, unless the users directory decides (record() applies it).
    const users = this.registry.users;
    const known = users.match(call.from, []) ?? users.match(call.to, []) ?? [...call.aliases.caller, ...call.aliases.callee].map((a) => users.match(a, [])).find((u) => u !== null) ?? null;
    call.direction = known !== null ? null : caller && callee ? 'internal' : caller ? 'outbound' : 'inbound';
  }

  private deviceRecord(leg: Leg): SccpDeviceRecord {
    return { device: leg.station.device || leg.station.ip, line: leg.line, lineNumber: this.lineNumber(leg), party: leg.party, ip: leg.station.ip, callRef: leg.callRef };
  }

  private lineNumber(leg: Leg): string {
    return leg.station.lines.get(leg.line) ?? '';
  }

  private deviceName(leg: Leg): string {
    return leg.station.device || leg.station.ip;
  }

  /** The leg went on hook: its call ends when no other observed leg is still in it. */
  private endLeg(leg: Leg, now: number, why: string): void {
    if (leg.ended) return;
    leg.ended = true;
    leg.station.legs.delete(leg.callRef);
    if (leg.station.feature?.leg === leg) leg.station.feature = null;
    let call = leg.call;
    if (call === null || call.state === CallState.Ended) {
      // Never got media: a call that rang (or was refused) still becomes a record.
      if (leg.role === null && leg.connectedAt === null && !leg.dialed && !leg.outcome && !leg.calling.number && !leg.called.number) {
        this.counters.inc('sccp.abandoned_offhook');
        return;
      }
      leg.ended = false;
      this.startCall(leg, now);
      leg.ended = true;
      call = leg.call;
      if (call === null) return;
    }
    const legs = this.calls.get(call);
    if (legs && this.liveLegs(legs) > 0) {
      call.note(`${this.deviceName(leg)} hung up`);
      return;
    }
    const reason = why || (leg.connectedAt !== null || call.state === CallState.Established ? 'onhook' : leg.outcome || 'cancel');
    this.registry.end(call, reason, now);
  }

  /** Drops a leg whose call the registry already ended. */
  private forget(leg: Leg): void {
    leg.ended = true;
    leg.station.legs.delete(leg.callRef);
  }

  /** The station's connection closed (FIN/RST): its legs end. */
  closeStation(st: Station, now: number): void {
    for (const leg of [...st.legs.values()]) this.endLeg(leg, now, 'station-closed');
    this.stations.delete(st.key);
  }

  /** Drops legs whose calls the registry ended by timeout, and stations silent for long. */
  sweep(now: number): void {
    const idle = this.registry.timeouts.setupSec;
    for (const st of [...this.stations.values()]) {
      for (const leg of [...st.legs.values()]) {
        if (leg.call && leg.call.state === CallState.Ended) this.forget(leg);
        else if (!leg.call && now - leg.last > idle) this.endLeg(leg, now, 'timeout:setup');
      }
    }
    for (const [call] of this.calls) if (call.state === CallState.Ended) this.calls.delete(call);
  }

  /** End of input: legs that never got media still become records (their registry calls end in registry.finish). */
  finish(now: number): void {
    for (const st of this.stations.values())
      for (const leg of [...st.legs.values()])
        if (!leg.call && (leg.role !== null || leg.connectedAt !== null)) {
          this.startCall(leg, now);
        }
  }

  private evictOldestStation(): void {
    let oldest: Station | null = null;
    for (const st of this.stations.values()) if (oldest === null || st.lastSeen < oldest.lastSeen) oldest = st;
    if (oldest) {
      this.counters.inc('sccp.stations_evicted');
      this.closeStation(oldest, oldest.lastSeen);
    }
  }

  /** Stations tracked (tests, metrics). */
  get stationCount(): number {
    return this.stations.size;
  }

  /** A station by its device name (tests). */
  deviceStation(device: string): Station | undefined {
    for (const st of this.stations.values()) if (st.device === device) return st;
    return undefined;
  }
}
