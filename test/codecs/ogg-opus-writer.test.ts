import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OggPageWriter, readOgg } from '../../codecs/ogg.js';
import { OGG_OPUS_WRITER, OggOpusWriter, opusHead, opusRateFor, opusTags, selfDelimit } from '../../codecs/ogg-opus-writer.js';
import { OPUS, createOpusEncoder, loadOpus } from '../../codecs/opus.js';
import { bestRealtime, bestLag, correlation, ffmpegDecode, ffprobe, interleave, opusinfo, writeInBlocks } from '../support/ffprobe.js';
import { speechOf, TEXT_A, TEXT_B } from '../support/speech.js';
import type { OpusApplication } from '../../codecs/types.js';
import { tempDir } from '../support/temp-dir.js';

const dir = tempDir('ogg-opus-');
const SECONDS = 7.3;


const speech73 = (text: string, rate: number): Int16Array => speechOf(text, rate, SECONDS);

function tone(rate: number, hz: number, seconds: number): Int16Array {
  const out = new Int16Array(Math.round(seconds * rate));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(9000 * Math.sin((2 * Math.PI * hz * i) / rate));
  return out;
}

/** Writes interleaved PCM in uneven blocks (as a mixer would) and returns the writer. */
function write(path: string, rate: number, channels: number, pcm: Int16Array, opts: { tags?: Record<string, string>; bitrate?: number; opusApplication?: OpusApplication } = {}): OggOpusWriter {
  const w = writeInBlocks(OGG_OPUS_WRITER.create(path, { sampleRate: rate, channels, ...opts }) as OggOpusWriter, pcm, channels, [997, 4096, 160, 20000]);
  assert.equal(w.frames, pcm.length / channels);
  w.close();
  return w;
}

interface Checked {
  head: { channels: number; preSkip: number; inputRate: number; family: number; streams: number; coupled: number };
  tags: string[];
  lastGranule: number;
}

/** Reads the file back with our parser: headers, granules, CRCs. */
function check(path: string, frames: number, rate: number, channels: number, preSkip: number): Checked {
  const r = readOgg(readFileSync(path));
  assert.ok(r.ok, r.ok ? '' : r.error);
  const [headPkt, tagsPkt, ...audio] = r.packets;
  assert.ok(headPkt !== undefined && tagsPkt !== undefined);
  // RFC 7845 §3: ID header alone on page 0, comment header from page 1, audio on fresh pages.
  assert.equal(headPkt.page, 0);
  assert.equal(r.pages[0]!.lacing.length, 1);
  assert.equal(r.pages[0]!.granule, 0);
  assert.equal(r.pages[1]!.granule, 0);
  assert.ok(audio.every((p) => p.page > tagsPkt.page));
  const h = Buffer.from(headPkt.data);
  assert.equal(h.toString('latin1', 0, 8), 'OpusHead');
  assert.equal(h[8], 1);
  const head = {
    channels: h[9]!,
    preSkip: h.readUInt16LE(10),
    inputRate: h.readUInt32LE(12),
    family: h[18]!,
    streams: h[18] === 0 ? 1 : h[19]!,
    coupled: h[18] === 0 ? channels - 1 : h[20]!,
  };
  assert.equal(h.readInt16LE(16), 0, 'output gain 0');
  assert.equal(head.channels, channels);
  assert.equal(head.inputRate, rate);
  assert.equal(head.preSkip, preSkip);
  const t = Buffer.from(tagsPkt.data);
  assert.equal(t.toString('latin1', 0, 8), 'OpusTags');
  const vlen = t.readUInt32LE(8);
  const count = t.readUInt32LE(12 + vlen);
  const tags: string[] = [];
  let at = 16 + vlen;
  for (let i = 0; i < count; i++) {
    const n = t.readUInt32LE(at);
    tags.push(t.toString('utf8', at + 4, at + 4 + n));
    at += 4 + n;
  }
  // Granules: non-decreasing over pages, −1 only where no packet ends; the last one trims.
  let last = 0;
  for (const p of r.pages.slice(2)) {
    if (p.granule === -1) continue;
    assert.ok(p.granule >= last, 'granule positions never decrease');
    last = p.granule;
  }
  const lastGranule = r.pages[r.pages.length - 1]!.granule;
  assert.equal(lastGranule, preSkip + (frames * 48000) / rate);
  // Pages of about one second: constant memory while writing.
  for (const p of r.pages.slice(2)) assert.ok(p.lacing.length <= 100, `${p.lacing.length} packets on one page`);
  return { head, tags, lastGranule };
}

