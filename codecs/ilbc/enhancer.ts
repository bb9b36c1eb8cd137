/**
 * The decoder's enhancer (RFC 3951 §4.6; Appendix A: enhancer.c, filter.c `DownSample`).
 * It works on the residual, 80-sample block by block, with a look-ahead of 40 (20 ms frames) or
 * 80 samples (30 ms) and so delays the output by as much: the pitch of each block is estimated on
 * a 2× decimated signal (§4.6.1); for each block to enhance, the pitch-synchronous segments three
 * periods before and after it are found at ¼-sample resolution (§4.6.2); the block is replaced by
 * a weighted mix of itself and their average, within a bound on the change (§4.6.3-§4.6.5). After
 * a lost frame the concealed look-ahead is re-done, mixing the forward concealment with one
 * predicted backwards from the new frame (§4.5.3).
 */
import { SUBL } from './frame-mode.js';
import { ENH_PLOCS, LP_FILT, POLYPHASER } from './tables.js';

const BLOCK = 80; // ENH_BLOCKL
const HALF_BLOCK = BLOCK / 2;
const HL = 3; // 2·HL + 1 segments (ENH_HL)
const SLOP = 2; // ENH_SLOP: search ± this around the estimated position
const OVERHANG = 2; // ENH_OVERHANG
const UPS = 4; // ENH_UPS0
const FL = 3; // ENH_FL0: upsampling filters of 2·FL + 1 taps
const VECT = BLOCK + 2 * FL; // ENH_VECTL
const NBLOCKS_EXTRA = 5;
const NBLOCKS_TOT = 8;
const BUFL = NBLOCKS_TOT * BLOCK; // ENH_BUFL
const ALPHA0 = 0.05; // largest allowed change, as a fraction of the block's energy
/** Samples decimated for the pitch estimate: 3 blocks and 120 of history (enhancer.c `inLen`). */
const DS_IN = 3 * BLOCK + 120;

/** Weights of the surrounding segments (§4.6.3): a raised cosine, 0 for the centre one. */
const SURROUND_WEIGHT = Float64Array.from({ length: 2 * HL + 1 }, (_, i) => (i === HL ? 0 : 0.5 * (1 - Math.cos((2 * Math.PI * (i + 1)) / (2 * HL + 2)))));

/** Squared correlation over energy of the regressor when the correlation is positive (enhancer.c `xCorrCoef`). */
export function xCorrCoef(x: Float64Array, tOff: number, rOff: number, n: number): number {
  let xy = 0;
  let yy = 0;
  for (let i = 0; i < n; i++) {
    xy += x[tOff + i]! * x[rOff + i]!;
    yy += x[rOff + i]! * x[rOff + i]!;
  }
  return xy > 0 ? (xy * xy) / yy : 0;
}

