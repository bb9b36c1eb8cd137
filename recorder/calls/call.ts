import type { CallProtocol, Direction, DtmfEvent, LinkedCallRecord, NetfeedRecordInfo, PartyInfo, RecordingInfo, SccpRecordInfo, SiprecRecordInfo } from './call-record.js';
import type { EndpointKey } from './endpoint-key.js';

/** The two sides of a two-party call; the speaker of a stream is one of them. */
export type Party = 'caller' | 'callee';

export const CallState = {
  /** INVITE seen, no final answer yet (provisional responses may have set up early media). */
  Setup: 0,
  Established: 1,
  Ended: 2,
} as const;
export type CallState = (typeof CallState)[keyof typeof CallState];

/** A payload type as the call's SDP mapped it. */
export interface PayloadMapping {
  pt: number;
  codec: string;
  clockRate: number;
  channels: number;
  /** a=fmtp parameters ('' or absent when none): iLBC mode, AMR octet-align, Opus stereo, … */
  fmtp?: string;
}

/** Per-party media as last negotiated (the latest offer/answer wins). */
export interface PartyMedia {
  /** Where this party said it receives RTP (each audio m-line, each candidate). */
  endpoints: EndpointKey[];
  payloads: PayloadMapping[];
  /** a=sendonly/inactive or c=0.0.0.0 from this party. */
  hold: boolean;
}

/** Mutable state of a call while it is tracked (the registry owns it). */
export class Call {
  state: CallState = CallState.Setup;
  answer: number | null = null;
  end = 0;
  endReason = '';
  status = 0;
  /** Capture time of the last SIP message or media packet (drives the timeouts). */
  lastActivity: number;
  lastSignal: number;
  readonly media: Record<Party, PartyMedia> = {
    caller: { endpoints: [], payloads: [], hold: false },
    callee: { endpoints: [], payloads: [], hold: false },
  };
  /** Every endpoint key registered for this call (to remove them when it ends). */
  readonly expectations = new Set<EndpointKey>();
  readonly dtmf: DtmfEvent[] = [];
  readonly notes: string[] = [];
  recording: RecordingInfo | null = null;
  /** Tags of the dialogs this INVITE created (forking gives several early dialogs). */
  readonly toTags = new Set<string>();
  user: string | null = null;
  /** Capture drop total when the call began (the difference at its end is what it lost). */
  dropsAtStart = 0;
  /** Channels of this call's recording when its signaling decides (SIPREC mixed stream: 1); null: the recorder's setting. */
  channels: 1 | 2 | null = null;
  /** Direction decided by signaling (SIPREC trunk ranges); null: the users directory decides. */
  direction: Direction | null = null;
  /** Further identities of each side (SIPREC SBC headers), tried when from/to match no user. */
  readonly aliases: Record<Party, PartyInfo[]> = { caller: [], callee: [] };
  /** SIPREC metadata, reported and indexed with the call. */
  siprec: SiprecRecordInfo | null = null;
  /** Chained calls (transfer, conference), reported and indexed with the call. */
  readonly links: LinkedCallRecord[] = [];
  /** SCCP device legs, set by the SCCP station tracker. */
  sccp: SccpRecordInfo | null = null;
  /** Lync/Skype call-event feed facts, set by the netfeed tracker. */
  netfeed: NetfeedRecordInfo | null = null;

  constructor(
    readonly id: string,
    readonly protocol: CallProtocol,
    readonly callId: string,
    readonly from: PartyInfo,
    readonly to: PartyInfo,
    readonly start: number,
    /** Capture time as integer seconds + ns of the start, for exact ISO output. */
    readonly startNs: { sec: number; nsec: number },
  ) {
    this.lastActivity = start;
    this.lastSignal = start;
  }

  note(text: string): void {
    if (this.notes.length < 64 && !this.notes.includes(text)) this.notes.push(text);
  }

  get onHold(): boolean {
    return this.media.caller.hold || this.media.callee.hold;
  }
}
