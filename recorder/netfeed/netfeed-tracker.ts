/**
 * Skype for Business / Lync calls from the Front Ends' call-event feed. Lync signaling is TLS, so
 * the recorder cannot read it on the wire; each Front End's sender (agent/feed) streams the SIP
 * it sees (feed-frame.ts). Those messages go through the same SIP parser and dialog tracker as
 * captured SIP, as calls of protocol `netfeed` (their own key space in the registry), then:
 *
 *  - Every candidate address of the SDP registers an expectation (QMS's
 *    EnableSipResolveAudioViaSDP): the dialog code registers the first SDP part's audio m-lines
 *    and RFC 5245 / MS-ICE draft-6 candidates; here the Lync forms it does not carry are added
 *    (lync-sdp.ts): the other parts of multipart/alternative, a=x-candidate-ipv6, so that many
 *    users behind one address (Mediation, Edge, Hyper-V NAT) are told apart by port.
 *  - A user's endpoint address is learned from signaling and replaces the previous one
 *    (UsersDirectory.learnIp): the address the Front End received the user's request from
 *    (mirroring, atEdge), or the host candidate of the user's own SDP (endpoint mode, where an
 *    agent runs on the user's PC). Disallowed addresses (recording server, Front Ends, Edge,
 *    Exchange, Mediation) and the Edge/relay addresses are never a user's endpoint.
 *  - SIP MESSAGE text (IM) is written as a transcript per session: the INVITE session with an
 *    m=message line, or the Call-ID of page-mode messages.
 *
 * Counters: netfeed.sip_unparsed, netfeed.candidates, netfeed.endpoint_learned,
 * netfeed.endpoint_disallowed, netfeed.im_messages, netfeed.im_duplicate, netfeed.im_sessions.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Call, Party } from '../calls/call.js';
import { CallState } from '../calls/call.js';
import type { PartyInfo } from '../calls/call-record.js';
import type { CallRegistry, SignalTime } from '../calls/call-registry.js';
import type { Counters } from '../core/counters.js';
import { DialogTracker } from '../sip/dialog-tracker.js';
import { parseSipMessage, type NameAddr, type SipMessage } from '../sip/message.js';
import { splitMultipart } from '../sip/multipart.js';
import type { FeedSip } from './feed-frame.js';
import { lyncMedia } from './lync-sdp.js';

export const NETFEED_MODES = ['mirroring', 'atEdge', 'endpoint'] as const;
export type NetfeedMode = (typeof NETFEED_MODES)[number];

export interface NetfeedOptions {
  mode: NetfeedMode;
  /** Addresses that are never a user's endpoint: recording server, Front Ends, Edge, Exchange, Mediation. */
  disallowedIps: readonly string[];
  /** Edge servers' public addresses: relay candidates there are media through the Edge. */
  edgeIps: readonly string[];
  /** Other TURN relays / media gateways whose addresses appear as relay candidates. */
  relayGateways: readonly string[];
  /** Learn users' endpoint addresses from signaling (default on). */
  learnEndpoints: boolean;
  /** Where IM transcripts go (`<call id>.chat.txt`); null keeps them in the record only. */
  transcriptDir: string | null;
}

export const DEFAULT_NETFEED_OPTIONS: NetfeedOptions = { mode: 'mirroring', disallowedIps: [], edgeIps: [], relayGateways: [], learnEndpoints: true, transcriptDir: null };

/** Messages kept in a record's transcript (the file has them all). */
const MAX_TRANSCRIPT = 500;
const MAX_TEXT = 4096;
/** Call-IDs whose caller tag is remembered (to tell who sent a message). */
const MAX_TAGS = 100_000;

/** The feed message in its transport context. */
export interface FeedContext {
  frontEnd: string;
  /** 0: the Front End received it, 1: it sent it. */
  direction: number;
  srcIp: string;
  dstIp: string;
}

interface ChatState {
  seen: Set<string>;
  path: string | null;
}

const party = (n: NameAddr): PartyInfo => ({ uri: n.uri, number: n.user, name: n.display });
const iso = (t: number): string => new Date(Math.round(t * 1000)).toISOString();

/**
 * The registry as the dialog tracker sees it for feed calls: calls are started with protocol
 * `netfeed` and live under their own keys, so a feed Call-ID never meets a captured one.
 * Everything else is the shared registry (one flow table for every protocol).
 */
