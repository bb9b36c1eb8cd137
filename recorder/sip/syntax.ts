/**
 * RFC 3261 §25.1 basic rules shared by the SIP decoders: token characters, linear white space,
 * quoted strings and comma-separated lists. All work on strings decoded as latin1, where one
 * character is one byte (message.ts explains why).
 */

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"). */
const TOKEN = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;
for (const ch of "-.!%*_+`'~") TOKEN[ch.charCodeAt(0)] = 1;

export const isTokenChar = (c: number): boolean => c < 128 && TOKEN[c] === 1;

/** s[start, end) is a non-empty token. */
export function isToken(s: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] !== 1) return false;
  }
  return true;
}

/** SP, HTAB, CR, LF: the only white space SIP knows (LWS/SWS, §25.1). */
export const isWs = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;

/**
 * s[start, end) without leading and trailing SP/HTAB/CR/LF. String.prototype.trim is not used:
 * it also strips U+00A0, which in a latin1-decoded string is the last byte of UTF-8 characters
 * such as "à" (C3 A0).
 */
export function trimSlice(s: string, start: number, end: number): string {
  while (start < end && isWs(s.charCodeAt(start))) start++;
  while (end > start && isWs(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

export function skipWs(s: string, i: number, end: number): number {
  while (i < end && isWs(s.charCodeAt(i))) i++;
  return i;
}

/**
 * i is at the opening DQUOTE of a quoted-string (§25.1: quoted-pair = "\" any char). Returns the
 * index just past the closing DQUOTE, or -1 when it is not closed before end.
 */
export function skipQuoted(s: string, i: number, end: number): number {
  for (i++; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x5c) i++;
  }
  return -1;
}

/** The content of s[start, end) with quoted-pairs resolved (no surrounding quotes). */
export function unescapeQuoted(s: string, start: number, end: number): string {
  const bs = s.indexOf('\\', start);
  if (bs < 0 || bs >= end) return s.slice(start, end);
  let out = s.slice(start, bs);
  for (let i = bs; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c && i + 1 < end) i++;
    out += s[i] ?? '';
  }
  return out;
}

/**
 * Index of the first character c at or after i that is outside quoted strings and outside
 * <...> (where URIs may carry ';', ',' and '?' unescaped), or end. Unterminated quotes and
 * brackets run to end.
 */
export function indexOutside(s: string, c: number, i: number, end: number): number {
  for (; i < end; i++) {
    const x = s.charCodeAt(i);
    if (x === c) return i;
    if (x === 0x22) {
      const q = skipQuoted(s, i, end);
      if (q < 0) return end;
      i = q - 1;
    } else if (x === 0x3c) {
      const g = s.indexOf('>', i + 1);
      if (g < 0 || g >= end) return end;
      i = g;
    }
  }
  return end;
}

/**
 * Split a header value that is a comma-separated list (§7.3.1: `#element`) into out, respecting
 * quoted strings and <...>. Empty elements are dropped, as a tolerant reader of `a,,b` should.
 */
export function splitList(value: string, out: string[]): void {
  const end = value.length;
  let i = 0;
  while (i <= end) {
    const comma = indexOutside(value, 0x2c, i, end);
    const el = trimSlice(value, i, comma);
    if (el.length > 0) out.push(el);
    i = comma + 1;
  }
}
