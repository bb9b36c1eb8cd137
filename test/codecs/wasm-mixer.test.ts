import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WasmMixer } from '../../codecs/wasm-mixer.js';
import { Mixer, createMixer } from '../../recorder/media/mixer.js';
import { prng } from '../support/random.js';

interface Run {
  out: Int16Array;
  late: number;
  ahead: number;
  clipped: number;
}

type AnyMixer = Mixer | WasmMixer;

/**
 * Feeds one mixer a seeded random schedule: streams of loud noise (so sums saturate) added at
 * random positions and lengths (odd ones, across block edges, late and far ahead), with
 * finalizeBefore() as the render calls it, then finish().
 */
function drive(make: (sink: (pcm: Int16Array, n: number) => void) => AnyMixer, channels: number, seed: number): Run {
  const parts: Int16Array[] = [];
  const m = make((pcm, n) => parts.push(pcm.slice(0, n)));
  const rnd = prng(seed);
  const src = new Int16Array(5000);
  for (let i = 0; i < src.length; i++) src[i] = Math.round((rnd() * 2 - 1) * 30000);
  let pos = 0;
  for (let step = 0; step < 400; step++) {
    const n = 1 + Math.floor(rnd() * 700);
    const off = Math.floor(rnd() * (src.length - n));
    const at = Math.max(0, pos + Math.floor((rnd() - 0.6) * 12000));
    m.add(Math.floor(rnd() * channels), at, src, off, n);
    if (step % 7 === 0) m.add(0, pos + 50_000, src, 0, 10); // beyond the window: counted, dropped
    pos += Math.floor(rnd() * 400);
    if (step % 10 === 0) m.finalizeBefore(pos - 3000);
  }
  m.finish(pos + 777);
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Int16Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return { out, late: m.lateSamples, ahead: m.aheadSamples, clipped: m.clipped };
}

describe('WASM mixer (codecs/mix.wat) against the TypeScript mixer', () => {
  for (const channels of [1, 2]) {
    for (const block of [160, 1001, 8000]) {
      it(`${channels} channel(s), blocks of ${block} frames: identical samples and counters`, () => {
        for (const seed of [1, 2, 3]) {
          const ts = drive((sink) => new Mixer(channels, block, 20_000, sink), channels, seed);
          const wasm = drive((sink) => new WasmMixer(channels, block, 20_000, sink), channels, seed);
          assert.ok(ts.out.length > 10_000);
          assert.ok(ts.clipped > 0 && ts.late > 0 && ts.ahead > 0, 'the schedule saturates, arrives late and too far ahead');
          assert.deepEqual(wasm, ts);
        }
      });
    }
  }

  it('the render gets the WASM mixer (it measured faster) when mix.wasm is built', () => {
    assert.ok(createMixer(2, 8000, 16000, () => undefined) instanceof WasmMixer);
  });

  it('grows its memory with the window: a long window at 48 kHz stereo', () => {
    const ts = drive((sink) => new Mixer(2, 48000, 48000 * 35, sink), 2, 9);
    const wasm = drive((sink) => new WasmMixer(2, 48000, 48000 * 35, sink), 2, 9);
    assert.deepEqual(wasm, ts);
  });

  it('saturates instead of wrapping, and counts each clamped sample', () => {
    const got: number[] = [];
    const m = new WasmMixer(1, 20, 100, (pcm, n) => got.push(...pcm.subarray(0, n)));
    const loud = Int16Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 30000 : -30000));
    m.add(0, 0, loud, 0, 20);
    m.add(0, 0, loud, 0, 13); // 13 samples sum to ±60000, 7 stay ±30000
    m.finish(20);
    assert.deepEqual(got.slice(0, 4), [32767, -32768, 32767, -32768]);
    assert.deepEqual(got.slice(13), [-30000, 30000, -30000, 30000, -30000, 30000, -30000]);
    assert.equal(m.clipped, 13);
  });
});
