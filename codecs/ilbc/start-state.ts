/**
 * Start-state reconstruction (RFC 3951 §4.2, §3.5; Appendix A StateConstructW.c): the
 * scalar-quantised samples, scaled by the decoded maximum amplitude, are filtered circularly
 * (zero-padded to twice their length, the two halves added) by the all-pass filter whose
 * denominator is the sub-block's synthesis filter, and time-reversed back.
 */
import { LPC_ORDER, STATE_LEN } from './frame-mode.js';
import { STATE_FRGQ, STATE_SQ3 } from './tables.js';

const BUF = LPC_ORDER + 2 * STATE_LEN;

export class StartStateDecoder {
  private readonly input = new Float64Array(BUF);
  private readonly output = new Float64Array(BUF);
  private readonly numerator = new Float64Array(LPC_ORDER + 1);

  /**
   * Writes the `len` start-state samples into out[outOff ..]. `synt` at `aOff` is the start
   * sub-block's synthesis filter (11 coefficients); `idx` at `stateOff` the sample indices.
   */
  decode(scaleIdx: number, idx: Int32Array, stateOff: number, synt: Float64Array, aOff: number, out: Float64Array, outOff: number, len: number): void {
    const x = this.input;
    const y = this.output;
    const num = this.numerator;
    const maxVal = 10 ** STATE_FRGQ[scaleIdx]! / 4.5;
    // The all-pass numerator is the denominator reversed.
    for (let k = 0; k < LPC_ORDER; k++) num[k] = synt[aOff + LPC_ORDER - k]!;
    num[LPC_ORDER] = synt[aOff]!;
    x.fill(0);
    y.fill(0, 0, LPC_ORDER);
    // Samples in reverse order (the encoder filtered the time-reversed target).
    for (let k = 0; k < len; k++) x[LPC_ORDER + k] = maxVal * STATE_SQ3[idx[stateOff + len - 1 - k]!]!;
    const end = LPC_ORDER + 2 * len;
    for (let n = LPC_ORDER; n < end; n++) {
      let acc = 0;
      for (let k = 0; k <= LPC_ORDER; k++) acc += num[k]! * x[n - k]!;
      for (let k = 1; k <= LPC_ORDER; k++) acc -= synt[aOff + k]! * y[n - k]!;
      y[n] = acc;
    }
    for (let k = 0; k < len; k++) out[outOff + k] = y[LPC_ORDER + len - 1 - k]! + y[LPC_ORDER + 2 * len - 1 - k]!;
  }
}
