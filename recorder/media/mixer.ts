/**
 * The render's output stage: a short window of blocks (Int32 accumulators, interleaved
 * channels) that streams add into at any position at or after the frontier; blocks behind the
 * frontier are clamped to int16 and handed to the sink in order, then recycled. Only the window
 * (a few seconds) is ever in memory, whatever the call's length.
 *
 * Int32 accumulation is the mono mix's headroom: any number of int16 streams sum without
 * wrapping, and saturate only once, at output.
 */

export class Mixer {
  readonly channels: number;
  readonly blockFrames: number;
  private readonly maxAhead: number;
  private readonly sink: (pcm: Int16Array, samples: number) => void;
  private readonly blocks = new Map<number, Int32Array>();
  private readonly spare: Int32Array[] = [];
  private readonly out: Int16Array;
  /** First frame not yet handed to the sink. */
  private frontier = 0;
  /** Called before a block leaves, with its frame range, so that open-ended signals (comfort noise) can fill it. */
  beforeWrite: ((start: number, end: number) => void) | null = null;
  /** Samples that arrived behind the frontier (too late to place). */
  lateSamples = 0;
  /** Samples too far ahead of the frontier (a corrupt timestamp or duration). */
  aheadSamples = 0;
  /** Output samples clamped to int16. */
  clipped = 0;

  constructor(channels: number, blockFrames: number, maxAheadFrames: number, sink: (pcm: Int16Array, samples: number) => void) {
    this.channels = channels;
    this.blockFrames = blockFrames;
    this.maxAhead = maxAheadFrames;
    this.sink = sink;
    this.out = new Int16Array(blockFrames * channels);
  }

  get written(): number {
    return this.frontier;
  }

  /** Adds `n` samples of one channel, `src[off…]`, starting at frame `pos`. */
  add(channel: number, pos: number, src: Int16Array, off: number, n: number): void {
    let i = 0;
    if (pos < this.frontier) {
      const skip = Math.min(n, this.frontier - pos);
      this.lateSamples += skip;
      i = skip;
    }
    const B = this.blockFrames;
    const ch = this.channels;
    const limit = this.frontier + this.maxAhead;
    while (i < n) {
      const p = pos + i;
      if (p >= limit) {
        this.aheadSamples += n - i;
        return;
      }
      const b = Math.floor(p / B);
      const start = p - b * B;
      const cnt = Math.min(n - i, B - start);
      const acc = this.block(b);
      let a = start * ch + channel;
      const s = off + i;
      for (let j = 0; j < cnt; j++, a += ch) acc[a]! += src[s + j]!;
      i += cnt;
    }
  }

  private block(b: number): Int32Array {
    let acc = this.blocks.get(b);
    if (acc === undefined) {
      acc = this.spare.pop() ?? new Int32Array(this.blockFrames * this.channels);
      this.blocks.set(b, acc);
    }
    return acc;
  }

  /** Hands every whole block that ends at or before frame `frame` to the sink. */
  finalizeBefore(frame: number): void {
    while (this.frontier + this.blockFrames <= frame) this.emit(this.blockFrames);
  }

  /** Hands everything up to `totalFrames` to the sink (the last block may be partial). */
  finish(totalFrames: number): void {
    while (this.frontier < totalFrames) this.emit(Math.min(this.blockFrames, totalFrames - this.frontier));
    this.blocks.clear();
  }

  private emit(frames: number): void {
    const start = this.frontier;
    this.beforeWrite?.(start, start + frames);
    const b = Math.floor(start / this.blockFrames);
    const acc = this.blocks.get(b);
    const n = frames * this.channels;
    const out = this.out;
    if (acc === undefined) out.fill(0, 0, n);
    else {
      let clipped = 0;
      for (let i = 0; i < n; i++) {
        const v = acc[i]!;
        if (v > 32767) {
          out[i] = 32767;
          clipped++;
        } else if (v < -32768) {
          out[i] = -32768;
          clipped++;
        } else out[i] = v;
      }
      this.clipped += clipped;
      this.blocks.delete(b);
      acc.fill(0);
      this.spare.push(acc);
    }
    this.sink(out, n);
    this.frontier = start + frames;
  }
}