/** Index of the element of `a` nearest to `v` (enhancer.c `NearestNeighbor`). */
function nearest(a: Float64Array, v: number): number {
  let best = 0;
  let bestD = (a[0]! - v) ** 2;
  for (let i = 1; i < a.length; i++) {
    const d = (a[i]! - v) ** 2;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

export class Enhancer {
  /** The residual of the last 8 blocks, newest last. */
  readonly buf = new Float64Array(BUFL);
  /** Pitch period of each block of `buf`. */
  private readonly period = new Float64Array(NBLOCKS_TOT).fill(40);
  private readonly downsampled = new Float64Array(DS_IN / 2);
  private readonly plcPred = new Float64Array(BLOCK);
  private readonly sseq = new Float64Array((2 * HL + 1) * BLOCK);
  private readonly surround = new Float64Array(BLOCK);
  private readonly vect = new Float64Array(VECT);
  private readonly corr = new Float64Array(2 * SLOP + 1);
  private readonly corrUps = new Float64Array((2 * SLOP + 1) * UPS);
  private readonly startPos = new Float64Array(2 * HL + 1);
  private readonly lagBlock = new Int32Array(2 * HL + 1);
  private readonly plocs2 = new Float64Array(NBLOCKS_TOT);

  constructor(private readonly blockl: number) {}

  /**
   * Takes the frame's residual `res` and writes `blockl` enhanced samples, delayed by 40 (20 ms)
   * or 80 (30 ms) samples, into `out`. `afterLoss`: the previous frame was concealed. Returns the
   * pitch lag the PLC starts from (enhancer.c `enhancerInterface`'s return value).
   */
  enhance(res: Float64Array, out: Float64Array, afterLoss: boolean): number {
    const L = this.blockl;
    const buf = this.buf;
    const period = this.period;
    buf.copyWithin(0, L);
    for (let i = 0; i < L; i++) buf[BUFL - L + i] = res[i]!;
    const plcBlock = L === 240 ? BLOCK : SUBL;
    const ioffset = L === 240 ? 0 : 1; // 20 ms frames: one block less to estimate
    period.copyWithin(0, 3 - ioffset);

    // Pitch per new block on the signal low-passed and decimated by 2 (lags 20-118 samples).
    const inOff = (NBLOCKS_EXTRA + ioffset) * BLOCK - 120;
    const inLen = DS_IN - ioffset * BLOCK;
    const ds = this.downsampled;
    for (let n = 0, i = 3; i <= inLen + 1; n++, i += 2) {
      let o = 0;
      for (let j = 0; j < LP_FILT.length; j++) if (i - j < inLen) o += LP_FILT[j]! * buf[inOff + i - j]!;
      ds[n] = o;
    }
    let lag = 0;
    for (let b = 0; b < 3 - ioffset; b++) {
      const t = 60 + b * HALF_BLOCK;
      lag = 10;
      let maxcc = xCorrCoef(ds, t, t - lag, HALF_BLOCK);
      for (let l = 11; l < 60; l++) {
        const cc = xCorrCoef(ds, t, t - l, HALF_BLOCK);
        if (cc > maxcc) {
          maxcc = cc;
          lag = l;
        }
      }
      period[b + NBLOCKS_EXTRA + ioffset] = lag * 2;
    }

    if (afterLoss) lag = this.smoothAfterLoss(res, plcBlock, ioffset);

    if (L === 240) for (let b = 0; b < 3; b++) this.enhanceBlock(out, b * BLOCK, (4 + b) * BLOCK);
    else for (let b = 0; b < 2; b++) this.enhanceBlock(out, b * BLOCK, (5 + b) * BLOCK + 40);
    return lag * 2;
  }

  /**
   * RFC 3951 §4.5.3 as enhancer.c does it: the concealed samples still ahead of the output (the
   * look-ahead) are cross-faded into a backward prediction from the new frame, one pitch period
   * back, bounded to twice the concealment's level. Returns the lag used.
   */
  private smoothAfterLoss(res: Float64Array, n: number, ioffset: number): number {
    const L = this.blockl;
    const buf = this.buf;
    const inlag = Math.trunc(this.period[NBLOCKS_EXTRA + ioffset]!);
    let lag = inlag - 1;
    let maxcc = xCorrCoef(res, 0, lag, n);
    for (let l = inlag; l <= inlag + 1; l++) {
      const cc = xCorrCoef(res, 0, l, n);
      if (cc > maxcc) {
        maxcc = cc;
        lag = l;
      }
    }
    this.period[NBLOCKS_EXTRA + ioffset - 1] = lag;
    // Backward prediction: the new frame's samples one lag on, then the old signal before them.
    const pred = this.plcPred;
    const last = BUFL - 1 - L; // the previous frame's last sample
    const fromNew = Math.min(lag, n);
    for (let m = 0; m < fromNew; m++) pred[n - 1 - m] = res[lag - 1 - m]!;
    for (let m = 0; m < n - lag; m++) pred[n - 1 - fromNew - m] = buf[last - m]!;
    let e1 = 0;
    let e2 = 0;
    for (let i = 0; i < n; i++) {
      e2 += buf[last - i]! ** 2;
      e1 += pred[i]! ** 2;
    }
    e1 = Math.sqrt(e1 / n);
    e2 = Math.sqrt(e2 / n);
    if (e1 > 2 * e2 && e1 > 0) {
      const g = (2 * e2) / e1;
      for (let i = 0; i < n - 10; i++) pred[i] = pred[i]! * g;
      for (let i = n - 10; i < n; i++) pred[i] = pred[i]! * (((i - n + 10) * (1 - g)) / 10 + g);
    }
    for (let i = 0; i < n; i++) {
      const w = (i + 1) / (n + 1);
      buf[last - i] = buf[last - i]! * w + (1 - w) * pred[n - 1 - i]!;
    }
    return lag;
  }

  /** Enhances buf[center, center + 80) into out[outOff ..] (enhancer.c `enhancer`: getsseq then smath). */
  private enhanceBlock(out: Float64Array, outOff: number, center: number): void {
    this.pitchSynchronousSegments(center);
    const sseq = this.sseq;
    const sur = this.surround;
    for (let i = 0; i < BLOCK; i++) {
      let s = 0;
      for (let k = 0; k <= 2 * HL; k++) if (k !== HL) s += sseq[k * BLOCK + i]! * SURROUND_WEIGHT[k]!;
      sur[i] = s;
    }
    const cur = HL * BLOCK;
    let w00 = 0;
    let w11 = 0;
    let w10 = 0;
    for (let i = 0; i < BLOCK; i++) {
      w00 += sseq[cur + i]! ** 2;
      w11 += sur[i]! ** 2;
      w10 += sur[i]! * sseq[cur + i]!;
    }
    if (Math.abs(w11) < 1) w11 = 1;
    // First the surround scaled to the block's energy; if that changes the block too much, the
    // closest mix of block and surround that keeps the change within ALPHA0 (§4.6.4).
    const c = Math.sqrt(w00 / w11);
    let errs = 0;
    for (let i = 0; i < BLOCK; i++) {
      const o = c * sur[i]!;
      out[outOff + i] = o;
      errs += (sseq[cur + i]! - o) ** 2;
    }
    if (errs > ALPHA0 * w00) {
      if (w00 < 1) w00 = 1;
      const denom = (w11 * w00 - w10 * w10) / (w00 * w00);
      let a = 0;
      let b = 1;
      if (denom > 0.0001) {
        a = Math.sqrt((ALPHA0 - (ALPHA0 * ALPHA0) / 4) / denom);
        b = 1 - ALPHA0 / 2 - (a * w10) / w00;
      }
      for (let i = 0; i < BLOCK; i++) out[outOff + i] = a * sur[i]! + b * sseq[cur + i]!;
    }
  }

  /** The 2·HL + 1 pitch-synchronous segments around buf[center ..] into sseq (enhancer.c `getsseq`). */
  private pitchSynchronousSegments(center: number): void {
    const { sseq, startPos, lagBlock, period, plocs2, buf } = this;
    lagBlock[HL] = nearest(ENH_PLOCS, 0.5 * (center + center + BLOCK - 1));
    startPos[HL] = center;
    for (let i = 0; i < BLOCK; i++) sseq[HL * BLOCK + i] = buf[center + i]!;
    for (let q = HL - 1; q >= 0; q--) {
      const p = period[lagBlock[q + 1]!]!;
      startPos[q] = startPos[q + 1]! - p;
      lagBlock[q] = nearest(ENH_PLOCS, startPos[q]! + HALF_BLOCK - p);
      if (startPos[q]! - OVERHANG >= 0) startPos[q] = this.refine(q, center, startPos[q]!);
      else sseq.fill(0, q * BLOCK, (q + 1) * BLOCK);
    }
    for (let i = 0; i < NBLOCKS_TOT; i++) plocs2[i] = ENH_PLOCS[i]! - period[i]!;
    for (let q = HL + 1; q <= 2 * HL; q++) {
      lagBlock[q] = nearest(plocs2, startPos[q - 1]! + HALF_BLOCK);
      startPos[q] = startPos[q - 1]! + period[lagBlock[q]!]!;
      if (startPos[q]! + BLOCK + OVERHANG < BUFL) startPos[q] = this.refine(q, center, startPos[q]!);
      else sseq.fill(0, q * BLOCK, (q + 1) * BLOCK);
    }
  }

  /**
   * Segment q of sseq: the 80 samples near `est` best correlated with the centre block, found
   * and interpolated at ¼-sample resolution (enhancer.c `refiner`). Returns its refined position.
   */
  private refine(q: number, center: number, est: number): number {
    const buf = this.buf;
    const rounded = Math.trunc(est - 0.5);
    const from = Math.max(rounded - SLOP, 0);
    let to = rounded + SLOP;
    if (to + BLOCK >= BUFL) to = BUFL - BLOCK - 1;
    const dim = to - from + 1;
    const corr = this.corr;
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let j = 0; j < BLOCK; j++) s += buf[from + i + j]! * buf[center + j]!;
      corr[i] = s;
    }
    const ups = this.corrUps;
    upsample(corr, dim, ups);
    let tloc = 0;
    let maxv = ups[0]!;
    for (let i = 1; i < UPS * dim; i++) {
      if (ups[i]! > maxv) {
        tloc = i;
        maxv = ups[i]!;
      }
    }
    const tloc2 = Math.ceil(tloc / UPS);
    const st = from + tloc2 - FL;
    const v = this.vect;
    for (let i = 0; i < VECT; i++) {
      const k = st + i;
      v[i] = k >= 0 && k < BUFL ? buf[k]! : 0;
    }
    // The fractional delay by the polyphase filter of that fraction.
    const frac = (tloc2 * UPS - tloc) * (2 * FL + 1);
    const seg = this.sseq;
    for (let i = 0; i < BLOCK; i++) {
      let s = 0;
      for (let j = 0; j <= 2 * FL; j++) s += v[i + j]! * POLYPHASER[frac + j]!;
      seg[q * BLOCK + i] = s;
    }
    return from + tloc / UPS + 1;
  }
}

