import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Resampler, resampledLength } from '../../../recorder/media/resample.js';
import { StreamPlacer } from '../../../recorder/media/stream-placer.js';
import { prng } from '../../support/random.js';
import { goertzel } from './media-helpers.js';

const tone = (n: number, rate: number, freqs: readonly number[], amp = 8000): Int16Array =>
  Int16Array.from({ length: n }, (_, i) => Math.round(freqs.reduce((a, f) => a + amp * Math.sin((2 * Math.PI * f * i) / rate), 0)));

/** Resamples in one push and a flush. */
function oneShot(x: Int16Array, inRate: number, outRate: number): Int16Array {
  const r = new Resampler(inRate, outRate);
  const out = new Int16Array(r.maxOutput(x.length) + 64);
  const a = r.push(x, 0, x.length, out, 0);
  const b = r.flush(out, a);
  return out.subarray(0, a + b);
}

/** SNR (dB) of y against the ideal tone at the output rate, away from the segment edges. */
function snrAgainst(y: Int16Array, outRate: number, freqs: readonly number[], edge: number): number {
  const ideal = tone(y.length, outRate, freqs);
  let sig = 0;
  let err = 0;
  for (let i = edge; i < y.length - edge; i++) {
    sig += ideal[i]! ** 2;
    err += (y[i]! - ideal[i]!) ** 2;
  }
  return 10 * Math.log10(sig / Math.max(err, 1e-9));
}

describe('band-limited resampler', () => {
  const pairs: [number, number][] = [
    [8000, 16000],
    [8000, 48000],
    [16000, 8000],
    [48000, 8000],
    [16000, 48000],
    [11025, 16000],
    [44100, 48000],
    [8000, 44100],
  ];
  for (const [inRate, outRate] of pairs) {
    it(`${inRate} → ${outRate}: in-band tones match the ideal signal (SNR ≥ 60 dB), exact length`, () => {
      const n = inRate; // one second
      const freqs = [440, 1000, 3000].filter((f) => f < 0.45 * Math.min(inRate, outRate));
      const y = oneShot(tone(n, inRate, freqs), inRate, outRate);
      assert.equal(y.length, Math.ceil((n * outRate) / inRate));
      assert.equal(y.length, resampledLength(n, inRate, outRate));
      // The edges see the silence before and after the segment: skip the filter's reach there.
      const edge = Math.ceil((64 * outRate) / Math.min(inRate, outRate));
      const snr = snrAgainst(y, outRate, freqs, edge);
      assert.ok(snr >= 60, `SNR ${snr.toFixed(1)} dB`);
    });
  }

  it('downsampling removes what the new rate cannot hold instead of folding it (no aliasing)', () => {
    // 6 kHz at 48 kHz → 8 kHz: linear interpolation would fold it to 2 kHz; the filter removes it.
    const x = tone(48000, 48000, [6000], 10000);
    const y = oneShot(x, 48000, 8000);
    const alias = goertzel(y, 200, y.length - 200, 2000, 8000);
    const pass = goertzel(oneShot(tone(48000, 48000, [2000], 10000), 48000, 8000), 200, 7800, 2000, 8000);
    assert.ok(pass > 1000, `pass-band tone ${pass}`);
    assert.ok(20 * Math.log10(pass / Math.max(alias, 1e-9)) >= 70, `alias ${alias} vs pass ${pass}`);
  });

  it('upsampling leaves no image of the voice band above the old Nyquist', () => {
    // 1 kHz at 8 kHz → 16 kHz: a zero-order or linear interpolator leaves an image at 7 kHz.
    const y = oneShot(tone(8000, 8000, [1000], 10000), 8000, 16000);
    const image = goertzel(y, 200, y.length - 200, 7000, 16000);
    const main = goertzel(y, 200, y.length - 200, 1000, 16000);
    assert.ok(20 * Math.log10(main / Math.max(image, 1e-9)) >= 70, `image ${image} vs ${main}`);
  });

  it('streaming in random pieces gives the same samples as one push', () => {
    const rnd = prng(7);
    const x = Int16Array.from({ length: 12345 }, () => Math.round((rnd() - 0.5) * 20000));
    for (const [inRate, outRate] of pairs) {
      const whole = oneShot(x, inRate, outRate);
      const r = new Resampler(inRate, outRate);
      const out = new Int16Array(whole.length + 64);
      let w = 0;
      for (let i = 0; i < x.length; ) {
        const k = Math.min(x.length - i, 1 + Math.floor(rnd() * 400));
        w += r.push(x, i, k, out, w);
        i += k;
      }
      w += r.flush(out, w);
      assert.equal(w, whole.length, `${inRate}→${outRate}`);
      assert.deepEqual(out.subarray(0, w), whole, `${inRate}→${outRate}`);
    }
  });

  it('full-scale input saturates instead of wrapping', () => {
    const x = Int16Array.from({ length: 800 }, (_, i) => (i % 2 === 0 ? 32767 : -32768));
    const y = oneShot(x, 8000, 48000);
    for (const v of y) assert.ok(v >= -32768 && v <= 32767);
  });
});

describe('stream placer', () => {
  it('contiguous packets resample as one signal; a jump starts a new segment at its position', () => {
    const placed: { pos: number; data: Int16Array }[] = [];
    const p = new StreamPlacer(16000, (pos, src, n) => placed.push({ pos, data: src.slice(0, n) }));
    const x = tone(1600, 8000, [700]);
    for (let k = 0; k < 10; k++) p.place(k * 320, x.subarray(k * 160, k * 160 + 160), 160, 8000);
    // Same signal in one push: same output, at the same positions.
    const whole = oneShot(x, 8000, 16000);
    p.place(10_000, x.subarray(0, 160), 160, 8000); // a jump: the first segment's tail goes out first
    p.flush();
    const line = new Int16Array(20_000);
    const hits = new Uint8Array(20_000);
    for (const { pos, data } of placed)
      for (let i = 0; i < data.length; i++) {
        line[pos + i] = line[pos + i]! + data[i]!;
        hits[pos + i]!++;
      }
    assert.deepEqual(line.subarray(0, whole.length), whole);
    for (let i = 0; i < 20_000; i++) assert.ok(hits[i]! <= 1, `frame ${i} written twice`);
    assert.ok(hits[10_000] === 1 && hits[10_319] === 1 && hits[3200] === 0);
  });

  it('same-rate audio passes through untouched', () => {
    const got: number[] = [];
    const p = new StreamPlacer(8000, (pos, src, n) => got.push(pos, n, src[0]!));
    assert.equal(p.place(80, Int16Array.of(5, 6, 7), 3, 8000), 3);
    assert.deepEqual(got, [80, 3, 5]);
    assert.equal(p.segmentEnd, null);
  });
});
