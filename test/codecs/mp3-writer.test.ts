import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { MP3_WRITER, mp3RateFor, type Mp3Writer } from '../../codecs/mp3-writer.js';
import { bestRealtime, bestLag, correlation, ffmpegDecode, ffprobe, ffprobeDecodedSamples, interleave, speech, writeInBlocks } from '../support/ffprobe.js';
import { speechOf, TEXT_A, TEXT_B } from '../support/speech.js';
import { tempDir } from '../support/temp-dir.js';

const dir = tempDir('mp3-');
const SECONDS = 7.3;

const speech73 = (text: string, rate: number): Int16Array => speechOf(text, rate, SECONDS);

function write(path: string, rate: number, channels: number, pcm: Int16Array, opts: { tags?: Record<string, string>; bitrate?: number } = {}): Mp3Writer {
  const w = writeInBlocks(MP3_WRITER.create(path, { sampleRate: rate, channels, ...opts }) as Mp3Writer, pcm, channels, [1000, 4410, 20000, 7]);
  w.close();
  return w;
}

interface Info {
  frames: number;
  bytes: number;
  delay: number;
  padding: number;
  /** Audio frames counted in the file after the Info frame. */
  counted: number;
  spf: number;
  crcOk: boolean;
  /** The music CRC field equals the CRC-16 of the audio frames after the Info frame. */
  musicCrcOk: boolean;
  /** Music length field (bytes from the Info frame to the end). */
  musicLength: number;
  /** Encoder delay, padding, source-rate and stereo-mode fields as the tag spec lays them out. */
  misc: number;
  /** Offset of the Info frame (after the ID3v2 tag). */
  audioStart: number;
}

/** Reads our Info/LAME frame and counts the MPEG frames after it (headers walked by length). */
function readInfo(path: string): Info {
  const b = readFileSync(path);
  let off = 0;
  if (b.toString('latin1', 0, 3) === 'ID3') off = 10 + ((b[6]! << 21) | (b[7]! << 14) | (b[8]! << 7) | b[9]!);
  const frameLen = (at: number): { len: number; spf: number; side: number } => {
    const h1 = b[at + 1]!;
    const h2 = b[at + 2]!;
    const v = (h1 >> 3) & 3;
    const mono = b[at + 3]! >> 6 === 3;
    const kbps = (v === 3 ? [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320] : [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160])[h2 >> 4]!;
    const rate = (v === 3 ? [44100, 48000, 32000] : v === 2 ? [22050, 24000, 16000] : [11025, 12000, 8000])[(h2 >> 2) & 3]!;
    const spf = v === 3 ? 1152 : 576;
    return { len: Math.floor((spf / 8) * kbps * 1000 / rate) + ((h2 >> 1) & 1), spf, side: v === 3 ? (mono ? 17 : 32) : mono ? 9 : 17 };
  };
  assert.equal(b[off], 0xff);
  const first = frameLen(off);
  const x = off + 4 + first.side;
  assert.equal(b.toString('latin1', x, x + 4), 'Info');
  const lame = x + 120;
  assert.equal(b.toString('latin1', lame, lame + 9), 'LAME3.100');
  const dp = (b[lame + 21]! << 16) | (b[lame + 22]! << 8) | b[lame + 23]!;
  // CRC-16/ARC (bitwise, independent of the writer's table).
  const crc16 = (from: number, to: number): number => {
    let c = 0;
    for (let i = from; i < to; i++) {
      c ^= b[i]!;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    }
    return c;
  };
  const crc = crc16(off, lame + 34);
  let counted = 0;
  let at = off + first.len;
  while (at + 4 <= b.length) {
    assert.equal(b[at], 0xff, `frame sync at ${at}`);
    at += frameLen(at).len;
    counted++;
  }
  assert.equal(at, b.length, 'the last frame ends the file');
  return {
    frames: b.readUInt32BE(x + 8),
    bytes: b.readUInt32BE(x + 12),
    delay: dp >> 12,
    padding: dp & 0xfff,
    counted,
    spf: first.spf,
    crcOk: crc === b.readUInt16BE(lame + 34),
    musicCrcOk: crc16(off + first.len, b.length) === b.readUInt16BE(lame + 32),
    musicLength: b.readUInt32BE(lame + 28),
    misc: b[lame + 24]!,
    audioStart: off,
  };
}

const p0 = ffprobe;

