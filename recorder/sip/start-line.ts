import { isTokenChar, isToken } from './syntax.js';

/**
 * The first line of a SIP message (RFC 3261 §7.1, §7.2):
 *
 *   Request-Line = Method SP Request-URI SP SIP-Version CRLF
 *   Status-Line  = SIP-Version SP Status-Code SP Reason-Phrase CRLF
 *
 * Tolerated: runs of SP/HTAB instead of one SP, trailing white space, a Status-Line without
 * reason phrase (or without the SP before it), a version other than 2.0 (counted by the
 * caller). Not tolerated, because such a line is not SIP or not usable: a method that is not a
 * token, an empty Request-URI, a missing SIP version, a status code that is not 100-699.
 */

export interface StartLine {
  isRequest: boolean;
  method: string;
  requestUri: string;
  status: number;
  reason: string;
  /** SIP-Version as sent, e.g. 'SIP/2.0'. */
  version: string;
}

const isBlank = (c: number): boolean => c === 0x20 || c === 0x09;

/** s[i..] starts with 'SIP/' in any case (§7.1: the version is case-insensitive). */
function sipSlash(s: string, i: number, end: number): boolean {
  return (
    end - i >= 4 &&
    (s.charCodeAt(i) | 0x20) === 0x73 &&
    (s.charCodeAt(i + 1) | 0x20) === 0x69 &&
    (s.charCodeAt(i + 2) | 0x20) === 0x70 &&
    s.charCodeAt(i + 3) === 0x2f
  );
}

