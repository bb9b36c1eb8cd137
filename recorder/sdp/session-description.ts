/**
 * SDP (RFC 8866) as a passive recorder needs it: where each medium flows, with which payload
 * formats, and whether it is on hold. Parsing goes through sdp-transform, which is lenient; we
 * only observe, so nothing here rejects a body: what is odd is counted (`sdp.*`) and skipped,
 * and the function never throws (STYLE.md "Bad input"; pion/sdp#163 shows the strict way fail).
 *
 * Counters: sdp.parse_error, sdp.not_sdp, sdp.too_large, sdp.too_many_media,
 * sdp.too_many_candidates, sdp.bad_line, sdp.no_version, sdp.no_origin, sdp.bad_origin,
 * sdp.bad_media_line, sdp.bad_connection, sdp.no_connection, sdp.bad_payload_type,
 * sdp.unknown_payload, sdp.bad_rtpmap, sdp.bad_rtcp, sdp.bad_candidate, sdp.ms_ice_candidate.
 */
import { parse as sdpTransformParse } from 'sdp-transform';
import type { Counters } from '../core/counters.js';
import { PT_MAX, staticPayloadFormat, type PayloadFormat } from '../rtp/payload-types.js';
import { candidateFromParsed, parseMsIceCandidate, type Candidate } from './candidate.js';
import { isHoldAddress, normalizeAddress } from './connection-address.js';
import { parseMediaLine, parseOriginLine, scanSdp, type Origin, type SdpSection } from './sdp-lines.js';
import { int, record, records, text } from './values.js';

export type { Candidate, CandidateType } from './candidate.js';
export type { PayloadFormat } from '../rtp/payload-types.js';
export type { Origin } from './sdp-lines.js';

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface MediaDescription {
  /** Position of the m= line (0-based): SIPREC and offer/answer pair media by it (RFC 3264 §6). */
  index: number;
  /** audio, video, image, application, … as written. */
  type: string;
  /** m= port; 0 means the stream is rejected or disabled (RFC 3264 §5.1). */
  port: number;
  /** The `/<number of ports>` of RFC 8866 §5.14, 1 when absent. */
  portCount: number;
  /** RTP/AVP, RTP/SAVP, UDP/TLS/RTP/SAVPF, udptl, … as written. */
  proto: string;
  /** Media-level c= else session-level c= (address only, IPv6 in RFC 5952 form); '' if none. */
  connection: string;
  /** a=rtcp port (RFC 3605) else port + 1 (RFC 3550 §11); 0 when port is 0. Not changed by rtcpMux. */
  rtcpPort: number;
  /** a=rtcp address else `connection`. */
  rtcpAddress: string;
  /** a=rtcp-mux (RFC 5761 §5.1.1): offered or agreed RTP/RTCP on one port. */
  rtcpMux: boolean;
  /** Media-level, else session-level direction attribute, else sendrecv (RFC 8866 §6.7). */
  direction: MediaDirection;
  /** sendonly or inactive, c=0.0.0.0 (RFC 2543 hold; `::` likewise), or port 0. */
  hold: boolean;
  /** One per m= fmt, in m-line order; only for RTP profiles (other protos have no PTs). */
  payloads: PayloadFormat[];
  /** Every a=candidate, RFC 8839 form and MS-ICE draft-6 form, up to the limit. */
  candidates: Candidate[];
  /** a=label (RFC 4574; SIPREC RFC 7866 §8.1.8 ties it to metadata streams); '' if none. */
  label: string;
  /** a=ptime in ms, media-level else session-level; 0 if none. */
  ptime: number;
  /** SRTP is offered: a=crypto (RFC 4568) present, or a SAVP/SAVPF profile. */
  crypto: boolean;
  /** a=mid (RFC 5888); '' if none. */
  mid: string;
}

export interface SessionDescription {
  origin: Origin;
  /** Session-level c= address; '' if none. */
  connection: string;
  media: MediaDescription[];
  /** Audio m-lines only, convenience (same objects as in `media`). */
  audio: MediaDescription[];
}

export interface SdpLimits {
  /** m= sections kept (default 64); more are counted sdp.too_many_media and ignored. */
  maxMedia?: number;
  /** Candidates kept per m= section (default 64); more are counted sdp.too_many_candidates. */
  maxCandidates?: number;
  /** Bytes (characters for a string) parsed (default 128 KiB); the rest is counted sdp.too_large and ignored. */
  maxBytes?: number;
}

