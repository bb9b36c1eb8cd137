/**
 * LPC filter reconstruction (RFC 3951 §4.1, §3.2; Appendix A: lsf.c,
 * LPCdecode.c, helpfun.c): split-VQ dequantisation of the LSFs, the stability check,
 * interpolation per 40-sample sub-block and conversion of each LSF vector to LPC coefficients.
 */
import { type FrameMode, IDX, LPC_ORDER } from './frame-mode.js';
import { LSF_CB, LSF_CB_DIM, LSF_CB_SIZE, LSF_WEIGHT_20MS, LSF_WEIGHT_30MS } from './tables.js';

const HALF_ORDER = LPC_ORDER / 2;
const TWO_PI = 6.283185307;
const PI2 = 0.159154943; // 1 / (2π), as iLBC_define.h rounds it

/** The LSF vectors of a frame (`lpcN` × 10) from their split-VQ indices. */
export function dequantLsf(idx: Int32Array, lpcN: number, lsf: Float64Array): void {
  for (let v = 0; v < lpcN; v++) {
    let pos = v * LPC_ORDER;
    let cbPos = 0;
    for (let s = 0; s < 3; s++) {
      const dim = LSF_CB_DIM[s]!;
      const base = cbPos + idx[IDX.LSF + 3 * v + s]! * dim;
      for (let j = 0; j < dim; j++) lsf[pos + j] = LSF_CB[base + j]!;
      pos += dim;
      cbPos += LSF_CB_SIZE[s]! * dim;
    }
  }
}

/**
 * RFC 3951 §3.2's stability check, as helpfun.c `LSF_check` runs it: neighbours closer than
 * 50 Hz are pushed apart, values kept inside (0 Hz, 4000 Hz], twice over.
 */
export function stabiliseLsf(lsf: Float64Array, count: number): void {
  const eps = 0.039;
  const eps2 = 0.0195;
  for (let n = 0; n < 2; n++) {
    for (let m = 0; m < count; m++) {
      for (let k = 0; k < LPC_ORDER - 1; k++) {
        const pos = m * LPC_ORDER + k;
        if (lsf[pos + 1]! - lsf[pos]! < eps) {
          if (lsf[pos + 1]! < lsf[pos]!) {
            // LSF_check sets the upper one eps2 above the lower, which stays where it was.
            lsf[pos + 1] = lsf[pos]! + eps2;
          } else {
            lsf[pos] = lsf[pos]! - eps2;
            lsf[pos + 1] = lsf[pos + 1]! + eps2;
          }
        }
        if (lsf[pos]! < 0.01) lsf[pos] = 0.01;
        if (lsf[pos]! > 3.14) lsf[pos] = 3.14;
      }
    }
  }
}

/** Scratch of lsfToLpc, owned by one decoder. */
export class LsfScratch {
  readonly freq = new Float64Array(LPC_ORDER);
  readonly p = new Float64Array(HALF_ORDER);
  readonly q = new Float64Array(HALF_ORDER);
  readonly a = new Float64Array(HALF_ORDER + 1);
  readonly a1 = new Float64Array(HALF_ORDER);
  readonly a2 = new Float64Array(HALF_ORDER);
  readonly b = new Float64Array(HALF_ORDER + 1);
  readonly b1 = new Float64Array(HALF_ORDER);
  readonly b2 = new Float64Array(HALF_ORDER);
}

/** One step of the polynomial recursion of lsf.c `lsf2a` over both halves. */
function recurse(s: LsfScratch): void {
  const { p, q, a, a1, a2, b, b1, b2 } = s;
  for (let i = 0; i < HALF_ORDER; i++) {
    a[i + 1] = a[i]! - 2 * p[i]! * a1[i]! + a2[i]!;
    b[i + 1] = b[i]! - 2 * q[i]! * b1[i]! + b2[i]!;
    a2[i] = a1[i]!;
    a1[i] = a[i]!;
    b2[i] = b1[i]!;
    b1[i] = b[i]!;
  }
}

