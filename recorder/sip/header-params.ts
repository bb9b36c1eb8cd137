import { indexOutside, isWs, skipQuoted, skipWs, trimSlice, unescapeQuoted } from './syntax.js';

/**
 * Header parameters: `*( SEMI generic-param )`, generic-param = token [ EQUAL gen-value ],
 * gen-value = token / host / quoted-string (RFC 3261 §25.1, §7.3.1; the same shape as MIME
 * parameters, RFC 2045 §5.1). Names are case-insensitive and returned lower-case; values keep
 * their case, quoted ones lose their quotes and escapes. A parameter without a value is ''.
 * White space around ';' and '=' is tolerated (SEMI and EQUAL allow SWS).
 */

/**
 * A params record that inherits nothing, so names from the wire such as `constructor` or
 * `__proto__` are plain keys. Not Object.create(null): V8 keeps such objects in dictionary
 * mode, where adding a key costs about a microsecond; instances of a class whose prototype
 * chain is empty stay fast.
 */
class ParamsRecord {}
Object.setPrototypeOf(ParamsRecord.prototype, null);
delete (ParamsRecord.prototype as { constructor?: unknown }).constructor;

export const newParams = (): Record<string, string> => new ParamsRecord() as Record<string, string>;

/** Where one `;name[=value]` lies in the header text (reused: no allocation per parameter). */
interface ParamSpan {
  nameStart: number;
  nameEnd: number;
  /** -1: no `=value`. */
  valueStart: number;
  valueEnd: number;
  quoted: boolean;
}

const span: ParamSpan = { nameStart: 0, nameEnd: 0, valueStart: -1, valueEnd: -1, quoted: false };

/** Scan the parameter whose ';' is at s[i]; fills `span`, returns the index of the next ';' (or end). */
function nextParam(s: string, i: number, end: number): number {
  const nameStart = skipWs(s, i + 1, end);
  let j = nameStart;
  while (j < end) {
    const c = s.charCodeAt(j);
    if (c === 0x3d || c === 0x3b || isWs(c)) break;
    j++;
  }
  span.nameStart = nameStart;
  span.nameEnd = j;
  span.valueStart = -1;
  span.quoted = false;
  j = skipWs(s, j, end);
  if (j >= end || s.charCodeAt(j) !== 0x3d) return indexOutside(s, 0x3b, j, end);
  const v = skipWs(s, j + 1, end);
  if (v < end && s.charCodeAt(v) === 0x22) {
    const q = skipQuoted(s, v, end);
    span.quoted = true;
    span.valueStart = v + 1;
    span.valueEnd = q < 0 ? end : q - 1;
    return indexOutside(s, 0x3b, q < 0 ? end : q, end);
  }
  const next = indexOutside(s, 0x3b, v, end);
  span.valueStart = v;
  span.valueEnd = next;
  return next;
}

/** The value of the parameter last scanned by nextParam ('' when it had none). */
const spanValue = (s: string): string =>
  span.valueStart < 0 ? '' : span.quoted ? unescapeQuoted(s, span.valueStart, span.valueEnd) : trimSlice(s, span.valueStart, span.valueEnd);

/**
 * Parse the parameters in s[i, end), i at or before the first ';'. The first occurrence of a
 * name wins (a later duplicate cannot override a tag). Returns the number of parameters.
 */
export function parseParams(s: string, i: number, end: number, out: Record<string, string>): number {
  let n = 0;
  i = indexOutside(s, 0x3b, i, end);
  while (i < end) {
    const next = nextParam(s, i, end);
    const name = paramName(s, span.nameStart, span.nameEnd);
    if (name.length > 0 && !(name in out)) {
      out[name] = spanValue(s);
      n++;
    }
    i = next;
  }
  return n;
}

/**
 * A parameter name, lower-case. The common ones come back as literals: V8 adds a literal key
 * to an object through its inline cache, while a fresh string must first be looked up in the
 * string table (measured: the difference is most of the cost of a From/To header).
 */
function paramName(s: string, start: number, end: number): string {
  switch (end - start) {
    case 3:
      if (s.startsWith('tag', start)) return 'tag';
      break;
    case 4:
      if (s.startsWith('user', start)) return 'user';
      break;
    case 2:
      if (s.startsWith('lr', start)) return 'lr';
      break;
    case 9:
      if (s.startsWith('transport', start)) return 'transport';
      break;
    case 7:
      if (s.startsWith('expires', start)) return 'expires';
      break;
    default:
      break;
  }
  return s.slice(start, end).toLowerCase();
}

/**
 * The value of parameter `name` (lower-case) in s[i, end) without building a record: the hot
 * path wants only Via's branch and Content-Type's boundary. undefined when absent.
 */
export function paramValue(s: string, i: number, end: number, name: string): string | undefined {
  i = indexOutside(s, 0x3b, i, end);
  while (i < end) {
    const next = nextParam(s, i, end);
    if (span.nameEnd - span.nameStart === name.length && s.slice(span.nameStart, span.nameEnd).toLowerCase() === name) return spanValue(s);
    i = next;
  }
  return undefined;
}

/**
 * Media type of a Content-Type value (RFC 3261 §20.15, RFC 2045 §5.1): `type/subtype`
 * lower-cased, without parameters and without stray white space around '/'.
 */
export function mediaType(value: string): string {
  const semi = indexOutside(value, 0x3b, 0, value.length);
  const t = trimSlice(value, 0, semi).toLowerCase();
  return t.indexOf(' ') < 0 && t.indexOf('\t') < 0 ? t : t.replace(/[ \t]+/g, '');
}
