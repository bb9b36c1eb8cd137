import type { Direction, PartyInfo } from './call-record.js';

export interface UserEntry {
  name: string;
  uris?: readonly string[];
  numbers?: readonly string[];
  ips?: readonly string[];
  /** Cisco SCCP devices: `SEP001122334455` (any line) or `SEP001122334455/2` (line instance 2). */
  devices?: readonly string[];
}

/**
 * The alias URI an SCCP device (and line) is matched by: `sccp:SEP001122334455` or
 * `sccp:SEP001122334455/2`. Device names compare case-insensitively (CallManager shows them upper-case).
 */
export const deviceUri = (device: string, line?: number): string => `sccp:${device.trim().toUpperCase()}${line ? `/${line}` : ''}`;

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
  /** Endpoint addresses learned from signaling (Lync feed), by user: the newest replaces the older. */
  private readonly learned = new Map<string, string>();
  private readonly configuredIps = new Set<string>();

  constructor(users: readonly UserEntry[] = []) {
    for (const u of users) {
      for (const uri of u.uris ?? []) this.byUri.set(normaliseUri(uri), u.name);
      for (const n of u.numbers ?? []) if (normaliseNumber(n)) this.byNumber.set(normaliseNumber(n), u.name);
      for (const ip of u.ips ?? []) {
        this.byIp.set(ip, u.name);
        this.configuredIps.add(ip);
      }
      for (const d of u.devices ?? []) {
        const slash = d.indexOf('/');
        this.byUri.set(slash < 0 ? deviceUri(d) : deviceUri(d.slice(0, slash), Number(d.slice(slash + 1))), u.name);
      }
    }
  }

  /**
   * `user`'s endpoint is now at `ip` (learned from signaling, e.g. the Front End saw the user's
   * client there): the address identifies the user until another one is learned. Configured
   * addresses are never replaced. Returns whether anything changed.
   */
  learnIp(user: string, ip: string): boolean {
    const prev = this.learned.get(user);
    if (prev === ip) return false;
    const owner = this.byIp.get(ip);
    if (owner !== undefined && owner !== user && (this.configuredIps.has(ip) || !this.isLearned(owner, ip))) return false;
    if (prev !== undefined && this.byIp.get(prev) === user && !this.configuredIps.has(prev)) this.byIp.delete(prev);
    if (owner !== undefined && owner !== user) this.learned.delete(owner);
    this.learned.set(user, ip);
    this.byIp.set(ip, user);
    return true;
  }

  private isLearned(user: string, ip: string): boolean {
    return this.learned.get(user) === ip;
  }

  /** The user a URI (or number) names, without addresses. */
  userOf(party: PartyInfo): string | null {
    return this.match(party, []);
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
