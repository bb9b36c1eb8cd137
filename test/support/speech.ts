import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

export interface SpeakOptions {
  /** espeak-ng voice (`-v`), e.g. `en-gb`. */
  voice?: string;
  /** Words per minute (`-s`). */
  wpm?: number;
  /** Normalise the peak to this level (sox `gain -n`), dBFS. */
  peakDb?: number;
}

/**
 * `text` spoken by espeak-ng, resampled by sox to `rate`, 16-bit mono: the speech the codec,
 * writer and end-to-end tests encode. No dither (`-D`), so the same text gives the same samples.
 */
export function speak(text: string, rate: number, o: SpeakOptions = {}): Int16Array {
  const dir = tempDir('speech-');
  try {
    const wav = join(dir, 'espeak.wav');
    execFileSync('espeak-ng', [...(o.voice ? ['-v', o.voice] : []), ...(o.wpm ? ['-s', String(o.wpm)] : []), '-w', wav, text]);
    const raw = execFileSync('sox', ['-D', wav, '-t', 'raw', '-r', String(rate), '-c', '1', '-b', '16', '-e', 'signed-integer', '-L', '-', ...(o.peakDb !== undefined ? ['gain', '-n', String(o.peakDb)] : [])], {
      maxBuffer: 256 << 20,
    });
    return new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + (raw.length & ~1)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Two different utterances, for the two parties of a dual-channel writer test. */
export const TEXT_A = 'The quick brown fox jumps over the lazy dog. This call may be recorded for quality and training purposes. Thank you.';
export const TEXT_B = 'Please hold while we connect you to the next available agent. Your call is important to us. Goodbye now.';

/** Exactly `seconds` of `text` spoken at `rate` (cut, or padded with silence). */
export function speechOf(text: string, rate: number, seconds: number): Int16Array {
  const s = speak(text, rate);
  const out = new Int16Array(Math.round(seconds * rate));
  out.set(s.subarray(0, out.length));
  return out;
}
