import { readFileSync } from 'node:fs';

export interface Wav {
  sampleRate: number;
  channels: number;
  /** Samples per channel. */
  channel: Int16Array[];
}

/** Read a PCM16 WAV (RIFF) for comparisons: walks the chunks, so extra chunks are fine. */
export function readWav(path: string): Wav {
  const b = readFileSync(path);
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') throw new Error(`${path}: not a WAV file`);
  let off = 12;
  let channels = 0;
  let sampleRate = 0;
  let bits = 0;
  while (off + 8 <= b.length) {
    const id = b.toString('latin1', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      channels = b.readUInt16LE(off + 10);
      sampleRate = b.readUInt32LE(off + 12);
      bits = b.readUInt16LE(off + 22);
    } else if (id === 'data') {
      if (bits !== 16) throw new Error(`${path}: ${bits}-bit WAV`);
      const n = Math.floor(Math.min(size, b.length - off - 8) / 2 / channels);
      const channel = Array.from({ length: channels }, () => new Int16Array(n));
      for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) channel[c]![i] = b.readInt16LE(off + 8 + (i * channels + c) * 2);
      return { sampleRate, channels, channel };
    }
    off += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}
