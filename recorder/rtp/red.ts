/**
 * RTP payload for redundant audio (RFC 2198 §3). Headers first, then the blocks' data in the
 * same order, the primary (newest) encoding last:
 *
 *   redundant block header (4 bytes):  F=1 | block PT (7) | timestamp offset (14) | length (10)
 *   primary block header (1 byte):     F=0 | block PT (7)
 *
 * A redundant block carries the audio of an earlier packet: its timestamp is the packet's minus
 * the offset. Parsing never throws; a payload whose lengths do not add up is rejected whole.
 */

export interface RedBlock {
  pt: number;
  /** Timestamp offset back from the packet's timestamp (0 for the primary). */
  tsOffset: number;
  off: number;
  len: number;
  primary: boolean;
}

/** RFC 2198 allows any number of blocks in theory; senders use one or two. */
export const MAX_RED_BLOCKS = 16;

/** The blocks of a RED payload (oldest first, primary last), or null when it is malformed. */
export function parseRed(buf: Uint8Array, off: number, len: number): RedBlock[] | null {
  const end = off + len;
  const heads: { pt: number; tsOffset: number; len: number; primary: boolean }[] = [];
  let p = off;
  for (;;) {
    if (p >= end || heads.length > MAX_RED_BLOCKS) return null;
    const b0 = buf[p]!;
    if ((b0 & 0x80) === 0) {
      heads.push({ pt: b0 & 0x7f, tsOffset: 0, len: -1, primary: true });
      p += 1;
      break;
    }
    if (p + 4 > end) return null;
    const b1 = buf[p + 1]!;
    const b2 = buf[p + 2]!;
    const b3 = buf[p + 3]!;
    heads.push({ pt: b0 & 0x7f, tsOffset: (b1 << 6) | (b2 >> 2), len: ((b2 & 0x03) << 8) | b3, primary: false });
    p += 4;
  }
  const blocks: RedBlock[] = [];
  for (const h of heads) {
    const n = h.primary ? end - p : h.len;
    if (n < 0 || p + n > end) return null;
    blocks.push({ pt: h.pt, tsOffset: h.tsOffset, off: p, len: n, primary: h.primary });
    p += n;
  }
  return blocks;
}
