/**
 * The window both mixers share (recorder/media/mixer.ts in TypeScript, codecs/wasm-mixer.ts in
 * WASM): a few blocks of Int32 accumulators (interleaved channels) that streams add into at any
 * position at or after the frontier; blocks behind the frontier are clamped to int16, handed to
 * the sink in order and recycled. Only the window (a few seconds) is ever in memory, whatever the
 * call's length. Int32 accumulation is the mono mix's headroom: any number of int16 streams sum
 * without wrapping and saturate once, at output. Subclasses supply the blocks and the two inner
 * loops (add a run, clamp a block); the bookkeeping is here once.
 */
export abstract class MixWindow<Block> {
  readonly channels: number;
  readonly blockFrames: number;
  private readonly maxAhead: number;
  private readonly sink: (pcm: Int16Array, samples: number) => void;
  private readonly blocks = new Map<number, Block>();
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
  }

  /** A zeroed block (recycled or new). */
  protected abstract newBlock(): Block;
  /** acc[at], acc[at + channels], … += src[s], src[s + 1], … for `n` samples. */
  protected abstract addRun(acc: Block, at: number, src: Int16Array, s: number, n: number): void;
  /** Clamps the first `n` values of `acc` into `output`, zeroes the whole block; returns how many clipped. */
  protected abstract clampOut(acc: Block, n: number): number;
  /** A zeroed block back to the spares. */
  protected abstract recycle(acc: Block): void;
  /** Zeroes a block that still holds samples (the tail left at finish) and recycles it. */
  protected abstract discard(acc: Block): void;
  /** Where clampOut writes: the sink reads it before the next block. */
  protected abstract get output(): Int16Array;

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
      this.addRun(this.block(b), start * this.channels + channel, src, off + i, cnt);
      i += cnt;
    }
  }

  private block(b: number): Block {
    let acc = this.blocks.get(b);
    if (acc === undefined) {
      acc = this.newBlock();
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
    for (const acc of this.blocks.values()) this.discard(acc);
    this.blocks.clear();
  }

  private emit(frames: number): void {
    const start = this.frontier;
    this.beforeWrite?.(start, start + frames);
    const b = Math.floor(start / this.blockFrames);
    const acc = this.blocks.get(b);
    const n = frames * this.channels;
    const out = this.output;
    if (acc === undefined) out.fill(0, 0, n);
    else {
      this.clipped += this.clampOut(acc, n);
      this.blocks.delete(b);
      this.recycle(acc);
    }
    this.sink(out, n);
    this.frontier = start + frames;
  }
}