describe('MP3 writer (LAME 3.100 via wasm-media-encoders)', () => {
  before(async () => {
    await MP3_WRITER.init!();
  });

  it('rateFor: the next MPEG rate', () => {
    assert.deepEqual(
      [8000, 11025, 12000, 16000, 20000, 22050, 32000, 44100, 48000, 96000].map(mp3RateFor),
      [8000, 11025, 12000, 16000, 22050, 22050, 32000, 44100, 48000, 48000],
    );
    assert.equal(MP3_WRITER.format, 'mp3');
    assert.equal(MP3_WRITER.extension, 'mp3');
  });

  for (const rate of [8000, 11025, 16000, 48000]) {
    for (const channels of [1, 2]) {
      it(`${rate} Hz ${channels === 1 ? 'mono' : 'stereo'} speech: exact gapless length, aligned, tags, parties apart`, (t) => {
        const l = speech73(TEXT_A, rate);
        const r = speech73(TEXT_B, rate);
        const path = join(dir, `s${rate}-${channels}.mp3`);
        const w = write(path, rate, channels, channels === 1 ? l : interleave([l, r]), { tags: { CALL_ID: 'a84b4c76e66710@pc33.example.com', TITLE: 'Alice → Bob' } });
        assert.equal(w.frames, l.length);
        const info = readInfo(path);
        assert.ok(info.crcOk, 'LAME tag CRC');
        assert.ok(info.musicCrcOk, 'LAME tag music CRC');
        assert.equal(info.musicLength, readFileSync(path).length - info.audioStart, 'music length: Info frame to the end');
        assert.equal(info.misc, ((rate === 44100 ? 1 : rate === 48000 ? 2 : 0) << 6) | ((channels === 1 ? 0 : 3) << 2), 'source rate and stereo mode');
        assert.equal(p0(path).streamTags.encoder, 'LAME3.100', 'ffprobe accepts the tag (it names the encoder only when the tag CRC matches)');
        assert.equal(info.frames, info.counted, 'Info frame count = frames in the file');
        assert.equal(info.bytes, readFileSync(path).length - info.audioStart, 'Info byte count = MPEG data');
        assert.equal(info.delay, 576);
        assert.equal(info.frames * info.spf, 576 + l.length + info.padding);
        const p = ffprobe(path);
        assert.equal(p.streams[0]!.codec, 'mp3');
        assert.equal(p.streams[0]!.sampleRate, rate);
        assert.equal(p.streams[0]!.channels, channels);
        assert.equal(p.tags.call_id, 'a84b4c76e66710@pc33.example.com');
        assert.equal(p.tags.title, 'Alice → Bob');
        // ffmpeg 5.1 reports frames × samples-per-frame as the duration (the Info frame's count)
        // and trims delay and padding when decoding, which is where the exact length shows.
        assert.ok(Math.abs(p.duration - (info.frames * info.spf) / rate) < 0.002, `ffprobe ${p.duration}`);
        const d = ffmpegDecode(path, rate, channels);
        assert.equal(d.errors, '');
        assert.equal(d.channel[0]!.length, l.length, 'decoded length = input length');
        const cl = bestLag(l, d.channel[0]!, 1200);
        assert.equal(cl.lag, 0, 'no encoder delay left');
        assert.ok(cl.corr > 0.95, `L ${cl.corr}`);
        let diag = `${w.kbps} kbit/s, correlation ${cl.corr.toFixed(3)}`;
        if (channels === 2) {
          const cr = correlation(r, d.channel[1]!);
          const leak = Math.max(Math.abs(correlation(l, d.channel[1]!)), Math.abs(correlation(r, d.channel[0]!)));
          diag += ` / ${cr.toFixed(3)}, other party ${leak.toFixed(3)} (sources ${Math.abs(correlation(l, r)).toFixed(3)})`;
          assert.ok(cr > 0.95 && leak < 0.05);
        }
        t.diagnostic(`${diag}; ffprobe ${p.duration} s for ${SECONDS} s`);
      });
    }
  }

  // Issue 4: "ffprobe reports the right duration (±20 ms), channel count and rate". What ffprobe
  // decodes is exact; its header figure (format and stream duration) is ffmpeg 5.1's frame
  // count × samples per frame, which counts LAME's delay and padding: no valid LAME file can be
  // within 20 ms there at 8 or 16 kHz (see mp3-writer.ts). Both are asserted, the second to its
  // exact value and smallest possible excess (no spare frame).
  for (const [rate, channels] of [
    [8000, 1],
    [8000, 2],
    [16000, 1],
    [16000, 2],
  ] as const) {
    it(`${rate} Hz ${channels === 1 ? 'mono' : 'dual'}: 1 s, 7.3 s, 60 s — ffprobe's decoded duration is exact, its header duration counts delay + padding`, (t) => {
      const rows: string[] = [];
      const a = speech(TEXT_A, rate);
      const b = speech(TEXT_B, rate);
      for (const seconds of [1, 7.3, 60]) {
        const n = Math.round(seconds * rate);
        const l = new Int16Array(n);
        const r = new Int16Array(n);
        for (let i = 0; i < n; i++) {
          l[i] = a[i % a.length]!;
          r[i] = b[i % b.length]!;
        }
        const path = join(dir, `dur-${rate}-${channels}-${seconds}.mp3`);
        write(path, rate, channels, channels === 1 ? l : interleave([l, r]));
        const info = readInfo(path);
        const p = ffprobe(path);
        assert.equal(p.streams[0]!.sampleRate, rate);
        assert.equal(p.streams[0]!.channels, channels);
        const decoded = ffprobeDecodedSamples(path);
        assert.equal(decoded, n, 'ffprobe decodes exactly the input');
        assert.ok(Math.abs(decoded / rate - seconds) <= 0.02);
        // Header duration: frames × spf, with frames the fewest that carry the input out of the
        // decoder (576 encoder + 529 decoder delay), so padding is 529 to 529 + spf − 1.
        const header = (info.frames * info.spf) / rate;
        assert.ok(Math.abs(p.duration - header) < 0.001 && Math.abs(p.streams[0]!.duration - header) < 0.001, `ffprobe ${p.duration} / ${p.streams[0]!.duration}`);
        assert.ok(info.padding >= 529 && info.padding < 529 + info.spf, `padding ${info.padding}`);
        // The decoded audio still matches the source, sample-aligned.
        const d = ffmpegDecode(path, rate, channels);
        assert.equal(d.channel[0]!.length, n);
        const cl = bestLag(l, d.channel[0]!, 50);
        assert.equal(cl.lag, 0);
        assert.ok(cl.corr > 0.95, `L ${cl.corr}`);
        if (channels === 2) assert.ok(correlation(r, d.channel[1]!) > 0.95);
        rows.push(`${seconds} s: decoded ${(decoded / rate).toFixed(4)} s, header ${p.duration} s (+${Math.round((p.duration - seconds) * 1000)} ms)`);
      }
      t.diagnostic(rows.join('; '));
    });
  }

  it('a recording with no samples is a valid, empty MP3', () => {
    const path = join(dir, 'empty.mp3');
    write(path, 8000, 1, new Int16Array(0));
    const info = readInfo(path);
    assert.ok(info.crcOk);
    assert.equal(info.frames, info.counted);
    assert.equal(info.padding, info.frames * info.spf - 576, 'no input: delay + padding fill the frames');
    const p = ffprobe(path);
    assert.equal(p.streams[0]!.codec, 'mp3');
    const d = ffmpegDecode(path, 8000, 1);
    assert.equal(d.errors, '');
    // ffmpeg 5.1 trims delay and padding only around decoded audio: with none, its decoder's own
    // 529-sample delay line comes out (silence).
    assert.ok(d.channel[0]!.length <= 529, `${d.channel[0]!.length} samples`);
    assert.ok(d.channel[0]!.every((v) => Math.abs(v) < 8));
  });

  it('bitrate: defaults scale with rate and channels; the option picks the nearest legal rate', () => {
    const src = new Int16Array(8000);
    const kb = (rate: number, ch: number, bitrate?: number): number =>
      write(join(dir, 'b.mp3'), rate, ch, ch === 1 ? src : interleave([src, src]), bitrate !== undefined ? { bitrate } : {}).kbps;
    assert.deepEqual([kb(8000, 1), kb(8000, 2), kb(16000, 1), kb(16000, 2), kb(48000, 1), kb(48000, 2)], [32, 48, 48, 64, 64, 96]);
    assert.equal(kb(8000, 1, 24000), 24);
    assert.equal(kb(8000, 1, 500000), 160, 'MPEG-2.5 tops at 160');
    assert.equal(kb(48000, 1, 8000), 32, 'MPEG-1 starts at 32');
  });

  it('refuses non-MPEG rates and bad channel counts', () => {
    assert.throws(() => MP3_WRITER.create(join(dir, 'x.mp3'), { sampleRate: 20000, channels: 1 }));
    assert.throws(() => MP3_WRITER.create(join(dir, 'x.mp3'), { sampleRate: 8000, channels: 3 }));
    // The encoder went back to the pool: writers still open after refusals.
    write(join(dir, 'ok.mp3'), 8000, 1, new Int16Array(800));
  });

  it('speed: encoding 60 s (× real time)', (t) => {
    const a = speech73(TEXT_A, 8000);
    const n = 60 * 8000;
    const mono = new Int16Array(n);
    for (let i = 0; i < n; i++) mono[i] = a[i % a.length]!;
    const st = interleave([mono, mono.slice().reverse()]);
    const res: string[] = [];
    for (const [ch, pcm] of [
      [1, mono],
      [2, st],
    ] as const) {
      const best = bestRealtime(() => write(join(dir, `speed-${ch}.mp3`), 8000, ch, pcm), 60);
      res.push(`${ch === 1 ? 'mono' : 'stereo'} ${best.toFixed(0)}×`);
      assert.ok(best > 30, `${best}×`);
    }
    t.diagnostic(`MP3 encode 8 kHz: ${res.join(', ')} real time`);
  });
});
