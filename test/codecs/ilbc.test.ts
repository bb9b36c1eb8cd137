/**
 * iLBC through libavcodec's decoder in codecs.node (codecs/ilbc.ts).
 *
 * Reference: ffmpeg reading RFC 3951 storage files (`#!iLBC30\n` / `#!iLBC20\n` + frames), i.e.
 * the same libavcodec decoder driven by ffmpeg's own demuxer: bit-exact required, which checks
 * our framing and mode choice. 30 ms frames come from the real call in
 * fixtures/lundgrel-sipp__sip-rtp-ilbc.pcap (dynamic PT 99, `mode=30` in its SDP); no iLBC
 * encoder exists on this machine, so 20 ms frames are random bits (the decoder takes any).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ILBC } from '../../codecs/ilbc.js';
import { loadCodecsAddon } from '../../codecs/native-addon.js';
import type { AudioDecoder } from '../../codecs/types.js';
import { createDecoder } from '../../recorder/media/decoder.js';
import { decodePayloads, ffmpegDecode, fuzzDecoder, randomBytes, rms, scratchFile, tsharkRtpPayloads } from '../support/codec-reference.js';

const FIXTURE = 'fixtures/lundgrel-sipp__sip-rtp-ilbc.pcap';

const ilbc = (fmtp = ''): AudioDecoder => {
  const d = createDecoder('iLBC', 8000, 1, fmtp);
  assert.ok(d !== null);
  return d;
};

const ffmpegIlbc = (frames: readonly Uint8Array[], ms: 20 | 30): Int16Array =>
  ffmpegDecode(scratchFile('x.lbc', Buffer.concat([Buffer.from(`#!iLBC${ms}\n`, 'latin1'), ...frames])), ['-f', 'ilbc']);

const join = (frames: readonly Uint8Array[], per: number): Uint8Array[] => {
  const out: Uint8Array[] = [];
  for (let i = 0; i < frames.length; i += per) out.push(Buffer.concat(frames.slice(i, i + per)));
  return out;
};

describe('iLBC decoder (libavcodec)', () => {
  it('links libavcodec’s native iLBC decoder', () => {
    assert.equal(loadCodecsAddon().lavcHasDecoder('ilbc'), true);
    assert.match(loadCodecsAddon().lavcVersion(), /^\d+\.\d+/);
  });

  it('is bit-exact with ffmpeg on the real 30 ms call, 1 to 3 frames per packet', () => {
    const rtp = tsharkRtpPayloads(FIXTURE, 0x043eefa7);
    assert.equal(rtp.length, 284);
    assert.ok(rtp.every((p) => p.pt === 99 && p.payload.length === 50));
    const frames = rtp.map((p) => p.payload);
    const ref = ffmpegIlbc(frames, 30);
    assert.equal(ref.length, 284 * 240);
    assert.ok(rms(ref) > 100);
    for (const per of [1, 2, 3]) assert.deepEqual(decodePayloads(ilbc('mode=30'), join(frames, per)), ref, `${per} per packet`);
  });

  it('decodes 20 ms frames bit-exact with ffmpeg, even when the fmtp says 30', () => {
    const frames = Array.from({ length: 150 }, (_, i) => randomBytes(38, 40 + i));
    const ref = ffmpegIlbc(frames, 20);
    assert.equal(ref.length, 150 * 160);
    for (const fmtp of ['mode=20', 'mode=30', '']) assert.deepEqual(decodePayloads(ilbc(fmtp), join(frames, 2)), ref, fmtp);
  });

  it('follows the fmtp mode only when the length fits both (RFC 3952 §5: default 30)', () => {
    const p = randomBytes(950, 1); // 25 × 38 = 19 × 50
    const out = new Int16Array(8000);
    assert.equal(ilbc('mode=20').decode(p, 0, p.length, out), 25 * 160);
    assert.equal(ilbc('mode=30').decode(p, 0, p.length, out), 19 * 240);
    assert.equal(ilbc('').decode(p, 0, p.length, out), 19 * 240);
    assert.equal(ilbc('mode=20').decode(p, 0, 101, out), 0, 'neither 38n nor 50n: malformed');
  });

  it('conceals a lost frame from the decoded signal (pitch repetition), better than silence, fading out', () => {
    const frames = tsharkRtpPayloads(FIXTURE, 0x043eefa7).map((p) => p.payload);
    const ref = decodePayloads(ilbc('mode=30'), frames);
    const out = new Int16Array(480);
    let gains = 0;
    let tried = 0;
    // Lose each 12th frame (where there is speech) and compare the concealment with the real decode.
    for (let k = 12; k < frames.length; k += 12) {
      const truth = ref.subarray(k * 240, k * 240 + 240);
      if (rms(truth) < 300) continue;
      const d = ilbc('mode=30');
      decodePayloads(d, frames.slice(0, k));
      assert.equal(d.conceal?.(240, out), 240);
      const guess = out.subarray(0, 240);
      let sig = 0;
      let err = 0;
      for (let i = 0; i < 240; i++) {
        sig += truth[i]! ** 2;
        err += (truth[i]! - guess[i]!) ** 2;
      }
      gains += 10 * Math.log10(sig / Math.max(err, 1));
      tried++;
      assert.ok(rms(guess) <= 2 * rms(ref.subarray(k * 240 - 480, k * 240)), 'no more energy than the speech before it');
    }
    assert.ok(tried >= 5, `${tried} voiced losses`);
    // Silence would score 0 dB; repeating the pitch period must do better on average.
    assert.ok(gains / tried > 0.5, `mean SNR of the concealed frames ${(gains / tried).toFixed(2)} dB`);
    // A long loss fades to silence within 60 ms.
    const d = ilbc('mode=30');
    decodePayloads(d, frames.slice(0, 40));
    const long = new Int16Array(800);
    assert.equal(d.conceal?.(800, long), 800);
    assert.ok(long.subarray(480).every((v) => v === 0), 'silent from 60 ms on');
    assert.equal(ilbc().conceal?.(240, out), 0, 'nothing to repeat before the first frame');
  });

  it('never throws on malformed payloads', () => {
    const valid = tsharkRtpPayloads(FIXTURE, 0x043eefa7)[100]!.payload;
    assert.ok(fuzzDecoder(ilbc(), valid, 80) > 0);
    assert.ok(fuzzDecoder(ilbc('mode=20'), randomBytes(76, 5), 80) > 0);
  });

  it('supports 8 kHz mono only', () => {
    assert.equal(ILBC.create('ilbc', 16000, 1, ''), null);
    assert.equal(ILBC.create('ilbc', 8000, 2, ''), null);
  });
});
