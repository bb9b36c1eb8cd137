/**
 * G.722 through spandsp (codecs/g722.ts). Reference: ffmpeg's G.722 decoder, an independent
 * implementation of the same ITU-T algorithm: bit-exact on real RTP (the SIPREC capture's two
 * PT 9 streams) and on a stream ffmpeg's encoder made from speech.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { G722 } from '../../codecs/g722.js';
import type { AudioDecoder } from '../../codecs/types.js';
import { createDecoder } from '../../recorder/media/decoder.js';
import { chunk, decodePayloads, ffmpegDecode, ffmpegEncode, fuzzDecoder, scratchFile, speech, tsharkRtpPayloads } from '../support/codec-reference.js';

const FIXTURE = 'fixtures/sipp-siprec__siprec_dual_channel_udp.pcap';

const g722 = (clockRate = 8000): AudioDecoder => {
  const d = createDecoder('G722', clockRate, 1, '');
  assert.ok(d !== null);
  return d;
};

describe('G.722 decoder (spandsp)', () => {
  it('decodes 16 kHz audio although the RTP clock says 8000 (RFC 3551 §4.5.2)', () => {
    const d = g722();
    assert.equal(d.sampleRate, 16000);
    const out = new Int16Array(640);
    assert.equal(d.decode(new Uint8Array(160), 0, 160, out), 320); // 20 ms
    assert.equal(g722(16000).sampleRate, 16000);
  });

  for (const ssrc of [0x04ad37b4, 0x19473744]) {
    it(`is bit-exact with ffmpeg on real RTP (SSRC 0x${ssrc.toString(16)})`, () => {
      const payloads = tsharkRtpPayloads(FIXTURE, ssrc).map((p) => p.payload);
      assert.ok(payloads.length > 2000);
      const ours = decodePayloads(g722(), payloads);
      const ref = ffmpegDecode(scratchFile('rtp.g722', Buffer.concat(payloads)), ['-f', 'g722']);
      assert.equal(ours.length, ref.length);
      assert.deepEqual(ours, ref);
    });
  }

  it('is bit-exact with ffmpeg on encoded speech, whatever the packet size', () => {
    const coded = ffmpegEncode(speech(16000, 4), 16000, ['-c:a', 'g722', '-f', 'g722']);
    const ref = ffmpegDecode(scratchFile('speech.g722', coded), ['-f', 'g722']);
    assert.equal(ref.length, coded.length * 2);
    for (const size of [80, 160, 240, 77]) assert.deepEqual(decodePayloads(g722(), chunk(coded, size)), ref, `${size}-octet packets`);
  });

  it('never throws on malformed payloads', () => {
    const valid = ffmpegEncode(speech(16000, 0.02), 16000, ['-c:a', 'g722', '-f', 'g722']);
    assert.ok(fuzzDecoder(g722(), valid, 2) > 0);
  });

  it('supports mono only and has no loss concealment', () => {
    assert.equal(G722.create('g722', 8000, 2, ''), null);
    assert.equal('conceal' in g722(), false);
  });
});
