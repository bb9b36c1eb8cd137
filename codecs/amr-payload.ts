/**
 * RFC 4867 RTP payload of AMR and AMR-WB, unpacked into frames in the storage format of
 * RFC 4867 §5.3 (one header octet `0 FT Q 0 0`, then the frame's speech bits padded to whole
 * octets), which is what the opencore decoders take.
 *
 * Bandwidth-efficient mode (§4.3, the default): no padding between fields.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  CMR  |F|  FT   |Q|F|  FT   |Q| speech bits of frame 1 ...    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | ... speech bits of frame 2 ...                      | P (0-7) |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Octet-aligned mode (§4.4, `octet-align=1`): every field padded to whole octets.
 *
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  CMR  |R R R R|F|  FT   |Q|P P|F|  FT   |Q|P P| frame 1 octets|
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * CMR is the mode the sender asks the other side to use (15: none); it does not affect
 * decoding. A ToC entry with F = 1 is followed by another; each entry is one 20 ms frame, NO_DATA
 * (FT 15) and AMR-WB SPEECH_LOST (FT 14) included, with no speech bits. Frame types that
 * RFC 4867 §4.3.2 says to discard the packet for (AMR 9-14, AMR-WB 10-13) make it `malformed`.
 * Interleaving, CRCs and robust sorting (§4.4.1-§4.4.2, octet-aligned only) are not parsed:
 * codecs/amr.ts refuses sessions that negotiate them.
 */

export type AmrPayloadStatus = 'ok' | 'truncated' | 'malformed';

/** Speech bits per frame type (RFC 4867 §3.6, Tables 1a and 1b); -1: discard the packet. */
const NB_BITS: readonly number[] = [95, 103, 118, 134, 148, 159, 204, 244, 39, -1, -1, -1, -1, -1, -1, 0];
const WB_BITS: readonly number[] = [132, 177, 253, 285, 317, 365, 397, 461, 477, 40, -1, -1, -1, -1, 0, 0];

/** More frames than this in one payload (over 1.2 s of audio) are refused as malformed. */
export const AMR_MAX_FRAMES = 64;
/** Largest storage-format frame: header octet + 477 bits of AMR-WB 23.85 kbit/s. */
const MAX_STORAGE_FRAME = 1 + 60;

const CMR_SHIFT = 4;
const TOC_F = 0x20;
const TOC_FT_SHIFT = 1;
const OA_F = 0x80;
const OA_FT_SHIFT = 3;
const OA_Q = 0x04;

/** Frames of one payload, written into reused arrays (no allocation per packet). */
export class AmrFrames {
  /** Frames found by the last successful decode. */
  count = 0;
  /** Codec mode request of the last payload (15: no request). */
  cmr = 15;
  readonly ft = new Uint8Array(AMR_MAX_FRAMES);
  readonly q = new Uint8Array(AMR_MAX_FRAMES);
  /** Offset and length in `buf` of each frame in storage format. */
  readonly off = new Int32Array(AMR_MAX_FRAMES);
  readonly len = new Int32Array(AMR_MAX_FRAMES);
  readonly buf = new Uint8Array(AMR_MAX_FRAMES * MAX_STORAGE_FRAME);
}

/** Reads `n` ≤ 8 bits at absolute bit position `pos` (MSB first); the caller checked the length. */
function bits(p: Uint8Array, pos: number, n: number): number {
  const i = pos >> 3;
  const word = (p[i]! << 8) | (p[i + 1] ?? 0);
  return (word >> (16 - (pos & 7) - n)) & ((1 << n) - 1);
}

/**
 * Copies `n` bits from bit position `pos` of `src` to whole octets at `dst[at]`, MSB first, the
 * unused low bits of the last octet cleared. Bits past `n` may be read but are masked away.
 */
function copyBits(src: Uint8Array, pos: number, n: number, dst: Uint8Array, at: number): void {
  const octets = (n + 7) >> 3;
  const first = pos >> 3;
  const shift = pos & 7;
  for (let k = 0; k < octets; k++) {
    const hi = src[first + k] ?? 0;
    dst[at + k] = shift === 0 ? hi : ((hi << shift) | ((src[first + k + 1] ?? 0) >> (8 - shift))) & 0xff;
  }
  const rest = n & 7;
  if (rest !== 0) dst[at + octets - 1]! &= (0xff << (8 - rest)) & 0xff;
}

/**
 * Unpacks payload[off, off + len) into `out`. On anything but 'ok', `out.count` is 0: a
 * packet is decoded whole or not at all (RFC 4867 §4.3.2 / §4.4.2 on damaged packets).
 */