function netfeedRegistry(registry: CallRegistry): CallRegistry {
  return new Proxy(registry, {
    get(target, prop) {
      if (prop === 'start') return (key: string, _protocol: string, callId: string, from: PartyInfo, to: PartyInfo, p: SignalTime) => target.start(`netfeed:${key}`, 'netfeed', callId, from, to, p);
      if (prop === 'get') return (key: string) => target.get(`netfeed:${key}`);
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export class NetfeedTracker {
  readonly options: NetfeedOptions;
  private readonly dialogs: DialogTracker;
  private readonly registry: CallRegistry;
  private readonly callerTags = new Map<string, string>();
  private readonly chats = new Map<Call, ChatState>();
  private readonly addresses = new WeakMap<Call, Set<string>>();
  private readonly neverUser: Set<string>;
  private readonly relays: Set<string>;

  constructor(
    private readonly shared: CallRegistry,
    private readonly counters: Counters,
    options: Partial<NetfeedOptions> = {},
  ) {
    this.options = { ...DEFAULT_NETFEED_OPTIONS, ...options };
    this.registry = netfeedRegistry(shared);
    this.dialogs = new DialogTracker(this.registry, counters);
    this.relays = new Set([...this.options.edgeIps, ...this.options.relayGateways]);
    this.neverUser = new Set([...this.options.disallowedIps, ...this.relays]);
  }

  /** An authenticated feed frame (feed-session.ts): parse the SIP message and apply it. */
  onFeedSip(frontEnd: string, f: FeedSip, buf: Buffer): void {
    const msg = parseSipMessage(buf, f.msgOff, f.msgLen, this.counters);
    if (msg === null) {
      this.counters.inc('netfeed.sip_unparsed');
      return;
    }
    this.onSip(msg, { time: f.sec + f.nsec / 1e9, frame: { tsSec: f.sec, tsNsec: f.nsec } }, { frontEnd, direction: f.direction, srcIp: f.srcIp, dstIp: f.dstIp });
  }

  /** A SIP message the Front End saw, at capture time `t`. */
  onSip(msg: SipMessage, t: SignalTime, ctx: FeedContext): void {
    if (msg.isRequest && msg.method === 'INVITE' && msg.to.tag === '' && !this.callerTags.has(msg.callId)) {
      if (this.callerTags.size >= MAX_TAGS) this.callerTags.delete(this.callerTags.keys().next().value!);
      this.callerTags.set(msg.callId, msg.from.tag);
    }
    const media = lyncMedia(msg, this.counters);
    this.learnEndpoint(msg, ctx, media?.all.filter((a) => a.type === 'host' || a.type === '') ?? []);
    if (msg.isRequest && msg.method === 'MESSAGE') {
      this.chat(msg, t, ctx);
      // In an INVITE session the dialog still learns of the activity; page mode has no dialog.
      if (this.registry.get(msg.callId) === undefined) return;
    }
    this.dialogs.onMessage(msg, t);
    const call = this.registry.get(msg.callId);
    if (call === undefined || call.state === CallState.Ended) return;
    this.describe(call, ctx);
    if (media === null) return;
    const sender = this.sender(msg);
    const now = t.time;
    let n = 0;
    for (const a of media.extra) if (this.shared.expectAt(call, sender, a.ip, a.port, now)) n++;
    const info = call.netfeed!;
    // Every distinct address the parties' SDP offered (the dialog code registered the first part's).
    let seen = this.addresses.get(call);
    if (seen === undefined) this.addresses.set(call, (seen = new Set()));
    for (const a of media.all) seen.add(`${sender} ${a.ip} ${a.port}`);
    this.counters.inc('netfeed.candidates', seen.size - info.candidates);
    info.candidates = seen.size;
    if (n > 0) call.note(`${n} Lync candidate address(es) beyond the SDP model registered for the ${sender}`);
    if (media.ssrcRanges.length) info.ssrcRanges[sender] = media.ssrcRanges;
    for (const a of media.all) if (a.type === 'relay' || this.relays.has(a.ip)) call.note(`${sender} media relayed at ${a.ip}:${a.port}`);
    if (media.im) call.note('IM session');
  }

  /** Which side sent a message of a known call (the caller's From tag, as the dialog tracker decides). */
  private sender(msg: SipMessage): Party {
    const tag = this.callerTags.get(msg.callId);
    const callerSentRequest = tag === undefined ? true : msg.from.tag === tag;
    return msg.isRequest === callerSentRequest ? 'caller' : 'callee';
  }

  private describe(call: Call, ctx: FeedContext): void {
    if (call.netfeed) return;
    call.netfeed = { frontEnd: ctx.frontEnd, mode: this.options.mode, candidates: 0, ssrcRanges: {} };
  }

  /**
   * The user's client is at an address: where the Front End received the user's request from
   * (mirroring, atEdge), or the host address of its own SDP (endpoint mode).
   */
  private learnEndpoint(msg: SipMessage, ctx: FeedContext, hosts: { ip: string }[]): void {
    if (!this.options.learnEndpoints) return;
    const users = this.shared.users;
    let user: string | null;
    let ip: string;
    if (this.options.mode === 'endpoint') {
      user = users.userOf(party(msg.isRequest ? msg.from : msg.to));
      ip = hosts[0]?.ip ?? '';
    } else {
      if (!msg.isRequest || ctx.direction !== 0) return;
      user = users.userOf(party(msg.from));
      ip = ctx.srcIp;
    }
    if (user === null || !ip) return;
    if (this.neverUser.has(ip)) {
      this.counters.inc('netfeed.endpoint_disallowed');
      return;
    }
    if (users.learnIp(user, ip)) this.counters.inc('netfeed.endpoint_learned');
  }

  /** SIP MESSAGE text: one transcript per session (INVITE dialog or page-mode Call-ID). */
  private chat(msg: SipMessage, t: SignalTime, ctx: FeedContext): void {
    const text = messageText(msg, this.counters);
    if (text === null) return;
    let call = this.registry.get(msg.callId);
    if (call === undefined || call.state === CallState.Ended) {
      const started = this.registry.start(msg.callId, 'netfeed', msg.callId, party(msg.from), party(msg.to), t);
      if (started === null) return;
      call = started;
      call.state = CallState.Established;
      call.answer = t.time;
      call.note('IM (page mode)');
      this.counters.inc('netfeed.im_sessions');
    }
    this.describe(call, ctx);
    let st = this.chats.get(call);
    if (st === undefined) {
      st = { seen: new Set(), path: this.options.transcriptDir ? join(this.options.transcriptDir, `${call.id}.chat.txt`) : null };
      this.chats.set(call, st);
    }
    // The Front End sees each message twice (from the sender, to the receiver).
    const key = `${msg.cseq}|${msg.from.tag}|${msg.from.uri}`;
    if (st.seen.has(key)) {
      this.counters.inc('netfeed.im_duplicate');
      return;
    }
    if (st.seen.size < 10_000) st.seen.add(key);
    call.lastSignal = Math.max(call.lastSignal, t.time);
    call.lastActivity = Math.max(call.lastActivity, t.time);
    const from = msg.from.display ? `${msg.from.display} <${msg.from.uri}>` : msg.from.uri;
    const info = call.netfeed!;
    info.chat ??= { path: st.path ?? '', messages: 0, transcript: [] };
    info.chat.messages++;
    const entry = { time: iso(t.time), from, text };
    if (info.chat.transcript.length < MAX_TRANSCRIPT) info.chat.transcript.push(entry);
    this.counters.inc('netfeed.im_messages');
    if (st.path) {
      try {
        appendFileSync(st.path, `${entry.time} ${from}: ${text.replace(/\r?\n/g, '\n    ')}\n`);
      } catch {
        this.counters.inc('netfeed.transcript_write_failed');
      }
    }
  }

  /** Forgets state of ended calls (called with the registry's sweep). */
  sweep(): void {
    for (const call of this.chats.keys()) if (call.state === CallState.Ended) this.chats.delete(call);
    for (const id of this.callerTags.keys()) {
      const call = this.registry.get(id);
      if (call === undefined || call.state === CallState.Ended) this.callerTags.delete(id);
    }
  }
}

/**
 * The text of an IM: a text/plain body (or part), else text/html with the tags removed;
 * null for typing notifications and other bodies.
 */
export function messageText(msg: SipMessage, counters?: Counters): string | null {
  let parts: { contentType: string; body: Buffer }[] = [{ contentType: msg.contentType, body: msg.body }];
  if (msg.contentType.startsWith('multipart/')) parts = splitMultipart(msg.contentTypeFull, msg.body, counters);
  const plain = parts.find((p) => p.contentType === 'text/plain' || p.contentType === '');
  const html = parts.find((p) => p.contentType === 'text/html');
  const part = plain ?? html;
  if (!part || part.body.length === 0) return null;
  let text = part.body.toString('utf8', 0, Math.min(part.body.length, MAX_TEXT * 4));
  if (part === html) text = text.replace(/<[^>]*>/g, '').replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  text = text.trim();
  return text ? text.slice(0, MAX_TEXT) : null;
}