describe('Ogg Opus writer (RFC 7845)', () => {
  it('rateFor: the next Opus rate', () => {
    assert.deepEqual(
      [8000, 11025, 12000, 16000, 22050, 32000, 44100, 48000, 96000].map(opusRateFor),
      [8000, 12000, 12000, 16000, 24000, 48000, 48000, 48000, 48000],
    );
    assert.equal(OGG_OPUS_WRITER.format, 'opus');
    assert.equal(OGG_OPUS_WRITER.extension, 'opus');
  });

  for (const rate of [8000, 16000, 48000]) {
    it(`${rate} Hz mono speech: exact length, ffprobe/opusinfo clean, correlates with the source`, async (t) => {
      await OGG_OPUS_WRITER.init!();
      const src = speech73(TEXT_A, rate);
      const path = join(dir, `mono-${rate}.opus`);
      const w = write(path, rate, 1, src, { tags: { CALL_ID: 'a84b4c76e66710@pc33.example.com', TITLE: 'Alice → Bob', 'bad=key': 'x' } });
      const c = check(path, src.length, rate, 1, w.preSkip);
      assert.equal(c.head.family, 0);
      assert.ok(c.tags.includes('CALL_ID=a84b4c76e66710@pc33.example.com'));
      assert.ok(c.tags.includes('TITLE=Alice → Bob'));
      assert.ok(c.tags.includes('BAD_KEY=x'), 'field names lose "="');
      const p = ffprobe(path);
      assert.equal(p.streams[0]!.codec, 'opus');
      assert.equal(p.streams[0]!.channels, 1);
      assert.equal(p.streams[0]!.sampleRate, 48000);
      assert.ok(Math.abs(p.duration - SECONDS) <= 0.02, `ffprobe duration ${p.duration}`);
      assert.equal(p.streamTags.call_id, 'a84b4c76e66710@pc33.example.com');
      const info = opusinfo(path);
      assert.equal(info.status, 0);
      assert.deepEqual(info.problems, []);
      const d = ffmpegDecode(path, rate, 1);
      assert.equal(d.errors, '');
      assert.ok(Math.abs(d.channel[0]!.length - src.length) <= 1, `decoded ${d.channel[0]!.length} of ${src.length}`);
      // libopus' 48 kHz output path (and ffmpeg's resampling to the test rate) may shift by a sample.
      const m = bestLag(src, d.channel[0]!, 3);
      t.diagnostic(`correlation ${m.corr.toFixed(3)} (lag ${m.lag}), ffprobe ${p.duration} s, backend ${w.backend}`);
      assert.ok(m.corr >= 0.9, `correlation ${m.corr}`);
    });

    it(`${rate} Hz dual channel: two mono streams, parties stay apart`, async (t) => {
      await loadOpus();
      const l = speech73(TEXT_A, rate);
      const r = speech73(TEXT_B, rate);
      const path = join(dir, `stereo-${rate}.opus`);
      const w = write(path, rate, 2, interleave([l, r]));
      const c = check(path, l.length, rate, 2, w.preSkip);
      assert.deepEqual([c.head.family, c.head.streams, c.head.coupled], [1, 2, 0]);
      const p = ffprobe(path);
      assert.equal(p.streams[0]!.channels, 2);
      assert.ok(Math.abs(p.duration - SECONDS) <= 0.02, `ffprobe duration ${p.duration}`);
      assert.deepEqual(opusinfo(path).problems, []);
      const d = ffmpegDecode(path, rate, 2);
      assert.equal(d.errors, '');
      const [dl, dr] = d.channel as [Int16Array, Int16Array];
      const cl = bestLag(l, dl, 3);
      const cr = bestLag(r, dr, 3);
      const leakLR = Math.abs(correlation(l, dr, cr.lag));
      const leakRL = Math.abs(correlation(r, dl, cl.lag));
      const own = Math.abs(correlation(l, r));
      t.diagnostic(`L ${cl.corr.toFixed(3)} R ${cr.corr.toFixed(3)}; left source in right ${leakLR.toFixed(3)}, right in left ${leakRL.toFixed(3)} (sources ${own.toFixed(3)})`);
      assert.ok(cl.corr >= 0.9 && cr.corr >= 0.9);
      assert.ok(leakLR < 0.05 && leakRL < 0.05);
    });
  }

  it('tones at 12 and 24 kHz, stereo with silence on one side: the silent side stays silent', () => {
    for (const rate of [12000, 24000]) {
      const a = tone(rate, 440, 2.345);
      const z = new Int16Array(a.length);
      const path = join(dir, `tone-${rate}.opus`);
      const w = write(path, rate, 2, interleave([a, z]));
      check(path, a.length, rate, 2, w.preSkip);
      const d = ffmpegDecode(path, rate, 2);
      const m = bestLag(a, d.channel[0]!, 3);
      assert.ok(m.corr > 0.95, `tone ${m.corr}`);
      const peak = d.channel[1]!.reduce((x, v) => Math.max(x, Math.abs(v)), 0);
      assert.ok(peak < 50, `right channel peak ${peak}`);
    }
  });

  it('two mono streams vs one coupled stereo stream at the same total rate (why family 1)', (t) => {
    const rate = 8000;
    const l = speech73(TEXT_A, rate);
    const r = speech73(TEXT_B, rate);
    const st = interleave([l, r]);
    /** The signal through one coupled stereo encoder (family 0): per-channel correlation. */
    const coupled = (bps: number, force: boolean): number => {
      const e = createOpusEncoder(rate, 2);
      e.set(OPUS.SET_BITRATE, bps);
      e.set(OPUS.SET_COMPLEXITY, 1);
      e.set(OPUS.SET_SIGNAL, OPUS.SIGNAL_VOICE);
      if (force) e.set(OPUS.SET_FORCE_CHANNELS, 2);
      const parts: Buffer[] = [];
      const ogg = new OggPageWriter((p, n) => parts.push(Buffer.from(p.subarray(0, n))), 5);
      const head = opusHead(1, e.lookahead * 6, rate);
      head[9] = 2; // family 0 with two channels: one coupled stream
      ogg.packet(head, 0, head.length, 0);
      ogg.flush();
      const tags = opusTags('test', {});
      ogg.packet(tags, 0, tags.length, 0);
      ogg.flush();
      let g = 0;
      for (let i = 0; i + 320 <= st.length; i += 320) {
        const n = e.encode(st.slice(i, i + 320));
        g += 960;
        ogg.packet(e.out, 0, n, g);
      }
      ogg.flush(true);
      const path = join(dir, `coupled-${bps}-${force}.opus`);
      writeFileSync(path, Buffer.concat(parts));
      return quality(ffmpegDecode(path, rate, 2));
    };
    const quality = (d: { channel: Int16Array[] }): number => Math.min(bestLag(l, d.channel[0]!, 3).corr, bestLag(r, d.channel[1]!, 3).corr);
    const rows: string[] = [];
    for (const bps of [16000, 32000]) {
      const ours = join(dir, `two-mono-${bps}.opus`);
      write(ours, rate, 2, st, { bitrate: bps });
      const mine = quality(ffmpegDecode(ours, rate, 2));
      const auto = coupled(bps, false);
      const forced = coupled(bps, true);
      rows.push(`${bps / 1000} kbit/s: two mono ${mine.toFixed(3)}, coupled ${auto.toFixed(3)} (auto) ${forced.toFixed(3)} (force-channels 2)`);
      assert.ok(mine > forced && mine > auto, rows[rows.length - 1]);
      // At 16 kbit/s libopus folds a coupled stream to mono unless forced: both parties in both ears.
      if (bps === 16000) assert.ok(auto < 0.75 && mine > 0.8, rows[rows.length - 1]);
    }
    t.diagnostic(`worse channel's correlation with its party: ${rows.join('; ')}`);
    // One party alone: the other channel stays silent.
    const alone = join(dir, 'left-only.opus');
    write(alone, rate, 2, interleave([l, new Int16Array(l.length)]));
    const d = ffmpegDecode(alone, rate, 2);
    const energy = (a: Int16Array): number => a.reduce((x, v) => x + v * v, 0);
    const db = 10 * Math.log10(Math.max(1, energy(d.channel[1]!)) / energy(d.channel[0]!));
    t.diagnostic(`left alone: right channel at ${db.toFixed(1)} dB`);
    assert.ok(db < -60, `${db} dB`);
  });

  it('a recording with no samples is still a valid, empty Ogg Opus file', () => {
    for (const channels of [1, 2]) {
      const path = join(dir, `empty-${channels}.opus`);
      const w = write(path, 8000, channels, new Int16Array(0));
      const c = check(path, 0, 8000, channels, w.preSkip);
      assert.equal(c.lastGranule, w.preSkip);
      assert.deepEqual(opusinfo(path).problems, []);
      const p = ffprobe(path);
      assert.ok(p.duration < 0.02, `${p.duration}`);
      const d = ffmpegDecode(path, 8000, channels);
      assert.equal(d.errors, '');
      assert.equal(d.channel[0]!.length, 0);
      assert.equal(ffmpegDecode(path, 8000, channels, 'libopus').channel[0]!.length, 0);
    }
  });

  it('odd lengths: the last partial frame is padded and trimmed by the granule', () => {
    for (const n of [1, 159, 161, 12345]) {
      const src = tone(16000, 1000, n / 16000);
      const path = join(dir, `odd-${n}.opus`);
      const w = write(path, 16000, 1, src);
      check(path, n, 16000, 1, w.preSkip);
      const d = ffmpegDecode(path, 48000, 1);
      assert.equal(d.channel[0]!.length, n * 3);
    }
  });

  it('refuses a rate Opus does not take, and writes after close', () => {
    assert.throws(() => new OggOpusWriter(join(dir, 'x.opus'), { sampleRate: 44100, channels: 1 }));
    assert.throws(() => new OggOpusWriter(join(dir, 'x.opus'), { sampleRate: 8000, channels: 3 }));
    const w = new OggOpusWriter(join(dir, 'y.opus'), { sampleRate: 8000, channels: 1 });
    w.close();
    assert.throws(() => w.write(new Int16Array(160), 160));
  });

  it('opusApplication: CELT only by default, SILK for voip; both keep the speech, CELT closer', async (t) => {
    await loadOpus();
    const src = speech73(TEXT_A, 8000);
    // RFC 6716 §3.1: TOC configurations 0–11 are SILK-only, 12–15 hybrid, 16–31 CELT-only.
    const modes = (path: string): Set<string> => {
      const r = readOgg(readFileSync(path));
      assert.ok(r.ok);
      return new Set(r.packets.slice(2).map((p) => ((p.data[0]! >> 3) < 12 ? 'silk' : (p.data[0]! >> 3) < 16 ? 'hybrid' : 'celt')));
    };
    const corr: Record<string, number> = {};
    for (const [app, mode, preSkip] of [[undefined, 'celt', 120], ['lowdelay', 'celt', 120], ['voip', 'silk', 312], ['audio', undefined, undefined]] as const) {
      const path = join(dir, `app-${app ?? 'default'}.opus`);
      const w = write(path, 8000, 1, src, { bitrate: 16000, ...(app !== undefined ? { opusApplication: app } : {}) });
      // The pre-skip is the mode's lookahead: 2.5 ms for CELT, 6.5 ms for SILK (48 kHz units).
      if (preSkip !== undefined) assert.equal(w.preSkip, preSkip);
      check(path, src.length, 8000, 1, w.preSkip);
      if (mode !== undefined) assert.deepEqual([...modes(path)], [mode], `${app ?? 'default'}`);
      assert.deepEqual(opusinfo(path).problems, []);
      const d = ffmpegDecode(path, 8000, 1);
      corr[app ?? 'default'] = bestLag(src, d.channel[0]!, 3).corr;
    }
    t.diagnostic(Object.entries(corr).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', '));
    for (const v of Object.values(corr)) assert.ok(v >= 0.9, JSON.stringify(corr));
    assert.ok(corr['lowdelay']! > corr['voip']!, JSON.stringify(corr));
  });

  it('bitrate option: the file is about that size', () => {
    const src = speech73(TEXT_A, 16000);
    const small = join(dir, 'b12.opus');
    const big = join(dir, 'b48.opus');
    write(small, 16000, 1, src, { bitrate: 12000 });
    write(big, 16000, 1, src, { bitrate: 48000 });
    const kbps = (p: string): number => (readFileSync(p).length * 8) / SECONDS / 1000;
    assert.ok(kbps(small) < 16 && kbps(big) > 30, `${kbps(small)} / ${kbps(big)} kbit/s`);
  });

  it('self-delimiting framing (RFC 6716 Appendix B) for codes 0–3', () => {
    const sd = (p: number[]): number[] => {
      const out = new Uint8Array(2000);
      const n = selfDelimit(Uint8Array.from(p), p.length, out, 0);
      return n < 0 ? [] : Array.from(out.subarray(0, n));
    };
    assert.deepEqual(sd([0x08, 1, 2, 3]), [0x08, 3, 1, 2, 3]);
    assert.deepEqual(sd([0x09, 1, 2, 3, 4]), [0x09, 2, 1, 2, 3, 4]);
    assert.deepEqual(sd([0x0a, 1, 9, 7, 7]), [0x0a, 1, 2, 9, 7, 7]);
    // Code 3 CBR, 2 frames of 2, padding of 1: the common size is added after the padding length.
    assert.deepEqual(sd([0x0b, 0x42, 1, 5, 5, 6, 6, 0]), [0x0b, 0x42, 1, 2, 5, 5, 6, 6, 0]);
    // Code 3 VBR, 3 frames: sizes 1, 2 given, the last (3) added.
    assert.deepEqual(sd([0x0b, 0x83, 1, 2, 7, 8, 8, 9, 9, 9]), [0x0b, 0x83, 1, 2, 3, 7, 8, 8, 9, 9, 9]);
    // A 300-byte frame needs the two-byte length form: 252 + (300 & 3), (300 − 252) / 4.
    const big = sd([0x08, ...new Array<number>(300).fill(1)]);
    assert.deepEqual(big.slice(0, 3), [0x08, 252, 12]);
    assert.equal(big.length, 303);
    assert.deepEqual(sd([0x09, 1, 2, 3]), [], 'code 1 needs an even payload');
    assert.deepEqual(sd([0x0b, 0x00]), [], 'code 3 with no frames');
  });

  it('speed: encoding 60 s at 8 kHz (× real time)', async (t) => {
    await loadOpus();
    const a = speech73(TEXT_A, 8000);
    const b = speech73(TEXT_B, 8000);
    const n = 60 * 8000;
    const mono = new Int16Array(n);
    const left = new Int16Array(n);
    const right = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      mono[i] = left[i] = a[i % a.length]!;
      right[i] = b[i % b.length]!;
    }
    const st = interleave([left, right]);
    const res: string[] = [];
    for (const [ch, pcm] of [
      [1, mono],
      [2, st],
    ] as const) {
      const best = bestRealtime(() => write(join(dir, `speed-${ch}.opus`), 8000, ch, pcm), 60);
      res.push(`${ch === 1 ? 'mono' : 'stereo'} ${best.toFixed(0)}×`);
      assert.ok(best > 30, `${best}× real time`);
    }
    t.diagnostic(`Ogg Opus encode 8 kHz: ${res.join(', ')} real time`);
  });
});
