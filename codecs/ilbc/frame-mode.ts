/**
 * The two iLBC frame sizes (RFC 3951 §1, §3; constants of Appendix A iLBC_define.h) and the
 * order in which a frame's bits are read (§3.8): all parameters' class-1 bits, then class 2,
 * then class 3, then the empty-frame indicator.
 */
import { type UlpTable, ULP_20MS, ULP_30MS } from './tables.js';

/** Sub-block length (SUBL), LPC order, start-state length (STATE_LEN), codebook stages. */
export const SUBL = 40;
export const LPC_ORDER = 10;
export const STATE_LEN = 80;
export const CB_NSTAGES = 3;
/** Codebook memory (CB_MEML) and the memory of the start state's adaptive part (stMemLTbl). */
export const CB_MEML = 147;
export const ST_MEM_L = 85;
export const BLOCKL_MAX = 240;
export const NSUB_MAX = 6;

/**
 * Where each decoded index sits in a frame's Int32Array of indices (the RFC decoder's
 * `lsf_i`, `start`, `state_first`, `idxForMax`, `idxVec`, `extra_cb_index`, `extra_gain_index`,
 * `cb_index`, `gain_index`).
 */
export const IDX = {
  LSF: 0, // 3 per LSF vector, 2 vectors in 30 ms frames
  START: 6,
  STATE_FIRST: 7,
  SCALE: 8,
  STATE: 9, // up to 58 samples
  EXTRA_CB: 67, // 3 stages
  EXTRA_GAIN: 70,
  CB: 73, // 3 stages × up to 4 sub-blocks
  GAIN: 85,
  COUNT: 97,
} as const;

export interface FrameMode {
  readonly ms: 20 | 30;
  /** Samples per frame (BLOCKL), sub-blocks (NSUB), coded sub-blocks outside the start state (NASUB). */
  readonly blockl: number;
  readonly nsub: number;
  readonly nasub: number;
  /** LSF vectors per frame (LPC_N). */
  readonly lpcN: number;
  /** Scalar-coded start-state samples (STATE_SHORT_LEN): 57 (20 ms) or 58 (30 ms). */
  readonly stateShortLen: number;
  readonly octets: number;
  /**
   * The reading program: pairs (index slot in IDX layout, bits), in bitstream order; each read
   * appends its bits below those already read for that slot (the RFC's `packcombine`).
   */
  readonly program: Int32Array;
}

/** The reading program of RFC 3951 §3.8 for one bit allocation. */
function readingProgram(ulp: UlpTable, lpcN: number, stateShortLen: number, nasub: number): Int32Array {
  const steps: number[] = [];
  const add = (slot: number, bits: number): void => {
    if (bits > 0) steps.push(slot, bits);
  };
  for (let cls = 0; cls < 3; cls++) {
    for (let k = 0; k < 3 * lpcN; k++) add(IDX.LSF + k, ulp.lsf[k]![cls]!);
    add(IDX.START, ulp.start[cls]!);
    add(IDX.STATE_FIRST, ulp.startFirst[cls]!);
    add(IDX.SCALE, ulp.scale[cls]!);
    for (let k = 0; k < stateShortLen; k++) add(IDX.STATE + k, ulp.state[cls]!);
    for (let k = 0; k < CB_NSTAGES; k++) add(IDX.EXTRA_CB + k, ulp.extraCbIndex[k]![cls]!);
    for (let k = 0; k < CB_NSTAGES; k++) add(IDX.EXTRA_GAIN + k, ulp.extraCbGain[k]![cls]!);
    for (let k = 0; k < CB_NSTAGES * nasub; k++) add(IDX.CB + k, ulp.cbIndex[k]![cls]!);
    for (let k = 0; k < CB_NSTAGES * nasub; k++) add(IDX.GAIN + k, ulp.cbGain[k]![cls]!);
  }
  return Int32Array.from(steps);
}

export const MODE_20MS: FrameMode = {
  ms: 20,
  blockl: 160,
  nsub: 4,
  nasub: 2,
  lpcN: 1,
  stateShortLen: 57,
  octets: 38,
  program: readingProgram(ULP_20MS, 1, 57, 2),
};

export const MODE_30MS: FrameMode = {
  ms: 30,
  blockl: 240,
  nsub: 6,
  nasub: 4,
  lpcN: 2,
  stateShortLen: 58,
  octets: 50,
  program: readingProgram(ULP_30MS, 2, 58, 4),
};
