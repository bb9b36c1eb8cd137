import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ULAW_TO_LINEAR } from '../../../codecs/g711.js';
import { renderRecording, type RenderOptions } from '../../../recorder/media/render.js';
import { prng } from '../../support/random.js';
import { encode as silkWasmEncode } from 'silk-wasm';
import { predecodeSilk } from '../../../codecs/silk.js';
import { concat, encodeG729, speech } from '../../support/codec-reference.js';
import { redPayload } from '../../support/rtp-payloads.js';
import { CN, PCMU, T0, g711Stream, streamInfo, tmp, writeSpool, type AppendOrder, type TestPacket, type TestStream } from '../spool/spool-helpers.js';
import { channel, goertzel, readWav, rms, soxi } from './media-helpers.js';

/** Codes 1..126: every one decodes to a non-zero sample, so silence is recognisable. */
const code = (i: number, k: number): number => ((i * 7 + k * 13) % 126) + 1;

const decode = (packets: TestPacket[]): Int16Array => {
  const out = new Int16Array(packets.reduce((n, p) => n + p.payload.length, 0));
  let at = 0;
  for (const p of packets) for (const c of p.payload) out[at++] = ULAW_TO_LINEAR[c]!;
  return out;
};

/** Expected channel: `parts` placed at sample offsets, zeros elsewhere, `length` long. */
function placed(length: number, parts: [offset: number, samples: Int16Array][]): Int16Array {
  const out = new Int16Array(length);
  for (const [off, s] of parts) out.set(s, off);
  return out;
}

async function render(streams: TestStream[], opts: Partial<RenderOptions> & { finalize?: boolean; order?: AppendOrder } = {}) {
  const root = tmp('render');
  const dir = await writeSpool(root, 'call', streams, { finalize: opts.finalize ?? true, ...(opts.order ? { order: opts.order } : {}) });
  const outPath = join(root, 'out.wav');
  const info = await renderRecording(dir, {
    outPath,
    format: 'wav',
    channels: opts.channels ?? 2,
    ...(opts.sampleRate !== undefined ? { sampleRate: opts.sampleRate } : {}),
    ...(opts.maxDurationSec !== undefined ? { maxDurationSec: opts.maxDurationSec } : {}),
  });
  return { info, wav: readWav(outPath), outPath, dir };
}

const caller = (ssrc = 0x1111): ReturnType<typeof streamInfo> => streamInfo(ssrc, 'caller', 0);
const callee = (ssrc = 0x2222): ReturnType<typeof streamInfo> => streamInfo(ssrc, 'callee', 1);

