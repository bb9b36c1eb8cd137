import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ALAW_TO_LINEAR, ULAW_TO_LINEAR, encodeAlaw, encodeUlaw } from '../../codecs/g711.js';
import { WavWriter } from '../../codecs/wav-writer.js';
import { prng } from '../support/random.js';
import { tmp } from '../recorder/spool/spool-helpers.js';
import { readWav, sox, soxi } from '../recorder/media/media-helpers.js';

function samples(n: number, seed: number): Int16Array {
  const rnd = prng(seed);
  return Int16Array.from({ length: n }, () => Math.floor(rnd() * 65536) - 32768);
}

describe('WavWriter', () => {
  it('PCM16 stereo written in uneven pieces: soxi reads rate, channels, duration; sox reads the samples back', () => {
    const dir = tmp('wav');
    const path = join(dir, 'a.wav');
    const x = samples(8000 * 2 * 3 + 2 * 123, 1); // 3.015375 s of stereo
    const w = new WavWriter(path, { sampleRate: 8000, channels: 2 });
    for (let at = 0; at < x.length; ) {
      const n = Math.min(x.length - at, 2 * (1 + ((at * 7919) % 40000)));
      w.write(x, n, at);
      at += n;
    }
    w.close();
    assert.equal(soxi('r', path), '8000');
    assert.equal(soxi('c', path), '2');
    assert.equal(soxi('b', path), '16');
    assert.ok(Math.abs(Number(soxi('D', path)) - x.length / 2 / 8000) <= 0.02);
    assert.equal(statSync(path).size, 44 + x.length * 2);
    const raw = join(dir, 'a.raw');
    sox([path, '-t', 'raw', '-e', 'signed', '-b', '16', '-L', raw]);
    const back = readFileSync(raw);
    assert.deepEqual(Int16Array.from({ length: back.length / 2 }, (_, i) => back.readInt16LE(i * 2)), x);
    assert.deepEqual(readWav(path).samples, x);
  });

  it('an empty recording is a valid 0-second WAV', () => {
    const path = join(tmp('wav0'), 'e.wav');
    new WavWriter(path, { sampleRate: 8000, channels: 1 }).close();
    assert.equal(soxi('D', path), '0.000000');
  });

  for (const [encoding, tag, soxName, enc, dec] of [
    ['mulaw', 7, 'u-law', encodeUlaw, ULAW_TO_LINEAR],
    ['alaw', 6, 'A-law', encodeAlaw, ALAW_TO_LINEAR],
  ] as const) {
    it(`G.711 WAV (${encoding}, tag ${tag}, odd length padded): soxi and sox agree with our codes`, () => {
      const dir = tmp('wavg');
      const path = join(dir, 'g.wav');
      const x = samples(8001, 2);
      const w = new WavWriter(path, { sampleRate: 8000, channels: 1, encoding });
      w.write(x, x.length);
      w.close();
      const wav = readWav(path);
      assert.equal(wav.tag, tag);
      assert.equal(wav.bits, 8);
      assert.deepEqual([...wav.data], Array.from(x, enc));
      assert.equal(statSync(path).size, 58 + 8002);
      assert.equal(soxi('e', path), soxName);
      assert.ok(Math.abs(Number(soxi('D', path)) - 8001 / 8000) <= 0.02);
      const raw = join(dir, 'g.raw');
      sox([path, '-t', 'raw', '-e', 'signed', '-b', '16', '-L', raw]);
      const back = readFileSync(raw);
      assert.equal(back.length, 8001 * 2);
      for (let i = 0; i < 8001; i++) assert.equal(back.readInt16LE(i * 2), dec[enc(x[i]!)], `sample ${i}`);
    });
  }
});
