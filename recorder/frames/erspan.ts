import { Status } from '../core/status.js';

/**
 * Cisco ERSPAN inside GRE (draft-foschiano-erspan-03). Type I has no header of its own (GRE
 * protocol 0x88BE without a sequence number); type II (0x88BE with sequence) has 8 bytes:
 *
 *  | Ver=1 |          VLAN         | COS |En|T|     Session ID    |
 *  |      Reserved         |                Index                  |
 *
 * Type III (0x22EB) has 12 bytes, plus an 8-byte platform sub-header when the O bit is set:
 *
 *  | Ver=2 |          VLAN         | COS |BSO|T|     Session ID    |
 *  |                          Timestamp                            |
 *  |             SGT               |P|    FT   |   Hw ID   |D|Gra|O|
 *
 * What follows is the mirrored Ethernet frame (FT = 0); other frame types are not decoded.
 */
const TYPE2_HEADER = 8;
const TYPE3_HEADER = 12;
const TYPE3_PLATFORM = 8;

/** Offset of the inner Ethernet frame, or the negated Status. */
export function decodeErspanII(buf: Buffer, off: number, end: number): number {
  if (end - off < TYPE2_HEADER) return -Status.Truncated;
  if (buf[off]! >> 4 !== 1) return -Status.Malformed;
  return off + TYPE2_HEADER;
}

/** Returns the offset of the inner Ethernet frame, or the negated Status on failure. */
export function decodeErspanIII(buf: Buffer, off: number, end: number): number {
  if (end - off < TYPE3_HEADER) return -Status.Truncated;
  if (buf[off]! >> 4 !== 2) return -Status.Malformed;
  const word3 = buf.readUInt16BE(off + 10);
  const frameType = (word3 >> 10) & 0x1f;
  if (frameType !== 0) return -Status.Unsupported;
  let p = off + TYPE3_HEADER;
  if (word3 & 1) p += TYPE3_PLATFORM;
  if (p > end) return -Status.Truncated;
  return p;
}
