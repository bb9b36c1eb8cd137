/**
 * The decoder's output filters: LPC synthesis per sub-block (RFC 3951 §4.7; Appendix A
 * syntFilter.c) and the output high-pass (§4.8; hpOutput.c, second order, removing the lowest
 * frequencies).
 */
import { LPC_ORDER } from './frame-mode.js';
import { HPO_POLE, HPO_ZERO } from './tables.js';

/**
 * All-pole filtering of x[off, off + len) in place by 1/A(z), A = a[aOff .. aOff + 10] with
 * a[aOff] = 1; `mem` holds the last 10 outputs, oldest first, and is updated.
 */
export function synthesize(x: Float64Array, off: number, len: number, a: Float64Array, aOff: number, mem: Float64Array): void {
  for (let n = 0; n < len; n++) {
    let acc = x[off + n]!;
    for (let k = 1; k <= LPC_ORDER; k++) {
      const back = n - k;
      acc -= a[aOff + k]! * (back >= 0 ? x[off + back]! : mem[LPC_ORDER + back]!);
    }
    x[off + n] = acc;
  }
  for (let k = 0; k < LPC_ORDER; k++) mem[k] = x[off + len - LPC_ORDER + k]!;
}

/**
 * The output high-pass into `out` as 16-bit samples (as Appendix A iLBC_test.c converts: clamped, truncated
 * towards zero). `mem`: [x(n−1), x(n−2), y(n−1), y(n−2)].
 */
export function highPassToPcm(x: Float64Array, len: number, mem: Float64Array, out: Int16Array, outOff: number): void {
  for (let n = 0; n < len; n++) {
    const xn = x[n]!;
    const y = HPO_ZERO[0]! * xn + HPO_ZERO[1]! * mem[0]! + HPO_ZERO[2]! * mem[1]! - HPO_POLE[1]! * mem[2]! - HPO_POLE[2]! * mem[3]!;
    mem[1] = mem[0]!;
    mem[0] = xn;
    mem[3] = mem[2]!;
    mem[2] = y;
    out[outOff + n] = y >= 32767 ? 32767 : y <= -32768 ? -32768 : Math.trunc(y);
  }
}
