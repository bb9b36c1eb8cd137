/**
 * Recording metadata (RFC 7865, `application/rs-metadata+xml`, RFC 7866 §9) as SRCs really send it:
 *
 *   - RFC 7865, namespace `urn:ietf:params:xml:ns:recording:1`: `session_id`, `participant_id`,
 *     `stream_id` attributes; participantsessionassoc / participantstreamassoc / sessionrecordingassoc
 *     elements carrying associate-time and disassociate-time (RFC 7865 §6.8–§6.10);
 *   - the pre-RFC draft, namespace `urn:ietf:params:xml:ns:recording` (Oracle/Acme, Sonus, AudioCodes,
 *     Metaswitch): `id` and `session` attributes, `<send>`/`<recv>` directly inside `<participant>`;
 *   - Cisco BroadWorks' own `recording_metadata` schema in `urn:ietf:params:xml:ns:siprec`: `<aor>`
 *     elements, `<send><id>…</id></send>`, `group`/`session`/`recording` attributes.
 *
 * Any prefix (`tns:`), `dataMode` or `datamode` (Avaya, BroadWorks spell it camelCase), ids in either
 * attribute style, elements in any order. Vendor data (extensiondata, foreign-namespace elements,
 * Intrado's `<channel>`/`<role>`, Sonus `callData`, Acme `apkt:`, AudioCodes `ac:`, Avaya UCID) is
 * kept verbatim. Hints about who called (apkt:callingParty, `<role>`, BroadWorks callType,
 * callingPartyNumber…) are gathered for the session mapper.
 *
 * Never throws on data. Text that is not well-formed is parsed leniently and flagged (`wellFormed:
 * false`); text that cannot be read at all is a refusal with a reason, and the caller records the
 * call anyway with its metadata marked partial.
 */
import { attr, parseXmlTree, type XmlElement, type XmlLimits, type XmlRefusal } from './xml-tree.js';

export const NS_RECORDING_1 = 'urn:ietf:params:xml:ns:recording:1';
export const NS_RECORDING_DRAFT = 'urn:ietf:params:xml:ns:recording';
export const NS_BROADWORKS = 'urn:ietf:params:xml:ns:siprec';

export type MetadataSchema = 'rfc7865' | 'draft' | 'broadworks';
/** RFC 7865 §6.1: a complete snapshot, or only what changed since the last one. */
export type DataMode = 'complete' | 'partial';
export type PartyRole = 'caller' | 'callee' | '';

/** Times are kept as sent (xs:dateTime, often without zone, sometimes 1970): '' when absent. */
export interface RsTimes {
  associateTime: string;
  disassociateTime: string;
}

export interface RsGroup extends RsTimes {
  id: string;
  /** BroadWorks `<initiator>`: the recorded user. */
  initiator: string;
  extensions: string[];
}

export interface RsSession extends RsTimes {
  id: string;
  groupId: string;
  /** RFC 7865 §6.3 sipSessionID values (RFC 7989 Session-ID, or a Call-ID from older SRCs). */
  sipSessionIds: string[];
  startTime: string;
  stopTime: string;
  extensions: string[];
}

export interface RsParticipant extends RsTimes {
  id: string;
  /** nameID/@aor or BroadWorks `<aor>`, as sent (with or without `sip:`). */
  aor: string;
  /** Display name; '' when absent or blank. */
  name: string;
  sessionIds: string[];
  /** Stream ids this participant sends / receives (participantstreamassoc, or the draft's children). */
  send: string[];
  recv: string[];
  /** Who called, when a vendor says so (apkt:callingParty, `<role>`). */
  role: PartyRole;
  extensions: string[];
}

export interface RsStream extends RsTimes {
  id: string;
  sessionId: string;
  /** Ties the stream to the SDP m-line with the same a=label (RFC 7866 §8.1.8, RFC 4574). */
  label: string;
  /** `separate` or `mixed` (draft/BroadWorks `<mode>`); '' when not said. */
  mode: string;
  extensions: string[];
}

