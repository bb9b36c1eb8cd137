/**
 * Speex through libspeex (codecs/speex.ts): narrowband, wideband, ultra-wideband by RTP clock.
 *
 * References: ffmpeg's libspeex decoder (the same library: bit-exact) on streams ffmpeg's
 * libspeex encoder made from speech with 1 and 3 frames per packet (RFC 5574 §3: frames back
 * to back, no count), and ffmpeg's own Speex decoder for narrowband (independent; measured
 * 72.7 dB). ffmpeg's own decoder is not used for wideband: it differs from libspeex there
 * (measured 15 dB), a difference between ffmpeg and libspeex, not in our glue.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SPEEX } from '../../codecs/speex.js';
import type { AudioDecoder } from '../../codecs/types.js';
import { createDecoder } from '../../recorder/media/decoder.js';
import { decodePayloads, ffmpegDecode, ffmpegEncode, fuzzDecoder, oggPackets, rms, scratchFile, snrDb, speech } from '../support/codec-reference.js';

const speex = (rate: number): AudioDecoder => {
  const d = createDecoder('SPEEX', rate, 1, '');
  assert.ok(d !== null);
  return d;
};

/** Ogg Speex from ffmpeg; its first two packets are the Speex header and the comments. */
function encodeSpeex(rate: number, framesPerPacket: number): { file: string; payloads: Uint8Array[] } {
  const ogg = ffmpegEncode(speech(rate, 3), rate, ['-c:a', 'libspeex', '-frames_per_packet', String(framesPerPacket), '-f', 'ogg']);
  return { file: scratchFile('speech.spx', ogg), payloads: oggPackets(ogg).slice(2) };
}

const FRAME = { 8000: 160, 16000: 320, 32000: 640 } as const;

describe('Speex decoder (libspeex)', () => {
  for (const rate of [8000, 16000, 32000] as const) {
    it(`is bit-exact with ffmpeg's libspeex at ${rate} Hz, 1 and 3 frames per packet`, () => {
      for (const fpp of [1, 3]) {
        const { file, payloads } = encodeSpeex(rate, fpp);
        const ref = ffmpegDecode(file, ['-c:a', 'libspeex']);
        const d = speex(rate);
        assert.equal(d.sampleRate, rate);
        const ours = decodePayloads(d, payloads);
        assert.equal(ours.length, payloads.length * fpp * FRAME[rate], 'every frame of every packet');
        assert.deepEqual(ours, ref);
      }
    });
  }

  it('agrees with ffmpeg’s own narrowband decoder (≥ 40 dB)', () => {
    const { file, payloads } = encodeSpeex(8000, 3);
    const snr = snrDb(ffmpegDecode(file, ['-c:a', 'speex']), decodePayloads(speex(8000), payloads));
    assert.ok(snr >= 40, `SNR ${snr.toFixed(1)} dB`);
  });

  it('conceals lost frames with libspeex’s packet loss concealment', () => {
    for (const rate of [8000, 16000] as const) {
      const d = speex(rate);
      decodePayloads(d, encodeSpeex(rate, 1).payloads.slice(0, 60));
      const out = new Int16Array(2048);
      assert.ok(d.conceal !== undefined);
      const n = d.conceal(FRAME[rate] + 1, out);
      assert.equal(n, 2 * FRAME[rate]);
      assert.ok(rms(out.subarray(0, n)) > 1, 'not silence');
    }
  });

  it('never throws on malformed payloads', () => {
    for (const rate of [8000, 16000, 32000] as const) {
      const valid = encodeSpeex(rate, 2).payloads[10]!;
      fuzzDecoder(speex(rate), valid, FRAME[rate], 200);
      assert.ok(speex(rate).decode(valid, 0, valid.length, new Int16Array(4096)) === 2 * FRAME[rate]);
    }
  });

  it('supports 8, 16 and 32 kHz mono only', () => {
    assert.equal(SPEEX.create('speex', 48000, 1, ''), null);
    assert.equal(SPEEX.create('speex', 8000, 2, ''), null);
  });
});