describe('renderRecording: placement by RTP timestamp', () => {
  it('one stream in order: the file is its decoded payloads, 2.000 s; soxi agrees', async () => {
    const pk = g711Stream({ count: 100, code });
    const { info, wav, outPath } = await render([{ info: caller(), packets: pk }], { channels: 1 });
    assert.deepEqual(wav.samples, decode(pk));
    assert.equal(info.durationMs, 2000);
    assert.equal(info.sampleRate, 8000);
    assert.equal(info.channels, 1);
    assert.equal(info.complete, true);
    assert.deepEqual(info.notes, []);
    assert.match(info.sha256, /^[0-9a-f]{64}$/);
    assert.ok(Math.abs(Number(soxi('D', outPath)) - 2) <= 0.02);
  });

  it('reordered arrival gives the same file as in-order arrival', async () => {
    const rnd = prng(11);
    // Each packet keeps its own capture time (network delay 0–60 ms): sorting by capture time
    // is the arrival order, which swaps many neighbours.
    const pk = g711Stream({ count: 300, code }).map((p) => ({ ...p, cap: p.cap + rnd() * 0.06 }));
    const bySeq = await render([{ info: caller(), packets: pk }], { order: (a, b) => a[1].seq - b[1].seq });
    const byArrival = await render([{ info: caller(), packets: pk }]);
    assert.equal(byArrival.info.sha256, bySeq.info.sha256);
    // The fastest packet fixes the offset, so the stream is placed exactly, gapless.
    assert.deepEqual(channel(byArrival.wav.samples, 2, 0), decode(pk));
    assert.equal(byArrival.info.durationMs, 6000);
  });

  it('a lost packet is exactly 160 samples of silence at its place', async () => {
    const pk = g711Stream({ count: 100, code });
    const lost = pk.filter((p) => p.seq !== 1050);
    const { info, wav } = await render([{ info: caller(), packets: lost }], { channels: 1 });
    const expected = decode(pk);
    expected.fill(0, 50 * 160, 51 * 160);
    assert.deepEqual(wav.samples, expected);
    assert.ok(info.notes.includes('caller ssrc 0x00001111: 1 of 100 packets lost'), info.notes.join('; '));
    assert.equal(info.complete, true);
  });

  it('two streams starting at different times align; timestamps and sequence numbers wrap', async () => {
    const a = g711Stream({ count: 100, code, ts0: 12345 });
    const b = g711Stream({ count: 80, code: (i, k) => code(i + 3, k), startCap: 1.234, ts0: 2 ** 32 - 800, seq0: 65500 });
    const { info, wav } = await render([
      { info: caller(), packets: a },
      { info: callee(), packets: b },
    ]);
    const start = Math.round(1.234 * 8000);
    const length = start + 80 * 160;
    assert.equal(wav.samples.length / 2, length);
    assert.deepEqual(channel(wav.samples, 2, 0), placed(length, [[0, decode(a)]]));
    assert.deepEqual(channel(wav.samples, 2, 1), placed(length, [[start, decode(b)]]));
    assert.equal(info.durationMs, Math.round((length / 8000) * 1000));
    assert.deepEqual(info.notes, []);
  });

  for (const restart of [false, true]) {
    it(`hold: 5 s without packets is silence (${restart ? 'timestamps restart after hold' : 'timestamps continue'})`, async () => {
      const before = g711Stream({ count: 50, code, ts0: 1000 });
      const after = g711Stream({
        count: 50,
        code: (i, k) => code(i + 50, k),
        startCap: 6,
        seq0: 1050,
        ts0: restart ? 3_000_000_000 : 1000 + 300 * 160,
      });
      const { info, wav } = await render([{ info: caller(), packets: [...before, ...after] }], { channels: 1 });
      assert.deepEqual(wav.samples, placed(7 * 8000, [[0, decode(before)], [6 * 8000, decode(after)]]));
      assert.ok(info.notes.some((n) => /1 gaps over 1 s \(5\.00 s\) filled with silence/.test(n)), info.notes.join('; '));
    });
  }

  it('a timestamp jump mid-talk (PBX restart) re-anchors on capture time: no hole, no overlap', async () => {
    const pk = g711Stream({ count: 100, code });
    const jumped = pk.map((p, i) => (i < 60 ? p : { ...p, ts: (p.ts + 987_654_321) >>> 0 }));
    const { wav } = await render([{ info: caller(), packets: jumped }], { channels: 1 });
    assert.deepEqual(wav.samples, decode(pk));
  });

  it('sequence numbers and timestamps restarting on the same SSRC: continuous, nothing counted lost', async () => {
    const pk = g711Stream({ count: 100, code, seq0: 30000 });
    const restarted = pk.map((p, i) => (i < 40 ? p : { ...p, seq: i - 40, ts: (i - 40) * 160 }));
    const { info, wav } = await render([{ info: caller(), packets: restarted }], { channels: 1 });
    assert.deepEqual(wav.samples, decode(pk));
    assert.ok(!info.notes.some((n) => /lost|duplicate|late/.test(n)), info.notes.join('; '));
    assert.ok(info.notes.includes('caller ssrc 0x00001111: sequence numbers restarted 1 times'), info.notes.join('; '));
  });

  it('duplicates are ignored', async () => {
    const pk = g711Stream({ count: 60, code });
    const dup = [...pk, ...pk.slice(10, 20).map((p) => ({ ...p, cap: p.cap + 0.003 }))];
    const clean = await render([{ info: caller(), packets: pk }], { channels: 1 });
    const dirty = await render([{ info: caller(), packets: dup }], { channels: 1 });
    assert.deepEqual(dirty.wav.samples, clean.wav.samples);
    assert.ok(dirty.info.notes.includes('caller ssrc 0x00001111: 10 duplicate packets ignored'), dirty.info.notes.join('; '));
  });

  it('an SSRC change of one party continues on the same channel and is noted', async () => {
    const first = g711Stream({ count: 50, code });
    const second = g711Stream({ count: 50, code: (i, k) => code(i + 50, k), startCap: 1, seq0: 7, ts0: 999_999 });
    const { info, wav } = await render([
      { info: caller(0xaaaa), packets: first },
      { info: caller(0xbbbb), packets: second },
    ]);
    assert.deepEqual(channel(wav.samples, 2, 0), decode([...first, ...second]));
    assert.deepEqual(channel(wav.samples, 2, 1), new Int16Array(100 * 160));
    assert.ok(info.notes.includes('caller: SSRC changed 0x0000aaaa → 0x0000bbbb at 1.00 s'), info.notes.join('; '));
  });
});

