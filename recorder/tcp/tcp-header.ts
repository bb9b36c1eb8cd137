import { u16, u32 } from '../core/bytes.js';
import { Status } from '../core/status.js';

/**
 * TCP header (RFC 9293 §3.1); options are skipped by Data Offset.
 *
 *  |          Source Port          |       Destination Port        |
 *  |                        Sequence Number                        |
 *  |                    Acknowledgment Number                      |
 *  |  Data |       |C|E|U|A|P|R|S|F|                               |
 *  | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 *  |           Checksum            |         Urgent Pointer        |
 */
const MIN_HEADER = 20;

export interface TcpResult {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  payloadOff: number;
  payloadLen: number;
}

export function decodeTcpHeader(buf: Buffer, off: number, end: number, out: TcpResult): Status {
  if (end - off < MIN_HEADER) return Status.Truncated;
  const dataOff = (buf[off + 12]! >> 4) * 4;
  if (dataOff < MIN_HEADER) return Status.Malformed;
  if (end - off < dataOff) return Status.Truncated;
  out.srcPort = u16(buf, off);
  out.dstPort = u16(buf, off + 2);
  out.seq = u32(buf, off + 4);
  out.ack = u32(buf, off + 8);
  out.flags = buf[off + 13]!;
  out.payloadOff = off + dataOff;
  out.payloadLen = end - off - dataOff;
  return Status.Ok;
}
