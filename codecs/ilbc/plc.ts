/**
 * Packet loss concealment (RFC 3951 §4.5; Appendix A doCPLC.c). A good frame's residual and
 * last sub-block filter are kept. For a lost frame the residual is re-created from the last
 * one: the pitch lag is refined around the decoder's last lag, the residual is repeated at that
 * lag (twice it when shorter than 80 samples, so one cycle is not repeated verbatim), mixed
 * with randomly lagged residual according to the periodicity found, and damped; the synthesis
 * filter is the last one received. Successive losses repeat the previous concealment, so the
 * damping compounds. The RFC smooths the first good frame after a loss in its enhancer (§4.5.3,
 * §4.6), which we do not run: that frame is libavcodec's decode (codecs/ilbc.ts).
 */
import { BLOCKL_MAX, LPC_ORDER } from './frame-mode.js';

/** Correlation window of the lag search (doCPLC.c `compCorr`'s `sRange`). */
const CORR_RANGE = 60;

export class PacketLossConcealer {
  private prevLag = 120;
  private consecutive = 0;
  private prevLost = false;
  private periodicity = 0;
  private seed = 777;
  /** The last frame's residual (decoded or concealed) and its synthesis filter. */
  readonly prevResidual = new Float64Array(BLOCKL_MAX);
  readonly prevLpc = new Float64Array(LPC_ORDER + 1);
  private readonly noise = new Float64Array(BLOCKL_MAX);
  /** Results of correlate(). */
  private cc = 0;
  private per = 0;

  constructor(private readonly blockl: number) {
    this.prevLpc[0] = 1;
  }

  /** A good frame: its residual and last sub-block's filter (synt at aOff) become the history. */
  received(res: Float64Array, synt: Float64Array, aOff: number): void {
    this.consecutive = 0;
    this.prevLost = false;
    for (let i = 0; i < this.blockl; i++) this.prevResidual[i] = res[i]!;
    for (let i = 0; i <= LPC_ORDER; i++) this.prevLpc[i] = synt[aOff + i]!;
  }

  /**
   * A lost frame: the concealed residual into `res` and the filter into `lpc`, from the
   * previous frame and `lastLag` (the pitch lag found when decoding it).
   */
  conceal(lastLag: number, res: Float64Array, lpc: Float64Array): void {
    const L = this.blockl;
    const prev = this.prevResidual;
    this.consecutive++;
    let lag: number;
    let maxPer: number;
    if (!this.prevLost) {
      // Refine the lag around the last one: the best normalised correlation over the last 60 samples.
      // lastLag is 20-119 (30 ms) or 20-99 (20 ms; frame-decoder.ts lastLagOf): lag ± 3 and twice
      // a lag under 80 stay within the previous frame.
      lag = lastLag - 3;
      this.correlate(lag);
      let maxcc = this.cc;
      maxPer = this.per;
      for (let i = lastLag - 2; i <= lastLag + 3; i++) {
        this.correlate(i);
        if (this.cc > maxcc) {
          maxcc = this.cc;
          lag = i;
          maxPer = this.per;
        }
      }
    } else {
      lag = this.prevLag;
      maxPer = this.periodicity;
    }
    // Damping: none for the first 40 ms of a loss, then 0.9 per frame. (doCPLC.c's further steps to
    // 0.7, 0.5 and 0 sit behind the first test and are never reached; kept as the reference runs.)
    const useGain = this.consecutive * L > 320 ? 0.9 : 1;
    // Periodicity decides the mix of pitch repetition and noise.
    const s = Math.sqrt(maxPer);
    const pitchFact = s > 0.7 ? 1 : s > 0.4 ? (s - 0.4) / (0.7 - 0.4) : 0;
    const useLag = lag < 80 ? 2 * lag : lag;
    const noise = this.noise;
    let energy = 0;
    for (let i = 0; i < L; i++) {
      this.seed = (this.seed * 69069 + 1) % 0x80000000;
      const pickNoise = i - (50 + (this.seed % 70));
      noise[i] = pickNoise < 0 ? prev[L + pickNoise]! : noise[pickNoise]!;
      const pick = i - useLag;
      const pitch = pick < 0 ? prev[L + pick]! : res[pick]!;
      // Within the frame: full gain for 10 ms, then 0.95, then 0.9.
      const ramp = i < 80 ? 1 : i < 160 ? 0.95 : 0.9;
      const v = ramp * useGain * (pitchFact * pitch + (1 - pitchFact) * noise[i]!);
      res[i] = v;
      energy += v * v;
    }
    // Below 30 (RMS) the pitch repetition is dropped for the noise alone.
    if (Math.sqrt(energy / L) < 30) for (let i = 0; i < L; i++) res[i] = noise[i]!;
    for (let i = 0; i <= LPC_ORDER; i++) lpc[i] = this.prevLpc[i]!;
    this.prevLag = lag;
    this.periodicity = maxPer;
    this.prevLost = true;
    for (let i = 0; i < L; i++) prev[i] = res[i]!;
  }

  /** doCPLC.c `compCorr` on the history at `lag`: cc (squared correlation / energy) and periodicity. */
  private correlate(lag: number): void {
    const buf = this.prevResidual;
    const bLen = this.blockl;
    const range = bLen - CORR_RANGE - lag < 0 ? bLen - lag : CORR_RANGE;
    let xy = 0;
    let yy = 0;
    let xx = 0;
    for (let i = 0; i < range; i++) {
      const x = buf[bLen - range + i]!;
      const y = buf[bLen - range + i - lag]!;
      xy += x * y;
      yy += y * y;
      xx += x * x;
    }
    this.cc = yy > 0 ? (xy * xy) / yy : 0;
    this.per = yy > 0 && xx > 0 ? Math.abs(xy) / (Math.sqrt(yy) * Math.sqrt(xx)) : 0;
  }
}