describe('renderRecording: mixing', () => {
  it('mono is the sum of the two channels', async () => {
    const streams = [
      { info: caller(), packets: g711Stream({ count: 50, code }) },
      { info: callee(), packets: g711Stream({ count: 50, code: (i, k) => code(i + 9, k + 1), startCap: 0.5 }) },
    ];
    const dual = await render(streams, { channels: 2 });
    const mono = await render(streams, { channels: 1 });
    const l = channel(dual.wav.samples, 2, 0);
    const r = channel(dual.wav.samples, 2, 1);
    assert.deepEqual(mono.wav.samples, Int16Array.from(l, (v, i) => Math.max(-32768, Math.min(32767, v + r[i]!))));
  });

  it('a loud mono sum saturates at ±32767 instead of wrapping', async () => {
    const loud = (sign: number): ((i: number, k: number) => number) => () => (sign > 0 ? 0x80 : 0x00); // ±32124
    for (const sign of [1, -1]) {
      const { info, wav } = await render(
        [
          { info: caller(), packets: g711Stream({ count: 10, code: loud(sign) }) },
          { info: callee(), packets: g711Stream({ count: 10, code: loud(sign) }) },
        ],
        { channels: 1 },
      );
      assert.ok(wav.samples.every((v) => v === (sign > 0 ? 32767 : -32768)));
      assert.ok(info.notes.includes(`${1600} samples clipped in the mix`), info.notes.join('; '));
    }
  });
});

