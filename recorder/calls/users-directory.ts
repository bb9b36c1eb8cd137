import type { Direction, PartyInfo } from './call-record.js';

export interface UserEntry {
  name: string;
  uris?: readonly string[];
  numbers?: readonly string[];
  ips?: readonly string[];
}

/** Digits only (and a leading country-code `+` dropped): '+1 (555) 100-1' and '15551001' compare equal. */
export const normaliseNumber = (n: string): string => n.replace(/[^0-9*#]/g, '');

/** `sip:alice@Example.com;transport=tcp` → `alice@example.com` (user part kept as written). */
export function normaliseUri(uri: string): string {
  let u = uri.trim().replace(/^<|>$/g, '');
  u = u.replace(/^(sips?|tel):/i, '');
  const semi = u.indexOf(';');
  if (semi >= 0) u = u.slice(0, semi);
  const q = u.indexOf('?');
  if (q >= 0) u = u.slice(0, q);
  const at = u.lastIndexOf('@');
  if (at < 0) return u;
  return `${u.slice(0, at)}@${u.slice(at + 1).toLowerCase().replace(/:\d+$/, '')}`;
}

/**
 * The administrator's list of recorded users (config `users`): a call belongs to the user whose
 * URI, number or endpoint IP appears on one side, and that side gives the direction.
 */
export class UsersDirectory {
  private readonly byUri = new Map<string, string>();
  private readonly byNumber = new Map<string, string>();
  private readonly byIp = new Map<string, string>();

  constructor(users: readonly UserEntry[] = []) {
    for (const u of users) {
      for (const uri of u.uris ?? []) this.byUri.set(normaliseUri(uri), u.name);
      for (const n of u.numbers ?? []) if (normaliseNumber(n)) this.byNumber.set(normaliseNumber(n), u.name);
      for (const ip of u.ips ?? []) this.byIp.set(ip, u.name);
    }
  }

  get size(): number {
    return this.byUri.size + this.byNumber.size + this.byIp.size;
  }

  /** The user one side of a call is, from its URI, number, or one of its addresses. */
  match(party: PartyInfo, addrs: Iterable<string>): string | null {
    const byUri = this.byUri.get(normaliseUri(party.uri));
    if (byUri) return byUri;
    const n = normaliseNumber(party.number);
    if (n) {
      const byNumber = this.byNumber.get(n);
      if (byNumber) return byNumber;
    }
    for (const a of addrs) {
      const byIp = this.byIp.get(a);
      if (byIp) return byIp;
    }
    return null;
  }

  /** User and direction of a call: caller is ours → outbound, callee → inbound, both → internal. */
  classify(from: PartyInfo, to: PartyInfo, callerAddrs: Iterable<string>, calleeAddrs: Iterable<string>): { user: string | null; direction: Direction } {
    const caller = this.match(from, callerAddrs);
    const callee = this.match(to, calleeAddrs);
    if (caller && callee) return { user: caller, direction: 'internal' };
    if (caller) return { user: caller, direction: 'outbound' };
    if (callee) return { user: callee, direction: 'inbound' };
    return { user: null, direction: 'unknown' };
  }
}