/** One participantsessionassoc / participantstreamassoc element (RFC 7865 §6.9, §6.10), as sent. */
export interface RsAssociation extends RsTimes {
  participantId: string;
  /** Stream ids from participantstreamassoc; null for participantsessionassoc. */
  send: string[] | null;
  recv: string[] | null;
}

/** Call-level facts from vendor extensions that help tell caller from callee. */
export interface MetadataHints {
  /** originating / terminating, from BroadWorks origCall/termCall or Metaswitch callType. */
  callType: 'originating' | 'terminating' | '';
  callingParty: string;
  calledParty: string;
  /** The recorded user (BroadWorks group initiator, Metaswitch recordedParty). */
  recordedParty: string;
  /** Sonus callData fromhdr / tohdr (full header values). */
  fromHeader: string;
  toHeader: string;
  /** The original call's Call-ID when an extension carries it (Sonus callid, Acme Call-ID header). */
  callId: string;
  /** Avaya UCID (Acme apkt:ucid, AudioCodes AvayaUCID). */
  ucid: string;
}

export interface RecordingMetadata {
  schema: MetadataSchema;
  /** The root element's namespace ('' when the SRC declared none). */
  namespace: string;
  dataMode: DataMode;
  /** Root `id` (Metaswitch) or BroadWorks `<recording id>`; '' when absent. */
  recordingId: string;
  groups: RsGroup[];
  sessions: RsSession[];
  participants: RsParticipant[];
  streams: RsStream[];
  /**
   * The association elements themselves: already folded into `participants`, kept because a
   * partial update may associate or disassociate a participant it does not describe again.
   */
  associations: RsAssociation[];
  /** Top-level extensiondata and unknown elements, verbatim. */
  extensions: string[];
  hints: MetadataHints;
  /** False when the XML was not well-formed and was read leniently: the content may be incomplete. */
  wellFormed: boolean;
  /** What was odd, one short phrase each (the first few). */
  problems: string[];
}

export type MetadataRefusal = XmlRefusal | 'not_metadata';

export type MetadataResult = { ok: true; metadata: RecordingMetadata } | { ok: false; reason: MetadataRefusal; error: string };

const MAX_PROBLEMS = 16;
/** Ids and values beyond this length are cut: they end up in the index. */
const MAX_VALUE = 1024;
/** One extension block kept verbatim at most this long. */
const MAX_EXTENSION = 16 * 1024;
const MAX_ITEMS = 256;
/** Verbatim extension text kept per document, all blocks together: a session's metadata stays small. */
const MAX_EXTENSION_TOTAL = 64 * 1024;

export const emptyHints = (): MetadataHints => ({ callType: '', callingParty: '', calledParty: '', recordedParty: '', fromHeader: '', toHeader: '', callId: '', ucid: '' });

/** Parse one metadata body (UTF-8 text). */
export function parseRsMetadata(text: string, limits?: XmlLimits): MetadataResult {
  const tree = parseXmlTree(text, limits);
  if (!tree.ok) return tree;
  const root = tree.root;
  const lname = root.local.toLowerCase();
  let schema: MetadataSchema;
  if (lname === 'recording' && root.ns === NS_RECORDING_1) schema = 'rfc7865';
  else if (lname === 'recording' && (root.ns === NS_RECORDING_DRAFT || root.ns === '')) schema = 'draft';
  else if (lname === 'recording_metadata') schema = 'broadworks';
  else return { ok: false, reason: 'not_metadata', error: `root element ${root.qname} in namespace "${root.ns}"` };
  const md = new MetadataReader(text, root, schema).read();
  if (!tree.wellFormed) {
    md.wellFormed = false;
    md.problems.unshift(`not well-formed XML: ${tree.error}`);
  }
  if (root.ns === '') md.problems.push('no namespace on the root element');
  else if (schema === 'broadworks' && root.ns !== NS_BROADWORKS) md.problems.push(`unexpected namespace ${root.ns}`);
  if (md.problems.length > MAX_PROBLEMS) md.problems.length = MAX_PROBLEMS;
  // Fresh strings: slices of the source would keep the whole document alive as long as the session.
  return { ok: true, metadata: JSON.parse(JSON.stringify(md)) as RecordingMetadata };
}

