/**
 * The render's output stage: the mixing window of codecs/mix-window.ts (Int32 accumulator blocks,
 * frontier, counters), with its inner loops in TypeScript here or in WASM (codecs/wasm-mixer.ts).
 */
import { MixWindow } from '../../codecs/mix-window.js';
import { WasmMixer } from '../../codecs/wasm-mixer.js';

/** What the render uses of a mixer: the TypeScript one below, or the WASM one (codecs/mix.wat). */
export interface AudioMixer {
  readonly channels: number;
  readonly blockFrames: number;
  readonly written: number;
  beforeWrite: ((start: number, end: number) => void) | null;
  lateSamples: number;
  aheadSamples: number;
  clipped: number;
  add(channel: number, pos: number, src: Int16Array, off: number, n: number): void;
  finalizeBefore(frame: number): void;
  finish(totalFrames: number): void;
}

/**
 * The render's mixer: the WASM one, which measured 5–7× faster than this file's on the same
 * input (BENCHMARKS.md, issue 4: "pick what measures faster"); this TypeScript one where
 * dist/codecs/mix.wasm was not built. Both give identical samples (test/codecs/wasm-mixer.test.ts).
 */
export function createMixer(channels: number, blockFrames: number, maxAheadFrames: number, sink: (pcm: Int16Array, samples: number) => void): AudioMixer {
  try {
    return new WasmMixer(channels, blockFrames, maxAheadFrames, sink);
  } catch {
    return new Mixer(channels, blockFrames, maxAheadFrames, sink);
  }
}

/** The TypeScript mixer: Int32Array blocks, plain loops. */
export class Mixer extends MixWindow<Int32Array> implements AudioMixer {
  private readonly spare: Int32Array[] = [];
  private readonly out: Int16Array;

  constructor(channels: number, blockFrames: number, maxAheadFrames: number, sink: (pcm: Int16Array, samples: number) => void) {
    super(channels, blockFrames, maxAheadFrames, sink);
    this.out = new Int16Array(blockFrames * channels);
  }

  protected get output(): Int16Array {
    return this.out;
  }

  protected newBlock(): Int32Array {
    return this.spare.pop() ?? new Int32Array(this.blockFrames * this.channels);
  }

  protected addRun(acc: Int32Array, at: number, src: Int16Array, s: number, n: number): void {
    const ch = this.channels;
    for (let j = 0; j < n; j++, at += ch) acc[at]! += src[s + j]!;
  }

  protected clampOut(acc: Int32Array, n: number): number {
    const out = this.out;
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
    acc.fill(0);
    return clipped;
  }

  protected recycle(acc: Int32Array): void {
    this.spare.push(acc);
  }

  protected discard(acc: Int32Array): void {
    acc.fill(0);
    this.spare.push(acc);
  }
}
