import { u16, u32 } from '../core/bytes.js';
import { Status } from '../core/status.js';
import type { IpResult } from './ip-result.js';

/**
 * IPv4 header (RFC 791 §3.1); options are skipped by IHL, the checksum is not verified
 * (NIC offload leaves it wrong in captures taken on the sending host, as tshark also assumes).
 *
 *  |Version|  IHL  |Type of Service|          Total Length         |
 *  |         Identification        |Flags|      Fragment Offset    |
 *  |  Time to Live |    Protocol   |         Header Checksum       |
 *  |                       Source Address                          |
 *  |                    Destination Address                        |
 */
const MIN_HEADER = 20;
const OFF_TOTAL_LEN = 2;
const OFF_ID = 4;
const OFF_FRAG = 6;
const OFF_PROTO = 9;
const OFF_SRC = 12;
const OFF_DST = 16;
const FLAG_MF = 0x2000;
const FRAG_MASK = 0x1fff;

export function decodeIpv4(buf: Buffer, off: number, end: number, out: IpResult): Status {
  if (end - off < MIN_HEADER) return Status.Truncated;
  const vihl = buf[off]!;
  if (vihl >> 4 !== 4) return Status.Malformed;
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < MIN_HEADER) return Status.Malformed;
  const total = u16(buf, off + OFF_TOTAL_LEN);
  // TSO/GSO on the capturing host writes 0 as total length: take what was captured.
  const totalLen = total === 0 ? end - off : total;
  if (totalLen < ihl) return Status.Malformed;
  if (end - off < ihl) return Status.Truncated;
  out.version = 4;
  out.proto = buf[off + OFF_PROTO]!;
  out.src4 = u32(buf, off + OFF_SRC);
  out.dst4 = u32(buf, off + OFF_DST);
  out.payloadOff = off + ihl;
  // Trailing bytes past Total Length are link padding (Ethernet minimum frame size).
  out.payloadEnd = Math.min(end, off + totalLen);
  const frag = u16(buf, off + OFF_FRAG);
  out.moreFragments = (frag & FLAG_MF) !== 0;
  out.fragOffset = (frag & FRAG_MASK) * 8;
  out.isFragment = out.moreFragments || out.fragOffset !== 0;
  out.fragId = u16(buf, off + OFF_ID);
  return off + totalLen > end ? Status.Truncated : Status.Ok;
}
