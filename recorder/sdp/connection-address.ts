/**
 * Addresses as SDP writes them (c=, a=rtcp, a=candidate), brought to the text form the packet
 * path prints (core/address.ts), so that media can be matched to signalling by string.
 */
import { formatIpv6 } from '../core/address.js';

/**
 * Parses IPv6 text (RFC 4291 §2.2: hex groups, one `::`, optional trailing dotted quad) into
 * 16 bytes at out[0..16). Returns false, leaving `out` undefined in content, when it is not one.
 */
export function parseIpv6(text: string, out: Buffer): boolean {
  if (text.length < 2 || text.length > 45) return false;
  const dbl = text.indexOf('::');
  if (dbl >= 0 && text.indexOf('::', dbl + 1) >= 0) return false;
  const head = dbl >= 0 ? text.slice(0, dbl) : text;
  const tail = dbl >= 0 ? text.slice(dbl + 2) : '';
  const hp = head === '' ? [] : head.split(':');
  const tp = tail === '' ? [] : tail.split(':');
  const last = dbl >= 0 ? tp : hp;
  // A dotted quad may end the address (RFC 4291 §2.2 form 3): it fills two groups.
  const lastPart = last[last.length - 1];
  let quad: number[] | null = null;
  if (lastPart !== undefined && lastPart.includes('.')) {
    const q = lastPart.split('.');
    if (q.length !== 4 || !q.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255)) return false;
    quad = q.map(Number);
    last.pop();
  }
  const group = (g: string): number => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : -1);
  const hw = hp.map(group);
  const tw = tp.map(group);
  if (hw.includes(-1) || tw.includes(-1)) return false;
  const have = hw.length + tw.length + (quad ? 2 : 0);
  if (dbl >= 0 ? have > 7 : have !== 8) return false;
  const words: number[] = [...hw];
  if (dbl >= 0) for (let i = have; i < 8; i++) words.push(0);
  words.push(...tw);
  if (quad) words.push((quad[0]! << 8) | quad[1]!, (quad[2]! << 8) | quad[3]!);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(words[i]!, i * 2);
  return true;
}

const scratch = Buffer.alloc(16);

/**
 * The address part of an SDP connection-address: drops the multicast TTL / count suffix
 * (`224.2.1.1/127/3`, RFC 8866 §5.7) and rewrites IPv6 in RFC 5952 form
 * (`fe80:0:0:0:21a:a0ff:fe07:32e0` → `fe80::21a:a0ff:fe07:32e0`). Anything else (FQDNs,
 * placeholders like `X.X.X.X`) is returned as written.
 */
export function normalizeAddress(text: string): string {
  const slash = text.indexOf('/');
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  if (addr.includes(':') && parseIpv6(addr, scratch)) return formatIpv6(scratch, 0);
  return addr;
}

/**
 * The "on hold" connection address of RFC 2543 §B.5 (c=0.0.0.0), still sent by older gear
 * although RFC 3264 §8.4 replaced it with a=sendonly/inactive. `::` is its IPv6 twin.
 */
export const isHoldAddress = (addr: string): boolean => addr === '0.0.0.0' || addr === '::';
