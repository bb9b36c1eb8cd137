import { isAscii } from 'node:buffer';
import type { Counters } from '../core/counters.js';
import { EMPTY } from '../core/packet.js';
import {
  decodeUtf8,
  decodeUtf8Values,
  hasHighBytes,
  NO_EMPTY_LINE,
  readHeaderBlock,
  TOO_MANY_HEADERS,
  type HeaderBlockLimits,
  type SipHeader,
} from './header-block.js';
import { canonicalHeaderName, isListHeader } from './header-names.js';
import { mediaType, paramValue } from './header-params.js';
import { parseNameAddr, type NameAddr } from './name-addr.js';
import { parseStartLine, type StartLine } from './start-line.js';
import { indexOutside, isTokenChar, splitList } from './syntax.js';

export type { NameAddr } from './name-addr.js';
export type { SipHeader } from './header-block.js';

/**
 * A SIP message as a passive observer reads it (RFC 3261 §7):
 *
 *   generic-message = start-line *message-header CRLF [ message-body ]
 *
 * The parser is tolerant: it accepts what real stacks send (LF line ends, folded lines,
 * compact names, odd white space, non-UTF-8 display names, Content-Length that disagrees with
 * the datagram), counts every deviation under `sip.*`, and returns null only when the message
 * cannot be tracked (see parseSipMessage). It never throws on data.
 *
 * The message text is decoded once as latin1, so that a string index is a byte offset (the
 * body is located in the buffer without a second scan) and scanning runs on V8's one-byte
 * strings; header values holding bytes above 0x7F are then decoded as UTF-8.
 */
export interface SipMessage {
  isRequest: boolean;
  /** Request method; for responses, the CSeq method (§8.1.3.1 matches responses by it). */
  method: string;
  /** Request-URI as sent; '' for responses. */
  requestUri: string;
  /** Status code; 0 for requests. */
  status: number;
  /** Reason phrase; '' for requests. */
  reason: string;
  /** Every header in order, names lower-case long form (compact forms expanded). */
  headers: SipHeader[];
  callId: string;
  cseq: number;
  cseqMethod: string;
  from: NameAddr;
  to: NameAddr;
  /** `branch` of the first Via value (§8.1.1.7), '' when absent. */
  topViaBranch: string;
  /** Media type of the body, lower-case without parameters (`application/sdp`); '' without Content-Type. */
  contentType: string;
  /** The Content-Type value as sent, parameters included (multipart needs its boundary). */
  contentTypeFull: string;
  /**
   * The body (per Content-Length where it fits the data). A view into the parsed buffer, valid
   * only as long as that buffer is: copy it to keep it (the TCP framer and the packet path
   * reuse theirs).
   */
  body: Buffer;
  /** First value of a header; the name in any case, long or compact form. */
  header(name: string): string | undefined;
  /**
   * Every value of a header: all its header lines, and for list headers (Via, Contact, Route,
   * Allow, Supported...; header-names.ts) every comma-separated element of each line.
   */
  headerAll(name: string): string[];
}

export interface SipLimits extends HeaderBlockLimits {
  /** Bytes in one message; a bigger one is dropped (`sip.too_large`). */
  maxSize: number;
}

export const DEFAULT_SIP_LIMITS: Readonly<SipLimits> = {
  // RFC 3261 §18.1.1 keeps UDP messages under the path MTU; 64 KiB is a UDP datagram's limit
  // and holds the largest SIPREC INVITEs (SDP plus metadata) seen in practice.
  maxSize: 64 * 1024,
  maxHeaders: 256,
  // Long but legal: Identity (RFC 8224), Record-Route chains, P-Charging-Vector.
  maxHeaderLine: 16 * 1024,
};

class ParsedSipMessage implements SipMessage {
  constructor(
    public isRequest: boolean,
    public method: string,
    public requestUri: string,
    public status: number,
    public reason: string,
    public headers: SipHeader[],
    public callId: string,
    public cseq: number,
    public cseqMethod: string,
    public from: NameAddr,
    public to: NameAddr,
    public topViaBranch: string,
    public contentType: string,
    public contentTypeFull: string,
    public body: Buffer,
  ) {}

  header(name: string): string | undefined {
    const n = canonicalHeaderName(name);
    for (const h of this.headers) if (h.name === n) return h.value;
    return undefined;
  }

  headerAll(name: string): string[] {
    const n = canonicalHeaderName(name);
    const list = isListHeader(n);
    const out: string[] = [];
    for (const h of this.headers) {
      if (h.name !== n) continue;
      if (list) splitList(h.value, out);
      else out.push(h.value);
    }
    return out;
  }
}

/** A fresh start-line record per message: decoders keep no module state. */
const startLineOf = (): StartLine => ({ isRequest: false, method: '', requestUri: '', status: 0, reason: '', version: '' });