/** Parse the start line s[i, end) (no line terminator) into out. false: not a start line. */
export function parseStartLine(s: string, i: number, end: number, out: StartLine): boolean {
  while (end > i && (isBlank(s.charCodeAt(end - 1)) || s.charCodeAt(end - 1) === 0x0d)) end--;
  if (sipSlash(s, i, end)) {
    let j = i + 4;
    while (j < end && !isBlank(s.charCodeAt(j))) j++;
    const version = s.slice(i, j);
    while (j < end && isBlank(s.charCodeAt(j))) j++;
    if (end - j < 3) return false;
    const d0 = s.charCodeAt(j) - 0x30;
    const d1 = s.charCodeAt(j + 1) - 0x30;
    const d2 = s.charCodeAt(j + 2) - 0x30;
    if (d0 < 1 || d0 > 6 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return false;
    j += 3;
    if (j < end && !isBlank(s.charCodeAt(j))) return false;
    while (j < end && isBlank(s.charCodeAt(j))) j++;
    out.isRequest = false;
    out.method = '';
    out.requestUri = '';
    out.status = d0 * 100 + d1 * 10 + d2;
    out.reason = s.slice(j, end);
    out.version = version;
    return true;
  }
  let m = i;
  while (m < end && !isBlank(s.charCodeAt(m))) m++;
  if (!isToken(s, i, m)) return false;
  let v = end;
  while (v > m && !isBlank(s.charCodeAt(v - 1))) v--;
  if (v <= m || !sipSlash(s, v, end)) return false;
  let us = m;
  while (us < v && isBlank(s.charCodeAt(us))) us++;
  let ue = v;
  while (ue > us && isBlank(s.charCodeAt(ue - 1))) ue--;
  if (ue <= us) return false;
  out.isRequest = true;
  out.method = s.slice(i, m);
  out.requestUri = s.slice(us, ue);
  out.status = 0;
  out.reason = '';
  out.version = s.slice(v, end);
  return true;
}

/** Longest line isStartLine looks at: a Request-URI longer than this is not plausible. */
export const MAX_START_LINE = 8192;

/**
 * buf[off, off + len) (one line, without its LF) is a plausible start line: `SIP/2.0 NNN...` or
 * `TOKEN SP something SP SIP/2.0`. The TCP framer uses it to find the next message after lost
 * or garbled bytes, so it asks for the exact version: a body line (SDP, XML, sipfrag aside)
 * never ends in " SIP/2.0".
 */
export function isStartLine(buf: Buffer, off: number, len: number): boolean {
  let end = off + len;
  while (end > off && (buf[end - 1] === 0x0d || buf[end - 1] === 0x20 || buf[end - 1] === 0x09)) end--;
  if (end - off < 11) return false;
  if (isSip20(buf, off)) {
    // SIP/2.0 SP 3DIGIT
    if (end - off < 11 || !isBlank(buf[off + 7]!)) return false;
    let j = off + 8;
    while (j < end && isBlank(buf[j]!)) j++;
    if (end - j < 3) return false;
    const d0 = buf[j]!;
    return d0 >= 0x31 && d0 <= 0x36 && isDigit(buf[j + 1]!) && isDigit(buf[j + 2]!) && (j + 3 === end || isBlank(buf[j + 3]!));
  }
  let m = off;
  while (m < end && isTokenChar(buf[m]!)) m++;
  if (m === off || m - off > 32 || m >= end || !isBlank(buf[m]!)) return false;
  // ... SP SIP/2.0 at the end, with a non-empty Request-URI in between.
  const v = end - 7;
  if (v <= m + 1 || !isBlank(buf[v - 1]!) || !isSip20(buf, v)) return false;
  for (let j = m + 1; j < v - 1; j++) if (!isBlank(buf[j]!)) return true;
  return false;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** buf[i, i + 7) is "SIP/2.0", the name in any case. */
function isSip20(buf: Buffer, i: number): boolean {
  return (
    (buf[i]! | 0x20) === 0x73 &&
    (buf[i + 1]! | 0x20) === 0x69 &&
    (buf[i + 2]! | 0x20) === 0x70 &&
    buf[i + 3] === 0x2f &&
    buf[i + 4] === 0x32 &&
    buf[i + 5] === 0x2e &&
    buf[i + 6] === 0x30
  );
}

/** RFC 3261 §27.4 methods and the common extensions, for finding a request line glued to junk. */
const METHODS = [
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'UPDATE', 'INFO', 'REFER', 'NOTIFY', 'SUBSCRIBE',
  'MESSAGE', 'PUBLISH',
].map((m) => Buffer.from(m, 'latin1'));

const SIP20_SP = Buffer.from('SIP/2.0 ', 'latin1');

/**
 * Where a start line begins inside the line buf[off, off + len) that is not one itself, or -1:
 * after lost bytes, the tail of a body without a final CRLF runs straight into the next message
 * ("...</recording>SIP/2.0 200 OK", "a=sendonlyBYE sip:b@h SIP/2.0"). A response is found by
 * "SIP/2.0 NNN"; a request by ending in " SIP/2.0" with a known method just before its URI.
 */
export function startLineInside(buf: Buffer, off: number, len: number): number {
  let end = off + len;
  while (end > off && (buf[end - 1] === 0x0d || buf[end - 1] === 0x20 || buf[end - 1] === 0x09)) end--;
  if (end - off >= 8 && isSip20(buf, end - 7) && isBlank(buf[end - 8]!)) {
    // Request: [junk]METHOD SP URI SP SIP/2.0
    let u = end - 8;
    while (u > off && isBlank(buf[u]!)) u--;
    while (u > off && !isBlank(buf[u]!)) u--;
    // buf[u] is the blank before the URI.
    let me = u;
    while (me > off && isBlank(buf[me - 1]!)) me--;
    for (const m of METHODS) {
      const ms = me - m.length;
      if (ms > off && buf.compare(m, 0, m.length, ms, me) === 0) return ms;
    }
    return -1;
  }
  for (let i = off + 1; i + 11 <= end; i++) {
    if (buf[i] === 0x53 && buf.compare(SIP20_SP, 0, 8, i, i + 8) === 0 && isStartLine(buf, i, end - i)) return i;
  }
  return -1;
}