const clip = (s: string): string => (s.length > MAX_VALUE ? s.slice(0, MAX_VALUE) : s);
const textOf = (el: XmlElement | undefined): string => (el === undefined ? '' : clip(el.text.trim()));

/** Walks the tree once; schema differences are handled per element. */
class MetadataReader {
  private readonly md: RecordingMetadata;
  private readonly psaTimes = new Map<string, RsTimes>();
  private readonly pstAssoc: { participantId: string; send: string[]; recv: string[] }[] = [];
  private readonly srTimes = new Map<string, RsTimes>();
  private extensionBudget = MAX_EXTENSION_TOTAL;

  constructor(
    private readonly source: string,
    private readonly root: XmlElement,
    schema: MetadataSchema,
  ) {
    this.md = {
      schema,
      namespace: root.ns,
      dataMode: 'complete',
      recordingId: clip(attr(root, 'id') ?? ''),
      groups: [],
      sessions: [],
      participants: [],
      streams: [],
      associations: [],
      extensions: [],
      hints: emptyHints(),
      wellFormed: true,
      problems: [],
    };
  }

  /** An element of the metadata vocabulary: in the root's namespace, or in none (lenient). */
  private own(el: XmlElement): boolean {
    return el.ns === this.root.ns || el.ns === '';
  }

  private verbatim(el: XmlElement): string {
    if (el.start < 0 || el.end <= el.start) return `<${el.qname}>${el.text}</${el.qname}>`;
    const s = this.source.slice(el.start, el.end);
    return s.length > MAX_EXTENSION ? s.slice(0, MAX_EXTENSION) : s;
  }

  private keep(list: string[], el: XmlElement): void {
    const v = this.verbatim(el);
    if (list.length < MAX_ITEMS && v.length <= this.extensionBudget) {
      list.push(v);
      this.extensionBudget -= v.length;
    } else this.problem('extension data over the size kept; truncated');
    this.hintsFrom(el);
  }

  private problem(p: string): void {
    if (this.md.problems.length < MAX_PROBLEMS && !this.md.problems.includes(p)) this.md.problems.push(p);
  }

  read(): RecordingMetadata {
    const md = this.md;
    for (const el of this.root.children) {
      if (!this.own(el)) {
        this.keep(md.extensions, el);
        continue;
      }
      switch (el.local.toLowerCase()) {
        case 'datamode': {
          const v = el.text.trim().toLowerCase();
          if (v === 'partial') md.dataMode = 'partial';
          else if (v !== 'complete') this.problem(`unknown dataMode "${clip(el.text.trim())}"`);
          break;
        }
        case 'recording':
          // BroadWorks: <recording id><requestor/><type/></recording>.
          md.recordingId ||= clip(attr(el, 'id') ?? '');
          break;
        case 'group':
          if (md.groups.length < MAX_ITEMS) md.groups.push(this.group(el));
          break;
        case 'session':
          if (md.sessions.length < MAX_ITEMS) md.sessions.push(this.session(el));
          break;
        case 'participant':
          if (md.participants.length < MAX_ITEMS) md.participants.push(this.participant(el));
          break;
        case 'stream':
          if (md.streams.length < MAX_ITEMS) md.streams.push(this.stream(el));
          break;
        case 'sessionrecordingassoc':
          this.srTimes.set(clip(attr(el, 'session_id') ?? attr(el, 'session') ?? ''), this.times(el));
          break;
        case 'participantsessionassoc': {
          const pid = clip(attr(el, 'participant_id') ?? attr(el, 'participant') ?? '');
          const t = this.times(el);
          this.psaTimes.set(pid, t);
          if (md.associations.length < MAX_ITEMS) md.associations.push({ participantId: pid, send: null, recv: null, ...t });
          break;
        }
        case 'participantstreamassoc': {
          const pid = clip(attr(el, 'participant_id') ?? attr(el, 'participant') ?? '');
          const send: string[] = [];
          const recv: string[] = [];
          this.sendRecv(el, send, recv);
          if (this.pstAssoc.length < MAX_ITEMS) this.pstAssoc.push({ participantId: pid, send, recv });
          const t = this.times(el);
          if (md.associations.length < MAX_ITEMS) md.associations.push({ participantId: pid, send, recv, ...t });
          if (t.associateTime || t.disassociateTime) this.psaTimes.set(pid, { ...(this.psaTimes.get(pid) ?? t), ...nonEmpty(t) });
          break;
        }
        case 'extensiondata':
          this.keep(md.extensions, el);
          break;
        default:
          this.problem(`unknown element <${el.qname}>`);
          this.keep(md.extensions, el);
          break;
      }
    }
    this.associate();
    this.roles();
    // BroadWorks bodies pasted through tools that strip tags leave only the root's text.
    if (this.root.text.trim() !== '') this.problem('text where elements were expected (tags stripped?)');
    if (md.participants.length === 0 && md.dataMode === 'complete') this.problem('no participants');
    return md;
  }

