/**
 * The Session Recording Server (RFC 7866): SBCs and PBXs acting as Session Recording Clients open
 * a SIP dialog with us and send the recorded call's media to ports we choose.
 *
 * Per request (RFC 3261 UAS behaviour, §8.2, §12–§17):
 *   INVITE (new)   100 Trying; checks (Require, SIPREC or not, SDP, m-lines, capacity); ports from
 *                  the pool, sockets bound; metadata parsed; the call opened in the registry with
 *                  its parties and expectations; 200 OK with the answer (retransmitted until ACK).
 *                  Pool or session table full: 503 with Retry-After.
 *   CANCEL         200, and 487 for the INVITE if it is not answered yet (ports released).
 *   re-INVITE      media changes (new/removed m-lines, hold) and metadata (complete or partial).
 *   UPDATE         the same, RFC 3311; metadata-only UPDATEs are the common case (Avaya, BroadWorks).
 *   ACK            stops the 2xx retransmissions (or absorbs the non-2xx ones).
 *   BYE            200, the call ends and is recorded, ports go back to the pool.
 *   OPTIONS        200 with Allow/Accept/Supported (SBC keep-alives), in or out of a dialog.
 *   INFO           200 (ignored politely).
 *   others         405 (known methods we do not serve) or 501; 481 outside a dialog.
 *
 * Media never passes through here: the sockets inject datagrams into the CallRecorder as UDP
 * packets (media-injector.ts), which spools and renders them like mirrored traffic.
 */
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import type { Call, Party } from '../calls/call.js';
import { CallState } from '../calls/call.js';
import type { PartyInfo, SiprecRecordInfo } from '../calls/call-record.js';
import type { CallRegistry } from '../calls/call-registry.js';
import type { Counters } from '../core/counters.js';
import { parseSdp, type SessionDescription } from '../sdp/session-description.js';
import { isHoldAddress } from '../sdp/connection-address.js';
import type { SipMessage } from '../sip/message.js';
import { parseNameAddr } from '../sip/name-addr.js';
import { acceptableStream, buildAnswerSdp } from './answer-sdp.js';
import { MediaInjector, wallMs, type PacketDelivery } from './media-injector.js';
import { MediaSockets } from './media-sockets.js';
import { mergeMetadata } from './metadata-merge.js';
import { PortPool } from './port-pool.js';
import { recordingBody } from './recording-body.js';
import { parseRsMetadata, type RecordingMetadata } from './rs-metadata.js';
import { headerIdentities, sbcHeaders } from './sbc-headers.js';
import { mapSession, trunkIdentity, type SessionMapping } from './session-mapper.js';
import { ServerTransactions, type ResponseRoute, type ServerTxn } from './server-transactions.js';
import { ACCEPT, ALLOW, buildBye, buildResponse, REASON, SUPPORTED } from './sip-response.js';
import { DEFAULT_SIPREC_OPTIONS, type SiprecOptions } from './siprec-options.js';
import { contactUri, UasTransport, type Inbound } from './uas-transport.js';

/** What the server drives: the recorder's registry (calls, expectations) and the packet path (media). */
export interface SiprecHost {
  registry: CallRegistry;
  /** Media datagrams as UDP packets: `(p) => pipeline.inject(p)`, or sinkDelivery(recorder, counters). */
  inject: PacketDelivery;
  counters: Counters;
}

type SessionState = 'pending' | 'active' | 'ended';

interface SiprecSession {
  callId: string;
  localTag: string;
  remoteTag: string;
  state: SessionState;
  /** The latest INVITE's transaction while it is unanswered or its 2xx unacknowledged (§13.3.1.4). */
  inviteTxn: ServerTxn | null;
  /** A re-INVITE or UPDATE is being processed (a second one gets 500 + Retry-After, §14.2). */
  busy: boolean;
  /** Sockets are being bound: an end meanwhile leaves the ports to the binder to release. */
  binding: boolean;
  cancelled: boolean;
  /** Our RTP port per offered m-line (0: rejected). */
  ports: number[];
  offer: SessionDescription | null;
  answer: string;
  sdpVersion: number;
  sdpSessionId: string;
  metadata: RecordingMetadata | null;
  metadataProblems: string[];
  metadataComplete: boolean;
  mapping: SessionMapping | null;
  call: Call | null;
  advertised: string;
  transport: Inbound['transport'];
  srcAddress: string;
  srcPort: number;
  route: ResponseRoute;
  connection: Inbound['connection'];
  remoteTarget: string;
  routes: string[];
  /** From/To of the INVITE as sent (for our BYE: our side is To + tag). */
  remoteUri: string;
  localUri: string;
  localCseq: number;
  sbc: Record<string, string[]>;
  updates: number;
  /** equateDuplicateSessions: the active session this one duplicates (its media is not recorded). */
  duplicateOf: SiprecSession | null;
  duplicates: SiprecSession[];
  participantKey: string;
  invite: SipMessage;
}

