/**
 * G.722.1 (Siren 7) through libavcodec's "siren" decoder (codecs/siren.ts).
 *
 * No reference exists on this machine: Debian 12 ships no G.722.1 encoder, no ITU test vectors,
 * and ffmpeg's CLI has no demuxer that hands raw G.722.1 frames to that decoder. So these tests
 * check what our side decides (frame size from bitrate and payload length, Annex C refused,
 * framing, robustness) and that the decoder really is a stateful transform decoder driven by
 * the bits; the claim that libavcodec's bit-stream reading is G.722.1's rests on reading its
 * source (see codecs/siren.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SIREN } from '../../codecs/siren.js';
import type { AudioDecoder } from '../../codecs/types.js';
import { createDecoder } from '../../recorder/media/decoder.js';
import { decodePayloads, fuzzDecoder, randomBytes, rms, snrDb } from '../support/codec-reference.js';

/**
 * A frame libavcodec's decoder takes without a frame error: random leading bits (envelope,
 * categorisation, the first coefficients), then 1s, because G.722.1 fills the bits a frame does
 * not use with 1s and the decoder flags a frame error (repeat the previous frame) on a 0 there.
 */
function frame(size: 60 | 80, seed: number): Uint8Array {
  for (let s = seed * 1000; ; s++) {
    const f = new Uint8Array(size).fill(0xff);
    f.set(randomBytes(4 + (s % 24), s));
    const d = SIREN.create('g7221', 16000, 1, `bitrate=${size * 400}`);
    const out = new Int16Array(320);
    if (d?.decode(f, 0, size, out) === 320 && rms(out) > 1) return f;
  }
}

const frames = (size: 60 | 80, count: number, seed: number): Uint8Array =>
  Buffer.concat(Array.from({ length: count }, (_, i) => frame(size, seed + i)));

const g7221 = (fmtp: string, name = 'G7221'): AudioDecoder => {
  const d = createDecoder(name, 16000, 1, fmtp);
  assert.ok(d !== null, `${name} ${fmtp}`);
  return d;
};

describe('G.722.1 decoder (libavcodec siren)', () => {
  it('decodes 20 ms of 16 kHz audio per 60-octet (24 kbit/s) or 80-octet (32 kbit/s) frame', () => {
    const out = new Int16Array(4000);
    for (const [fmtp, size] of [['bitrate=24000', 60], ['bitrate=32000', 80]] as const) {
      const d = g7221(fmtp);
      assert.equal(d.sampleRate, 16000);
      for (const count of [1, 2, 3]) assert.equal(d.decode(frames(size, count, count), 0, size * count, out), 320 * count);
    }
    assert.equal(g7221('bitrate=32000', 'SIREN').decode(frame(80, 1), 0, 80, out), 320);
  });

  it('takes the frame size from the payload when only one fits, from the fmtp when both do', () => {
    const out = new Int16Array(4000);
    assert.equal(g7221('bitrate=24000').decode(frame(80, 2), 0, 80, out), 320); // a 32 kbit/s frame
    assert.equal(g7221('bitrate=32000').decode(frames(60, 2, 3), 0, 120, out), 640); // two 24 kbit/s frames
    const both = frames(60, 4, 5); // 4 × 60 = 3 × 80
    assert.equal(g7221('bitrate=24000').decode(both, 0, 240, out), 4 * 320);
    assert.equal(g7221('bitrate=32000').decode(both, 0, 240, out), 3 * 320);
    assert.equal(g7221('').decode(both, 0, 240, out), 4 * 320);
    assert.equal(g7221('').decode(both, 0, 70, out), 0, 'neither 60n nor 80n');
  });

  it('is a stateful transform decoder driven by the bits (overlap-add across frames)', () => {
    const a = frame(60, 11);
    const b = frame(60, 12);
    const c = frame(60, 13);
    const ab = decodePayloads(g7221('bitrate=24000'), [a, b]);
    assert.deepEqual(decodePayloads(g7221('bitrate=24000'), [a, b]), ab, 'deterministic');
    const cb = decodePayloads(g7221('bitrate=24000'), [c, b]);
    assert.ok(rms(ab) > 0);
    assert.ok(snrDb(ab.subarray(320), cb.subarray(320)) < 30, 'frame 2 output depends on frame 1 (MLT overlap)');
    const ac = decodePayloads(g7221('bitrate=24000'), [a, c]);
    assert.deepEqual(ac.subarray(0, 320), ab.subarray(0, 320));
    assert.ok(snrDb(ab.subarray(320), ac.subarray(320)) < 30, 'and on its own bits');
  });

  it('refuses G.722.1 Annex C (32 kHz) and bit rates G.722.1 does not have at 16 kHz', () => {
    assert.equal(SIREN.create('g7221', 32000, 1, 'bitrate=48000'), null);
    assert.equal(SIREN.create('g7221', 32000, 1, 'bitrate=32000'), null);
    assert.equal(SIREN.create('g7221', 16000, 1, 'bitrate=48000'), null);
    assert.equal(SIREN.create('siren', 16000, 1, 'bitrate=16000'), null);
    assert.equal(SIREN.create('g7221', 16000, 2, 'bitrate=24000'), null);
  });

  it('keeps a rejected frame’s place with silence', () => {
    const good = frame(60, 20);
    const zeros = new Uint8Array(60); // libavcodec rejects this one
    const out = new Int16Array(960);
    assert.equal(g7221('bitrate=24000').decode(zeros, 0, 60, out), 0);
    const p = Buffer.concat([good, zeros, good]);
    assert.equal(g7221('bitrate=24000').decode(p, 0, p.length, out), 960);
    assert.equal(rms(out.subarray(320, 640)), 0);
    assert.ok(rms(out.subarray(640)) > 0);
  });

  it('never throws on malformed payloads, and offers no loss concealment', () => {
    assert.ok(fuzzDecoder(g7221('bitrate=24000'), randomBytes(120, 9), 320, 500) > 0);
    assert.ok(fuzzDecoder(g7221('bitrate=32000'), new Uint8Array(160), 320, 500) > 0);
    assert.equal('conceal' in g7221('bitrate=24000'), false);
  });
});