const DEFAULT_MAX_MEDIA = 64;
const DEFAULT_MAX_CANDIDATES = 64;
const DEFAULT_MAX_BYTES = 128 * 1024;
const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);
const EMPTY_ORIGIN: Origin = { username: '', sessionId: '', version: '', address: '' };

/**
 * Parses an SDP body. Returns null when the text is not SDP at all (no v=, o= or m= line) or
 * sdp-transform failed; otherwise a description, however odd the input, with oddities counted.
 */
export function parseSdp(input: string | Buffer, counters: Counters, limits: SdpLimits = {}): SessionDescription | null {
  try {
    return parse(input, counters, limits);
  } catch {
    // sdp-transform is third-party code run on wire data: a throw from it is counted, not raised.
    counters.inc('sdp.parse_error');
    return null;
  }
}

function parse(input: string | Buffer, counters: Counters, limits: SdpLimits): SessionDescription | null {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  let body: string;
  if (typeof input === 'string') {
    body = input;
    if (body.length > maxBytes) {
      counters.inc('sdp.too_large');
      body = body.slice(0, maxBytes);
    }
  } else {
    if (input.length > maxBytes) counters.inc('sdp.too_large');
    body = input.toString('utf8', 0, Math.min(input.length, maxBytes));
  }

  const scan = scanSdp(body, Math.max(0, limits.maxMedia ?? DEFAULT_MAX_MEDIA));
  if (scan.badLines > 0) counters.inc('sdp.bad_line', scan.badLines);
  if (scan.droppedMedia > 0) counters.inc('sdp.too_many_media', scan.droppedMedia);
  if (!scan.sawVersion && scan.origin === null && scan.media.length === 0 && scan.droppedMedia === 0) {
    counters.inc('sdp.not_sdp');
    return null;
  }
  if (!scan.sawVersion) counters.inc('sdp.no_version');

  let origin = EMPTY_ORIGIN;
  if (scan.origin === null) counters.inc('sdp.no_origin');
  else {
    const o = parseOriginLine(scan.origin);
    if (o) origin = { ...o, address: normalizeAddress(o.address) };
    else counters.inc('sdp.bad_origin');
  }

  const parsed = record(sdpTransformParse(scan.lines.join('\r\n')));
  if (!parsed) throw new Error('sdp-transform returned no object');
  const parsedMedia = records(parsed['media']);
  const sessionConnection = connectionOf(parsed, scan.session, counters);
  const sessionDirection = directionOf(parsed);
  const sessionPtime = ptimeOf(parsed);
  const maxCandidates = Math.max(0, limits.maxCandidates ?? DEFAULT_MAX_CANDIDATES);

  const media: MediaDescription[] = [];
  for (let i = 0; i < scan.media.length; i++) {
    const m = parsedMedia[i] ?? {};
    media.push(mediaOf(i, scan.media[i]!, m, sessionConnection, sessionDirection, sessionPtime, maxCandidates, counters));
  }
  return { origin, connection: sessionConnection, media, audio: media.filter((m) => m.type === 'audio') };
}

function connectionOf(level: Record<string, unknown>, section: SdpSection, counters: Counters): string {
  const c = record(level['connection']);
  const ip = c ? text(c['ip']) : '';
  if (ip === '') {
    if (section.connectionLines > 0) counters.inc('sdp.bad_connection');
    return '';
  }
  return normalizeAddress(ip);
}

function directionOf(level: Record<string, unknown>): MediaDirection | null {
  const d = text(level['direction']);
  return DIRECTIONS.has(d) ? (d as MediaDirection) : null;
}

function ptimeOf(level: Record<string, unknown>): number {
  const p = Number(text(level['ptime']));
  return Number.isFinite(p) && p > 0 ? p : 0;
}

