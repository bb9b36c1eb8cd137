import type { Counters } from '../core/counters.js';
import { CallState, type Call, type Party } from '../calls/call.js';
import type { PartyInfo } from '../calls/call-record.js';
import type { CallRegistry, SignalTime } from '../calls/call-registry.js';
import type { NameAddr, SipMessage } from './message.js';
import { messageSdp } from './message-sdp.js';
import { findBodyPart } from './multipart.js';

/** Transactions remembered per call to recognise retransmissions (RFC 3261 §17). */
const MAX_SEEN_PER_CALL = 256;
/**
 * Late messages of a call already tracked (a retransmitted 200 OK or ACK after the BYE, a 200 OK
 * after the setup timeout) must not open it again as a call joined mid-way: a Call-ID names one
 * dialog (RFC 3261 §8.1.1.4), so the Call-IDs of the last this-many calls are remembered.
 */
const MAX_TRACKED_IDS = 50_000;

interface DialogState {
  /** Keys of messages already processed: retransmissions are counted, not applied twice. */
  seen: Set<string>;
  /** CSeq of the initial INVITE: its final response decides the call's outcome. */
  inviteCseq: number;
  /** The caller's From tag: tells which side sent an in-dialog request. */
  callerTag: string;
}

/**
 * Final responses after which the caller sends the INVITE again with the same Call-ID and a
 * higher CSeq (RFC 3261 §8.1.3.4 redirect, §22.2 authentication; RFC 4028 §6 422): the call goes
 * on. If no new INVITE comes, the setup timeout ends it with this status as the outcome.
 */
const isRetryable = (status: number): boolean => (status >= 300 && status < 400) || status === 401 || status === 407 || status === 422 || status === 423 || status === 491;

const party = (n: NameAddr): PartyInfo => ({ uri: n.uri, number: n.user, name: n.display });

/**
 * SIP dialogs as a passive observer sees them (RFC 3261 §12–§17, RFC 3264 offer/answer): an
 * INVITE opens a call (keyed by Call-ID), provisional and final responses move it on, SDP in
 * any of them (INVITE, 18x, 2xx, ACK, re-INVITE, UPDATE, PRACK) registers the sender's media,
 * BYE/CANCEL/errors end it. Retransmissions are recognised by their transaction key.
 */
export class DialogTracker {
  private readonly state = new WeakMap<Call, DialogState>();
  /** Call-IDs of the calls this tracker opened, oldest first. */
  private readonly tracked = new Set<string>();

  constructor(
    private readonly registry: CallRegistry,
    private readonly counters: Counters,
  ) {}

  onMessage(msg: SipMessage, p: SignalTime): void {
    let call = this.registry.get(msg.callId);
    if (call === undefined) {
      // An initial INVITE (no To tag) opens a call. A capture that starts mid-call (a recorder
      // restarted, a SPAN session added) first sees the dialog's later messages: one that
      // carries SDP inside an INVITE dialog (re-INVITE, UPDATE, ACK, or a 2xx to an INVITE or
      // UPDATE) joins the call there. Everything else outside a known call is other SIP traffic
      // (REGISTER, OPTIONS, SUBSCRIBE…).
      if (msg.isRequest && msg.method === 'INVITE' && msg.to.tag === '') {
        const created = this.registry.start(msg.callId, 'sip', msg.callId, party(msg.from), party(msg.to), p);
        if (created === null) return;
        call = created;
        this.remember(msg.callId);
        this.state.set(call, { seen: new Set(), inviteCseq: msg.cseq, callerTag: msg.from.tag });
      } else {
        call = this.joinMidCall(msg, p);
        if (call === undefined) return;
      }
    }
    const st = this.state.get(call);
    if (st === undefined || call.state === CallState.Ended) return;
    // The caller's new INVITE after a challenge or redirect: same call, new transaction.
    if (msg.isRequest && msg.method === 'INVITE' && msg.to.tag === '' && msg.cseq > st.inviteCseq && call.state === CallState.Setup) {
      st.inviteCseq = msg.cseq;
      call.status = 0;
    }
    // RFC 3261 §17.2.3 / §17.1.3: branch + CSeq (+ status for responses) names a transaction step.
    const key = `${msg.isRequest ? msg.method : msg.status}|${msg.cseq}|${msg.cseqMethod}|${msg.topViaBranch}|${msg.to.tag}`;
    if (st.seen.has(key)) {
      this.counters.inc('sip.retransmission');
      return;
    }
    if (st.seen.size < MAX_SEEN_PER_CALL) st.seen.add(key);
    call.lastSignal = p.time;
    call.lastActivity = p.time;
    if (msg.isRequest) this.request(call, st, msg, p);
    else this.response(call, st, msg, p);
  }

  private remember(callId: string): void {
    if (this.tracked.size >= MAX_TRACKED_IDS) {
      const oldest = this.tracked.values().next();
      if (oldest.done !== true) this.tracked.delete(oldest.value);
    }
    this.tracked.add(callId);
  }

