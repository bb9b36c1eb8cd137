/** sox/soxi as oracles, and a minimal WAV reader for checking rendered samples. */
import { execFileSync } from 'node:child_process';

export function sox(args: string[]): void {
  execFileSync('sox', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `soxi -<flag> file`, trimmed (D: duration s, c: channels, r: rate, e: encoding, b: bits). */
export function soxi(flag: string, file: string): string {
  return execFileSync('soxi', [`-${flag}`, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export { readWav, type Wav } from '../../support/wav.js';

/** Channel `c` of interleaved samples. */
export function channel(samples: Int16Array, channels: number, c: number): Int16Array {
  const out = new Int16Array(samples.length / channels);
  for (let i = 0; i < out.length; i++) out[i] = samples[i * channels + c]!;
  return out;
}

export function rms(x: Int16Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, to - from));
}

/** Power at frequency f (Goertzel), normalized by length. */
export function goertzel(x: Int16Array, from: number, to: number, f: number, rate: number): number {
  const w = (2 * Math.PI * f) / rate;
  const k = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const s0 = x[i]! + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return Math.sqrt(s1 * s1 + s2 * s2 - k * s1 * s2) / (to - from);
}
