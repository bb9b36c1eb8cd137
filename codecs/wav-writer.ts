/**
 * Streaming WAV writer: the header goes first with zero sizes, samples follow as they are
 * mixed, and `close` patches the sizes. Synchronous file I/O: renders run in a worker thread
 * (job-pool.ts), where blocking costs nothing and keeps the code straight.
 *
 * PCM (format tag 1, 16-bit) layout, 44-byte header:
 *
 *   0 "RIFF"  4 RIFF size = file size − 8   8 "WAVE"
 *  12 "fmt "  16 16  20 tag  22 channels  24 sample rate  28 byte rate  32 block align  34 bits
 *  36 "data"  40 data size  44 samples, interleaved, little-endian
 *
 * G.711 variants (tag 6 A-law, 7 µ-law; 8-bit codes): an 18-byte fmt chunk (cbSize = 0) and
 * a `fact` chunk with the frame count, which non-PCM WAVE files must carry (Microsoft
 * "Multimedia Programming Interface and Data Specifications 1.0", 1991, WAVE fact chunk).
 *
 * Sizes are 32-bit: past 4 GiB (37 h of 8 kHz stereo PCM) they saturate at 0xFFFFFFFF, which
 * sox and ffmpeg read as "to the end of the file". RF64 would be the clean way; not needed yet.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { encodeG711 } from './g711.js';
import type { RecordingWriter, WriterFactory } from './types.js';

export type WavEncoding = 'pcm16' | 'mulaw' | 'alaw';

export interface WavFormat {
  sampleRate: number;
  channels: number;
  /** Default pcm16. */
  encoding?: WavEncoding;
}

const TAG = { pcm16: 1, alaw: 6, mulaw: 7 } as const;
const STAGING = 64 * 1024;
const U32_MAX = 0xffffffff;

export class WavWriter implements RecordingWriter {
  readonly sampleRate: number;
  readonly channels: number;
  readonly encoding: WavEncoding;
  private readonly fd: number;
  private readonly bytesPerSample: number;
  private readonly headerLen: number;
  private readonly staging = Buffer.allocUnsafe(STAGING);
  private staged = 0;
  private dataBytes = 0;
  private pos = 0;
  private closed = false;

  constructor(path: string, fmt: WavFormat) {
    this.sampleRate = fmt.sampleRate;
    this.channels = fmt.channels;
    this.encoding = fmt.encoding ?? 'pcm16';
    this.bytesPerSample = this.encoding === 'pcm16' ? 2 : 1;
    this.headerLen = this.encoding === 'pcm16' ? 44 : 58;
    this.fd = openSync(path, 'w');
    this.writeRaw(this.header(), this.headerLen);
  }

  /** Frames written so far (samples per channel). */
  get frames(): number {
    return this.dataBytes / (this.bytesPerSample * this.channels);
  }

  /** Appends `count` interleaved samples from `src[off…]` (count is a multiple of channels). */
  write(src: Int16Array, count: number, off = 0): void {
    const bps = this.bytesPerSample;
    let i = 0;
    while (i < count) {
      if (this.staged + bps > STAGING) this.flushStaging();
      const n = Math.min(count - i, Math.floor((STAGING - this.staged) / bps));
      const b = this.staging;
      if (this.encoding === 'pcm16') {
        let at = this.staged;
        for (let k = 0; k < n; k++) {
          const v = src[off + i + k]!;
          b[at++] = v & 0xff;
          b[at++] = (v >> 8) & 0xff;
        }
      } else {
        encodeG711(this.encoding, src, off + i, n, b, this.staged);
      }
      this.staged += n * bps;
      this.dataBytes += n * bps;
      i += n;
    }
  }

  /** Flushes, pads the data chunk to an even size (RIFF rule), patches the sizes, closes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.dataBytes % 2 === 1) {
        this.staging[this.staged++] = 0;
      }
      this.flushStaging();
      const h = this.header();
      writeSync(this.fd, h, 0, this.headerLen, 0);
    } finally {
      closeSync(this.fd);
    }
  }

  private flushStaging(): void {
    if (this.staged > 0) this.writeRaw(this.staging, this.staged);
    this.staged = 0;
  }

  private writeRaw(b: Buffer, len: number): void {
    let done = 0;
    while (done < len) {
      const n = writeSync(this.fd, b, done, len - done, this.pos);
      done += n;
      this.pos += n;
    }
  }

  private header(): Buffer {
    const h = Buffer.alloc(this.headerLen);
    const pcm = this.encoding === 'pcm16';
    const data = this.dataBytes;
    const padded = data + (data % 2);
    const sat = (v: number): number => Math.min(v, U32_MAX);
    h.write('RIFF', 0, 'latin1');
    h.writeUInt32LE(sat(this.headerLen - 8 + padded), 4);
    h.write('WAVE', 8, 'latin1');
    h.write('fmt ', 12, 'latin1');
    h.writeUInt32LE(pcm ? 16 : 18, 16);
    h.writeUInt16LE(TAG[this.encoding], 20);
    h.writeUInt16LE(this.channels, 22);
    h.writeUInt32LE(this.sampleRate, 24);
    const blockAlign = this.channels * this.bytesPerSample;
    h.writeUInt32LE(this.sampleRate * blockAlign, 28);
    h.writeUInt16LE(blockAlign, 32);
    h.writeUInt16LE(this.bytesPerSample * 8, 34);
    let at = 36;
    if (!pcm) {
      h.writeUInt16LE(0, 36); // cbSize: no extra format bytes
      h.write('fact', 38, 'latin1');
      h.writeUInt32LE(4, 42);
      h.writeUInt32LE(sat(data / blockAlign), 46);
      at = 50;
    }
    h.write('data', at, 'latin1');
    h.writeUInt32LE(sat(data), at + 4);
    return h;
  }
}

/** WAV output: PCM16 by default, G.711 WAV when `encoding` asks for it. */
export const WAV_WRITER: WriterFactory = {
  format: 'wav',
  extension: 'wav',
  create: (path, opts) => new WavWriter(path, { sampleRate: opts.sampleRate, channels: opts.channels, encoding: opts.encoding ?? 'pcm16' }),
};
