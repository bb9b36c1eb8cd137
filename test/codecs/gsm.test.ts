/**
 * GSM 06.10 through libgsm (codecs/gsm.ts). References: ffmpeg's libgsm decoder (the same
 * library: bit-exact) and ffmpeg's own GSM decoder (independent, also bit-exact), on a stream
 * ffmpeg's libgsm encoder made from speech, packed 1-3 frames per RTP payload.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GSM } from '../../codecs/gsm.js';
import type { AudioDecoder } from '../../codecs/types.js';
import { createDecoder } from '../../recorder/media/decoder.js';
import { chunk, decodePayloads, ffmpegDecode, ffmpegEncode, fuzzDecoder, rms, scratchFile, speech } from '../support/codec-reference.js';

const gsm = (): AudioDecoder => {
  const d = createDecoder('GSM', 8000, 1, '');
  assert.ok(d !== null);
  return d;
};

const coded = (): Buffer => ffmpegEncode(speech(8000, 4), 8000, ['-c:a', 'libgsm', '-f', 'gsm']);

describe('GSM 06.10 decoder (libgsm)', () => {
  it('is bit-exact with ffmpeg (libgsm and its own decoder), 1 to 3 frames per packet', () => {
    const bits = coded();
    assert.equal(bits.length % 33, 0);
    const file = scratchFile('speech.gsm', bits);
    const ref = ffmpegDecode(file, ['-f', 'gsm', '-c:a', 'libgsm']);
    assert.deepEqual(ffmpegDecode(file, ['-f', 'gsm', '-c:a', 'gsm']), ref);
    assert.equal(ref.length, (bits.length / 33) * 160);
    for (const frames of [1, 2, 3]) assert.deepEqual(decodePayloads(gsm(), chunk(bits, 33 * frames)), ref, `${frames} frames per packet`);
  });

  it('replaces a frame without the 0xD signature by silence and keeps the others in place', () => {
    const bits = coded().subarray(33 * 50, 33 * 53);
    const bad = Buffer.from(bits);
    bad[33] = 0x00; // second frame's signature nibble
    const out = new Int16Array(480);
    assert.equal(gsm().decode(bad, 0, bad.length, out), 480);
    assert.equal(rms(out.subarray(160, 320)), 0);
    assert.ok(rms(out.subarray(320)) > 0);
    const junk = new Uint8Array(66); // no valid frame at all
    assert.equal(gsm().decode(junk, 0, junk.length, out), 0);
  });

  it('never throws on malformed payloads', () => {
    assert.ok(fuzzDecoder(gsm(), coded().subarray(0, 66), 160) > 0);
  });

  it('supports 8 kHz mono only and has no loss concealment', () => {
    assert.equal(GSM.create('gsm', 16000, 1, ''), null);
    assert.equal(GSM.create('gsm', 8000, 2, ''), null);
    assert.equal('conceal' in gsm(), false);
  });
});
