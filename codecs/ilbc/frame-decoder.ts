/**
 * One iLBC decoder state for one frame size (RFC 3951 §4; Appendix A iLBC_decode.c, without
 * the §4.6 enhancer, as libavcodec decodes): frame in, 160 or 240 16-bit samples out. A frame
 * flagged empty or with an impossible start-state position, and a frame that never came
 * (`conceal`), are concealed (§4.5). Every buffer is allocated here, none per frame.
 */
import { highPassToPcm, synthesize } from './filters.js';
import { BLOCKL_MAX, type FrameMode, IDX, LPC_ORDER, NSUB_MAX, SUBL } from './frame-mode.js';
import { LsfScratch, dequantLsf, interpolateLpc, stabiliseLsf } from './lsf.js';
import { PacketLossConcealer } from './plc.js';
import { ResidualDecoder } from './residual.js';
import { LSF_MEAN } from './tables.js';
import { unpackFrame } from './unpack.js';

const NA = LPC_ORDER + 1;

export class IlbcFrameDecoder {
  private readonly idx = new Int32Array(IDX.COUNT);
  private readonly lsf = new Float64Array(2 * LPC_ORDER);
  private readonly lsfOld = Float64Array.from(LSF_MEAN);
  private readonly lsfScratch = new LsfScratch();
  /** Synthesis filters of this frame's sub-blocks. */
  private readonly synt = new Float64Array(NSUB_MAX * NA);
  private readonly syntMem = new Float64Array(LPC_ORDER);
  private readonly hpMem = new Float64Array(4);
  private readonly residual = new Float64Array(BLOCKL_MAX);
  private readonly data = new Float64Array(BLOCKL_MAX);
  private readonly plcLpc = new Float64Array(NA);
  private readonly residualDecoder = new ResidualDecoder();
  private readonly plc: PacketLossConcealer;
  /** Pitch lag of the last frame, where the concealment's lag search starts. */
  private lastLag = 20;

  constructor(readonly mode: FrameMode) {
    this.plc = new PacketLossConcealer(mode.blockl);
  }

  /**
   * Decodes the frame at bytes[off, off + mode.octets) (the caller checked the length) into
   * out[outOff, outOff + mode.blockl). Returns false when the frame was concealed instead.
   */
  decode(bytes: Uint8Array, off: number, out: Int16Array, outOff: number): boolean {
    const { mode, idx, lsf, synt } = this;
    if (!unpackFrame(mode, bytes, off, idx)) {
      this.conceal(out, outOff);
      return false;
    }
    dequantLsf(idx, mode.lpcN, lsf);
    stabiliseLsf(lsf, mode.lpcN);
    interpolateLpc(this.lsfScratch, mode, lsf, this.lsfOld, synt);
    this.residualDecoder.decode(mode, idx, synt, this.residual);
    this.plc.received(this.residual, synt, (mode.nsub - 1) * NA);
    this.finish(out, outOff);
    return true;
  }

  /** A lost frame (RFC 3951 §4.5.2): mode.blockl concealed samples into out[outOff ..]. */
  conceal(out: Int16Array, outOff: number): void {
    const { mode, synt, plcLpc } = this;
    this.plc.conceal(this.lastLag, this.residual, plcLpc);
    for (let i = 0; i < mode.nsub; i++) synt.set(plcLpc, i * NA);
    this.finish(out, outOff);
  }

  /** The concealment's lag estimate, synthesis, high-pass. */
  private finish(out: Int16Array, outOff: number): void {
    const { mode, synt, residual, data, syntMem } = this;
    const L = mode.blockl;
    this.lastLag = lastLagOf(residual, L);
    for (let i = 0; i < L; i++) data[i] = residual[i]!;
    for (let i = 0; i < mode.nsub; i++) synthesize(data, i * SUBL, SUBL, synt, i * NA, syntMem);
    highPassToPcm(data, L, this.hpMem, out, outOff);
  }
}

/** Squared correlation over energy of the regressor when the correlation is positive (enhancer.c `xCorrCoef`). */
function xCorrCoef(x: Float64Array, tOff: number, rOff: number, n: number): number {
  let xy = 0;
  let yy = 0;
  for (let i = 0; i < n; i++) {
    xy += x[tOff + i]! * x[rOff + i]!;
    yy += x[rOff + i]! * x[rOff + i]!;
  }
  return xy > 0 ? (xy * xy) / yy : 0;
}

/**
 * The lag the PLC starts from, as iLBC_decode.c finds it without the enhancer (which would
 * otherwise report it): the best of 20-119 samples for the last 80 of a 30 ms frame.
 * iLBC_decode.c takes the same window, at the end of a 240-sample buffer, for 20 ms frames too,
 * past the frame's 160 samples; here a 20 ms frame uses its last 60 samples and lags up to 99,
 * the most its length allows.
 */
function lastLagOf(res: Float64Array, L: number): number {
  const n = L === 240 ? 80 : 60;
  const maxLag = L === 240 ? 119 : L - n - 1;
  const t = L - n;
  let lag = 20;
  let maxcc = xCorrCoef(res, t, t - lag, n);
  for (let l = 21; l <= maxLag; l++) {
    const cc = xCorrCoef(res, t, t - l, n);
    if (cc > maxcc) {
      maxcc = cc;
      lag = l;
    }
  }
  return lag;
}
