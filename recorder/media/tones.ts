/**
 * Signals the render synthesizes instead of decoding: comfort noise (RFC 3389) and DTMF tones
 * for telephone events (RFC 4733). Deterministic, so a recording's sha256 is reproducible.
 */

/**
 * RFC 3389 §3.1: the noise level byte is −dBov, 0..127; 0 dBov is a full-scale square wave
 * (±8031 in µ-law's 14-bit range, ±32124 at 16 bits), so its RMS is the full scale. White
 * noise, uniform in ±A, has RMS A/√3. (The optional spectral coefficients are ignored: flat
 * noise at the right level is what "not silence" needs.)
 */
export function comfortNoiseAmplitude(levelByte: number): number {
  const dbov = levelByte & 0x7f;
  const rms = 32124 * Math.pow(10, -dbov / 20);
  return Math.min(32767, rms * Math.sqrt(3));
}

/** xorshift32: a fast deterministic noise source (state must be non-zero). */
export class NoiseSource {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** `n` samples uniform in ±amplitude into out[0, n). */
  fill(out: Int16Array, n: number, amplitude: number): void {
    let s = this.s;
    const k = (2 * amplitude) / 4294967296;
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[i] = Math.round((s >>> 0) * k - amplitude);
    }
    this.s = s;
  }
}

/** RFC 4733 §3.2 event codes 0–15 → [low, high] frequency of the DTMF pair (ITU-T Q.23). */
const DTMF: readonly (readonly [number, number])[] = [
  [941, 1336], // 0
  [697, 1209], // 1
  [697, 1336], // 2
  [697, 1477], // 3
  [770, 1209], // 4
  [770, 1336], // 5
  [770, 1477], // 6
  [852, 1209], // 7
  [852, 1336], // 8
  [852, 1477], // 9
  [941, 1209], // *
  [941, 1477], // #
  [697, 1633], // A
  [770, 1633], // B
  [852, 1633], // C
  [941, 1633], // D
];

export const DTMF_DIGITS = '0123456789*#ABCD';

/**
 * Peak amplitude of each of the two sines for an RFC 4733 volume (0..63 = 0..−63 dBm0). G.711's
 * overload point is +3.17 dBm0 (a full-scale sine, ±32124), and the two tones share the power.
 */
export function dtmfAmplitude(volume: number): number {
  const total = 32124 * Math.pow(10, (-(volume & 0x3f) - 3.17) / 20);
  return total / Math.SQRT2;
}

/**
 * Samples [from, from + n) of a DTMF tone that started at sample 0, into out[0, n). Phase is a
 * function of the absolute sample index, so a tone rendered in pieces is continuous. Returns
 * false for events without a tone (flash and the other non-DTMF events).
 */
export function dtmfTone(event: number, amplitude: number, sampleRate: number, from: number, n: number, out: Int16Array): boolean {
  const pair = DTMF[event];
  if (pair === undefined) return false;
  const w1 = (2 * Math.PI * pair[0]) / sampleRate;
  const w2 = (2 * Math.PI * pair[1]) / sampleRate;
  for (let i = 0; i < n; i++) {
    const t = from + i;
    out[i] = Math.round(amplitude * (Math.sin(w1 * t) + Math.sin(w2 * t)));
  }
  return true;
}