  private times(el: XmlElement): RsTimes {
    let associateTime = '';
    let disassociateTime = '';
    for (const c of el.children) {
      if (!this.own(c)) continue;
      if (c.local === 'associate-time') associateTime = textOf(c);
      else if (c.local === 'disassociate-time') disassociateTime = textOf(c);
    }
    return { associateTime, disassociateTime };
  }

  /** `<send>id</send>` (RFC/draft) or `<send><id>id</id>…</send>` (BroadWorks). */
  private sendRecv(el: XmlElement, send: string[], recv: string[]): void {
    for (const c of el.children) {
      if (!this.own(c)) continue;
      const target = c.local === 'send' ? send : c.local === 'recv' ? recv : null;
      if (target === null) continue;
      const ids = c.children.filter((x) => x.local === 'id' && this.own(x)).map(textOf);
      if (ids.length === 0 && c.text.trim()) ids.push(textOf(c));
      for (const id of ids) if (id && !target.includes(id) && target.length < MAX_ITEMS) target.push(id);
    }
  }

  private group(el: XmlElement): RsGroup {
    const g: RsGroup = { id: clip(attr(el, 'group_id') ?? attr(el, 'id') ?? ''), initiator: '', extensions: [], ...this.times(el) };
    for (const c of el.children) {
      if (!this.own(c)) this.keep(g.extensions, c);
      else if (c.local === 'initiator') g.initiator = textOf(c);
      else if (c.local === 'extensiondata') this.keep(g.extensions, c);
      else if (c.local !== 'associate-time' && c.local !== 'disassociate-time') this.keep(g.extensions, c);
    }
    if (g.initiator) this.md.hints.recordedParty ||= g.initiator;
    return g;
  }

  private session(el: XmlElement): RsSession {
    const s: RsSession = {
      id: clip(attr(el, 'session_id') ?? attr(el, 'id') ?? ''),
      groupId: clip(attr(el, 'group') ?? ''),
      sipSessionIds: [],
      startTime: '',
      stopTime: '',
      extensions: [],
      ...this.times(el),
    };
    for (const c of el.children) {
      if (!this.own(c)) {
        this.keep(s.extensions, c);
        continue;
      }
      switch (c.local) {
        case 'sipSessionID':
          if (s.sipSessionIds.length < MAX_ITEMS) s.sipSessionIds.push(textOf(c));
          break;
        case 'group-ref':
          s.groupId = textOf(c);
          break;
        case 'start-time':
          s.startTime = textOf(c);
          break;
        case 'stop-time':
        case 'end-time':
          s.stopTime = textOf(c);
          break;
        case 'associate-time':
        case 'disassociate-time':
          break;
        default:
          this.keep(s.extensions, c);
      }
    }
    return s;
  }

