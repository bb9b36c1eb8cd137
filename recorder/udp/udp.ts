import { u16 } from '../core/bytes.js';
import { Status } from '../core/status.js';

/**
 * UDP header (RFC 768).
 *
 *  |          Source Port          |       Destination Port        |
 *  |            Length             |           Checksum            |
 */
export const UDP_HEADER = 8;

export interface UdpResult {
  srcPort: number;
  dstPort: number;
  payloadOff: number;
  payloadLen: number;
}

export function decodeUdp(buf: Buffer, off: number, end: number, out: UdpResult): Status {
  if (end - off < UDP_HEADER) return Status.Truncated;
  const length = u16(buf, off + 4);
  out.srcPort = u16(buf, off);
  out.dstPort = u16(buf, off + 2);
  out.payloadOff = off + UDP_HEADER;
  // Length 0 is legal only in IPv6 jumbograms (RFC 2675); otherwise it must cover the header.
  if (length !== 0 && length < UDP_HEADER) return Status.Malformed;
  const want = length === 0 ? end - off : length;
  if (off + want > end) {
    out.payloadLen = end - out.payloadOff;
    return Status.Truncated;
  }
  out.payloadLen = want - UDP_HEADER;
  return Status.Ok;
}
