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

/**
 * Parse the parameters in s[i, end), i at or before the first ';'. The first occurrence of a
 * name wins (a later duplicate cannot override a tag). Returns the number of parameters.
 */
export function parseParams(s: string, i: number, end: number, out: Record<string, string>): number {
  let n = 0;
  i = indexOutside(s, 0x3b, i, end);
  while (i < end) {
    // i is at a ';'
    const nameStart = skipWs(s, i + 1, end);
    let j = nameStart;
    while (j < end) {
      const c = s.charCodeAt(j);
      if (c === 0x3d || c === 0x3b || isWs(c)) break;
      j++;
    }
    const name = paramName(s, nameStart, j);
    j = skipWs(s, j, end);
    let value = '';
    let next: number;
    if (j < end && s.charCodeAt(j) === 0x3d) {
      const v = skipWs(s, j + 1, end);
      if (v < end && s.charCodeAt(v) === 0x22) {
        const q = skipQuoted(s, v, end);
        const close = q < 0 ? end : q - 1;
        value = unescapeQuoted(s, v + 1, close);
        next = indexOutside(s, 0x3b, q < 0 ? end : q, end);
      } else {
        next = indexOutside(s, 0x3b, v, end);
        value = trimSlice(s, v, next);
      }
    } else {
      next = indexOutside(s, 0x3b, j, end);
    }
    if (name.length > 0 && !(name in out)) {
      out[name] = value;
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
    const nameStart = skipWs(s, i + 1, end);
    let j = nameStart;
    while (j < end) {
      const c = s.charCodeAt(j);
      if (c === 0x3d || c === 0x3b || isWs(c)) break;
      j++;
    }
    const match = j - nameStart === name.length && s.slice(nameStart, j).toLowerCase() === name;
    j = skipWs(s, j, end);
    if (j < end && s.charCodeAt(j) === 0x3d) {
      const v = skipWs(s, j + 1, end);
      if (v < end && s.charCodeAt(v) === 0x22) {
        const q = skipQuoted(s, v, end);
        if (match) return unescapeQuoted(s, v + 1, q < 0 ? end : q - 1);
        i = indexOutside(s, 0x3b, q < 0 ? end : q, end);
      } else {
        const next = indexOutside(s, 0x3b, v, end);
        if (match) return trimSlice(s, v, next);
        i = next;
      }
    } else {
      if (match) return '';
      i = indexOutside(s, 0x3b, j, end);
    }
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