  private participant(el: XmlElement): RsParticipant {
    const p: RsParticipant = {
      id: clip(attr(el, 'participant_id') ?? attr(el, 'id') ?? ''),
      aor: '',
      name: '',
      sessionIds: [],
      send: [],
      recv: [],
      role: '',
      extensions: [],
      ...this.times(el),
    };
    const sess = attr(el, 'session_id') ?? attr(el, 'session');
    if (sess) p.sessionIds.push(clip(sess));
    this.sendRecv(el, p.send, p.recv);
    for (const c of el.children) {
      if (!this.own(c)) {
        this.keep(p.extensions, c);
        this.roleFrom(p, c);
        continue;
      }
      switch (c.local) {
        case 'nameID':
        case 'nameId':
        case 'nameid': {
          const aor = clip((attr(c, 'aor') ?? '').trim());
          if (!p.aor) p.aor = aor;
          const name = c.children.find((x) => x.local === 'name');
          if (!p.name && name) p.name = textOf(name);
          break;
        }
        case 'aor':
          p.aor ||= textOf(c);
          break;
        case 'name':
          p.name ||= textOf(c);
          break;
        case 'send':
        case 'recv':
        case 'associate-time':
        case 'disassociate-time':
          break;
        case 'role': {
          // Intrado VIPER: <role>calling</role>.
          this.keep(p.extensions, c);
          const r = c.text.trim().toLowerCase();
          if (r === 'calling' || r === 'caller' || r === 'originating') p.role = 'caller';
          else if (r === 'called' || r === 'callee' || r === 'terminating') p.role = 'callee';
          break;
        }
        default:
          this.keep(p.extensions, c);
          this.roleFrom(p, c);
      }
    }
    return p;
  }

  /** Acme `apkt:callingParty` true/false inside the participant's extensiondata. */
  private roleFrom(p: RsParticipant, el: XmlElement): void {
    const stack = [el];
    let seen = 0;
    while (stack.length > 0 && seen++ < 256) {
      const e = stack.pop()!;
      if (e.local === 'callingParty') {
        const v = e.text.trim().toLowerCase();
        if (v === 'true') p.role = 'caller';
        else if (v === 'false' && p.role === '') p.role = 'callee';
      }
      for (const c of e.children) stack.push(c);
    }
  }

  private stream(el: XmlElement): RsStream {
    const s: RsStream = {
      id: clip(attr(el, 'stream_id') ?? attr(el, 'id') ?? ''),
      sessionId: clip(attr(el, 'session_id') ?? attr(el, 'session') ?? ''),
      label: '',
      mode: '',
      extensions: [],
      ...this.times(el),
    };
    for (const c of el.children) {
      if (!this.own(c)) this.keep(s.extensions, c);
      else if (c.local === 'label') s.label = textOf(c);
      else if (c.local === 'mode') s.mode = textOf(c).toLowerCase();
      else if (c.local !== 'associate-time' && c.local !== 'disassociate-time') this.keep(s.extensions, c);
    }
    return s;
  }

  /** Fold the association elements into participants and sessions. */
  private associate(): void {
    const md = this.md;
    const byId = new Map<string, RsParticipant>();
    for (const p of md.participants) byId.set(p.id, p);
    for (const a of this.pstAssoc) {
      const p = byId.get(a.participantId);
      if (p === undefined) {
        if (md.dataMode === 'complete') this.problem(`participantstreamassoc for unknown participant "${a.participantId}"`);
        continue;
      }
      for (const id of a.send) if (!p.send.includes(id)) p.send.push(id);
      for (const id of a.recv) if (!p.recv.includes(id)) p.recv.push(id);
    }
    for (const [pid, t] of this.psaTimes) {
      const p = byId.get(pid);
      if (p === undefined) continue;
      p.associateTime ||= t.associateTime;
      p.disassociateTime ||= t.disassociateTime;
    }
    for (const s of md.sessions) {
      const t = this.srTimes.get(s.id);
      if (t) {
        s.associateTime ||= t.associateTime;
        s.disassociateTime ||= t.disassociateTime;
      }
    }
    // A participant's session: participantsessionassoc, else the only session there is.
    if (md.sessions.length === 1) for (const p of md.participants) if (p.sessionIds.length === 0) p.sessionIds.push(md.sessions[0]!.id);
    const streamIds = new Set(md.streams.map((s) => s.id));
    for (const p of md.participants)
      for (const id of [...p.send, ...p.recv]) if (!streamIds.has(id) && md.dataMode === 'complete') this.problem(`participant "${p.id}" names stream "${id}" that is not described`);
  }

