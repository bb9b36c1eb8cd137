import { isUtf8 } from 'node:buffer';
import type { Counters } from '../core/counters.js';
import { newParams, parseParams } from './header-params.js';
import { skipQuoted, skipWs, trimSlice, unescapeQuoted } from './syntax.js';

/**
 * From, To, Contact, Refer-To, P-Asserted-Identity... values (RFC 3261 §20.10, §25.1):
 *
 *   ( name-addr / addr-spec ) *( SEMI param )
 *   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *(token LWS) / quoted-string
 *
 * Parameters after a bare addr-spec belong to the header, not to the URI (§20.10: the URI
 * cannot hold ';' without angle brackets), so `sip:a@b;tag=1` has uri `sip:a@b` and tag `1`.
 *
 * Tolerated and counted as `sip.bad_name_addr`: a missing '>' (the URI runs to the end), a
 * missing closing quote, a quoted display name without angle brackets.
 */
export interface NameAddr {
  /** Display name, unquoted and unescaped; '' when absent. */
  display: string;
  /** The URI without angle brackets, e.g. `sip:+15551234@host;user=phone`. */
  uri: string;
  /** User part of a sip/sips URI (without password and user parameters, %-decoded), or the number of a tel URI. */
  user: string;
  /** Host of a sip/sips URI, lower-case (IPv6 references keep their brackets); '' for other schemes. */
  host: string;
  /** The `tag` parameter (§19.3), '' when absent. */
  tag: string;
  /** All header parameters, names lower-case (tag included); a record without prototype. */
  params: Record<string, string>;
}

export function parseNameAddr(value: string, counters?: Counters): NameAddr {
  const end = value.length;
  let i = skipWs(value, 0, end);
  let display = '';
  let uriStart: number;
  let uriEnd: number;
  let paramsAt: number;
  let lt = -1;
  if (i < end && value.charCodeAt(i) === 0x22) {
    const q = skipQuoted(value, i, end);
    if (q < 0) {
      counters?.inc('sip.bad_name_addr');
      display = unescapeQuoted(value, i + 1, end);
      return result(display, '', value, end, end);
    }
    display = unescapeQuoted(value, i + 1, q - 1);
    i = skipWs(value, q, end);
    if (i < end && value.charCodeAt(i) === 0x3c) lt = i;
    else counters?.inc('sip.bad_name_addr');
  } else {
    const a = value.indexOf('<', i);
    if (a >= 0) {
      lt = a;
      display = trimSlice(value, i, a);
    }
  }
  if (lt >= 0) {
    const gt = value.indexOf('>', lt + 1);
    uriStart = lt + 1;
    if (gt < 0) {
      counters?.inc('sip.bad_name_addr');
      uriEnd = end;
      paramsAt = end;
    } else {
      uriEnd = gt;
      paramsAt = gt + 1;
    }
  } else {
    // Bare addr-spec: it ends at the first ';' (or white space, which it cannot contain).
    uriStart = i;
    let j = i;
    while (j < end) {
      const c = value.charCodeAt(j);
      if (c === 0x3b || c === 0x20 || c === 0x09) break;
      j++;
    }
    uriEnd = j;
    paramsAt = j;
  }
  return result(display, trimSlice(value, uriStart, uriEnd), value, paramsAt, end);
}

function result(display: string, uri: string, value: string, paramsAt: number, end: number): NameAddr {
  const params = newParams();
  if (paramsAt < end) parseParams(value, paramsAt, end, params);
  const ui = uriUserHost(uri);
  return { display, uri, user: ui.user, host: ui.host, tag: params.tag ?? '', params };
}

export interface UriUserHost {
  user: string;
  host: string;
}

/**
 * User and host of a URI (RFC 3261 §19.1.1, RFC 3966 for tel). For sip/sips: the userinfo
 * before '@' without password (`user:password`) and without user parameters (`+1555;npdi`,
 * telephone-subscriber style), %-decoded; the host without port and parameters, lower-case
 * (§19.1.4 compares hosts case-insensitively). The '@' is looked for before any '?' headers
 * part, where sloppy stacks leave it unescaped (Replaces=abc@host).
 * For tel: the number before its parameters. A URI without scheme but with '@' is read as sip
 * (seen from broken gear); other schemes (urn:, mailto:...) give ''.
 */
export function uriUserHost(uri: string): UriUserHost {
  const n = uri.length;
  const colon = uri.indexOf(':');
  let rest = 0;
  if (colon === 3 && (uri.charCodeAt(0) | 0x20) === 0x73 && (uri.charCodeAt(1) | 0x20) === 0x69 && (uri.charCodeAt(2) | 0x20) === 0x70) {
    rest = 4; // sip:
  } else if (colon === 4 && uri.slice(0, 4).toLowerCase() === 'sips') {
    rest = 5;
  } else if (colon === 3 && uri.slice(0, 3).toLowerCase() === 'tel') {
    const semi = uri.indexOf(';', 4);
    return { user: pctDecode(uri.slice(4, semi < 0 ? n : semi)), host: '' };
  } else if (uri.indexOf('@') < 0) {
    // Another scheme (urn:, mailto:...), or none: only a value shaped like user@host gives a
    // user and host.
    return { user: '', host: '' };
  } else if (colon > 0 && isScheme(uri, colon)) {
    rest = colon + 1; // mailto:a@b
  }
  let region = uri.indexOf('?', rest);
  if (region < 0) region = n;
  let at = uri.indexOf('@', rest);
  if (at >= region) at = -1;
  let user = '';
  let hs = rest;
  if (at >= 0) {
    let ue = rest;
    while (ue < at) {
      const c = uri.charCodeAt(ue);
      if (c === 0x3a || c === 0x3b) break;
      ue++;
    }
    user = pctDecode(uri.slice(rest, ue));
    hs = at + 1;
  }
  let he = hs;
  if (uri.charCodeAt(hs) === 0x5b) {
    const rb = uri.indexOf(']', hs);
    he = rb < 0 || rb >= region ? region : rb + 1;
  } else {
    while (he < region) {
      const c = uri.charCodeAt(he);
      if (c === 0x3a || c === 0x3b || c === 0x20 || c === 0x3e) break;
      he++;
    }
  }
  return { user, host: uri.slice(hs, he).toLowerCase() };
}

/** uri[0, end) is a URI scheme (RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )). */
function isScheme(uri: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = uri.charCodeAt(i) | 0x20;
    const alpha = c >= 0x61 && c <= 0x7a;
    if (!(alpha || (i > 0 && ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)))) return false;
  }
  return true;
}

const hexVal = (c: number): number =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;

/** %HH escapes (§19.1.2) decoded as UTF-8 bytes; a malformed escape stays as it is. */
export function pctDecode(s: string): string {
  if (s.indexOf('%') < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const h1 = c === 0x25 && i + 2 < s.length ? hexVal(s.charCodeAt(i + 1)) : -1;
    const h2 = h1 >= 0 ? hexVal(s.charCodeAt(i + 2)) : -1;
    if (h2 >= 0) {
      bytes.push(h1 * 16 + h2);
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      // Already-decoded text (header values are UTF-8 by now): keep the character's bytes.
      const cp = s.codePointAt(i) ?? c;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
    }
  }
  const b = Buffer.from(bytes);
  // Escapes that do not form UTF-8 (%FF) are left as sent rather than turned into U+FFFD.
  return isUtf8(b) ? b.toString('utf8') : s;
}
