import { formatIpv4, formatIpv6, parseIpv4 } from '../core/address.js';
import type { Packet } from '../core/packet.js';

/**
 * A transport endpoint as a Map key. IPv4 is one number, ip * 65536 + port (exact in a double:
 * < 2^48), so the RTP hot path allocates nothing; IPv6 is its canonical text `[addr]:port`.
 */
export type EndpointKey = number | string;

export const srcKey = (p: Packet): EndpointKey =>
  p.ipVersion === 4 ? p.src4 * 65536 + p.srcPort : `[${formatIpv6(p.addrBuf, p.srcOff)}]:${p.srcPort}`;

export const dstKey = (p: Packet): EndpointKey =>
  p.ipVersion === 4 ? p.dst4 * 65536 + p.dstPort : `[${formatIpv6(p.addrBuf, p.dstOff)}]:${p.dstPort}`;

/** Key for an address written in SDP or config (IPv4 dotted quad or IPv6 text); null if neither. */
export function endpointKey(ip: string, port: number): EndpointKey | null {
  const v4 = parseIpv4(ip);
  if (v4 >= 0) return v4 * 65536 + port;
  const bytes = parseIpv6(ip);
  return bytes ? `[${formatIpv6(bytes, 0)}]:${port}` : null;
}

/** `ip:port` text of a key (IPv6 already in brackets). */
export const formatEndpointKey = (k: EndpointKey): string =>
  typeof k === 'number' ? `${formatIpv4(Math.floor(k / 65536))}:${k % 65536}` : k;

/** Address part of a key, as text. */
export const endpointAddress = (k: EndpointKey): string =>
  typeof k === 'number' ? formatIpv4(Math.floor(k / 65536)) : k.slice(1, k.lastIndexOf(']'));

/** Port part of a key. */
export const endpointPort = (k: EndpointKey): number => (typeof k === 'number' ? k % 65536 : Number(k.slice(k.lastIndexOf(':') + 1)));

/** RFC 4291 §2.2 text (with at most one `::`, optionally an embedded dotted quad) to 16 bytes. */
export function parseIpv6(text: string): Buffer | null {
  let t = text.trim();
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  if (!t.includes(':')) return null;
  const halves = t.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 < 0) return null;
        out.push(Math.floor(v4 / 65536), v4 % 65536);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) out.push(parseInt(part, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) return null;
  const all = [...head, ...Array<number>(fill).fill(0), ...tail];
  const b = Buffer.alloc(16);
  all.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return b;
}
