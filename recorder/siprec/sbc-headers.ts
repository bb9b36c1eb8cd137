/**
 * SIP headers an SBC adds to its SIPREC INVITE that say who is on the recorded call, kept as the
 * recording's metadata and used to match users: OriginatingFrom / OriginatingTo and
 * Recorded-IP-Group-Name (AudioCodes and CUBE configurations add them), Remote-Party-ID
 * (draft-ietf-sip-privacy-04, `party=calling|called`), Diversion (RFC 5806: the user the call was
 * diverted from), P-Asserted-Identity (RFC 3325), User-to-User (Avaya UCID), Session-ID (RFC 7989)
 * and every `X-` header.
 */
import type { PartyInfo } from '../calls/call-record.js';
import { parseNameAddr } from '../sip/name-addr.js';
import type { SipMessage } from '../sip/message.js';

const KEPT = new Set([
  'originatingfrom',
  'originatingto',
  'x-originatingfrom',
  'x-originatingto',
  'recorded-ip-group-name',
  'remote-party-id',
  'diversion',
  'history-info',
  'p-asserted-identity',
  'p-preferred-identity',
  'user-to-user',
  'session-id',
  'user-agent',
]);

const MAX_HEADERS = 64;
const MAX_VALUE = 1024;

/** The kept headers of a message: lower-case name → values in order. */
export function sbcHeaders(msg: SipMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let n = 0;
  for (const h of msg.headers) {
    if (!KEPT.has(h.name) && !h.name.startsWith('x-')) continue;
    if (n++ >= MAX_HEADERS) break;
    (out[h.name] ??= []).push(h.value.length > MAX_VALUE ? h.value.slice(0, MAX_VALUE) : h.value);
  }
  return out;
}

const partyOf = (value: string): PartyInfo | null => {
  const na = parseNameAddr(value);
  if (!na.uri) return null;
  return { uri: na.uri, number: na.user, name: na.display };
};

/** Identities the headers give for each side of the recorded call, best first. */
export function headerIdentities(h: Record<string, string[]>, from: PartyInfo): { caller: PartyInfo[]; callee: PartyInfo[] } {
  const caller: PartyInfo[] = [];
  const callee: PartyInfo[] = [];
  const add = (list: PartyInfo[], v: string | undefined): void => {
    if (v === undefined) return;
    const p = partyOf(v);
    if (p && !list.some((x) => x.uri === p.uri)) list.push(p);
  };
  for (const v of h['originatingfrom'] ?? h['x-originatingfrom'] ?? []) add(caller, v);
  for (const v of h['originatingto'] ?? h['x-originatingto'] ?? []) add(callee, v);
  for (const v of h['remote-party-id'] ?? []) {
    const party = parseNameAddr(v).params['party']?.toLowerCase();
    add(party === 'called' ? callee : caller, v);
  }
  // The diverting user was the one called (RFC 5806 §2).
  for (const v of h['diversion'] ?? []) add(callee, v);
  for (const v of h['p-asserted-identity'] ?? []) add(caller, v);
  if (from.uri) add(caller, `<${from.uri}>`);
  return { caller, callee };
}
