/**
 * The excitation decoding loop (RFC 3951 §4.3; Appendix A iLBC_decode.c `Decode`): the start
 * state, its adaptive-codebook extension to 80 samples (after it, or before it time-reversed),
 * then the sub-blocks after the start state in time order and those before it time-reversed,
 * each from a codebook over the residual decoded so far.
 */
import { CodebookDecoder } from './codebook.js';
import { BLOCKL_MAX, CB_MEML, CB_NSTAGES, type FrameMode, IDX, LPC_ORDER, ST_MEM_L, STATE_LEN, SUBL } from './frame-mode.js';
import { StartStateDecoder } from './start-state.js';

export class ResidualDecoder {
  private readonly mem = new Float64Array(CB_MEML);
  private readonly reversed = new Float64Array(BLOCKL_MAX);
  private readonly state = new StartStateDecoder();
  private readonly cb = new CodebookDecoder();

  /** The frame's residual into `res` (mode.blockl samples) from its indices and sub-block filters. */
  decode(mode: FrameMode, idx: Int32Array, synt: Float64Array, res: Float64Array): void {
    const mem = this.mem;
    const rev = this.reversed;
    const ssl = mode.stateShortLen;
    const start = idx[IDX.START]!;
    const diff = STATE_LEN - ssl;
    const stateFirst = idx[IDX.STATE_FIRST] === 1;
    // The scalar part sits first or last in the two start sub-blocks; the rest is codebook-coded.
    const startPos = (start - 1) * SUBL + (stateFirst ? 0 : diff);
    this.state.decode(idx[IDX.SCALE]!, idx, IDX.STATE, synt, (start - 1) * (LPC_ORDER + 1), res, startPos, ssl);
    const extraMem = CB_MEML - ST_MEM_L;
    if (stateFirst) {
      mem.fill(0, 0, CB_MEML - ssl);
      for (let k = 0; k < ssl; k++) mem[CB_MEML - ssl + k] = res[startPos + k]!;
      this.cb.construct(res, startPos + ssl, idx, IDX.EXTRA_CB, idx, IDX.EXTRA_GAIN, mem, extraMem, ST_MEM_L, diff);
    } else {
      // Predicted backwards in time: memory and result are time-reversed.
      for (let k = 0; k < ssl; k++) mem[CB_MEML - 1 - k] = res[startPos + k]!;
      mem.fill(0, 0, CB_MEML - ssl);
      this.cb.construct(rev, 0, idx, IDX.EXTRA_CB, idx, IDX.EXTRA_GAIN, mem, extraMem, ST_MEM_L, diff);
      for (let k = 0; k < diff; k++) res[startPos - 1 - k] = rev[k]!;
    }

    let sub = 0; // coded sub-blocks used so far
    const nFor = mode.nsub - start - 1;
    if (nFor > 0) {
      mem.fill(0, 0, CB_MEML - STATE_LEN);
      for (let k = 0; k < STATE_LEN; k++) mem[CB_MEML - STATE_LEN + k] = res[(start - 1) * SUBL + k]!;
      for (let s = 0; s < nFor; s++, sub++) {
        const at = (start + 1 + s) * SUBL;
        this.cb.construct(res, at, idx, IDX.CB + sub * CB_NSTAGES, idx, IDX.GAIN + sub * CB_NSTAGES, mem, 0, CB_MEML, SUBL);
        mem.copyWithin(0, SUBL);
        for (let k = 0; k < SUBL; k++) mem[CB_MEML - SUBL + k] = res[at + k]!;
      }
    }
    const nBack = start - 1;
    if (nBack > 0) {
      const got = Math.min(SUBL * (mode.nsub + 1 - start), CB_MEML);
      for (let k = 0; k < got; k++) mem[CB_MEML - 1 - k] = res[(start - 1) * SUBL + k]!;
      mem.fill(0, 0, CB_MEML - got);
      for (let s = 0; s < nBack; s++, sub++) {
        const at = s * SUBL;
        this.cb.construct(rev, at, idx, IDX.CB + sub * CB_NSTAGES, idx, IDX.GAIN + sub * CB_NSTAGES, mem, 0, CB_MEML, SUBL);
        mem.copyWithin(0, SUBL);
        for (let k = 0; k < SUBL; k++) mem[CB_MEML - SUBL + k] = rev[at + k]!;
      }
      for (let i = 0; i < SUBL * nBack; i++) res[SUBL * nBack - 1 - i] = rev[i]!;
    }
  }
}