describe('renderRecording: signalling payloads and bad media', () => {
  it('comfort noise (RFC 3389) plays as noise at its level until the next packet', async () => {
    const talk1 = g711Stream({ count: 50, code });
    const sid: TestPacket = { seq: 1050, ts: 50_000 + 50 * 160, pt: 13, cap: T0 + 1, payload: Buffer.from([40]) };
    const talk2 = g711Stream({ count: 50, code, startCap: 3, seq0: 1051, ts0: 50_000 + 150 * 160 });
    const { info, wav } = await render([{ info: streamInfo(0x1111, 'caller', 0, [PCMU, CN]), packets: [...talk1, sid, ...talk2] }], { channels: 1 });
    assert.equal(wav.samples.length, 4 * 8000);
    assert.deepEqual(wav.samples.subarray(0, 8000), decode(talk1));
    assert.deepEqual(wav.samples.subarray(3 * 8000), decode(talk2));
    const level = rms(wav.samples, 8000, 3 * 8000);
    const expected = 32124 * 10 ** (-40 / 20);
    assert.ok(Math.abs(level - expected) / expected < 0.05, `noise RMS ${level.toFixed(1)}, expected ${expected.toFixed(1)}`);
    assert.ok(info.notes.includes('caller ssrc 0x00001111: comfort noise (1 SID packets)'), info.notes.join('; '));
  });

  it('a call that ends in comfort noise lasts until its last SID packet', async () => {
    const talk = g711Stream({ count: 50, code });
    const sids: TestPacket[] = [1, 2, 3, 4, 5].map((t, i) => ({ seq: 1050 + i, ts: 50_000 + t * 8000, pt: 13, cap: T0 + t, payload: Buffer.from([60]) }));
    const { info, wav } = await render([{ info: streamInfo(0x1111, 'caller', 0, [PCMU, CN]), packets: [...talk, ...sids] }], { channels: 1 });
    assert.equal(info.durationMs, 5000);
    assert.deepEqual(wav.samples.subarray(0, 8000), decode(talk));
    const expected = 32124 * 10 ** (-60 / 20);
    assert.ok(Math.abs(rms(wav.samples, 8000, 40000) - expected) / expected < 0.05);
  });

  it('a telephone event (RFC 4733) becomes its DTMF tone, in place; resumed audio cuts it', async () => {
    const talk1 = g711Stream({ count: 50, code });
    const evTs = 50_000 + 50 * 160;
    const ev = (seq: number, dur: number, end: boolean, cap: number): TestPacket => ({
      seq,
      ts: evTs,
      pt: 101,
      cap: T0 + cap,
      payload: Buffer.from([5, (end ? 0x80 : 0) | 10, dur >> 8, dur & 0xff]),
      marker: dur === 160,
    });
    const events = [1, 2, 3, 4, 5].map((n) => ev(1049 + n, n * 160, false, 1 + n * 0.02));
    const ends = [0, 1, 2].map((n) => ev(1055 + n, 800, true, 1.1 + n * 0.001));
    // As sipp does: audio resumes one packet before the event's announced end (800).
    const talk2 = g711Stream({ count: 20, code, startCap: 1.08, seq0: 1058, ts0: evTs + 640 });
    const { info, wav } = await render([{ info: caller(), packets: [...talk1, ...events, ...ends, ...talk2] }], { channels: 1 });
    const x = wav.samples;
    assert.equal(x.length, 8000 + 640 + 20 * 160);
    const at = (f: number): number => goertzel(x, 8000, 8640, f, 8000);
    assert.ok(at(770) > 20 * at(697) && at(1336) > 20 * at(1209), `770: ${at(770)}, 1336: ${at(1336)}`);
    // −10 dBm0 split over two tones: each sine's amplitude ≈ 32124·10^(−13.17/20)/√2.
    assert.ok(Math.abs(rms(x, 8000, 8640) - 32124 * 10 ** (-13.17 / 20) / Math.SQRT2) < 300);
    assert.deepEqual(x.subarray(8640), decode(talk2));
    assert.ok(info.notes.includes('caller ssrc 0x00001111: DTMF 5'), info.notes.join('; '));
    assert.ok(!info.notes.some((n) => /lost/.test(n)), info.notes.join('; '));
  });

  it('a DTMF event at the end of the call plays for its whole duration', async () => {
    const talk = g711Stream({ count: 50, code });
    const evTs = 50_000 + 50 * 160;
    const ev: TestPacket[] = [1, 2, 3].map((n) => ({ seq: 1049 + n, ts: evTs, pt: 101, cap: T0 + 1 + n * 0.02, payload: Buffer.from([11, n === 3 ? 0x8a : 10, (n * 160) >> 8, (n * 160) & 0xff]) }));
    const { info, wav } = await render([{ info: caller(), packets: [...talk, ...ev] }], { channels: 1 });
    assert.equal(wav.samples.length, 8000 + 480);
    assert.ok(goertzel(wav.samples, 8000, 8480, 941, 8000) > 10 * goertzel(wav.samples, 8000, 8480, 697, 8000));
    assert.ok(info.notes.includes('caller ssrc 0x00001111: DTMF #'), info.notes.join('; '));
  });

  it('an unsupported codec is silence of the right length, noted, and makes the recording incomplete', async () => {
    // iSAC: no lawful decoder exists in Debian or npm (README codec table).
    const isac = g711Stream({ count: 50, pt: 103, samples: 20 }).map((p, i) => ({ ...p, ts: 7000 + i * 160, cap: T0 + i * 0.02 }));
    const talk = g711Stream({ count: 50, code });
    const { info, wav } = await render([
      { info: caller(), packets: talk },
      { info: streamInfo(0x2222, 'callee', 1, [{ pt: 103, codec: 'ISAC', clockRate: 8000, channels: 1 }]), packets: isac },
    ]);
    assert.equal(info.complete, false);
    assert.ok(info.notes.includes('callee ssrc 0x00002222: unsupported codec ISAC (silence)'), info.notes.join('; '));
    assert.deepEqual(channel(wav.samples, 2, 1), new Int16Array(8000));
  });

  it('a capture clock stepped far ahead does not fill the disk with silence', async () => {
    const before = g711Stream({ count: 50, code });
    const after = g711Stream({ count: 50, code, startCap: 86_400, seq0: 1050, ts0: 50_000 + 50 * 160 });
    const { info, wav } = await render([{ info: caller(), packets: [...before, ...after] }], { channels: 1, maxDurationSec: 3600 });
    assert.deepEqual(wav.samples, decode(before));
    assert.equal(info.complete, false);
    assert.ok(info.notes.includes('50 packets beyond the maximum duration (3600 s) dropped'), info.notes.join('; '));
  });

  it('a spool that was not finalized renders, marked incomplete', async () => {
    const { info, wav } = await render([{ info: caller(), packets: g711Stream({ count: 10, code }) }], { finalize: false, channels: 1 });
    assert.equal(info.complete, false);
    assert.ok(info.notes.includes('spool not finalized'));
    assert.equal(wav.samples.length, 1600);
  });

  it('L16 at 16 kHz sets the output rate; a G.711 party beside it is resampled into place', async () => {
    const l16 = { pt: 96, codec: 'L16', clockRate: 16000, channels: 1 };
    const wide: TestPacket[] = Array.from({ length: 50 }, (_, i) => {
      const payload = Buffer.alloc(640);
      for (let k = 0; k < 320; k++) payload.writeInt16BE(((i * 320 + k) % 2000) - 1000, k * 2);
      return { seq: i, ts: i * 320, pt: 96, cap: T0 + i * 0.02, payload };
    });
    const { info, wav } = await render([
      { info: streamInfo(1, 'caller', 0, [l16]), packets: wide },
      { info: callee(), packets: g711Stream({ count: 25, code, startCap: 0.5 }) },
    ]);
    assert.equal(info.sampleRate, 16000);
    assert.equal(wav.sampleRate, 16000);
    assert.equal(wav.samples.length / 2, 16000);
    assert.deepEqual(channel(wav.samples, 2, 0), Int16Array.from({ length: 16000 }, (_, n) => (n % 2000) - 1000));
    const right = channel(wav.samples, 2, 1);
    assert.ok(right.subarray(0, 8000).every((v) => v === 0));
    assert.ok(rms(right, 8000, 16000) > 100);
  });
});

