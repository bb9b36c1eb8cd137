import { u16 } from '../core/bytes.js';
import { Status } from '../core/status.js';

/**
 * GRE (RFC 2784 with the RFC 2890 key and sequence extensions).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  |C| |K|S| Reserved0       | Ver |         Protocol Type         |
 *  |      Checksum (optional)      |       Reserved1 (optional)    |
 *  |                         Key (optional)                        |
 *  |                 Sequence Number (optional)                    |
 */
const GRE_BASE = 4;
const FLAG_C = 0x8000;
const FLAG_R = 0x4000; // RFC 1701 routing present: obsolete, not decoded
const FLAG_K = 0x2000;
const FLAG_S = 0x1000;
const VERSION_MASK = 0x0007;

export interface GreResult {
  protocol: number;
  off: number;
  /** Sequence-number bit: tells ERSPAN type I (no S) from type II (S). */
  hasSeq: boolean;
}

export function decodeGre(buf: Buffer, off: number, end: number, out: GreResult): Status {
  if (end - off < GRE_BASE) return Status.Truncated;
  const flags = u16(buf, off);
  // Version 1 is PPTP's enhanced GRE (PPP payloads): not a mirror encapsulation.
  if ((flags & VERSION_MASK) !== 0 || (flags & FLAG_R) !== 0) return Status.Unsupported;
  let p = off + GRE_BASE;
  if (flags & FLAG_C) p += 4;
  if (flags & FLAG_K) p += 4;
  if (flags & FLAG_S) p += 4;
  if (p > end) return Status.Truncated;
  out.protocol = u16(buf, off + 2);
  out.hasSeq = (flags & FLAG_S) !== 0;
  out.off = p;
  return Status.Ok;
}
