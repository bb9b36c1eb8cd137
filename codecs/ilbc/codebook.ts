/**
 * The adaptive codebook and its three-stage vector construction (RFC 3951 §4.4, §3.6;
 * Appendix A: getCBvec.c, iCBConstruct.c, gainquant.c). The codebook is built
 * from the decoded residual so far (`lMem` samples of memory): vectors taken straight from the
 * memory at every lag, then (for 40-sample vectors) interpolated ones for the lags shorter than
 * a vector, then the same again on the memory filtered by the expansion filter.
 */
import { CB_MEML, SUBL } from './frame-mode.js';
import { CB_FILTER, GAIN_SQ3, GAIN_SQ4, GAIN_SQ5 } from './tables.js';

const FILTER_LEN = CB_FILTER.length;
const HALF_FILTER = FILTER_LEN / 2;

export class CodebookDecoder {
  /** The memory zero-padded for the expansion filter (getCBvec.c `tempbuff2`). */
  private readonly padded = new Float64Array(CB_MEML + FILTER_LEN + 1);
  /** The filtered memory (getCBvec.c `tmpbuf`). */
  private readonly filtered = new Float64Array(CB_MEML);
  private readonly vec = new Float64Array(SUBL);

  /**
   * Codebook vector `index` of length `len` into this.vec, from mem[memOff, memOff + lMem).
   * Indices beyond the codebook (impossible with the RFC's bit allocation) give zeros.
   */
  private vector(mem: Float64Array, memOff: number, lMem: number, index: number, len: number): Float64Array {
    const out = this.vec;
    const lags = lMem - len + 1;
    const baseSize = len === SUBL ? lags + (len >> 1) : lags;
    if (index < lags) {
      const from = memOff + lMem - (index + len);
      for (let j = 0; j < len; j++) out[j] = mem[from + j]!;
    } else if (index < baseSize) {
      interpolate(mem, memOff, lMem, 2 * (index - lags) + len, len, out);
    } else {
      const rel = index - baseSize;
      const k = rel < lags ? rel + len : 2 * (rel - lags) + len;
      if (k > lMem) {
        out.fill(0, 0, len);
        return out;
      }
      // Filter the last k samples of the memory with the expansion filter (zero outside it).
      const pad = this.padded;
      pad.fill(0, 0, HALF_FILTER);
      for (let i = 0; i < lMem; i++) pad[HALF_FILTER + i] = mem[memOff + i]!;
      pad.fill(0, lMem + HALF_FILTER, lMem + FILTER_LEN + 1);
      const sFilt = lMem - k;
      const f = this.filtered;
      const count = rel < lags ? len : k;
      for (let i = 0; i < count; i++) {
        let acc = 0;
        for (let j = 0; j < FILTER_LEN; j++) acc += pad[sFilt + 1 + i + j]! * CB_FILTER[FILTER_LEN - 1 - j]!;
        f[sFilt + i] = acc;
      }
      if (rel < lags) for (let j = 0; j < len; j++) out[j] = f[sFilt + j]!;
      else interpolate(f, 0, lMem, k, len, out);
    }
    return out;
  }

  /**
   * Sums the three stages' gain-scaled codebook vectors into out[outOff, outOff + len)
   * (iCBConstruct.c). Gains are dequantised stage by stage, each scaled by the previous
   * stage's magnitude (at least 0.1): 5, 4 and 3 bits (gainquant.c `gaindequant`).
   */
  construct(out: Float64Array, outOff: number, cb: Int32Array, cbOff: number, gain: Int32Array, gainOff: number, mem: Float64Array, memOff: number, lMem: number, len: number): void {
    const g0 = GAIN_SQ5[gain[gainOff]!]!;
    const g1 = Math.max(Math.abs(g0), 0.1) * GAIN_SQ4[gain[gainOff + 1]!]!;
    const g2 = Math.max(Math.abs(g1), 0.1) * GAIN_SQ3[gain[gainOff + 2]!]!;
    let v = this.vector(mem, memOff, lMem, cb[cbOff]!, len);
    for (let j = 0; j < len; j++) out[outOff + j] = g0 * v[j]!;
    v = this.vector(mem, memOff, lMem, cb[cbOff + 1]!, len);
    for (let j = 0; j < len; j++) out[outOff + j] = out[outOff + j]! + g1 * v[j]!;
    v = this.vector(mem, memOff, lMem, cb[cbOff + 2]!, len);
    for (let j = 0; j < len; j++) out[outOff + j] = out[outOff + j]! + g2 * v[j]!;
  }
}

/**
 * A vector for a lag k shorter than the vector (getCBvec.c): the last k/2 samples repeated, with a
 * 5-sample linear cross-fade into the samples k back.
 */
function interpolate(src: Float64Array, off: number, lMem: number, k: number, len: number, out: Float64Array): void {
  const half = k >> 1;
  const low = half - 5;
  for (let j = 0; j < low; j++) out[j] = src[off + lMem - half + j]!;
  let alfa = 0;
  for (let j = low; j < half; j++) {
    out[j] = (1 - alfa) * src[off + lMem - half + j]! + alfa * src[off + lMem - k + j]!;
    alfa += 0.2;
  }
  for (let j = half; j < len; j++) out[j] = src[off + lMem - k + j]!;
}
