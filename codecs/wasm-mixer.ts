/**
 * The render's mixer with its two inner loops in WebAssembly (`mix.wat`, SIMD): the same window
 * of Int32 accumulator blocks, frontier, counters and output as recorder/media/mixer.ts (the
 * TypeScript one), so the two give identical samples (tested). Issue 4 lets mixing be WASM or
 * TypeScript, "pick what measures faster": this one measured 5–7× faster (BENCHMARKS.md), so
 * the render uses it (createMixer() in recorder/media/mixer.ts), with the TypeScript mixer as
 * the fallback where mix.wasm was not built; the bench times both on the same input.
 *
 * Blocks live in the module's memory: samples are copied into a staging area and added there,
 * and each finished block is clamped into an output view of that memory, which the sink reads
 * before the next block. Memory grows by whole blocks as the window needs them (the views are
 * remade then: growing detaches them).
 */
import { readFileSync } from 'node:fs';
import { MixWindow } from './mix-window.js';

interface MixExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  add(acc: number, src: number, n: number, stride: number): void;
  clamp(acc: number, out: number, n: number): number;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
let compiled: object | Error | null = null;

/** mix.wasm is built from mix.wat by `make build` next to this module (dist/codecs/). */
function mixModule(): object {
  if (compiled === null) {
    try {
      compiled = new wasmApi.Module(readFileSync(new URL('./mix.wasm', import.meta.url)));
    } catch (e) {
      compiled = new Error(`wasm-mixer: dist/codecs/mix.wasm did not load (built from codecs/mix.wat by \`make build\`): ${String(e)}`);
    }
  }
  if (compiled instanceof Error) throw compiled;
  return compiled;
}

const PAGE = 65536;

export class WasmMixer extends MixWindow<number> {
  private readonly x: MixExports;
  private readonly spare: number[] = [];
  private nextBlock: number;
  private readonly blockBytes: number;
  private readonly blockEnd: number;
  private readonly stagePtr: number;
  private readonly outPtr = 0;
  private out: Int16Array;
  private stage: Int16Array;
  private i32: Int32Array;

  constructor(channels: number, blockFrames: number, maxAheadFrames: number, sink: (pcm: Int16Array, samples: number) => void) {
    super(channels, blockFrames, maxAheadFrames, sink);
    const inst = new wasmApi.Instance(mixModule(), {});
    this.x = inst.exports as MixExports;
    // Layout: output, staging, then the blocks. Live blocks run from the frontier's to the one
    // holding frontier + maxAhead − 1; 16 spare bytes follow the last (the dual add's last lane).
    this.blockBytes = blockFrames * channels * 4;
    this.stagePtr = align16(blockFrames * channels * 2);
    this.nextBlock = align16(this.stagePtr + blockFrames * 2);
    this.blockEnd = this.nextBlock + (Math.ceil(maxAheadFrames / blockFrames) + 2) * this.blockBytes;
    this.ensure(this.nextBlock + this.blockBytes + 16);
    const buf = this.x.memory.buffer;
    this.out = new Int16Array(buf, this.outPtr, blockFrames * channels);
    this.stage = new Int16Array(buf, this.stagePtr, blockFrames);
    this.i32 = new Int32Array(buf);
  }

  /** Grows memory to at least `bytes` (a few blocks at a time) and remakes the views. */
  private ensure(bytes: number): void {
    const have = this.x.memory.buffer.byteLength;
    if (bytes <= have) return;
    const want = Math.min(bytes + 3 * this.blockBytes, this.blockEnd + 16);
    this.x.memory.grow(Math.ceil((Math.max(want, bytes) - have) / PAGE));
    const buf = this.x.memory.buffer;
    this.out = new Int16Array(buf, this.outPtr, this.blockFrames * this.channels);
    this.stage = new Int16Array(buf, this.stagePtr, this.blockFrames);
    this.i32 = new Int32Array(buf);
  }

  protected get output(): Int16Array {
    return this.out;
  }

  protected newBlock(): number {
    const spare = this.spare.pop();
    if (spare !== undefined) return spare;
    if (this.nextBlock >= this.blockEnd) throw new Error('wasm-mixer: window exceeded');
    const acc = this.nextBlock;
    this.nextBlock += this.blockBytes;
    this.ensure(this.nextBlock + 16);
    return acc;
  }

  protected addRun(acc: number, at: number, src: Int16Array, s: number, n: number): void {
    this.stage.set(src.subarray(s, s + n));
    this.x.add(acc + at * 4, this.stagePtr, n, this.channels);
  }

  protected clampOut(acc: number, n: number): number {
    const clipped = this.x.clamp(acc, this.outPtr, n);
    // clamp() zeroed what it read; a partial last block may hold samples past the end.
    if (n < this.blockFrames * this.channels) this.i32.fill(0, (acc >> 2) + n, (acc + this.blockBytes) >> 2);
    return clipped;
  }

  protected recycle(acc: number): void {
    this.spare.push(acc);
  }

  protected discard(acc: number): void {
    this.i32.fill(0, acc >> 2, (acc + this.blockBytes) >> 2);
    this.spare.push(acc);
  }
}

const align16 = (n: number): number => (n + 15) & ~15;
