/**
 * G.726 through spandsp (codecs/g726.ts), both packings of RFC 3551 §4.5.4.
 *
 * References:
 * - sox, which decodes Sun .au G.72x files with Sun Microsystems' reference G.721/G.723 code, an
 *   implementation independent of spandsp, for 24, 32 and 40 kbit/s (Sun's code has no
 *   16 kbit/s): ≥ 40 dB SNR required (measured 97-99 dB: all but a handful of samples equal).
 * - ffmpeg's g726le (RFC 3551 packing) and g726 (AAL2 packing) decoders, to tell the packings
 *   apart and for 16 kbit/s. ffmpeg's G.726 drifts from the ITU algorithm by a few LSBs (it
 *   agrees with neither spandsp nor Sun's code: measured 27-38 dB against either, while those two
 *   agree to 97-99 dB), so against it 25 dB is required. Its 40 kbit/s code words are not G.726's at all (Sun's decoder and ours
 *   both turn an ffmpeg 40 kbit/s stream into noise and vice versa), so it is not used there.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { G726 } from '../../codecs/g726.js';
import type { AudioDecoder } from '../../codecs/types.js';
import { createDecoder } from '../../recorder/media/decoder.js';
import {
  chunk,
  decodePayloads,
  ffmpegDecode,
  ffmpegEncode,
  fuzzDecoder,
  randomBytes,
  repackMsbFirst,
  scratchFile,
  snrDb,
  soxDecodeG726,
  speech,
} from '../support/codec-reference.js';

const g726 = (name: string): AudioDecoder => {
  const d = createDecoder(name.toUpperCase(), 8000, 1, '');
  assert.ok(d !== null, name);
  return d;
};

/** RTP payloads of 20 ms (160 code words). */
const packets = (packed: Uint8Array, bits: number): Uint8Array[] => chunk(packed, 20 * bits);

/** ffmpeg-encoded speech at `kbit` in RFC 3551 (LSB-first) packing. */
const ffmpegG726 = (kbit: number): Buffer => ffmpegEncode(speech(8000, 4), 8000, ['-c:a', 'g726le', '-b:a', `${kbit}k`, '-f', 'g726le']);

describe('G.726 decoder (spandsp)', () => {
  for (const bits of [3, 4, 5] as const) {
    const kbit = bits * 8;
    it(`G726-${kbit} matches Sun's reference decoder (sox), on random code words${bits < 5 ? ' and on speech' : ''}`, () => {
      const streams = [randomBytes(bits * 4000, bits)];
      if (bits < 5) streams.push(ffmpegG726(kbit));
      for (const packed of streams) {
        const ref = soxDecodeG726(packed, bits);
        const ours = decodePayloads(g726(`g726-${kbit}`), packets(packed, bits));
        assert.equal(ours.length, (packed.length * 8) / bits);
        assert.equal(ref.length, ours.length);
        const snr = snrDb(ref, ours);
        assert.ok(snr >= 40, `SNR ${snr.toFixed(1)} dB`);
      }
    });

    it(`AAL2-G726-${kbit} is the same code words packed from the most significant bit`, () => {
      const packed = randomBytes(bits * 4000, 10 + bits);
      const rfc3551 = decodePayloads(g726(`g726-${kbit}`), packets(packed, bits));
      const aal2 = repackMsbFirst(packed, bits);
      assert.deepEqual(decodePayloads(g726(`aal2-g726-${kbit}`), packets(aal2, bits)), rfc3551);
      assert.ok(snrDb(rfc3551, decodePayloads(g726(`g726-${kbit}`), packets(aal2, bits))) < 10, 'the other packing is noise');
    });
  }

  for (const kbit of [16, 24, 32]) {
    it(`packings agree with ffmpeg's g726le (RFC 3551) and g726 (AAL2) at ${kbit} kbit/s`, () => {
      const bits = kbit / 8;
      for (const [fmt, ours, other] of [
        ['g726le', `g726-${kbit}`, `aal2-g726-${kbit}`],
        ['g726', `aal2-g726-${kbit}`, `g726-${kbit}`],
      ] as const) {
        const packed = ffmpegEncode(speech(8000, 4), 8000, ['-c:a', fmt, '-b:a', `${kbit}k`, '-f', fmt]);
        const ref = ffmpegDecode(scratchFile('x.g726', packed), ['-f', fmt, '-code_size', String(bits), '-sample_rate', '8000']);
        const snr = snrDb(ref, decodePayloads(g726(ours), packets(packed, bits)));
        assert.ok(snr >= 25, `${fmt} as ${ours}: SNR ${snr.toFixed(1)} dB`);
        assert.ok(snrDb(ref, decodePayloads(g726(other), packets(packed, bits))) < 10, `${fmt} as ${other} is noise`);
      }
    });
  }

  it('carries code words split across packets (24 and 40 kbit/s, odd packet sizes)', () => {
    for (const bits of [3, 5]) {
      const packed = randomBytes(bits * 1000, 7);
      const whole = decodePayloads(g726(`g726-${bits * 8}`), [packed]);
      assert.deepEqual(decodePayloads(g726(`g726-${bits * 8}`), chunk(packed, 7)), whole);
    }
  });

  it('never throws on malformed payloads', () => {
    for (const name of ['g726-16', 'g726-24', 'g726-32', 'g726-40', 'aal2-g726-40']) {
      assert.ok(fuzzDecoder(g726(name), randomBytes(60, 3), 1) > 0, name);
    }
  });

  it('knows the eight encoding names, 8 kHz mono only, without loss concealment', () => {
    assert.equal(G726.names.length, 8);
    assert.equal(G726.create('g726-32', 16000, 1, ''), null);
    assert.equal(G726.create('g726-32', 8000, 2, ''), null);
    assert.equal(G726.create('g726-48', 8000, 1, ''), null);
    assert.equal('conceal' in g726('g726-32'), false);
  });
});
