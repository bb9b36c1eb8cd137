/**
 * Settings of the SIPREC server (config key `siprec`, or `recorder run --siprec HOST:PORT
 * --audio-ports A-B`). Names of the QMS settings they mirror are given where one exists.
 */
import type { PortRange } from './port-pool.js';
import type { TrunkRanges } from './session-mapper.js';

export type NonSiprecPolicy = 'reject' | 'record';

export interface SiprecOptions {
  /** SIP address to listen on (UDP and/or TCP). */
  host: string;
  port: number;
  udp: boolean;
  tcp: boolean;
  /**
   * Address written in SDP answers (where SRCs send media). Default: the listen host, or the
   * first non-loopback IPv4 address of the machine when listening on 0.0.0.0.
   */
  advertiseAddress: string;
  /** Address the media sockets bind to (default: the listen host). */
  mediaHost: string;
  /** RTP/RTCP port pairs handed out from this range (QMS's audio port range). */
  audioPorts: PortRange;
  /** An INVITE that is not a recording session (no `Require: siprec`, no `+sip.src`, no metadata). */
  nonSiprec: NonSiprecPolicy;
  /** a=inactive/sendonly-to-us or c=0.0.0.0 in an update put the stream on hold (QMS HoldsUsingSDP). */
  holdsUsingSdp: boolean;
  /** QMS SiprecInboundTrunkRanges / SiprecOutboundTrunkRanges. */
  trunks: TrunkRanges;
  /** A second session with the same participant set is not recorded twice (QMS EquateRecordingsOnParticipantSetMatch). */
  equateDuplicateSessions: boolean;
  /** Sessions at once; more are refused with 503 and Retry-After. */
  maxSessions: number;
  /** Retry-After seconds on 503 (RFC 3261 §20.33). */
  retryAfterSec: number;
  /** Audio streams taken per session; further m-lines are rejected (port 0). */
  maxStreamsPerSession: number;
  /** m-lines in one offer above which the offer is refused (488). */
  maxMediaLines: number;
  /** Largest SIP message over TCP (UDP is bounded by the datagram): larger ones get 413. */
  maxMessageBytes: number;
  maxConnections: number;
  /** Bind the RTCP port of each pair (RTCP is counted, not needed for the audio). */
  rtcp: boolean;
  /** Wait this long before answering an INVITE (a ring time; tests use it to CANCEL). */
  answerDelayMs: number;
}

export const DEFAULT_SIPREC_OPTIONS: SiprecOptions = {
  host: '0.0.0.0',
  port: 5060,
  udp: true,
  tcp: true,
  advertiseAddress: '',
  mediaHost: '',
  audioPorts: { start: 20000, end: 29999 },
  nonSiprec: 'reject',
  holdsUsingSdp: true,
  trunks: { inbound: [], outbound: [] },
  equateDuplicateSessions: false,
  maxSessions: 2000,
  retryAfterSec: 30,
  maxStreamsPerSession: 8,
  maxMediaLines: 64,
  maxMessageBytes: 256 * 1024,
  maxConnections: 1024,
  rtcp: true,
  answerDelayMs: 0,
};