  /** Vendor call-type hints decide roles where no participant said it itself. */
  private roles(): void {
    const h = this.md.hints;
    const parts = this.md.participants;
    if (parts.some((p) => p.role !== '')) return;
    const match = (value: string): RsParticipant | undefined => (value ? parts.find((p) => sameParty(p.aor, value)) : undefined);
    const calling = match(h.callingParty);
    const called = match(h.calledParty);
    if (calling) calling.role = 'caller';
    if (called && called !== calling) called.role = 'callee';
    if (calling || called) return;
    // BroadWorks / Metaswitch: the recorded user is the caller of an originating call, the callee
    // of a terminating one.
    const recorded = match(h.recordedParty);
    if (recorded && h.callType !== '') recorded.role = h.callType === 'originating' ? 'caller' : 'callee';
  }

  /** Known vendor elements anywhere inside a kept extension block. */
  private hintsFrom(el: XmlElement): void {
    const h = this.md.hints;
    const stack = [el];
    let seen = 0;
    while (stack.length > 0 && seen++ < 512) {
      const e = stack.pop()!;
      switch (e.local) {
        case 'origCall':
          h.callType ||= 'originating';
          break;
        case 'termCall':
          h.callType ||= 'terminating';
          break;
        case 'callType': {
          const v = e.text.trim().toLowerCase();
          if (v === 'originating' || v === 'terminating') h.callType ||= v;
          break;
        }
        case 'callingPartyNumber':
          h.callingParty ||= textOf(e);
          break;
        case 'calledPartyNumber':
          h.calledParty ||= textOf(e);
          break;
        case 'recordedParty':
          h.recordedParty ||= textOf(e);
          break;
        case 'userID':
          h.recordedParty ||= textOf(e);
          break;
        case 'fromhdr':
          h.fromHeader ||= textOf(e);
          break;
        case 'tohdr':
          h.toHeader ||= textOf(e);
          break;
        case 'callid':
          h.callId ||= textOf(e);
          break;
        case 'header':
          if ((attr(e, 'label') ?? '').toLowerCase() === 'call-id') h.callId ||= textOf(e.children.find((x) => x.local === 'value'));
          break;
        case 'ucid':
        case 'AvayaUCID':
          h.ucid ||= textOf(e);
          break;
        default:
          break;
      }
      for (const c of e.children) stack.push(c);
    }
  }
}

const nonEmpty = (t: RsTimes): Partial<RsTimes> => {
  const o: Partial<RsTimes> = {};
  if (t.associateTime) o.associateTime = t.associateTime;
  if (t.disassociateTime) o.disassociateTime = t.disassociateTime;
  return o;
};

/** User part of an AOR or number: `sip:+1555@h;user=phone` → `+1555`, `7602922411` → itself. */
export function aorUser(aor: string): string {
  let s = aor.trim().replace(/^<|>$/g, '');
  s = s.replace(/^(sips?|tel):/i, '');
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  const semi = s.indexOf(';');
  if (semi >= 0) s = s.slice(0, semi);
  return s;
}

/** Host part of an AOR ('' when none), lower-case, without port and parameters. */
export function aorHost(aor: string): string {
  const s = aor.trim().replace(/^<|>$/g, '').replace(/^(sips?|tel):/i, '');
  const at = s.indexOf('@');
  if (at < 0) return '';
  return s
    .slice(at + 1)
    .replace(/[;?>].*$/, '')
    .replace(/:\d+$/, '')
    .toLowerCase();
}

/**
 * Two identities name the same party: same user@host, or, for numbers, the same digits with the
 * shorter one a suffix of the longer from 4 digits on (`7602922410` and `+17602922410`).
 */
export function sameParty(a: string, b: string): boolean {
  const ua = aorUser(a);
  const ub = aorUser(b);
  if (ua === '' || ub === '') return false;
  if (ua === ub && (aorHost(a) === aorHost(b) || aorHost(a) === '' || aorHost(b) === '')) return true;
  const da = ua.replace(/[^0-9]/g, '');
  const db = ub.replace(/[^0-9]/g, '');
  if (da.length < 4 || db.length < 4 || /[a-z]/i.test(ua) || /[a-z]/i.test(ub)) return false;
  return da.length >= db.length ? da.endsWith(db) : db.endsWith(da);
}