export function decodeAmrPayload(
  payload: Uint8Array,
  off: number,
  len: number,
  wideband: boolean,
  octetAligned: boolean,
  out: AmrFrames,
): AmrPayloadStatus {
  out.count = 0;
  if (off < 0 || len < 1 || off + len > payload.length) return 'truncated';
  const table = wideband ? WB_BITS : NB_BITS;
  const status = octetAligned ? unpackOctetAligned(payload, off, len, table, out) : unpackBandwidthEfficient(payload, off, len, table, out);
  if (status !== 'ok') out.count = 0;
  return status;
}

function unpackBandwidthEfficient(p: Uint8Array, off: number, len: number, table: readonly number[], out: AmrFrames): AmrPayloadStatus {
  const end = (off + len) * 8;
  let pos = off * 8;
  out.cmr = bits(p, pos, 4);
  pos += 4;
  let n = 0;
  for (let more = true; more; n++) {
    if (pos + 6 > end) return 'truncated';
    if (n === AMR_MAX_FRAMES) return 'malformed';
    const entry = bits(p, pos, 6);
    pos += 6;
    more = (entry & TOC_F) !== 0;
    const ft = (entry >> TOC_FT_SHIFT) & 0x0f;
    if (table[ft]! < 0) return 'malformed';
    out.ft[n] = ft;
    out.q[n] = entry & 1;
  }
  let at = 0;
  for (let i = 0; i < n; i++) {
    const ft = out.ft[i]!;
    const size = table[ft]!;
    if (pos + size > end) return 'truncated';
    out.buf[at] = (ft << 3) | (out.q[i]! << 2);
    copyBits(p, pos, size, out.buf, at + 1);
    out.off[i] = at;
    out.len[i] = 1 + ((size + 7) >> 3);
    at += out.len[i]!;
    pos += size;
  }
  out.count = n;
  return 'ok';
}

function unpackOctetAligned(p: Uint8Array, off: number, len: number, table: readonly number[], out: AmrFrames): AmrPayloadStatus {
  const end = off + len;
  let pos = off;
  out.cmr = p[pos++]! >> CMR_SHIFT;
  let n = 0;
  for (let more = true; more; n++) {
    if (pos >= end) return 'truncated';
    if (n === AMR_MAX_FRAMES) return 'malformed';
    const entry = p[pos++]!;
    more = (entry & OA_F) !== 0;
    const ft = (entry >> OA_FT_SHIFT) & 0x0f;
    if (table[ft]! < 0) return 'malformed';
    out.ft[n] = ft;
    out.q[n] = (entry & OA_Q) !== 0 ? 1 : 0;
  }
  let at = 0;
  for (let i = 0; i < n; i++) {
    const ft = out.ft[i]!;
    const octets = (table[ft]! + 7) >> 3;
    if (pos + octets > end) return 'truncated';
    out.buf[at] = (ft << 3) | (out.q[i]! << 2);
    out.buf.set(p.subarray(pos, pos + octets), at + 1);
    out.off[i] = at;
    out.len[i] = 1 + octets;
    at += 1 + octets;
    pos += octets;
  }
  out.count = n;
  return 'ok';
}

/**
 * Packs frames given in storage format into an RFC 4867 payload (the inverse of
 * decodeAmrPayload; tests use it to build payloads from `.amr`/`.awb` files). Returns the
 * payload length, or -1 when `dst` is too small or a frame type is invalid.
 */
export function encodeAmrPayload(
  frames: readonly Uint8Array[],
  cmr: number,
  wideband: boolean,
  octetAligned: boolean,
  dst: Uint8Array,
): number {
  const table = wideband ? WB_BITS : NB_BITS;
  const fts: number[] = [];
  let total = octetAligned ? 8 * (1 + frames.length) : 4 + 6 * frames.length;
  for (const f of frames) {
    const ft = ((f[0] ?? 0) >> 3) & 0x0f;
    const size = table[ft]!;
    if (size < 0 || f.length < 1 + ((size + 7) >> 3)) return -1;
    fts.push(ft);
    total += octetAligned ? ((size + 7) >> 3) * 8 : size;
  }
  const octets = (total + 7) >> 3;
  if (octets > dst.length) return -1;
  dst.fill(0, 0, octets);
  let pos = 0;
  const put = (value: number, n: number): void => {
    for (let k = n - 1; k >= 0; k--, pos++) if (((value >> k) & 1) !== 0) dst[pos >> 3]! |= 0x80 >> (pos & 7);
  };
  put(cmr, 4);
  if (octetAligned) put(0, 4);
  frames.forEach((f, i) => {
    const q = ((f[0] ?? 0) >> 2) & 1;
    put(i < frames.length - 1 ? 1 : 0, 1);
    put(fts[i]!, 4);
    put(q, 1);
    if (octetAligned) put(0, 2);
  });
  frames.forEach((f, i) => {
    const size = table[fts[i]!]!;
    const n = octetAligned ? ((size + 7) >> 3) * 8 : size;
    for (let b = 0; b < n; b++) put(b < size ? (f[1 + (b >> 3)]! >> (7 - (b & 7))) & 1 : 0, 1);
  });
  return octets;
}
