import type { Counters } from '../core/counters.js';
import { isUtf8 } from 'node:buffer';
import { isTokenChar, trimSlice } from './syntax.js';

/**
 * A block of header lines up to the empty line (RFC 3261 §7.3 message-header, also MIME body
 * part headers, RFC 2046 §5.1): `field-name HCOLON field-value CRLF`, HCOLON = *(SP / HTAB) ":" SWS.
 *
 * Tolerated, because we only observe: LF without CR (§7.5 asks for CRLF, but stacks and
 * hand-written tests send LF), white space before the colon, folded lines (§7.3.1: a line
 * starting with SP/HTAB continues the previous one and is equal to a single SP), and lines
 * that are not headers at all (skipped and counted as `sip.bad_header_line`).
 *
 * Works on a string decoded as latin1 (one character per byte); values with bytes above 0x7F
 * are decoded as UTF-8 afterwards by decodeUtf8Values.
 */

export interface SipHeader {
  /** Lower-case; for SIP, the long form of a compact name (header-names.ts). */
  name: string;
  value: string;
}

export interface HeaderBlockLimits {
  /** Header fields in one block; more means the block is rejected. */
  maxHeaders: number;
  /** Length of one header field after unfolding; a longer one is skipped. */
  maxHeaderLine: number;
}

/** readHeaderBlock results besides a body offset. */
export const TOO_MANY_HEADERS = -1;
/** The block ran to `end` without an empty line; every header up to there was read. */
export const NO_EMPTY_LINE = -2;

/**
 * Read header lines from s[pos, end) into out (names through `canon`). Returns the index just
 * past the empty line that ends the block, TOO_MANY_HEADERS (reading stops at once, so 10,000
 * header lines cost no more than maxHeaders of them) or NO_EMPTY_LINE.
 */
export function readHeaderBlock(
  s: string,
  pos: number,
  end: number,
  canon: (raw: string) => string,
  out: SipHeader[],
  limits: HeaderBlockLimits,
  counters: Counters | undefined,
): number {
  const maxLine = limits.maxHeaderLine;
  // The header being read, stored once no continuation follows: its value is s[vs, ve), or
  // `folded` when continuation lines were joined to it.
  let name = '';
  let vs = 0;
  let ve = 0;
  let folded: string | null = null;
  /** 1: a header is pending; 0: none; -1: the last one was dropped (its continuations go too). */
  let state = 0;
  // Counted once per block: a flood of bad lines costs one counter update.
  let bad = 0;
  let long = 0;
  let result = NO_EMPTY_LINE;
  let i = pos;
  while (i < end) {
    let nl = s.indexOf('\n', i);
    if (nl < 0 || nl >= end) nl = end;
    let le = nl;
    if (le > i && s.charCodeAt(le - 1) === 0x0d) le--;
    const c0 = s.charCodeAt(i);
    if (le === i) {
      // Empty line: end of the block.
      result = nl < end ? nl + 1 : end;
      break;
    }
    if (c0 === 0x20 || c0 === 0x09) {
      // §7.3.1 folding: the continuation joins the value with one SP.
      if (state === 1) {
        folded = (folded ?? s.slice(vs, ve)) + ' ' + trimSlice(s, i, le);
        if (folded.length > maxLine) {
          long++;
          state = -1;
        }
      } else if (state === 0) {
        bad++;
      }
    } else {
      if (state === 1 && !push(out, canon(name), folded ?? s, folded === null ? vs : 0, folded === null ? ve : folded.length, limits)) {
        result = TOO_MANY_HEADERS;
        state = 0;
        break;
      }
      state = 0;
      // field-name is a token; scanning it (not indexOf(':')) keeps a colon-less line from
      // searching the rest of the message.
      let ne = i;
      while (ne < le && isTokenChar(s.charCodeAt(ne))) ne++;
      let colon = ne;
      while (colon < le && (s.charCodeAt(colon) === 0x20 || s.charCodeAt(colon) === 0x09)) colon++;
      if (le - i > maxLine) {
        long++;
        state = -1;
      } else if (ne === i || colon >= le || s.charCodeAt(colon) !== 0x3a) {
        bad++;
      } else {
        name = s.slice(i, ne);
        vs = colon + 1;
        ve = le;
        folded = null;
        state = 1;
      }
    }
    i = nl + 1;
  }
  if (state === 1 && !push(out, canon(name), folded ?? s, folded === null ? vs : 0, folded === null ? ve : folded.length, limits)) {
    result = TOO_MANY_HEADERS;
  }
  if (counters !== undefined) {
    if (bad > 0) counters.inc('sip.bad_header_line', bad);
    if (long > 0) counters.inc('sip.header_too_long', long);
  }
  return result;
}

/** Store one header; false when the block already holds maxHeaders (the caller counts it). */
function push(out: SipHeader[], name: string, s: string, vs: number, ve: number, limits: HeaderBlockLimits): boolean {
  if (out.length >= limits.maxHeaders) return false;
  out.push({ name, value: trimSlice(s, vs, ve) });
  return true;
}

const HIGH = /[\x80-\xff]/;

/**
 * Header values are UTF-8 (RFC 3261 §7.3.1, display names and reason phrases in any script).
 * Values with bytes above 0x7F are re-decoded as UTF-8; a value that is not valid UTF-8 is
 * kept as latin1 and counted, because old gear sends ISO-8859-1 display names and a readable
 * name beats replacement characters.
 */
export function decodeUtf8Values(headers: SipHeader[], counters: Counters | undefined): void {
  for (const h of headers) {
    if (HIGH.test(h.value)) h.value = decodeUtf8(h.value, counters);
  }
}

/** A latin1-decoded string (bytes) as UTF-8; unchanged (and counted) when not valid UTF-8. */
export function decodeUtf8(latin1: string, counters: Counters | undefined): string {
  const bytes = Buffer.from(latin1, 'latin1');
  if (!isUtf8(bytes)) {
    counters?.inc('sip.header_not_utf8');
    return latin1;
  }
  return bytes.toString('utf8');
}

/** Some byte above 0x7F in s[start, end). */
export const hasHighBytes = (s: string, start: number, end: number): boolean =>
  end > start && HIGH.test(start === 0 && end === s.length ? s : s.slice(start, end));