/**
 * ×4 upsampling of x[0, dim) by the polyphase filters, zeros outside, shorter filters when
 * `dim` is below their length (enhancer.c `enh_upsample`); 4·dim outputs, phase minor.
 */
function upsample(x: Float64Array, dim: number, out: Float64Array): void {
  let hfl = FL;
  let fl = 2 * FL + 1;
  let shift = 0;
  if (fl > dim) {
    const h2 = dim >> 1;
    shift = hfl - h2;
    hfl = h2;
    fl = 2 * hfl + 1;
  }
  let pu = 0;
  for (let i = hfl; i < fl; i++) {
    for (let j = 0; j < UPS; j++) {
      let s = 0;
      // i − k can pass the end only when dim is even and below the filter length (the
      // reference then reads a stale value; zero is what its comment intends).
      for (let k = 0; k <= i; k++) if (i - k < dim) s += x[i - k]! * POLYPHASER[j * 7 + shift + k]!;
      if (pu < out.length) out[pu] = s;
      pu++;
    }
  }
  for (let i = fl; i < dim; i++) {
    for (let j = 0; j < UPS; j++) {
      let s = 0;
      for (let k = 0; k < fl; k++) s += x[i - k]! * POLYPHASER[j * 7 + shift + k]!;
      out[pu++] = s;
    }
  }
  for (let q = 1; q <= hfl; q++) {
    for (let j = 0; j < UPS; j++) {
      let s = 0;
      for (let k = 0; k < fl - q; k++) s += x[dim - 1 - k]! * POLYPHASER[j * 7 + shift + q + k]!;
      if (pu < out.length) out[pu] = s;
      pu++;
    }
  }
}