  /**
   * A dialog first seen after its INVITE. The From side of the message's dialog is taken as the
   * caller: right for a 2xx or ACK (they answer and acknowledge the caller's INVITE), a guess for a
   * re-INVITE or UPDATE, which either side may send (the record says so).
   */
  private joinMidCall(msg: SipMessage, p: SignalTime): Call | undefined {
    if (this.tracked.has(msg.callId)) {
      this.counters.inc('sip.after_call_end');
      return undefined;
    }
    const inDialog = msg.to.tag !== '' && msg.from.tag !== '';
    const sdpCarrier = msg.isRequest
      ? msg.method === 'INVITE' || msg.method === 'UPDATE' || msg.method === 'ACK'
      : msg.status >= 200 && msg.status < 300 && (msg.cseqMethod === 'INVITE' || msg.cseqMethod === 'UPDATE');
    if (!inDialog || !sdpCarrier || findBodyPart(msg, 'application/sdp') === undefined) {
      this.counters.inc(msg.isRequest && msg.method === 'INVITE' ? 'sip.reinvite_unknown_call' : 'sip.not_a_call');
      return undefined;
    }
    const call = this.registry.start(msg.callId, 'sip', msg.callId, party(msg.from), party(msg.to), p);
    if (call === null) return undefined;
    call.state = CallState.Established;
    call.answer = p.time;
    call.status = 200;
    const how = msg.isRequest ? msg.method : `${msg.status} to ${msg.cseqMethod}`;
    call.note(`joined mid-call at ${how}: the capture began after the INVITE${msg.isRequest && msg.method !== 'ACK' ? ' (caller and callee may be swapped)' : ''}`);
    this.counters.inc('sip.joined_mid_call');
    this.remember(msg.callId);
    // No initial INVITE will come: its CSeq is unknown (-1), so no later response is its outcome.
    this.state.set(call, { seen: new Set(), inviteCseq: -1, callerTag: msg.from.tag });
    return call;
  }

  /** Which side sent a message: the caller's requests carry its tag in From, its responses in To. */
  private sender(st: DialogState, msg: SipMessage): Party {
    const callerSentRequest = msg.from.tag === st.callerTag;
    return msg.isRequest === callerSentRequest ? 'caller' : 'callee';
  }

  private request(call: Call, st: DialogState, msg: SipMessage, p: SignalTime): void {
    const from = this.sender(st, msg);
    switch (msg.method) {
      case 'INVITE':
      case 'UPDATE':
      case 'PRACK':
      case 'ACK': {
        if (msg.method === 'INVITE' && msg.to.tag !== '') this.counters.inc('sip.reinvite');
        this.applySdp(call, from, msg, p);
        const replaces = msg.header('replaces');
        if (replaces) call.note(`Replaces ${replaces}`);
        break;
      }
      case 'BYE':
        this.registry.end(call, 'bye', p.time);
        break;
      case 'CANCEL':
        if (call.state === CallState.Setup) this.registry.end(call, 'cancel', p.time);
        break;
      case 'REFER': {
        const target = msg.header('refer-to');
        call.note(`REFER by ${from}${target ? ` to ${target}` : ''}`);
        break;
      }
      default:
        break;
    }
  }

  private response(call: Call, st: DialogState, msg: SipMessage, p: SignalTime): void {
    const from = this.sender(st, msg);
    if (msg.cseqMethod === 'INVITE' || msg.cseqMethod === 'UPDATE' || msg.cseqMethod === 'PRACK') this.applySdp(call, from, msg, p);
    // Only responses to the caller's initial INVITE decide the outcome (the callee's re-INVITE
    // may reuse the CSeq number: CSeq spaces are per direction, RFC 3261 §12.2.1.1).
    if (msg.cseqMethod !== 'INVITE' || msg.cseq !== st.inviteCseq || msg.from.tag !== st.callerTag) return;
    if (msg.to.tag && msg.status > 100 && !call.toTags.has(msg.to.tag)) {
      call.toTags.add(msg.to.tag);
      if (call.toTags.size === 2) call.note('forked: several early dialogs');
    }
    if (msg.status >= 200 && msg.status < 300) {
      if (call.state === CallState.Setup) {
        call.state = CallState.Established;
        call.answer = p.time;
        call.status = msg.status;
      }
    } else if (msg.status >= 300 && call.state === CallState.Setup) {
      // A passive observer sees the final response the proxy forwards upstream: that is the
      // outcome even when several forks answered with errors first.
      call.status = msg.status;
      if (isRetryable(msg.status)) call.note(`${msg.status} ${msg.reason}`.trim());
      else this.registry.end(call, `rejected:${msg.status}`, p.time);
    }
  }

  /** SDP in the body (plain or multipart): where the sender receives media. */
  private applySdp(call: Call, from: Party, msg: SipMessage, p: SignalTime): void {
    const sdp = messageSdp(msg, this.counters);
    if (sdp === null) return;
    const before = call.media[from].payloads.map((x) => x.codec).join(',');
    this.registry.setMedia(call, from, sdp, p.time);
    const after = call.media[from].payloads.map((x) => x.codec).join(',');
    if (before && before !== after) call.note(`${from} changed codecs to ${after} (was ${before})`);
  }
}
