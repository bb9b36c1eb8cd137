import { readFileSync } from 'node:fs';

export interface Wav {
  /** WAVE format tag: 1 PCM, 6 A-law, 7 µ-law. */
  tag: number;
  sampleRate: number;
  channels: number;
  bits: number;
  /** PCM16: the samples, interleaved (empty for other formats). */
  samples: Int16Array;
  /** PCM16: the samples per channel. */
  channel: Int16Array[];
  /** The data chunk's bytes (G.711 codes for tags 6/7). */
  data: Buffer;
}

/** Reads a RIFF WAVE file by walking its chunks (as players do), so extra chunks are fine. */
export function readWav(path: string): Wav {
  const b = readFileSync(path);
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') throw new Error(`${path}: not a WAV file`);
  let at = 12;
  let fmt: { tag: number; channels: number; sampleRate: number; bits: number } | null = null;
  while (at + 8 <= b.length) {
    const id = b.toString('latin1', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') fmt = { tag: b.readUInt16LE(body), channels: b.readUInt16LE(body + 2), sampleRate: b.readUInt32LE(body + 4), bits: b.readUInt16LE(body + 14) };
    if (id === 'data') {
      if (fmt === null) throw new Error(`${path}: data before fmt`);
      const data = b.subarray(body, Math.min(b.length, body + size));
      const pcm = fmt.tag === 1 && fmt.bits === 16;
      const samples = new Int16Array(pcm ? data.length >> 1 : 0);
      for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(i * 2);
      const n = Math.floor(samples.length / Math.max(1, fmt.channels));
      const channel = Array.from({ length: pcm ? fmt.channels : 0 }, (_, c) => Int16Array.from({ length: n }, (_, i) => samples[i * fmt!.channels + c]!));
      return { ...fmt, samples, channel, data };
    }
    at = body + size + (size % 2);
  }
  throw new Error(`${path}: no data chunk`);
}
