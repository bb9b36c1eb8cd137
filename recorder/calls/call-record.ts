/**
 * The finished (or in-progress) call as reported by `recorder replay --json`, stored in the index
 * and returned by `recorder calls`. Field names follow DESIGN.md's `--json` schema: fields may be
 * added, never renamed.
 */
export interface PartyInfo {
  uri: string;
  /** User part of the URI when it is a number (digits, +, *, #), else the user part as is. */
  number: string;
  /** Display name, '' when absent. */
  name: string;
}

/** `rtp`: RTP recorded without signaling (record-unattached). */
export type CallProtocol = 'sip' | 'sccp' | 'siprec' | 'netfeed' | 'rtp';
export type Direction = 'inbound' | 'outbound' | 'internal' | 'unknown';

export interface StreamRecord {
  ssrc: number;
  /** `ip:port` (IPv6 in brackets). */
  src: string;
  dst: string;
  payloadType: number;
  /** PCMU, PCMA, G722, G729, opus, telephone-event, … or `PT<n>` when unknown. */
  codec: string;
  packets: number;
  lost: number;
  outOfOrder: number;
  duplicates: number;
  jitterMs: number;
  /** 'caller' | 'callee' (or a SIPREC participant label later). */
  party: string;
  /** Capture time of the first and last packet, ISO 8601. */
  first?: string;
  last?: string;
  /** A copy of the party's audio sent elsewhere (Cisco built-in-bridge fork): reported, not recorded. */
  copy?: boolean;
}

export interface DtmfEvent {
  digit: string;
  /** Capture time of the event start, ISO 8601. */
  time: string;
  durationMs: number;
  party: string;
}

export interface RecordingInfo {
  path: string;
  format: 'opus' | 'mp3' | 'wav';
  channels: 1 | 2;
  sampleRate: number;
  durationMs: number;
  sha256: string;
  /** False when the recording was recovered from a spool after a crash, or media was missing. */
  complete: boolean;
  /** Why it is incomplete / what was filled: loss, gaps, SSRC changes, capture drops, unsupported codecs. */
  notes: string[];
}

export interface CallRecord {
  /** Recorder-assigned id: sortable by start time, unique. */
  id: string;
  protocol: CallProtocol;
  callId: string;
  from: PartyInfo;
  to: PartyInfo;
  /** Directory user the call belongs to, or null. */
  user: string | null;
  direction: Direction;
  start: string;
  answer: string | null;
  end: string;
  /** How the call ended: bye, cancel, rejected (with status), timeout, shutdown, capture-end. */
  endReason: string;
  /** Final SIP status of the INVITE (200, 486, 487…), 0 when none was seen. */
  status: number;
  streams: StreamRecord[];
  dtmf: DtmfEvent[];
  /** REFER/Replaces and other notes (transfer targets, forked early dialogs…). */
  notes: string[];
  recording: RecordingInfo | null;
  /** SIPREC calls (protocol `siprec`): the recording session's metadata (RFC 7865) and SBC headers. */
  siprec?: SiprecRecordInfo;
  /** Calls this one is chained with (QMS call chaining): transfer and conference consultations, continuations. */
  linked?: LinkedCallRecord[];
  /** SCCP calls: the devices (stations) seen taking part, redirection facts. */
  sccp?: SccpRecordInfo;
  /** Calls from the Skype for Business / Lync call-event feed: where the signaling came from, IM transcript. */
  netfeed?: NetfeedRecordInfo;
}

export interface LinkedCallRecord {
  /** The other call's recorder id and protocol call id. */
  id: string;
  callId: string;
  /** transfer, conference, consultation (the other call is this one's consultation), continuation. */
  relation: string;
}

export interface SccpDeviceRecord {
  /** Device name from RegisterMessage (SEP…), or the station's address when registration was not seen. */
  device: string;
  /** Line instance (button) of the call, and that line's directory number when LineStat was seen. */
  line: number;
  lineNumber: string;
  /** The call party this device is: caller or callee. */
  party: string;
  /** Station address (signaling). */
  ip: string;
  /** CallManager's call reference of the device's leg. */
  callRef: number;
}

export interface SccpRecordInfo {
  devices: SccpDeviceRecord[];
  /** CallInfo original called party and last redirecting party (forwarded, transferred calls); null when none. */
  originalCalled: PartyInfo | null;
  lastRedirecting: PartyInfo | null;
  /** Recording forks (built-in bridge) seen: where the phones sent copies of the call's audio. */
  forks: string[];
}

export interface ChatMessageRecord {
  /** Capture time (Front End), ISO 8601. */
  time: string;
  /** Sender's URI and display name. */
  from: string;
  text: string;
}

export interface NetfeedRecordInfo {
  /** The Front End that sent the signaling (its identity in the feed). */
  frontEnd: string;
  /** mirroring, atEdge or endpoint (config netfeed.mode). */
  mode: string;
  /** Candidate addresses registered for the call's media (every m-line, every form). */
  candidates: number;
  /** `a=x-ssrc-range` per party: 'first-last'. */
  ssrcRanges: Record<string, string[]>;
  /** IM session: where the transcript is written and the messages (capped). */
  chat?: { path: string; messages: number; transcript: ChatMessageRecord[] };
}

/** A SIPREC participant (RFC 7865 §6.6) as recorded. */
export interface SiprecParticipantRecord {
  id: string;
  /** nameID/@aor as the SRC sent it. */
  aor: string;
  name: string;
  /** The call party whose channel carries this participant's audio: caller, callee. */
  party: string;
  /** Labels (SDP a=label) of the streams the participant sends and receives. */
  send: string[];
  recv: string[];
  /** participantsessionassoc times as sent ('' when absent). */
  associateTime: string;
  disassociateTime: string;
  /** Vendor extension elements, verbatim XML. */
  extensions: string[];
}

/** A SIPREC stream (RFC 7865 §6.7) and the m-line it arrived on. */
export interface SiprecStreamRecord {
  id: string;
  label: string;
  party: string;
  /** separate / mixed, '' when not said. */
  mode: string;
  associateTime: string;
  disassociateTime: string;
  /** Our RTP port for it, 0 when rejected or removed. */
  port: number;
}

export interface SiprecRecordInfo {
  /** Call-ID of the recording session (the SRC's dialog with us). */
  srcCallId: string;
  /** The SRC's address (ip:port) and transport. */
  src: string;
  transport: string;
  /** RFC 7865 session and group ids, sipSessionID values (the recorded call's Session-ID or Call-ID). */
  sessionId: string;
  groupId: string;
  sipSessionIds: string[];
  /** rfc7865, draft, broadworks, or none when no metadata came. */
  schema: string;
  startTime: string;
  /** False when metadata was missing, malformed or refused: what is here may be incomplete. */
  metadataComplete: boolean;
  /** Why it is incomplete or what was odd. */
  problems: string[];
  participants: SiprecParticipantRecord[];
  streams: SiprecStreamRecord[];
  /** Session-, group- and recording-level extension data, verbatim XML. */
  extensions: string[];
  /** Vendor facts read from extensions: the original Call-ID, Avaya UCID, call type. */
  originalCallId: string;
  ucid: string;
  callType: string;
  /** SBC headers of the INVITE (OriginatingFrom/To, Remote-Party-ID, Diversion, X-…), lower-case names. */
  sbcHeaders: Record<string, string[]>;
  /** Metadata updates received after the INVITE (re-INVITE, UPDATE). */
  updates: number;
  /** Set when this session duplicated another with the same participants (equateDuplicateSessions). */
  duplicates: string[];
}