describe('renderRecording: speed', () => {
  it('a 10-minute two-party G.711 call renders many times faster than real time', async (t) => {
    const minutes = 10;
    const n = minutes * 60 * 50;
    const root = tmp('render-speed');
    const streams = [
      { info: caller(), packets: g711Stream({ count: n, code }) },
      { info: callee(), packets: g711Stream({ count: n, code, startCap: 0.3 }) },
    ];
    const dir = await writeSpool(root, 'long', streams);
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const info = await renderRecording(dir, { outPath: join(root, 'long.wav'), format: 'wav', channels: 2 });
    const ms = performance.now() - t0;
    const rssGrowth = (process.memoryUsage().rss - rss0) / 2 ** 20;
    const x = (minutes * 60 * 1000) / ms;
    t.diagnostic(`10-min 2-party G.711 render: ${ms.toFixed(0)} ms, ${x.toFixed(0)}× real time, RSS growth ${rssGrowth.toFixed(1)} MiB`);
    assert.equal(info.durationMs, minutes * 60 * 1000 + 300);
    assert.ok(x > 50, `${x.toFixed(0)}× real time`);
  });
});

describe('renderRecording: RFC 2198 redundancy', () => {
  const RED = { pt: 99, codec: 'red', clockRate: 8000, channels: 1 };
  /** Each packet i carries packet i−1 as a redundant block (offset 160) and itself as primary. */
  const redStream = (pk: TestPacket[]): TestPacket[] =>
    pk.map((p, i) => {
      const prev = pk[i - 1];
      const red = prev === undefined ? redPayload([], [0, p.payload]) : redPayload([[0, 160, prev.payload]], [0, p.payload]);
      return { ...p, pt: 99, payload: red };
    });

  it('a lost packet is played from the next packet’s redundant copy: the file equals the lossless one', async () => {
    const pk = g711Stream({ count: 50, code });
    const sent = redStream(pk).filter((_, i) => i !== 20 && i !== 35);
    const { info, wav } = await render([{ info: streamInfo(0x1111, 'caller', 0, [PCMU, RED]), packets: sent }], { channels: 1 });
    assert.deepEqual(wav.samples, decode(pk));
    assert.ok(info.notes.includes('caller ssrc 0x00001111: 2 lost packets recovered from redundancy (RFC 2198)'), info.notes.join('; '));
    assert.ok(info.notes.some((n) => /2 of 50 packets lost/.test(n)));
  });

  it('without loss the redundant blocks are ignored (no audio doubled)', async () => {
    const pk = g711Stream({ count: 30, code });
    const { wav, info } = await render([{ info: streamInfo(0x1111, 'caller', 0, [PCMU, RED]), packets: redStream(pk) }], { channels: 1 });
    assert.deepEqual(wav.samples, decode(pk));
    assert.ok(!info.notes.some((n) => /redundancy/.test(n)));
  });
});

