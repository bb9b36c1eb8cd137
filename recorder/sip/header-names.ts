/**
 * SIP header names: case-insensitive (RFC 3261 §7.3.1), some with a one-letter compact form
 * (§7.3.3). We store every name lower-case in its long form, so lookups compare one spelling.
 */

/**
 * Compact forms registered with IANA ("Session Initiation Protocol (SIP) Parameters", Header
 * Fields), with the RFC that defines each. Nothing unregistered is mapped.
 */
const COMPACT: Readonly<Record<string, string>> = {
  a: 'accept-contact', // RFC 3841
  b: 'referred-by', // RFC 3892
  c: 'content-type', // RFC 3261
  d: 'request-disposition', // RFC 3841
  e: 'content-encoding', // RFC 3261
  f: 'from', // RFC 3261
  i: 'call-id', // RFC 3261
  j: 'reject-contact', // RFC 3841
  k: 'supported', // RFC 3261
  l: 'content-length', // RFC 3261
  m: 'contact', // RFC 3261
  n: 'identity-info', // RFC 4474 (deprecated by RFC 8224, still seen)
  o: 'event', // RFC 6665
  r: 'refer-to', // RFC 3515
  s: 'subject', // RFC 3261
  t: 'to', // RFC 3261
  u: 'allow-events', // RFC 6665
  v: 'via', // RFC 3261
  x: 'session-expires', // RFC 4028
  y: 'identity', // RFC 8224
};

/**
 * The stored form of a header name as it appears on the wire: lower-case, long form. The
 * spellings on nearly every message are compared first (a length switch and one string
 * compare beat hashing a fresh string for a Map lookup).
 */
export function canonicalHeaderName(raw: string): string {
  switch (raw.length) {
    case 1: {
      const lower = raw.toLowerCase();
      return COMPACT[lower] ?? lower;
    }
    case 2:
      if (raw === 'To') return 'to';
      break;
    case 3:
      if (raw === 'Via') return 'via';
      break;
    case 4:
      if (raw === 'From') return 'from';
      if (raw === 'CSeq') return 'cseq';
      break;
    case 5:
      if (raw === 'Allow') return 'allow';
      if (raw === 'Route') return 'route';
      break;
    case 6:
      if (raw === 'Server') return 'server';
      break;
    case 7:
      if (raw === 'Call-ID') return 'call-id';
      if (raw === 'Contact') return 'contact';
      if (raw === 'Expires') return 'expires';
      if (raw === 'Require') return 'require';
      break;
    case 9:
      if (raw === 'Supported') return 'supported';
      break;
    case 10:
      if (raw === 'User-Agent') return 'user-agent';
      break;
    case 12:
      if (raw === 'Content-Type') return 'content-type';
      if (raw === 'Max-Forwards') return 'max-forwards';
      if (raw === 'Record-Route') return 'record-route';
      break;
    case 14:
      if (raw === 'Content-Length') return 'content-length';
      break;
    default:
      break;
  }
  return raw.toLowerCase();
}

/**
 * Headers whose grammar is a comma-separated list (`#element` / `*(COMMA x)`, §7.3.1), so
 * several values may share one header line. Authorization-style headers are the RFC's
 * exceptions (their values contain commas) and are not here; neither are unknown headers,
 * whose commas may be data (Date, Subject, vendor X- headers).
 */
const LIST_HEADERS = new Set([
  // RFC 3261 §20
  'accept', 'accept-encoding', 'accept-language', 'alert-info', 'allow', 'call-info', 'contact', 'content-encoding',
  'content-language', 'error-info', 'in-reply-to', 'proxy-require', 'record-route', 'require', 'route', 'supported',
  'unsupported', 'via', 'warning',
  // extensions
  'allow-events', // RFC 6665
  'accept-contact', 'reject-contact', 'request-disposition', // RFC 3841
  'path', // RFC 3327
  'service-route', // RFC 3608
  'p-asserted-identity', 'p-preferred-identity', // RFC 3325
  'p-associated-uri', // RFC 7315
  'history-info', // RFC 7044
  'reason', // RFC 3326
  'diversion', // RFC 5806
  'recv-info', // RFC 6086
  'security-client', 'security-server', 'security-verify', // RFC 3329
  'resource-priority', 'accept-resource-priority', // RFC 4412
  'permission-missing', 'trigger-consent', // RFC 5360
  'geolocation', // RFC 6442
]);

/** `name` is stored lower-case, long form. */
export const isListHeader = (name: string): boolean => LIST_HEADERS.has(name);
