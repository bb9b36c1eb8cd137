/**
 * Reading one iLBC frame's indices (RFC 3951 §3.8): bits are taken most significant first, in
 * the order of the mode's reading program (frame-mode.ts); the frame's last bit is the
 * empty-frame indicator, and a frame whose start-state position is out of range is also treated
 * as lost (RFC 3951 §4 and Appendix A iLBC_decode.c, "bit errors or empty/lost frames").
 */
import { type FrameMode, IDX } from './frame-mode.js';

/**
 * Fills `idx` (IDX layout) from the frame at bytes[off, off + mode.octets) and applies the
 * index conversion of the first coded sub-block's later stages (Appendix A iLBC_decode.c and
 * iCBConstruct.c `index_conv_dec`). Returns false when the frame is to be treated as lost. The caller has
 * checked that the bytes are there.
 */
export function unpackFrame(mode: FrameMode, bytes: Uint8Array, off: number, idx: Int32Array): boolean {
  idx.fill(0);
  const prog = mode.program;
  let bit = off * 8;
  for (let p = 0; p < prog.length; p += 2) {
    const slot = prog[p]!;
    const n = prog[p + 1]!;
    let v = idx[slot]!;
    for (let b = 0; b < n; b++, bit++) v = (v << 1) | ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1);
    idx[slot] = v;
  }
  const emptyFrame = (bytes[bit >> 3]! >> (7 - (bit & 7))) & 1;
  const start = idx[IDX.START]!;
  if (emptyFrame === 1 || start < 1 || start > mode.nsub - 1) return false;
  // The first sub-block's stages 2 and 3 are sent in 7 bits over the parts of the 256-vector
  // codebook that its shorter memory makes reachable.
  for (let k = 1; k < 3; k++) {
    const v = idx[IDX.CB + k]!;
    if (v >= 44 && v < 108) idx[IDX.CB + k] = v + 64;
    else if (v >= 108 && v < 128) idx[IDX.CB + k] = v + 128;
  }
  return true;
}