/** Option tags we accept in Require (RFC 3261 §8.2.2.3): siprec, and ones that need nothing of us here. */
const UNDERSTOOD = new Set(['siprec', 'timer', '100rel', 'replaces', 'norefersub']);
/** Methods we know and refuse with 405 rather than 501 (§8.2.1). */
const KNOWN_METHODS = new Set(['REGISTER', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH', 'PRACK']);
const TICK_MS = 50;

const tag = (): string => randomBytes(6).toString('hex');

export class SiprecServer {
  readonly opts: SiprecOptions;
  readonly pool: PortPool;
  readonly transactions: ServerTransactions;
  private readonly sessions = new Map<string, SiprecSession>();
  private readonly byParticipants = new Map<string, SiprecSession>();
  private readonly sockets: MediaSockets;
  private readonly transport: UasTransport;
  private readonly counters: Counters;
  private timer: NodeJS.Timeout | null = null;
  private advertised = '';
  /** Sessions set up so far and how they ended, for tests and metrics. */
  readonly stats = { invites: 0, sessions: 0, rejected: 0, ended: 0 };

  constructor(
    private readonly host: SiprecHost,
    options: Partial<SiprecOptions> = {},
  ) {
    this.opts = { ...DEFAULT_SIPREC_OPTIONS, ...options };
    this.counters = host.counters;
    this.pool = new PortPool(this.opts.audioPorts);
    this.transactions = new ServerTransactions(this.counters);
    const injector = new MediaInjector(host.inject, this.counters);
    this.advertised = this.opts.advertiseAddress || advertisedFor(this.opts.host);
    this.sockets = new MediaSockets(injector, this.counters, {
      bindHost: this.opts.mediaHost || this.opts.host,
      advertised: this.advertised,
      rtcp: this.opts.rtcp,
      recvBufferBytes: 512 * 1024,
    });
    this.transport = new UasTransport(
      { host: this.opts.host, port: this.opts.port, udp: this.opts.udp, tcp: this.opts.tcp, maxMessageBytes: this.opts.maxMessageBytes, maxConnections: this.opts.maxConnections },
      (m) => this.receive(m),
      this.counters,
      wallMs,
    );
  }

  /** Bound SIP ports (useful with port 0). */
  get ports(): { udp: number; tcp: number } {
    return { udp: this.transport.udpPort, tcp: this.transport.tcpPort };
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  get mediaAddress(): string {
    return this.advertised;
  }

  async start(): Promise<void> {
    await this.transport.start();
    this.timer = setInterval(() => this.tick(wallMs()), TICK_MS);
    this.timer.unref();
  }

  /** Ends every session (BYE to the SRC, calls recorded as `shutdown`) and closes the sockets. */
  async stop(reason = 'shutdown'): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const now = wallMs();
    for (const s of [...this.sessions.values()]) {
      if (s.state === 'active') this.sendBye(s);
      this.endSession(s, reason, now);
    }
    this.sockets.closeAll();
    await this.transport.stop();
  }

  /** Timers: transactions, and calls the registry ended on its own (timeouts) lose their session. */
  tick(nowMs: number): void {
    this.transactions.tick(nowMs);
    for (const s of this.sessions.values()) {
      if (s.state === 'active' && s.call !== null && s.call.state === CallState.Ended) {
        this.counters.inc('siprec.ended_by_timeout');
        this.sendBye(s);
        this.endSession(s, s.call.endReason || 'timeout', nowMs);
      }
    }
  }

  /** Call-IDs of the sessions in progress. */
  sessionIds(): string[] {
    return [...this.sessions.keys()];
  }

  /** Session state for tests and tools: our ports per m-line, and the call. */
  session(callId: string): { ports: readonly number[]; call: Call | null; state: SessionState; duplicateOf: string } | undefined {
    const s = this.sessions.get(callId);
    return s && { ports: s.ports, call: s.call, state: s.state, duplicateOf: s.duplicateOf?.callId ?? '' };
  }

  private receive(m: Inbound): void {
    try {
      this.dispatch(m);
    } catch {
      // Backstop: a throw here is our bug; the server keeps serving (STYLE.md "Bad input").
      this.counters.inc('siprec.bug');
    }
  }

  private dispatch(m: Inbound): void {
    const { msg } = m;
    if (!msg.isRequest) {
      // Responses to our own BYEs: nothing to do with them.
      this.counters.inc('siprec.response_received');
      return;
    }
    if (msg.method === 'ACK') return this.ack(m);
    const key = ServerTransactions.key(msg);
    const existing = this.transactions.find(key);
    if (existing) return this.transactions.retransmission(existing);
    if (msg.method === 'CANCEL') return this.cancel(m);
    const txn = this.transactions.create(msg, m.route, key);
    if (txn === null) {
      m.route.send(buildResponse(msg, 503, REASON[503]!, { toTag: tag(), headers: [['Retry-After', String(this.opts.retryAfterSec)]] }));
      return;
    }
    const mf = msg.header('max-forwards');
    if (mf !== undefined && mf.trim() === '0' && msg.method !== 'OPTIONS') return this.reply(txn, msg, 483, m.timeMs);
    const session = this.sessions.get(msg.callId);
    switch (msg.method) {
      case 'INVITE':
        if (msg.to.tag === '') {
          if (session) return this.reply(txn, msg, 482, m.timeMs, { reason: 'Loop Detected' });
          this.invite(m, txn).catch(() => this.counters.inc('siprec.bug'));
          return;
        }
        if (!session || session.localTag !== msg.to.tag) return this.reply(txn, msg, 481, m.timeMs);
        this.update(session, m, txn).catch(() => this.counters.inc('siprec.bug'));
        return;
      case 'UPDATE':
        if (!session || (msg.to.tag && session.localTag !== msg.to.tag)) return this.reply(txn, msg, 481, m.timeMs);
        this.update(session, m, txn).catch(() => this.counters.inc('siprec.bug'));
        return;
      case 'BYE':
        if (!session || session.localTag !== msg.to.tag) return this.reply(txn, msg, 481, m.timeMs);
        this.reply(txn, msg, 200, m.timeMs, { toTag: session.localTag });
        this.counters.inc('siprec.bye');
        this.endSession(session, 'bye', m.timeMs);
        return;
      case 'OPTIONS':
        return this.reply(txn, msg, 200, m.timeMs, {
          toTag: session?.localTag ?? tag(),
          headers: [
            ['Allow', ALLOW],
            ['Accept', ACCEPT],
            ['Supported', SUPPORTED],
          ],
        });
      case 'INFO':
        if (!session) return this.reply(txn, msg, 481, m.timeMs);
        this.touch(session, m.timeMs);
        this.counters.inc('siprec.info_ignored');
        return this.reply(txn, msg, 200, m.timeMs, { toTag: session.localTag });
      default:
        if (KNOWN_METHODS.has(msg.method)) {
          return this.reply(txn, msg, session || msg.method !== 'PRACK' ? 405 : 481, m.timeMs, { toTag: session?.localTag ?? tag(), headers: [['Allow', ALLOW]] });
        }
        this.counters.inc('siprec.unknown_method');
        return this.reply(txn, msg, 501, m.timeMs, { toTag: session?.localTag ?? tag(), headers: [['Allow', ALLOW]] });
    }
  }

  private reply(
    txn: ServerTxn,
    msg: SipMessage,
    status: number,
    nowMs: number,
    o: { toTag?: string; headers?: [string, string][]; body?: Buffer; contentType?: string; reason?: string; recordRoute?: boolean } = {},
  ): void {
    const data = buildResponse(msg, status, o.reason ?? REASON[status] ?? 'Unknown', {
      toTag: o.toTag ?? (status >= 200 ? tag() : undefined),
      headers: o.headers,
      body: o.body,
      contentType: o.contentType,
      recordRoute: o.recordRoute,
    });
    this.transactions.respond(txn, status, data, nowMs);
  }

  private reject(txn: ServerTxn, msg: SipMessage, status: number, nowMs: number, why: string, headers: [string, string][] = []): void {
    this.stats.rejected++;
    this.counters.inc(`siprec.rejected_${why}`);
    this.reply(txn, msg, status, nowMs, { headers: [...headers, ['Warning', `399 srs "${why.replace(/_/g, ' ')}"`]] });
  }

  private ack(m: Inbound): void {
    const { msg } = m;
    // ACK of a non-2xx matches the INVITE's transaction (§17.2.3); ACK of a 2xx is its own
    // transaction and matches the dialog (§13.3.1.4).
    const txn = this.transactions.find(ServerTransactions.key(msg, 'ACK'));
    if (txn && txn.state === 'completed') return this.transactions.acknowledge(txn, m.timeMs);
    const s = this.sessions.get(msg.callId);
    if (!s || s.localTag !== msg.to.tag) {
      this.counters.inc('siprec.ack_unmatched');
      return;
    }
    this.touch(s, m.timeMs);
    if (s.inviteTxn) {
      this.transactions.acknowledge(s.inviteTxn, m.timeMs);
      s.inviteTxn = null;
    }
  }

  private cancel(m: Inbound): void {
    const { msg } = m;
    const inviteTxn = this.transactions.find(ServerTransactions.key(msg, 'INVITE'));
    // The CANCEL is answered in its own transaction (§9.2).
    const own = this.transactions.create(msg, m.route);
    if (!inviteTxn) {
      if (own) this.reply(own, msg, 481, m.timeMs);
      return;
    }
    const s = this.sessions.get(msg.callId);
    if (own) this.reply(own, msg, 200, m.timeMs, { toTag: s?.localTag });
    if (inviteTxn.state !== 'proceeding') return; // already answered: the CANCEL has no effect
    this.counters.inc('siprec.cancelled');
    if (s) {
      s.cancelled = true;
      this.reply(inviteTxn, s.invite, 487, m.timeMs, { toTag: s.localTag });
      this.endSession(s, 'cancel', m.timeMs);
    } else this.reply(inviteTxn, msg, 487, m.timeMs);
  }

  private touch(s: SiprecSession, nowMs: number): void {
    if (s.call) {
      s.call.lastSignal = nowMs / 1000;
      s.call.lastActivity = Math.max(s.call.lastActivity, nowMs / 1000);
    }
  }

  /** A new recording session (RFC 7866 §6.1). */
  private async invite(m: Inbound, txn: ServerTxn): Promise<void> {
    const { msg } = m;
    const now = m.timeMs;
    this.stats.invites++;
    this.counters.inc('siprec.invite');
    this.reply(txn, msg, 100, now);

    const unsupported = msg
      .headerAll('require')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t && !UNDERSTOOD.has(t));
    if (unsupported.length > 0) return this.reject(txn, msg, 420, now, 'bad_extension', [['Unsupported', unsupported.join(', ')]]);

    const body = recordingBody(msg, this.counters);
    const requireSiprec = msg.headerAll('require').some((t) => t.trim().toLowerCase() === 'siprec');
    const contactSrc = /;\s*\+sip\.src\b/i.test(msg.headerAll('contact')[0] ?? '');
    const isRecording = requireSiprec || contactSrc || body.metadata !== '';
    if (!isRecording) {
      if (this.opts.nonSiprec === 'reject') return this.reject(txn, msg, 488, now, 'not_siprec');
      this.counters.inc('siprec.non_siprec_recorded');
    }
    if (body.sdp === '') return this.reject(txn, msg, 488, now, 'no_sdp');
    const mLines = countMediaLines(body.sdp);
    if (mLines > this.opts.maxMediaLines) return this.reject(txn, msg, 488, now, 'too_many_media');
    const sdp = parseSdp(body.sdp, this.counters, { maxMedia: this.opts.maxMediaLines });
    if (sdp === null || !sdp.media.some(acceptableStream)) return this.reject(txn, msg, 488, now, 'no_usable_media');
    if (this.sessions.size >= this.opts.maxSessions) return this.reject(txn, msg, 503, now, 'too_many_sessions', [['Retry-After', String(this.opts.retryAfterSec)]]);

    const want = sdp.media.map((md) => acceptableStream(md));
    let taken = 0;
    for (let i = 0; i < want.length; i++) {
      if (want[i] && taken >= this.opts.maxStreamsPerSession) {
        want[i] = false;
        this.counters.inc('siprec.stream_over_limit');
      }
      if (want[i]) taken++;
    }
    const got = this.pool.allocateMany(taken);
    if (got === null) return this.reject(txn, msg, 503, now, 'pool_exhausted', [['Retry-After', String(this.opts.retryAfterSec)]]);
    const ports = want.map((w) => (w ? got.shift()! : 0));

    const s: SiprecSession = {
      callId: msg.callId,
      localTag: tag(),
      remoteTag: msg.from.tag,
      state: 'pending',
      inviteTxn: txn,
      busy: true,
      binding: false,
      cancelled: false,
      ports,
      offer: sdp,
      answer: '',
      sdpVersion: 1,
      sdpSessionId: String(Math.floor(now / 1000)),
      metadata: null,
      metadataProblems: [],
      metadataComplete: false,
      mapping: null,
      call: null,
      advertised: this.advertised,
      transport: m.transport,
      srcAddress: m.srcAddress,
      srcPort: m.srcPort,
      route: m.route,
      connection: m.connection,
      remoteTarget: contactUri(msg),
      routes: msg.headerAll('record-route'),
      remoteUri: msg.header('from') ?? '',
      localUri: msg.header('to') ?? '',
      localCseq: 1,
      sbc: sbcHeaders(msg),
      updates: 0,
      duplicateOf: null,
      duplicates: [],
      participantKey: '',
      invite: msg,
    };
    this.sessions.set(s.callId, s);

    // Sockets first: a port another process holds is replaced once, else its stream is refused.
    s.binding = true;
    await Promise.all(s.ports.map((p, i) => (p === 0 ? Promise.resolve() : this.bindPort(s, i))));
    s.binding = false;
    // The state may have changed while we waited (CANCEL, shutdown): TypeScript cannot see that.
    const ended = (): boolean => s.state === 'ended';
    if (ended()) return this.releaseAll(s);
    if (this.opts.answerDelayMs > 0) await new Promise((r) => setTimeout(r, this.opts.answerDelayMs));
    if (s.cancelled || ended()) return;
    if (!s.ports.some((p) => p !== 0)) {
      this.reject(txn, msg, 503, wallMs(), 'media_bind_failed', [['Retry-After', String(this.opts.retryAfterSec)]]);
      return this.endSession(s, 'no-ports', wallMs());
    }

    this.applyMetadata(s, body.metadata, body.metadataGuessed, isRecording);
    const nowMs = wallMs();
    if (!this.openCall(s, msg, nowMs)) {
      this.reject(txn, msg, 503, nowMs, 'call_table_full', [['Retry-After', String(this.opts.retryAfterSec)]]);
      return this.endSession(s, 'table-full', nowMs);
    }
    s.state = 'active';
    s.busy = false;
    this.stats.sessions++;
    this.counters.inc('siprec.sessions_started');
    s.answer = this.answerSdp(s);
    this.reply(txn, msg, 200, nowMs, {
      toTag: s.localTag,
      recordRoute: true,
      headers: this.okHeaders(m),
      body: Buffer.from(s.answer),
      contentType: 'application/sdp',
    });
    txn.onNoAck = () => {
      // §13.3.1.4: a 2xx never acknowledged ends the dialog with a BYE.
      if (s.state !== 'active') return;
      this.sendBye(s);
      this.endSession(s, 'no-ack', wallMs());
    };
    if (s.call) {
      s.call.state = CallState.Established;
      s.call.answer = nowMs / 1000;
      s.call.status = 200;
    }
  }

  private okHeaders(m: Inbound): [string, string][] {
    const host = this.advertised.includes(':') ? `[${this.advertised}]` : this.advertised;
    const t = m.transport === 'TCP' ? ';transport=tcp' : '';
    return [
      ['Contact', `<sip:srs@${host}:${m.localPort}${t}>`],
      ['Allow', ALLOW],
      ['Accept', ACCEPT],
      ['Supported', SUPPORTED],
    ];
  }

  private async bindPort(s: SiprecSession, i: number): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const p = s.ports[i]!;
      if (await this.sockets.bind(p)) return;
      this.pool.discard(p);
      const next = this.pool.allocate();
      s.ports[i] = next < 0 ? 0 : next;
      if (next < 0) return;
    }
    this.pool.release(s.ports[i]!);
    s.ports[i] = 0;
  }

  private releaseAll(s: SiprecSession): void {
    for (const p of s.ports) this.releasePort(p);
  }

  private releasePort(p: number): void {
    if (p === 0) return;
    this.sockets.close(p);
    this.pool.release(p);
  }

  /** Parse a metadata body into the session (merging partial updates); never fails the request. */
  private applyMetadata(s: SiprecSession, text: string, guessed: boolean, isRecording: boolean): void {
    if (text === '') {
      if (s.metadata === null) {
        this.counters.inc(isRecording ? 'siprec.metadata_missing' : 'siprec.metadata_none');
        s.metadataProblems = [isRecording ? 'no metadata' : 'not a SIPREC session (recorded per config)'];
      }
      return;
    }
    const r = parseRsMetadata(text);
    if (!r.ok) {
      this.counters.inc(`siprec.metadata_${r.reason}`);
      s.metadataComplete = false;
      s.metadataProblems = [`metadata refused (${r.reason}): ${r.error}`.slice(0, 300)];
      return;
    }
    const md = r.metadata;
    if (!md.wellFormed) this.counters.inc('siprec.metadata_malformed');
    // A complete snapshot is judged alone; a partial one adds to what the earlier ones were.
    const base = md.dataMode === 'complete' || s.metadata === null || s.metadataComplete;
    s.metadata = mergeMetadata(s.metadata, md);
    s.metadataComplete = base && md.wellFormed && !guessed && s.metadata.participants.length > 0;
    s.metadataProblems = [...(guessed ? ['metadata part had the wrong Content-Type'] : []), ...s.metadata.problems].slice(0, 16);
  }

  /** The call in the registry: parties, expectations, the record's SIPREC section. */
  private openCall(s: SiprecSession, msg: SipMessage, nowMs: number): boolean {
    const from = nameAddrParty(msg.header('from') ?? '');
    const to = nameAddrParty(msg.header('to') ?? '');
    const ids = headerIdentities(s.sbc, from);
    const fallback = { caller: ids.caller[0] ?? from, callee: ids.callee[0] ?? to };
    s.mapping = mapSession(s.metadata, s.offer?.media ?? [], this.opts.trunks, fallback);
    s.participantKey = participantKey(s.metadata);
    const dup = this.opts.equateDuplicateSessions && s.participantKey ? this.byParticipants.get(s.participantKey) : undefined;
    if (dup && dup.state === 'active' && dup !== s) {
      // Equated with the session already recording these participants: answered, not recorded twice.
      s.duplicateOf = dup;
      dup.duplicates.push(s);
      for (const p of s.ports) if (p) this.sockets.setMuted(p, true);
      this.counters.inc('siprec.duplicate_session');
      dup.call?.note(`duplicate SIPREC session ${s.callId} equated with this one`);
      this.refreshRecord(dup);
      return true;
    }
    const call = this.host.registry.start(`siprec:${s.callId}`, 'siprec', s.callId, { ...s.mapping.caller }, { ...s.mapping.callee }, { time: nowMs / 1000, frame: null });
    if (call === null) return false;
    s.call = call;
    if (s.participantKey) this.byParticipants.set(s.participantKey, s);
    call.aliases.caller.push(...ids.caller);
    call.aliases.callee.push(...ids.callee);
    this.applyMapping(s, nowMs);
    return true;
  }

  /** Expectations per port, parties, hold, mono/dual, the record's SIPREC section. */
  private applyMapping(s: SiprecSession, nowMs: number): void {
    const call = s.call;
    const mapping = s.mapping;
    const offer = s.offer;
    if (call === null || mapping === null || offer === null) return;
    Object.assign(call.from, mapping.caller);
    Object.assign(call.to, mapping.callee);
    call.channels = mapping.mixed ? 1 : null;
    call.direction = mapping.direction;
    const payloads: Record<Party, Call['media']['caller']['payloads']> = { caller: [], callee: [] };
    const onHold: Record<Party, boolean | null> = { caller: null, callee: null };
    for (const st of mapping.streams) {
      const m = offer.media[st.index];
      const port = s.ports[st.index] ?? 0;
      if (!m || port === 0) continue;
      this.host.registry.expectSent(call, st.party, s.advertised, port, nowMs / 1000);
      for (const pf of m.payloads) if (!payloads[st.party].some((x) => x.pt === pf.pt)) payloads[st.party].push({ ...pf });
      // QMS HoldsUsingSDP: a stream the SRC marks inactive (or c=0.0.0.0) is on hold.
      const held = this.opts.holdsUsingSdp && (m.direction === 'inactive' || m.direction === 'recvonly' || isHoldAddress(m.connection));
      onHold[st.party] = (onHold[st.party] ?? true) && held;
    }
    for (const party of ['caller', 'callee'] as const) {
      if (payloads[party].length > 0) call.media[party].payloads = payloads[party];
      const held = onHold[party] ?? false;
      if (held !== call.media[party].hold) call.note(held ? `hold by ${party}` : `resume by ${party}`);
      call.media[party].hold = held;
    }
    this.refreshRecord(s);
  }

  private refreshRecord(s: SiprecSession): void {
    const call = s.call;
    if (call === null) return;
    const md = s.metadata;
    const mapping = s.mapping;
    const labelOf = new Map((md?.streams ?? []).map((x) => [x.id, x.label]));
    const session = md?.sessions[0];
    const info: SiprecRecordInfo = {
      srcCallId: s.callId,
      src: `${s.srcAddress.includes(':') ? `[${s.srcAddress}]` : s.srcAddress}:${s.srcPort}`,
      transport: s.transport,
      sessionId: session?.id ?? '',
      groupId: session?.groupId || md?.groups[0]?.id || '',
      sipSessionIds: session?.sipSessionIds ?? [],
      schema: md?.schema ?? 'none',
      startTime: session?.startTime || session?.associateTime || '',
      metadataComplete: s.metadataComplete,
      problems: s.metadataProblems.slice(0, 16),
      participants: (md?.participants ?? []).map((p) => ({
        id: p.id,
        aor: p.aor,
        name: p.name,
        party: mapping?.parties.get(p.id) ?? '',
        send: p.send.map((id) => labelOf.get(id) ?? id),
        recv: p.recv.map((id) => labelOf.get(id) ?? id),
        associateTime: p.associateTime,
        disassociateTime: p.disassociateTime,
        extensions: p.extensions,
      })),
      streams: (md?.streams ?? []).map((st) => {
        const a = mapping?.streams.find((x) => x.label !== '' && x.label === st.label);
        return {
          id: st.id,
          label: st.label,
          party: a?.party ?? '',
          mode: st.mode,
          associateTime: st.associateTime,
          disassociateTime: st.disassociateTime,
          port: a ? (s.ports[a.index] ?? 0) : 0,
        };
      }),
      extensions: [...(md?.extensions ?? []), ...(md?.groups.flatMap((g) => g.extensions) ?? []), ...(md?.sessions.flatMap((x) => x.extensions) ?? [])].slice(0, 64),
      originalCallId: md?.hints.callId ?? '',
      ucid: md?.hints.ucid ?? '',
      callType: md?.hints.callType ?? '',
      sbcHeaders: s.sbc,
      updates: s.updates,
      duplicates: s.duplicates.map((d) => d.callId),
    };
    call.siprec = info;
  }

  private answerSdp(s: SiprecSession): string {
    if (s.offer === null) return '';
    return buildAnswerSdp(
      s.offer,
      s.ports.map((port) => ({ port })),
      { address: s.advertised, sessionId: s.sdpSessionId, version: s.sdpVersion },
    );
  }

  /** re-INVITE or UPDATE in the session (RFC 7866 §7.1.1: media and/or metadata changes). */
  private async update(s: SiprecSession, m: Inbound, txn: ServerTxn): Promise<void> {
    const { msg } = m;
    if (s.state !== 'active' || s.busy) {
      // §14.2: a request arriving while another is in progress: retry shortly.
      return this.reply(txn, msg, 500, m.timeMs, { toTag: s.localTag, headers: [['Retry-After', String(1 + Math.floor(Math.random() * 5))]] });
    }
    s.busy = true;
    this.touch(s, m.timeMs);
    if (msg.method === 'INVITE') this.reply(txn, msg, 100, m.timeMs);
    this.counters.inc(msg.method === 'INVITE' ? 'siprec.reinvite' : 'siprec.update');
    const body = recordingBody(msg, this.counters);
    let sdp: SessionDescription | null = null;
    if (body.sdp !== '') {
      if (countMediaLines(body.sdp) > this.opts.maxMediaLines) {
        s.busy = false;
        return this.reject(txn, msg, 488, m.timeMs, 'too_many_media');
      }
      sdp = parseSdp(body.sdp, this.counters, { maxMedia: this.opts.maxMediaLines });
      if (sdp === null) {
        s.busy = false;
        return this.reject(txn, msg, 488, m.timeMs, 'bad_sdp');
      }
      if (s.offer && sdp.media.length < s.offer.media.length) this.counters.inc('siprec.offer_dropped_mlines');
      await this.reconcile(s, sdp);
      s.sdpVersion++;
      s.answer = this.answerSdp(s);
    }
    if (body.metadata !== '') {
      s.updates++;
      this.counters.inc('siprec.metadata_update');
      this.applyMetadata(s, body.metadata, body.metadataGuessed, true);
    }
    const nowMs = wallMs();
    if (s.state !== 'active') return;
    if (s.call && s.offer) {
      const from = nameAddrParty(s.remoteUri);
      const ids = headerIdentities(s.sbc, from);
      s.mapping = mapSession(s.metadata, s.offer.media, this.opts.trunks, { caller: s.mapping?.caller ?? ids.caller[0] ?? from, callee: s.mapping?.callee ?? ids.callee[0] ?? nameAddrParty(s.localUri) });
      this.applyMapping(s, nowMs);
    } else if (s.duplicateOf) this.refreshRecord(s.duplicateOf);
    s.busy = false;
    // An INVITE always gets SDP back (offer or answer, RFC 3264 §8); an UPDATE only when it offered.
    const withSdp = msg.method === 'INVITE' || sdp !== null;
    // The re-INVITE's 2xx is retransmitted until its ACK like the first one's (§13.3.1.4).
    if (msg.method === 'INVITE') s.inviteTxn = txn;
    this.reply(txn, msg, 200, nowMs, {
      toTag: s.localTag,
      headers: this.okHeaders(m),
      ...(withSdp ? { body: Buffer.from(s.answer), contentType: 'application/sdp' } : {}),
    });
  }

  /** A new offer in the session: keep ports of surviving m-lines, add and remove the rest. */
  private async reconcile(s: SiprecSession, sdp: SessionDescription): Promise<void> {
    const old = s.ports;
    const ports: number[] = [];
    const fresh: number[] = [];
    let taken = 0;
    for (let i = 0; i < sdp.media.length; i++) {
      const m = sdp.media[i]!;
      const keep = acceptableStream(m) || (m.type === 'audio' && m.port !== 0 && (old[i] ?? 0) !== 0);
      const prev = old[i] ?? 0;
      if (keep && taken < this.opts.maxStreamsPerSession) {
        taken++;
        if (prev !== 0) ports.push(prev);
        else {
          const p = this.pool.allocate();
          if (p < 0) {
            this.counters.inc('siprec.pool_exhausted_update');
            ports.push(0);
          } else {
            ports.push(p);
            fresh.push(i);
          }
        }
      } else {
        ports.push(0);
        if (prev !== 0) this.dropStream(s, prev);
      }
    }
    for (let i = sdp.media.length; i < old.length; i++) if (old[i]) this.dropStream(s, old[i]!);
    s.ports = ports;
    s.offer = sdp;
    s.binding = true;
    await Promise.all(fresh.map((i) => this.bindPort(s, i)));
    s.binding = false;
    if (s.state === 'ended') return this.releaseAll(s);
    if (s.duplicateOf) for (const p of s.ports) if (p) this.sockets.setMuted(p, true);
  }

  private dropStream(s: SiprecSession, port: number): void {
    if (s.call) this.host.registry.unexpect(s.call, s.advertised, port);
    this.releasePort(port);
  }

  /** The session is over: ports back to the pool, the call ended and recorded. */
  private endSession(s: SiprecSession, reason: string, nowMs: number): void {
    if (s.state === 'ended') return;
    const wasActive = s.state === 'active';
    s.state = 'ended';
    this.sessions.delete(s.callId);
    if (!s.binding) this.releaseAll(s);
    if (s.inviteTxn && s.inviteTxn.state === 'accepted') s.inviteTxn.onNoAck = null;
    if (wasActive) {
      this.stats.ended++;
      this.counters.inc(`siprec.ended_${reason.split(':')[0]}`);
    }
    if (s.call && s.call.state !== CallState.Ended) this.host.registry.end(s.call, reason, nowMs / 1000);
    if (s.duplicateOf) {
      const d = s.duplicateOf.duplicates;
      const i = d.indexOf(s);
      if (i >= 0) d.splice(i, 1);
    }
    if (this.byParticipants.get(s.participantKey) === s) this.byParticipants.delete(s.participantKey);
    // A duplicate still running takes over the recording from here on.
    const heir = s.duplicates.find((d) => d.state === 'active');
    if (heir) {
      heir.duplicateOf = null;
      for (const p of heir.ports) if (p) this.sockets.setMuted(p, false);
      this.counters.inc('siprec.duplicate_promoted');
      if (this.openCall(heir, heir.invite, nowMs)) heir.call?.note(`took over recording from ended session ${s.callId}`);
    }
  }

  /** Our BYE (§15.1.1), best effort: sent once on the session's transport. */
  private sendBye(s: SiprecSession): void {
    if (s.state !== 'active') return;
    const viaHost = this.advertised;
    const port = s.transport === 'TCP' ? this.transport.tcpPort : this.transport.udpPort;
    const data = buildBye({
      target: s.remoteTarget || `sip:${s.srcAddress}:${s.srcPort}`,
      via: { transport: s.transport, host: viaHost, port },
      branch: `z9hG4bK${tag()}`,
      callId: s.callId,
      from: `${s.localUri};tag=${s.localTag}`,
      to: s.remoteUri,
      cseq: s.localCseq++,
      routes: s.routes,
    });
    this.counters.inc('siprec.bye_sent');
    if (s.transport === 'TCP') {
      if (s.connection && !s.connection.destroyed) s.connection.write(data);
      return;
    }
    const target = hostPortOf(s.remoteTarget);
    this.transport.sendUdp(data, target?.host ?? s.srcAddress, target?.port ?? s.srcPort);
  }
}

/** `m=` lines in an SDP text, counted without parsing it. */
function countMediaLines(sdp: string): number {
  let n = sdp.startsWith('m=') ? 1 : 0;
  for (let i = sdp.indexOf('\nm='); i >= 0; i = sdp.indexOf('\nm=', i + 3)) n++;
  return n;
}

const nameAddrParty = (value: string): PartyInfo => {
  const na = parseNameAddr(value);
  return { uri: na.uri, number: na.user, name: na.display };
};

/** The set of participants of a session, order-free: equal keys mean the same recorded call. */
function participantKey(md: RecordingMetadata | null): string {
  const ids = (md?.participants ?? []).map((p) => trunkIdentity(p.aor)).filter((x) => x !== '');
  if (ids.length < 2) return '';
  return [...new Set(ids)].sort().join('|');
}

/** host and port of a sip: URI when the host is an IP literal (we do not resolve names). */
function hostPortOf(uri: string): { host: string; port: number } | null {
  const m = /^sips?:(?:[^@]*@)?(\[[0-9a-fA-F:.]+\]|\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?/i.exec(uri);
  if (!m) return null;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : 5060 };
}

/** The address SRCs are told to send media to when none is configured. */
function advertisedFor(host: string): string {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return host;
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}
