/**
 * Field readers shared by the Skinny message decoders: fixed-size NUL-padded strings,
 * NUL-terminated strings (the V2 messages), and the `ipv4or6` address of V17+ headers.
 * Callers check the field fits before reading; none of these reads past `end`.
 */
import { formatIpv4, formatIpv6 } from '../core/address.js';
import { SkinnyVersion } from './header.js';

/** Text of a fixed field buf[off, off + size): up to the first NUL, UTF-8 (phones with the UTF8 feature bit send it; ASCII is a subset). */
export function fixedString(buf: Buffer, off: number, size: number): string {
  let end = off;
  const max = off + size;
  while (end < max && buf[end] !== 0) end++;
  return end === off ? '' : buf.toString('utf8', off, end).trim();
}

/** A NUL-terminated string starting at `off` and ending before `end`; `next` is the byte after its NUL (or `end`). */
export function nulString(buf: Buffer, off: number, end: number, out: { next: number }): string {
  let i = off;
  while (i < end && buf[i] !== 0) i++;
  out.next = i < end ? i + 1 : end;
  return i === off ? '' : buf.toString('utf8', off, i).trim();
}

/**
 * Directory-number fields are 24 bytes, 25 from V18 (packet-skinny.c `VariableDirnumSize`).
 */
export const dirnumSize = (version: number): number => (version >= SkinnyVersion.V18 ? 25 : 24);

/** Bytes an IP address field takes: 4 before V17, then a 4-byte type and 16 bytes of address. */
export const ipFieldSize = (version: number): number => (version >= SkinnyVersion.V17 ? 20 : 4);

/**
 * Reads an IP address field at `off` (`ipFieldSize(version)` bytes are there): IPv4 in network
 * order in the first 4 bytes before V17; from V17 a type word (0 IPv4, 1 IPv6, 2 both — the IPv6
 * one is in the field then) and a 16-byte area holding the IPv4 address first or the IPv6 one.
 * '' for a type we cannot read or the unspecified address.
 */
export function ipField(buf: Buffer, off: number, version: number): string {
  if (version < SkinnyVersion.V17) return ipv4At(buf, off);
  const type = (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
  if (type === 0) return ipv4At(buf, off + 4);
  if (type === 1 || type === 2) {
    let zero = true;
    for (let i = 0; i < 16 && zero; i++) if (buf[off + 4 + i] !== 0) zero = false;
    return zero ? '' : formatIpv6(buf, off + 4);
  }
  return '';
}

function ipv4At(buf: Buffer, off: number): string {
  const a = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
  return a === 0 ? '' : formatIpv4(a);
}
