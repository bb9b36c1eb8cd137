import { Status } from '../core/status.js';

/**
 * VXLAN (RFC 7348 §5), on UDP port 4789; an inner Ethernet frame follows.
 *
 *  |R|R|R|R|I|R|R|R|            Reserved                           |
 *  |                VXLAN Network Identifier (VNI) |   Reserved    |
 */
export const VXLAN_PORT = 4789;
const HEADER = 8;
const FLAG_I = 0x08;

/** Offset of the inner Ethernet frame, or the negated Status. */
export function decodeVxlan(buf: Buffer, off: number, end: number): number {
  if (end - off < HEADER) return -Status.Truncated;
  if ((buf[off]! & FLAG_I) === 0) return -Status.Malformed;
  return off + HEADER;
}
