/**
 * AMR and AMR-WB through opencore-amr with our RFC 4867 depacketizer (codecs/amr.ts).
 *
 * Reference: sox, which decodes `.amr`/`.awb` storage files with opencore-amr, the library we
 * link: the same frames sent as RTP in either packing, several per packet, must decode
 * bit-exact, which checks the depacketizer bit for bit. AMR-NB speech comes from sox's
 * opencore encoder (every mode); no AMR-WB encoder exists on this machine (ffmpeg and sox lack
 * one), so AMR-WB uses random speech bits of every frame type, which the decoder takes as any
 * other frame. ffmpeg's own AMR decoders are independent floating-point implementations whose
 * waveforms differ from the 3GPP fixed-point decoder (measured 4 dB SNR on AMR-NB, 12 dB on
 * AMR-WB), so against ffmpeg only the per-frame level is compared.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeAmrPayload } from '../../codecs/amr-payload.js';
import { AMR } from '../../codecs/amr.js';
import type { AudioDecoder } from '../../codecs/types.js';
import { createDecoder } from '../../recorder/media/decoder.js';
import {
  amrStorageFile,
  amrStorageFrames,
  decodePayloads,
  ffmpegDecode,
  fuzzDecoder,
  randomBytes,
  rms,
  scratchFile,
  snrDb,
  soxDecodeAmr,
  soxEncodeAmrNb,
  speech,
} from '../support/codec-reference.js';

const amr = (wideband: boolean, fmtp = ''): AudioDecoder => {
  const d = createDecoder(wideband ? 'AMR-WB' : 'AMR', wideband ? 16000 : 8000, 1, fmtp);
  assert.ok(d !== null);
  return d;
};

/** RFC 4867 payloads of `per` frames each. */
function packetize(frames: readonly Uint8Array[], per: number, wideband: boolean, octetAligned: boolean, cmr = 15): Uint8Array[] {
  const out: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (let i = 0; i < frames.length; i += per) {
    const n = encodeAmrPayload(frames.slice(i, i + per), cmr, wideband, octetAligned, buf);
    assert.ok(n > 0);
    out.push(buf.slice(0, n));
  }
  return out;
}

const WB_OCTETS = [17, 23, 32, 36, 40, 46, 50, 58, 60, 5];

/** AMR-WB frames of every speech type and SID with random bits (Q = 1). */
function randomWbFrames(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const ft = i % WB_OCTETS.length;
    const f = randomBytes(1 + WB_OCTETS[ft]!, 500 + i);
    f[0] = (ft << 3) | 0x04;
    return f;
  });
}

/** Per-20 ms-frame level in dB. */
const levels = (x: Int16Array, frame: number): number[] =>
  Array.from({ length: Math.floor(x.length / frame) }, (_, i) => 20 * Math.log10(rms(x.subarray(i * frame, (i + 1) * frame)) + 1));

