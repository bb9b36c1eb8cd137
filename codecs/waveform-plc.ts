/**
 * Packet-loss concealment by pitch-waveform repetition, after ITU-T G.711 Appendix I (1999): the
 * last pitch period of the decoded signal is repeated over the loss, its edge blended into the
 * history, and faded (−20 % per 10 ms after the first 10 ms, silence after 60 ms) so that a long
 * loss decays instead of buzzing. For decoders whose library has no concealment of its own
 * (libavcodec's iLBC lacks RFC 3951 §4.5), applied to their output.
 */

/** Pitch search range: 66.7–400 Hz (G.711 Appendix I uses 40–120 samples at 8 kHz). */
const MIN_PITCH_HZ = 400;
const MAX_PITCH_HZ = 66.7;
/** History kept: the longest pitch period three times over (search window + period). */
const HISTORY_PERIODS = 3;

export class WaveformPlc {
  private readonly hist: Int16Array;
  private readonly minLag: number;
  private readonly maxLag: number;
  private filled = 0;
  /** Samples concealed since the last real audio (for the fade). */
  private lostSamples = 0;
  private pitch = 0;
  /** Where in the repeated period the next concealed sample comes from. */
  private phase = 0;

  constructor(readonly rate: number) {
    this.minLag = Math.round(rate / MIN_PITCH_HZ);
    this.maxLag = Math.round(rate / MAX_PITCH_HZ);
    this.hist = new Int16Array(this.maxLag * HISTORY_PERIODS);
  }

  /** Real decoded audio: becomes the history; a loss in progress ends. */
  remember(pcm: Int16Array, n: number): void {
    const h = this.hist;
    const L = h.length;
    if (n >= L) h.set(pcm.subarray(n - L, n));
    else {
      h.copyWithin(0, n);
      h.set(pcm.subarray(0, n), L - n);
    }
    this.filled = Math.min(L, this.filled + n);
    this.lostSamples = 0;
  }

  /** `samples` samples of concealment after the history; 0 when there is no history yet. */
  conceal(samples: number, out: Int16Array): number {
    const h = this.hist;
    const L = h.length;
    if (this.filled < L) return 0;
    const n = Math.min(samples, out.length);
    if (this.lostSamples === 0) {
      this.pitch = this.findPitch();
      this.phase = 0;
    }
    const P = this.pitch;
    const ten = this.rate / 100;
    for (let i = 0; i < n; i++) {
      const lost = this.lostSamples + i;
      // Gain: 1 for the first 10 ms, then −20 % per 10 ms, nothing from 60 ms on.
      const gain = lost < ten ? 1 : Math.max(0, 1 - (0.2 * (lost - ten)) / ten);
      let v = h[L - P + ((this.phase + i) % P)]!;
      // The first quarter period blends from the history's continuation into the repetition.
      const blend = Math.max(1, P >> 2);
      if (lost < blend) {
        const w = (lost + 1) / (blend + 1);
        const cont = h[L - 1]!;
        v = Math.round(cont * (1 - w) + v * w);
      }
      out[i] = Math.round(v * gain);
    }
    this.phase = (this.phase + n) % P;
    this.lostSamples += n;
    return n;
  }

  /** The lag of the highest normalised autocorrelation of the history's end. */
  private findPitch(): number {
    const h = this.hist;
    const L = h.length;
    const win = this.maxLag; // compare the last maxLag samples with those `lag` earlier
    let best = this.minLag;
    let bestScore = -Infinity;
    for (let lag = this.minLag; lag <= this.maxLag; lag++) {
      let xy = 0;
      let yy = 0;
      for (let i = L - win; i < L; i++) {
        const x = h[i]!;
        const y = h[i - lag]!;
        xy += x * y;
        yy += y * y;
      }
      const score = yy > 0 ? xy / Math.sqrt(yy) : 0;
      if (score > bestScore) {
        bestScore = score;
        best = lag;
      }
    }
    return best;
  }
}
