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
}