describe('AMR decoder (opencore-amrnb, RFC 4867)', () => {
  for (const mode of [0, 1, 2, 3, 4, 5, 6, 7]) {
    it(`is bit-exact with opencore via sox, mode ${mode}, both packings, 1 and 3 frames per packet`, () => {
      const file = soxEncodeAmrNb(speech(8000, 2), mode);
      const frames = amrStorageFrames(file, false);
      assert.ok(frames.every((f) => ((f[0]! >> 3) & 15) === mode));
      const ref = soxDecodeAmr(scratchFile('speech.amr', file), false);
      assert.equal(ref.length, frames.length * 160);
      assert.ok(rms(ref) > 500, 'speech, not silence');
      for (const octetAligned of [false, true]) {
        for (const per of [1, 3]) {
          const ours = decodePayloads(amr(false, octetAligned ? 'mode-set=0,2,4,7; octet-align=1' : ''), packetize(frames, per, false, octetAligned));
          assert.deepEqual(ours, ref, `octet-align ${octetAligned}, ${per} per packet`);
        }
      }
    });
  }

  it('has the level of ffmpeg’s independent AMR-NB decoder frame by frame', () => {
    const file = soxEncodeAmrNb(speech(8000, 3), 7);
    const ours = decodePayloads(amr(false), packetize(amrStorageFrames(file, false), 2, false, false));
    const ref = ffmpegDecode(scratchFile('speech.amr', file), ['-f', 'amr']);
    const a = levels(ours, 160);
    const b = levels(ref, 160);
    const diffs = b.map((v, i) => Math.abs(v - a[i]!)).sort((x, y) => x - y);
    assert.ok(diffs.length > 100);
    assert.ok(diffs[Math.floor(diffs.length / 2)]! < 1, `median level difference ${diffs[Math.floor(diffs.length / 2)]!.toFixed(2)} dB`);
  });

  it('ignores CMR and decodes NO_DATA table entries as 20 ms each', () => {
    const frames = amrStorageFrames(soxEncodeAmrNb(speech(8000, 1), 5), false);
    const plain = decodePayloads(amr(false), packetize(frames, 2, false, false, 15));
    assert.deepEqual(decodePayloads(amr(false), packetize(frames, 2, false, false, 3)), plain);
    const withGap = [...frames.slice(0, 10), Uint8Array.of(0x7c), ...frames.slice(10, 12)];
    const out = decodePayloads(amr(false), packetize(withGap, withGap.length, false, false));
    assert.equal(out.length, 13 * 160, 'one multi-frame ToC of 13 entries');
  });

  it('treats Q = 0 as a bad frame (concealed, not decoded as is)', () => {
    const frames = amrStorageFrames(soxEncodeAmrNb(speech(8000, 1), 7), false);
    const good = decodePayloads(amr(false, 'octet-align=1'), packetize(frames, 1, false, true));
    const bad = frames.map((f, i) => (i === 20 ? Uint8Array.of(f[0]! & ~0x04, ...f.subarray(1)) : f));
    const withBad = decodePayloads(amr(false, 'octet-align=1'), packetize(bad, 1, false, true));
    assert.equal(withBad.length, good.length);
    assert.ok(rms(good.subarray(20 * 160, 21 * 160)) > 100, 'frame 20 is speech');
    assert.deepEqual(withBad.subarray(0, 20 * 160), good.subarray(0, 20 * 160));
    assert.ok(snrDb(good.subarray(20 * 160, 21 * 160), withBad.subarray(20 * 160, 21 * 160)) < 20, 'frame 20 concealed');
  });

  it('conceals lost packets', () => {
    const d = amr(false);
    decodePayloads(d, packetize(amrStorageFrames(soxEncodeAmrNb(speech(8000, 1), 7), false).slice(0, 30), 1, false, false));
    const out = new Int16Array(1000);
    assert.ok(d.conceal !== undefined);
    const n = d.conceal(200, out);
    assert.equal(n, 320);
    assert.ok(rms(out.subarray(0, n)) > 1);
  });

  it('never throws on malformed payloads', () => {
    const frames = amrStorageFrames(soxEncodeAmrNb(speech(8000, 0.2), 7), false);
    for (const oa of [false, true]) {
      const valid = packetize(frames, 3, false, oa)[1]!;
      assert.ok(fuzzDecoder(amr(false, oa ? 'octet-align=1' : ''), valid, 160) > 0);
    }
  });
});

describe('AMR-WB decoder (opencore-amrwb, RFC 4867)', () => {
  it('is bit-exact with opencore via sox on every frame type, both packings', () => {
    const frames = randomWbFrames(300);
    const ref = soxDecodeAmr(scratchFile('random.awb', amrStorageFile(frames, true)), true);
    assert.equal(ref.length, 300 * 320);
    assert.ok(rms(ref) > 100);
    for (const octetAligned of [false, true]) {
      for (const per of [1, 4]) {
        const d = amr(true, octetAligned ? 'octet-align=1' : 'octet-align=0');
        assert.equal(d.sampleRate, 16000);
        assert.deepEqual(decodePayloads(d, packetize(frames, per, true, octetAligned)), ref, `octet-align ${octetAligned}, ${per} per packet`);
      }
    }
  });

  it('decodes SPEECH_LOST and NO_DATA entries and conceals lost packets', () => {
    const frames = randomWbFrames(20);
    const d = amr(true);
    const lost = [...frames.slice(0, 9), Uint8Array.of((14 << 3) | 4), Uint8Array.of((15 << 3) | 4)];
    assert.equal(decodePayloads(d, packetize(lost, lost.length, true, false)).length, 11 * 320);
    const out = new Int16Array(1000);
    assert.equal(d.conceal?.(320, out), 320);
  });

  it('never throws on malformed payloads', () => {
    for (const oa of [false, true]) {
      const valid = packetize(randomWbFrames(3), 3, true, oa)[0]!;
      assert.ok(fuzzDecoder(amr(true, oa ? 'octet-align=1' : ''), valid, 320) > 0);
    }
  });
});

describe('AMR session parameters', () => {
  it('refuses what the depacketizer does not do, and wrong rates or channels', () => {
    for (const fmtp of ['octet-align=1; interleaving=4', 'octet-align=1; crc=1', 'octet-align=1; robust-sorting=1']) {
      assert.equal(AMR.create('amr', 8000, 1, fmtp), null, fmtp);
    }
    assert.notEqual(AMR.create('amr', 8000, 1, 'octet-align=1; crc=0; robust-sorting=0'), null);
    assert.equal(AMR.create('amr', 16000, 1, ''), null);
    assert.equal(AMR.create('amr-wb', 8000, 1, ''), null);
    assert.equal(AMR.create('amr', 8000, 2, ''), null);
  });
});
