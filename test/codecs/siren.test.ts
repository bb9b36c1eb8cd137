/**
 * G.722.1 (Siren 7) through libavcodec's "siren" decoder (codecs/siren.ts).
 *
 * No reference exists on this machine: Debian 12 ships no G.722.1 encoder, no ITU test vectors,
 * and ffmpeg's CLI has no demuxer that hands raw G.722.1 frames to that decoder. So these tests
 * check what our side decides (frame size from bitrate and payload length, Annex C refused,
 * framing, robustness), that the decoder really is a stateful transform decoder driven by the
 * bits, and that it reads a frame as G.722.1 lays it out: frames built here by the standard's
 * own rules (a spectral envelope of region powers coded with its differential Huffman codes)
 * decode to audio whose spectrum is that envelope, and the same frames packed in another bit
 * order do not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SIREN } from '../../codecs/siren.js';
import type { AudioDecoder } from '../../codecs/types.js';
import { createDecoder } from '../../recorder/media/decoder.js';
import { decodePayloads, fuzzDecoder, randomBytes, rms, snrDb } from '../support/codec-reference.js';
import { prng } from '../support/random.js';

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

/*
 * ITU-T G.722.1 (05/2005) §3: 20 ms of 16 kHz audio become 320 MLT coefficients, 25 Hz apart,
 * in 14 regions of 20 (region r covers 500r to 500r + 500 Hz). A frame starts with the
 * spectral envelope: region 0's power index in 5 bits (index + 7), then for regions 1–13 the
 * difference to the previous region's index in a region-specific Huffman code (§3.4–3.5,
 * the "differential region power" code table); then 4 categorisation bits, then the
 * quantised coefficients, and the bits left over are 1s. Each power step is 3 dB.
 * The codewords of that table used here, for regions 1–13: a difference of 0, +11 and −11.
 */
const DRP_SAME = ['101', '0011', '100', '011', '000', '010', '11', '11', '010', '011', '11', '11', '10'];
const DRP_UP_11 = ['100111111011', '0000100101111001', '10100001011101', '0101101111111', '11111000111101', '11001011011101', '0000100010101011', '000011111101001', '1011101011101', '00101111011111', '00010111011101', '1011001000000111', '01001110011101'];
const DRP_DOWN_11 = ['100110', '00001000', '1010000100', '0101101110', '1111100011111', '11001011010', '0000100010101000', '00001111110110', '101111100', '001011110110', '0001011100', '1011001000001', '01001110011000'];

/**
 * A G.722.1 frame (bits MSB first, RFC 5577 §3) whose envelope has every region at power index
 * 0 but region `k` at +11 (33 dB above the rest), then random categorisation and coefficient
 * bits up to 0–95 bits before the end, then 1s. (Coefficient bits of all 1s decode to zeros: a
 * short random part would leave the raised region silent.)
 */
function envelopeFrame(size: 60 | 80, k: number, rnd: () => number): Uint8Array {
  let bits = (0 + 7).toString(2).padStart(5, '0');
  for (let r = 1; r < 14; r++) bits += r === k ? DRP_UP_11[r - 1]! : r === k + 1 ? DRP_DOWN_11[r - 1]! : DRP_SAME[r - 1]!;
  const random = size * 8 - bits.length - Math.floor(rnd() * 96);
  for (let i = 0; i < random; i++) bits += rnd() < 0.5 ? '0' : '1';
  const f = new Uint8Array(size).fill(0xff);
  for (let i = 0; i < Math.min(bits.length, size * 8); i++) if (bits[i] === '0') f[i >> 3]! &= ~(0x80 >> (i & 7));
  return f;
}

/** Power in each 500 Hz band (a G.722.1 region), summed over Hann-windowed 320-sample blocks. */
function regionPowers(pcm: Int16Array): number[] {
  const N = 320;
  const bands = new Array<number>(16).fill(0);
  for (let s = 0; s + N <= pcm.length; s += N) {
    for (let b = 1; b < N / 2; b++) {
      let re = 0;
      let im = 0;
      const w = (2 * Math.PI * b) / N;
      for (let n = 0; n < N; n++) {
        const x = pcm[s + n]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N));
        re += x * Math.cos(w * n);
        im -= x * Math.sin(w * n);
      }
      bands[Math.floor((b * 50) / 500)]! += re * re + im * im;
    }
  }
  return bands;
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

  it('reads the frame as G.722.1 lays it out: the decoded spectrum is the coded envelope, not so in another bit order', () => {
    const rnd = prng(7221);
    const swap16 = (f: Uint8Array): Uint8Array => f.map((_, i) => f[i ^ 1]!);
    const reverseBits = (f: Uint8Array): Uint8Array => f.map((v) => Number.parseInt(v.toString(2).padStart(8, '0').split('').reverse().join(''), 2));
    const shares: number[] = [];
    for (const size of [60, 80] as const) {
      for (let k = 0; k < 14; k++) {
        // 12 frames the decoder takes without a frame error. Random coefficient bits can run past
        // the frame (rejected) or end before it with a 0 among the bits left (a frame error: the
        // previous frame's coefficients are repeated, none on a fresh decoder, so silence).
        const payloads: Uint8Array[] = [];
        const pcm = new Int16Array(320);
        for (let tries = 0; payloads.length < 12 && tries < 1000; tries++) {
          const f = envelopeFrame(size, k, rnd);
          if (g7221(`bitrate=${size * 400}`).decode(f, 0, size, pcm) === 320 && rms(pcm) > 1) payloads.push(f);
        }
        assert.equal(payloads.length, 12, `${size} octets, region ${k}: frames accepted`);
        // Two frames per RTP payload, through the same path a recording takes.
        const pairs = Array.from({ length: 6 }, (_, i) => Buffer.concat([payloads[2 * i]!, payloads[2 * i + 1]!]));
        const inBand = (ps: Uint8Array[]): number => {
          const p = regionPowers(decodePayloads(g7221(`bitrate=${size * 400}`), ps));
          return p[k]! / p.reduce((a, b) => a + b, 0);
        };
        const share = inBand(pairs);
        shares.push(share);
        assert.ok(share > 0.75, `${size} octets: ${(100 * share).toFixed(1)} % of the power in region ${k} (${500 * k}–${500 * k + 500} Hz)`);
        // The same frames with their 16-bit words byte-swapped, or each octet's bits reversed:
        // the envelope is lost. (Garbled frames often decode loudest in region 0, so region 0
        // cannot tell them apart.)
        if (k === 0) continue;
        for (const [what, garble] of [['byte-swapped', swap16], ['bit-reversed', reverseBits]] as const) {
          const other = inBand(pairs.map((p) => Uint8Array.from(Buffer.concat([garble(p.subarray(0, size)), garble(p.subarray(size))]))));
          assert.ok(!(other > 0.5), `${what}: ${(100 * other).toFixed(1)} % in region ${k}`);
        }
      }
    }
    console.log(`# G.722.1 envelope frames: power in the raised region ${shares.map((x) => `${(100 * x).toFixed(1)} %`).join(', ')}`);
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