/**
 * LPC coefficients a[aOff .. aOff + 10] (a[aOff] = 1) of the LSF vector `freq` (radians, in
 * s.freq), by the recursion of the sum and difference polynomials (RFC 3951 §3.2, lsf.c `lsf2a`).
 */
function lsfToLpc(s: LsfScratch, out: Float64Array, aOff: number): void {
  const f = s.freq;
  for (let i = 0; i < LPC_ORDER; i++) f[i] = f[i]! * PI2;
  // Ill-conditioned vectors (first at or below 0, last at or above half the rate) are spread evenly.
  if (f[0]! <= 0 || f[LPC_ORDER - 1]! >= 0.5) {
    if (f[0]! <= 0) f[0] = 0.022;
    if (f[LPC_ORDER - 1]! >= 0.5) f[LPC_ORDER - 1] = 0.499;
    const step = (f[LPC_ORDER - 1]! - f[0]!) / (LPC_ORDER - 1);
    for (let i = 1; i < LPC_ORDER; i++) f[i] = f[i - 1]! + step;
  }
  const { p, q, a, a1, a2, b, b1, b2 } = s;
  a1.fill(0);
  a2.fill(0);
  b1.fill(0);
  b2.fill(0);
  a.fill(0);
  b.fill(0);
  for (let i = 0; i < HALF_ORDER; i++) {
    p[i] = Math.cos(TWO_PI * f[2 * i]!);
    q[i] = Math.cos(TWO_PI * f[2 * i + 1]!);
  }
  a[0] = 0.25;
  b[0] = 0.25;
  recurse(s);
  for (let j = 0; j < LPC_ORDER; j++) {
    if (j === 0) {
      a[0] = 0.25;
      b[0] = -0.25;
    } else {
      a[0] = 0;
      b[0] = 0;
    }
    recurse(s);
    out[aOff + j + 1] = 2 * (a[HALF_ORDER]! + b[HALF_ORDER]!);
  }
  out[aOff] = 1;
}

/** LPC of `w·lsf1 + (1 − w)·lsf2` into out[aOff ..] (LPCdecode.c `LSFinterpolate2a_dec`). */
function interpolatedLpc(s: LsfScratch, lsf1: Float64Array, off1: number, lsf2: Float64Array, off2: number, w: number, out: Float64Array, aOff: number): void {
  for (let i = 0; i < LPC_ORDER; i++) s.freq[i] = w * lsf1[off1 + i]! + (1 - w) * lsf2[off2 + i]!;
  lsfToLpc(s, out, aOff);
}

/**
 * The synthesis filter of every sub-block (`nsub` × 11 coefficients into `synt`) from the
 * frame's LSFs and the previous frame's last LSF vector `lsfOld`, which is then updated
 * (RFC 3951 §3.2, LPCdecode.c `DecoderInterpolateLSF`).
 */
export function interpolateLpc(s: LsfScratch, mode: FrameMode, lsf: Float64Array, lsfOld: Float64Array, synt: Float64Array): void {
  const n = LPC_ORDER + 1;
  if (mode.lpcN === 2) {
    // 30 ms: sub-block 1 between the old and the first vector, then between first and second.
    interpolatedLpc(s, lsfOld, 0, lsf, 0, LSF_WEIGHT_30MS[0]!, synt, 0);
    for (let i = 1; i < mode.nsub; i++) interpolatedLpc(s, lsf, 0, lsf, LPC_ORDER, LSF_WEIGHT_30MS[i]!, synt, i * n);
    for (let i = 0; i < LPC_ORDER; i++) lsfOld[i] = lsf[LPC_ORDER + i]!;
  } else {
    for (let i = 0; i < mode.nsub; i++) interpolatedLpc(s, lsfOld, 0, lsf, 0, LSF_WEIGHT_20MS[i]!, synt, i * n);
    for (let i = 0; i < LPC_ORDER; i++) lsfOld[i] = lsf[i]!;
  }
}
