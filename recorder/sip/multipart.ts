import type { Counters } from '../core/counters.js';
import { decodeUtf8Values, hasHighBytes, NO_EMPTY_LINE, readHeaderBlock, TOO_MANY_HEADERS, type SipHeader } from './header-block.js';
import { mediaType, paramValue } from './header-params.js';
import type { SipMessage } from './message.js';

/**
 * Multipart bodies (RFC 2046 §5.1; RFC 5621 for SIP), as SIPREC sends them (RFC 7866 §8.1:
 * multipart/mixed with SDP and application/rs-metadata+xml):
 *
 *   preamble CRLF "--" boundary *LWSP CRLF part-headers CRLF body
 *   ( CRLF "--" boundary *LWSP CRLF part-headers CRLF body )*
 *   CRLF "--" boundary "--" *LWSP [ CRLF epilogue ]
 *
 * The CRLF before each delimiter belongs to the delimiter (§5.1.1), so part bodies end before it.
 * Tolerated: LF without CR, a boundary parameter quoted or not, padding after a delimiter, a
 * first delimiter without CRLF before it, and a missing close delimiter (the last part runs to
 * the end, `sip.multipart_unterminated`). Preamble and epilogue are ignored.
 *
 * Nested multipart parts are split too (depth-capped, `sip.multipart_too_deep`) and their parts
 * returned in place of the container, in document order, so callers look for one media type
 * in a flat list. Parts are capped (`sip.multipart_too_many_parts`) over the whole tree.
 */
export interface BodyPart {
  /** Media type, lower-case without parameters; `text/plain` when the part has none (§5.1). */
  contentType: string;
  /** The part's Content-Type value as sent; '' when it has none. */
  contentTypeFull: string;
  /** The part's own headers (Content-Type, Content-Disposition...), names lower-case. */
  headers: SipHeader[];
  /** A view into the message body. */
  body: Buffer;
}

export interface MultipartLimits {
  /** Levels of multipart inside multipart below the top one. */
  maxDepth: number;
  /** Parts returned for one body, nested ones included. */
  maxParts: number;
}

export const DEFAULT_MULTIPART_LIMITS: Readonly<MultipartLimits> = { maxDepth: 4, maxParts: 32 };

/** Part headers are few; more than this is not a MIME part. */
const PART_HEADER_LIMITS = { maxHeaders: 32, maxHeaderLine: 8192 };
/** RFC 2046 §5.1.1 caps a boundary at 70 characters; allow some slack, not unbounded needles. */
const MAX_BOUNDARY = 200;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Split a multipart body. Returns the leaf parts (see above); [] when the Content-Type has no
 * usable boundary or the body holds no delimiter (both counted).
 */
export function splitMultipart(
  contentTypeFull: string,
  body: Buffer,
  counters?: Counters,
  depth = 0,
  limits: MultipartLimits = DEFAULT_MULTIPART_LIMITS,
): BodyPart[] {
  const out: BodyPart[] = [];
  split(contentTypeFull, body, counters, depth, limits, out);
  return out;
}

/** Returns false when the part cap was reached (stop everything). */
function split(ctFull: string, body: Buffer, counters: Counters | undefined, depth: number, limits: MultipartLimits, out: BodyPart[]): boolean {
  const semi = ctFull.indexOf(';');
  const boundary = semi < 0 ? undefined : paramValue(ctFull, semi, ctFull.length, 'boundary');
  if (boundary === undefined || boundary.length === 0 || boundary.length > MAX_BOUNDARY) {
    counters?.inc('sip.multipart_no_boundary');
    return true;
  }
  const delim = Buffer.from('--' + boundary, 'utf8');
  let at = findDelimiter(body, delim, 0);
  if (at < 0) {
    counters?.inc('sip.multipart_no_delimiter');
    return true;
  }
  for (;;) {
    const after = at + delim.length;
    if (body[after] === 0x2d && body[after + 1] === 0x2d) return true; // close delimiter; epilogue ignored
    // Transport padding, then the line end.
    const eol = body.indexOf(LF, after);
    if (eol < 0) {
      counters?.inc('sip.multipart_unterminated');
      return true;
    }
    const start = eol + 1;
    const next = findDelimiter(body, delim, start);
    let end: number;
    if (next < 0) {
      counters?.inc('sip.multipart_unterminated');
      end = body.length;
    } else {
      end = next;
      if (end > start && body[end - 1] === LF) end--;
      if (end > start && body[end - 1] === CR) end--;
    }
    if (!addPart(body.subarray(start, end), counters, depth, limits, out)) return false;
    if (next < 0) return true;
    at = next;
  }
}

