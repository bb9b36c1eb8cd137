import type { Packet } from './packet.js';

/** Dotted quad of an unsigned 32-bit IPv4 address. */
export const formatIpv4 = (a: number): string => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

/** RFC 5952 text form of the 16-byte IPv6 address at buf[off]: lower case, longest zero run as `::`. */
export function formatIpv6(buf: Buffer, off: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(off + i * 2));
  let bestStart = -1;
  let bestLen = 1; // a single zero group is not compressed (RFC 5952 §4.2.2)
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) {
    // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
    return hex(groups);
  }
  const head = hex(groups.slice(0, bestStart));
  const tail = groups.slice(bestStart + bestLen);
  if (bestStart === 0 && bestLen === 5 && groups[5] === 0xffff) {
    return `::ffff:${formatIpv4(buf.readUInt32BE(off + 12))}`;
  }
  return `${head}::${hex(tail)}`;
}

export const srcAddress = (p: Packet): string =>
  p.ipVersion === 6 ? formatIpv6(p.addrBuf, p.srcOff) : formatIpv4(p.src4);
export const dstAddress = (p: Packet): string =>
  p.ipVersion === 6 ? formatIpv6(p.addrBuf, p.dstOff) : formatIpv4(p.dst4);

/** `ip:port`, with brackets for IPv6 (RFC 3986 §3.2.2). */
export const formatEndpoint = (addr: string, port: number): string =>
  addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;

/** Parse dotted-quad IPv4 text to an unsigned number; -1 when it is not one. */
export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) return -1;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return -1;
    const n = Number(p);
    if (n > 255) return -1;
    v = v * 256 + n;
  }
  return v;
}