function mediaOf(
  index: number,
  section: SdpSection,
  m: Record<string, unknown>,
  sessionConnection: string,
  sessionDirection: MediaDirection | null,
  sessionPtime: number,
  maxCandidates: number,
  counters: Counters,
): MediaDescription {
  const ml = parseMediaLine(section.mLine);
  if (!ml) counters.inc('sdp.bad_media_line');
  // An unparsable m= keeps its place (indices pair offer and answer) but is disabled: port 0.
  const port = ml ? ml.port : 0;
  const proto = ml ? ml.proto : '';
  const connection = connectionOf(m, section, counters) || sessionConnection;
  if (connection === '' && port !== 0) counters.inc('sdp.no_connection');

  let rtcpPort = port === 0 ? 0 : port + 1;
  let rtcpAddress = connection;
  const rtcp = record(m['rtcp']);
  if (rtcp) {
    const rp = int(rtcp['port']);
    if (rp >= 0 && rp <= 65535) {
      if (port !== 0) rtcpPort = rp;
      const ra = text(rtcp['address']);
      if (ra !== '') rtcpAddress = normalizeAddress(ra);
    } else counters.inc('sdp.bad_rtcp');
  }

  const direction = directionOf(m) ?? sessionDirection ?? 'sendrecv';
  const mediaPtime = ptimeOf(m);
  const candidates = candidatesOf(m, maxCandidates, counters);
  return {
    index,
    type: ml ? ml.type : section.mLine.trim().split(/[ \t]/)[0] ?? '',
    port,
    portCount: ml ? ml.portCount : 1,
    proto,
    connection,
    rtcpPort,
    rtcpAddress,
    rtcpMux: m['rtcpMux'] !== undefined,
    direction,
    hold: direction === 'sendonly' || direction === 'inactive' || isHoldAddress(connection) || port === 0,
    payloads: ml && /(^|\/)RTP\//i.test(proto) ? payloadsOf(ml.fmts, m, counters) : [],
    candidates,
    label: text(m['label']),
    ptime: mediaPtime || sessionPtime,
    crypto: records(m['crypto']).length > 0 || /SAVP/i.test(proto),
    mid: text(m['mid']),
  };
}

function payloadsOf(fmts: readonly string[], m: Record<string, unknown>, counters: Counters): PayloadFormat[] {
  // First a=rtpmap / a=fmtp per PT wins; a later duplicate is ignored.
  const rtpmaps = new Map<number, Record<string, unknown>>();
  for (const r of records(m['rtp'])) {
    const pt = int(r['payload']);
    if (pt < 0 || pt > PT_MAX) counters.inc('sdp.bad_rtpmap');
    else if (!rtpmaps.has(pt)) rtpmaps.set(pt, r);
  }
  const fmtps = new Map<number, string>();
  for (const f of records(m['fmtp'])) {
    const pt = int(f['payload']);
    if (pt >= 0 && !fmtps.has(pt)) fmtps.set(pt, text(f['config']).trim());
  }
  for (const inv of records(m['invalid'])) if (text(inv['value']).startsWith('rtpmap:')) counters.inc('sdp.bad_rtpmap');

  const out: PayloadFormat[] = [];
  for (const fmt of fmts) {
    const pt = /^\d{1,3}$/.test(fmt) ? Number(fmt) : -1;
    if (pt < 0 || pt > PT_MAX) {
      counters.inc('sdp.bad_payload_type');
      continue;
    }
    const fmtp = fmtps.get(pt) ?? '';
    const r = rtpmaps.get(pt);
    if (r) {
      const clockRate = int(r['rate']);
      const ch = r['encoding'] === undefined ? 1 : int(r['encoding']);
      const codec = text(r['codec']);
      if (codec === '' || clockRate <= 0 || ch < 1) counters.inc('sdp.bad_rtpmap');
      out.push({ pt, codec, clockRate: Math.max(0, clockRate), channels: ch < 1 ? 1 : ch, fmtp });
      continue;
    }
    const s = staticPayloadFormat(pt);
    if (s) out.push({ ...s, fmtp });
    else {
      counters.inc('sdp.unknown_payload');
      out.push({ pt, codec: '', clockRate: 0, channels: 1, fmtp });
    }
  }
  return out;
}

function candidatesOf(m: Record<string, unknown>, max: number, counters: Counters): Candidate[] {
  const out: Candidate[] = [];
  let over = 0;
  const add = (c: Candidate): void => {
    if (out.length < max) out.push(c);
    else over++;
  };
  for (const raw of records(m['candidates'])) {
    const c = candidateFromParsed(raw);
    if (c) add(c);
    else counters.inc('sdp.bad_candidate');
  }
  for (const inv of records(m['invalid'])) {
    const v = text(inv['value']);
    if (!v.startsWith('candidate:')) continue;
    const c = parseMsIceCandidate(v);
    if (c) {
      counters.inc('sdp.ms_ice_candidate');
      add(c);
    } else counters.inc('sdp.bad_candidate');
  }
  if (over > 0) counters.inc('sdp.too_many_candidates', over);
  return out;
}