/**
 * Next delimiter line at or after `from`: "--boundary" at the start of the body or of a line,
 * followed by "--", padding or the line end (so "--b" does not match inside "--bb").
 */
function findDelimiter(body: Buffer, delim: Buffer, from: number): number {
  for (;;) {
    const i = body.indexOf(delim, from);
    if (i < 0) return -1;
    if (i === 0 || body[i - 1] === LF) {
      const c = body[i + delim.length];
      if (c === undefined || c === CR || c === LF || c === 0x20 || c === 0x09 || (c === 0x2d && body[i + delim.length + 1] === 0x2d)) return i;
    }
    from = i + 1;
  }
}

function addPart(part: Buffer, counters: Counters | undefined, depth: number, limits: MultipartLimits, out: BodyPart[]): boolean {
  // Part headers end at the first empty line; a part starting with one has none (§5.1: then
  // it is text/plain).
  const headers: SipHeader[] = [];
  let bodyStart = 0;
  if (part[0] === LF) bodyStart = 1;
  else if (part[0] === CR && part[1] === LF) bodyStart = 2;
  else {
    const hdrEnd = headerEnd(part);
    const s = part.toString('latin1', 0, hdrEnd < 0 ? part.length : hdrEnd);
    const r = readHeaderBlock(s, 0, s.length, lowerCase, headers, PART_HEADER_LIMITS, counters);
    if (r === TOO_MANY_HEADERS) {
      counters?.inc('sip.multipart_bad_part');
      return true;
    }
    if (hdrEnd < 0 && r === NO_EMPTY_LINE && headers.length === 0) {
      // Neither headers nor an empty line: take it all as the body.
      counters?.inc('sip.multipart_bad_part');
    } else {
      bodyStart = hdrEnd < 0 ? part.length : hdrEnd;
    }
    if (hasHighBytes(s, 0, s.length)) decodeUtf8Values(headers, counters);
  }
  let ctFull = '';
  for (const h of headers) {
    if (h.name === 'content-type') {
      ctFull = h.value;
      break;
    }
  }
  const ct = ctFull === '' ? 'text/plain' : mediaType(ctFull);
  const body = part.subarray(bodyStart);
  if (ct.startsWith('multipart/')) {
    if (depth + 1 <= limits.maxDepth) return split(ctFull, body, counters, depth + 1, limits, out);
    counters?.inc('sip.multipart_too_deep');
  }
  if (out.length >= limits.maxParts) {
    counters?.inc('sip.multipart_too_many_parts');
    return false;
  }
  out.push({ contentType: ct, contentTypeFull: ctFull, headers, body });
  return true;
}

/** Index just past the first empty line (LF [CR] LF), or -1. */
function headerEnd(b: Buffer): number {
  let i = b.indexOf(LF);
  while (i >= 0) {
    const j = b[i + 1] === CR ? i + 2 : i + 1;
    if (b[j] === LF) return j + 1;
    i = b.indexOf(LF, i + 1);
  }
  return -1;
}

const lowerCase = (raw: string): string => raw.toLowerCase();

/**
 * The first body part of media type `mediaType` in a message: the whole body when the
 * message's Content-Type is that type (its headers are then the message's Content-* headers),
 * else a part of a multipart body. A body without Content-Type that starts with "v=0" is taken
 * as SDP (counted `sip.sdp_without_content_type`): some gateways omit the header.
 */
export function findBodyPart(msg: SipMessage, mediaType: string, counters?: Counters): BodyPart | undefined {
  if (msg.body.length === 0) return undefined;
  const want = mediaType.toLowerCase();
  const ct = msg.contentType;
  if (ct === want || (ct === '' && want === 'application/sdp' && looksLikeSdp(msg.body))) {
    if (ct === '') counters?.inc('sip.sdp_without_content_type');
    return {
      contentType: want,
      contentTypeFull: msg.contentTypeFull,
      headers: msg.headers.filter((h) => h.name.startsWith('content-')),
      body: msg.body,
    };
  }
  if (!ct.startsWith('multipart/')) return undefined;
  for (const p of splitMultipart(msg.contentTypeFull, msg.body, counters)) if (p.contentType === want) return p;
  return undefined;
}

const looksLikeSdp = (b: Buffer): boolean => b.length >= 3 && b[0] === 0x76 && b[1] === 0x3d && b[2] === 0x30;