/**
 * Parse one SIP message in buf[off, off + len): a whole UDP datagram, or one message cut out
 * of a TCP stream by SipStreamFramer.
 *
 * Returns null, counted, for what cannot be tracked: a message over maxSize (`sip.too_large`)
 * or with more than maxHeaders headers (`sip.too_many_headers`), a bad start line
 * (`sip.bad_start_line`), a missing or empty Call-ID, CSeq, From or To (`sip.missing_call_id`,
 * `sip.missing_cseq`, `sip.missing_from`, `sip.missing_to`, each counted), a CSeq without a
 * usable number (`sip.bad_cseq`), and bytes that are only CRLF keep-alives (`sip.keepalive`).
 *
 * Kept, counted: no Via (`sip.missing_via`; we do not route, so only retransmission matching
 * loses its branch), a version other than SIP/2.0, repeated single-valued headers (the first
 * wins), a CSeq method that is missing or disagrees with the request method, a Content-Length
 * that is bad (`sip.bad_content_length`, the rest of the data is the body), larger than the
 * data (`sip.body_truncated`, the body is what is there) or smaller (`sip.body_extra`, the
 * bytes after it are ignored, §18.3), a header block without the empty line (`sip.no_empty_line`).
 */
export function parseSipMessage(
  buf: Buffer,
  off: number,
  len: number,
  counters: Counters,
  maxSize: number = DEFAULT_SIP_LIMITS.maxSize,
  limits: Partial<HeaderBlockLimits> = DEFAULT_SIP_LIMITS,
): SipMessage | null {
  // Written so that NaN fails too.
  if (!(off >= 0 && len >= 0 && off + len <= buf.length)) {
    counters.inc('sip.bad_bounds');
    return null;
  }
  if (len > maxSize) {
    counters.inc('sip.too_large');
    return null;
  }
  const block: HeaderBlockLimits =
    limits === DEFAULT_SIP_LIMITS
      ? DEFAULT_SIP_LIMITS
      : {
          maxHeaders: limits.maxHeaders ?? DEFAULT_SIP_LIMITS.maxHeaders,
          maxHeaderLine: limits.maxHeaderLine ?? DEFAULT_SIP_LIMITS.maxHeaderLine,
        };
  const s = buf.toString('latin1', off, off + len);
  const n = s.length;

  // §7.5: CRLFs before the start line are ignored (and alone they are a keep-alive, RFC 5626 §4.4.1).
  let i = 0;
  while (i < n && (s.charCodeAt(i) === 0x0d || s.charCodeAt(i) === 0x0a)) i++;
  if (i === n) {
    counters.inc('sip.keepalive');
    return null;
  }
  let nl = s.indexOf('\n', i);
  if (nl < 0) nl = n;
  const sl = startLineOf();
  if (!parseStartLine(s, i, nl, sl)) {
    counters.inc('sip.bad_start_line');
    return null;
  }
  if (sl.version.length !== 7 || sl.version.slice(4) !== '2.0') counters.inc('sip.unsupported_version');

  const headers: SipHeader[] = [];
  const hb = nl < n ? readHeaderBlock(s, nl + 1, n, canonicalHeaderName, headers, block, counters) : NO_EMPTY_LINE;
  if (hb === TOO_MANY_HEADERS) {
    counters.inc('sip.too_many_headers');
    return null;
  }
  let bodyStart = hb;
  if (hb === NO_EMPTY_LINE) {
    counters.inc('sip.no_empty_line');
    bodyStart = n;
  }
  // isAscii (SIMD) over the whole message settles the usual case; only then look closer.
  if (!isAscii(off === 0 && len === buf.length ? buf : buf.subarray(off, off + len)) && hasHighBytes(s, i, bodyStart)) {
    decodeUtf8Values(headers, counters);
    // Reason phrases are UTF-8 text too (§25.1 Reason-Phrase allows UTF8-NONASCII).
    if (hasHighBytes(sl.reason, 0, sl.reason.length)) sl.reason = decodeUtf8(sl.reason, counters);
    if (hasHighBytes(sl.requestUri, 0, sl.requestUri.length)) sl.requestUri = decodeUtf8(sl.requestUri, counters);
  }

  let callId: SipHeader | undefined;
  let cseqH: SipHeader | undefined;
  let fromH: SipHeader | undefined;
  let toH: SipHeader | undefined;
  let viaH: SipHeader | undefined;
  let ctH: SipHeader | undefined;
  let clH: SipHeader | undefined;
  let dup = false;
  for (const h of headers) {
    switch (h.name) {
      case 'call-id':
        if (callId === undefined) callId = h;
        else dup = true;
        break;
      case 'cseq':
        if (cseqH === undefined) cseqH = h;
        else dup = true;
        break;
      case 'from':
        if (fromH === undefined) fromH = h;
        else dup = true;
        break;
      case 'to':
        if (toH === undefined) toH = h;
        else dup = true;
        break;
      case 'via':
        viaH ??= h;
        break;
      case 'content-type':
        if (ctH === undefined) ctH = h;
        else dup = true;
        break;
      case 'content-length':
        if (clH === undefined) clH = h;
        else dup = true;
        break;
      default:
        break;
    }
  }
  if (dup) counters.inc('sip.duplicate_header');

  let missing = false;
  if (callId === undefined || callId.value === '') {
    counters.inc('sip.missing_call_id');
    missing = true;
  }
  if (cseqH === undefined || cseqH.value === '') {
    counters.inc('sip.missing_cseq');
    missing = true;
  }
  if (fromH === undefined || fromH.value === '') {
    counters.inc('sip.missing_from');
    missing = true;
  }
  if (toH === undefined || toH.value === '') {
    counters.inc('sip.missing_to');
    missing = true;
  }
  if (missing || callId === undefined || cseqH === undefined || fromH === undefined || toH === undefined) return null;

  // CSeq = 1*DIGIT LWS Method (§20.16).
  const cv = cseqH.value;
  let k = 0;
  let cseq = 0;
  while (k < cv.length) {
    const c = cv.charCodeAt(k);
    if (c < 0x30 || c > 0x39) break;
    cseq = cseq * 10 + (c - 0x30);
    k++;
  }
  // More than 15 digits would not be exact in a double (§8.1.1.5 keeps it under 2^31 anyway).
  if (k === 0 || k > 15) {
    counters.inc('sip.bad_cseq');
    return null;
  }
  while (k < cv.length && (cv.charCodeAt(k) === 0x20 || cv.charCodeAt(k) === 0x09)) k++;
  let me = k;
  while (me < cv.length && isTokenChar(cv.charCodeAt(me))) me++;
  let cseqMethod = cv.slice(k, me);
  if (cseqMethod === '') {
    counters.inc('sip.cseq_no_method');
    if (sl.isRequest) cseqMethod = sl.method;
  } else if (sl.isRequest && cseqMethod !== sl.method) {
    // §8.1.1.5: the method must match; ACK and CANCEL carry their own.
    counters.inc('sip.cseq_method_mismatch');
  }

  let topViaBranch = '';
  if (viaH === undefined) {
    counters.inc('sip.missing_via');
  } else {
    topViaBranch = viaBranch(viaH.value);
  }

  const contentTypeFull = ctH?.value ?? '';
  const contentType = contentTypeFull === '' ? '' : mediaType(contentTypeFull);

  // Body: Content-Length where the data agrees (§18.3, §20.14); on UDP it may be absent, and
  // then the body is the rest of the datagram.
  const avail = n - bodyStart;
  let bodyLen = avail;
  if (clH !== undefined) {
    const cl = contentLength(clH.value);
    if (cl < 0) {
      counters.inc('sip.bad_content_length');
    } else if (cl > avail) {
      counters.inc('sip.body_truncated');
    } else if (cl < avail) {
      counters.inc('sip.body_extra');
      bodyLen = cl;
    }
  }
  const body = bodyLen > 0 ? buf.subarray(off + bodyStart, off + bodyStart + bodyLen) : EMPTY;

  return new ParsedSipMessage(
    sl.isRequest,
    sl.isRequest ? sl.method : cseqMethod,
    sl.requestUri,
    sl.status,
    sl.reason,
    headers,
    callId.value,
    cseq,
    cseqMethod,
    parseNameAddr(fromH.value, counters),
    parseNameAddr(toH.value, counters),
    topViaBranch,
    contentType,
    contentTypeFull,
    body,
  );
}

/**
 * The branch parameter of the first via-parm of a Via value (§20.42). The usual spelling
 * ";branch=" before any comma or quote is found with one native search; anything else goes
 * through the general parameter reader.
 */
function viaBranch(v: string): string {
  const at = v.indexOf(';branch=');
  if (at >= 0 && v.lastIndexOf(',', at) < 0 && v.lastIndexOf('"', at) < 0) {
    let e = at + 8;
    while (e < v.length) {
      const c = v.charCodeAt(e);
      if (c === 0x3b || c === 0x2c || c === 0x20 || c === 0x09 || c === 0x22) break;
      e++;
    }
    if (e >= v.length || v.charCodeAt(e) !== 0x22) return v.slice(at + 8, e);
  }
  return paramValue(v, 0, indexOutside(v, 0x2c, 0, v.length), 'branch') ?? '';
}

/** Content-Length value: its number, Infinity when too long to be real, -1 when not a number. */
function contentLength(v: string): number {
  if (v.length === 0) return -1;
  let x = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    x = x * 10 + (c - 0x30);
  }
  return v.length > 15 ? Infinity : x;
}
