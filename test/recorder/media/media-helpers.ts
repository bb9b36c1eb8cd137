/** sox/soxi as oracles, and a minimal WAV reader for checking rendered samples. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export function sox(args: string[]): void {
  execFileSync('sox', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `soxi -<flag> file`, trimmed (D: duration s, c: channels, r: rate, e: encoding, b: bits). */
export function soxi(flag: string, file: string): string {
  return execFileSync('soxi', [`-${flag}`, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export interface Wav {
  tag: number;
  channels: number;
  sampleRate: number;
  bits: number;
  /** PCM16: the samples, interleaved. */
  samples: Int16Array;
  /** The data chunk's bytes (G.711 codes for tags 6/7). */
  data: Buffer;
}

/** Parses a RIFF WAVE file by walking its chunks (as players do). */
export function readWav(path: string): Wav {
  const b = readFileSync(path);
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  let at = 12;
  let fmt: { tag: number; channels: number; sampleRate: number; bits: number } | null = null;
  while (at + 8 <= b.length) {
    const id = b.toString('latin1', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') fmt = { tag: b.readUInt16LE(body), channels: b.readUInt16LE(body + 2), sampleRate: b.readUInt32LE(body + 4), bits: b.readUInt16LE(body + 14) };
    if (id === 'data') {
      if (fmt === null) throw new Error('data before fmt');
      const data = b.subarray(body, body + size);
      const samples = new Int16Array(fmt.tag === 1 ? size / 2 : 0);
      for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(i * 2);
      return { ...fmt, samples, data };
    }
    at = body + size + (size % 2);
  }
  throw new Error('no data chunk');
}

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