describe('renderRecording: codec DTX (G.729 Annex B)', () => {
  it('a silence-suppression gap after a SID is filled with the codec’s comfort noise, not digital silence', async () => {
    const G729 = { pt: 18, codec: 'G729', clockRate: 8000, channels: 1 };
    const talk = speech(8000, 2);
    // Background noise in the pause (digital zeros would give comfort noise of level zero).
    const rnd = prng(3);
    const hiss = Int16Array.from({ length: 16000 }, () => Math.round((rnd() - 0.5) * 200));
    const frames = encodeG729(concat([talk, hiss, talk]), true);
    // One packet per transmitted 10 ms frame, at its own timestamp: untransmitted frames leave gaps.
    const packets: TestPacket[] = [];
    frames.forEach((f, i) => {
      if (f.length === 0) return;
      packets.push({ seq: 1000 + packets.length, ts: 80_000 + i * 80, pt: 18, cap: T0 + i * 0.01, payload: Buffer.from(f) });
    });
    const gapStart = frames.findIndex((f, i) => f.length === 0 && i > 100);
    assert.ok(gapStart > 0 && frames.filter((f) => f.length === 0).length > 50, 'VAD left untransmitted frames');
    const { wav, info } = await render([{ info: streamInfo(0x1111, 'caller', 0, [G729]), packets }], { channels: 1 });
    assert.equal(wav.samples.length, frames.length * 80);
    // The middle of the second of silence: noise at a low level, never exact zeros throughout.
    const mid = Math.round((2.5 * 8000) / 80) * 80;
    const seg = wav.samples.subarray(mid, mid + 1600);
    assert.ok(rms(seg) > 0, 'comfort noise, not digital silence');
    assert.ok(rms(seg) < rms(talk) / 10, `comfort noise level ${rms(seg).toFixed(1)} well below speech`);
    assert.ok(info.notes.some((n) => /codec comfort noise over silence suppression/.test(n)), info.notes.join('; '));
    assert.ok(!info.notes.some((n) => /gaps over/.test(n)), 'DTX is not reported as a gap');
  });
});

describe('renderRecording: whole-stream codecs (SILK pre-decode)', () => {
  it('a SILK stream, reordered and with a lost packet, renders exactly as SILK decodes the stream as a whole', async () => {
    const rate = 16000;
    const src = speech(rate, 3);
    const { data } = await silkWasmEncode(src, rate);
    const payloads: Buffer[] = [];
    for (let off = 10; off + 2 <= data.length; ) {
      const n = data[off]! | (data[off + 1]! << 8);
      if (n === 0xffff || off + 2 + n > data.length) break;
      payloads.push(Buffer.from(data.subarray(off + 2, off + 2 + n)));
      off += 2 + n;
    }
    const SILK = { pt: 117, codec: 'SILK', clockRate: rate, channels: 1 };
    const lost = 40;
    const packets: TestPacket[] = payloads
      .map((payload, i) => ({ seq: 500 + i, ts: 1000 + i * 320, pt: 117, cap: T0 + i * 0.02, payload }))
      .filter((_, i) => i !== lost);
    // Swap two neighbours on arrival.
    [packets[10], packets[11]] = [packets[11]!, packets[10]!];
    const { wav, info } = await render([{ info: streamInfo(0x5111, 'caller', 0, [SILK]), packets }], { channels: 1 });
    const ref = await predecodeSilk(
      payloads.map((p, i) => ({ payload: i === lost ? null : p, samples: 320 })),
      rate,
    );
    assert.ok(ref.ok);
    assert.equal(info.sampleRate, rate);
    assert.equal(wav.samples.length, payloads.length * 320);
    assert.deepEqual(wav.samples, ref.pcm.subarray(0, payloads.length * 320), 'bit-exact with the whole-stream decode, concealment included');
    assert.ok(info.notes.some((n) => /1 of \d+ packets lost/.test(n)), info.notes.join('; '));
  });
});
