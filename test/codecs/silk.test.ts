import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode as silkWasmDecode, encode as silkWasmEncode } from 'silk-wasm';
import { SILK_DECODER, SilkDecoder, predecodeSilk, type SilkPredecoded } from '../../codecs/silk.js';
import { bestLag, snrDb, speech } from '../support/ffprobe.js';

interface Encoded {
  rate: number;
  src: Int16Array;
  /** silk-wasm's own file. */
  file: Uint8Array;
  packets: Uint8Array[];
}

/** Speech encoded by silk-wasm (Skype SILK SDK encoder), split into its packets (20 ms each). */
async function encoded(rate: number, text: string): Promise<Encoded> {
  const src = speech(text, rate);
  const { data } = await silkWasmEncode(src, rate);
  const packets: Uint8Array[] = [];
  // "\x02#!SILK_V3", then 16-bit little-endian length + packet, …
  let off = 10;
  while (off + 2 <= data.length) {
    const n = data[off]! | (data[off + 1]! << 8);
    if (n === 0xffff || off + 2 + n > data.length) break;
    packets.push(data.slice(off + 2, off + 2 + n));
    off += 2 + n;
  }
  return { rate, src, file: data, packets };
}

const TEXT = 'The quick brown fox jumps over the lazy dog. This call may be recorded for quality and training purposes.';

function serve(dec: SilkDecoder, packets: readonly (Uint8Array | null)[], F: number): Int16Array {
  const out = new Int16Array(packets.length * F * 5);
  const tmp = new Int16Array(8192);
  let n = 0;
  for (const p of packets) {
    const k = p === null ? dec.conceal(F, tmp) : dec.decode(p, 0, p.length, tmp);
    out.set(tmp.subarray(0, k), n);
    n += k;
  }
  return out.subarray(0, n);
}

async function predecoded(packets: readonly (Uint8Array | null)[], rate: number): Promise<SilkPredecoded> {
  const r = await predecodeSilk(
    packets.map((p) => ({ payload: p, samples: rate / 50 })),
    rate,
  );
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r;
}

describe('SILK decoder (silk-wasm, Skype SILK SDK)', () => {
  it('factory: Skype/Lync clock rates, mono only', async () => {
    await SILK_DECODER.init!();
    assert.deepEqual(SILK_DECODER.names, ['silk']);
    for (const r of [8000, 12000, 16000, 24000]) assert.equal(SILK_DECODER.create('silk', r, 1, '')?.sampleRate, r);
    assert.equal(SILK_DECODER.create('silk', 48000, 1, ''), null);
    assert.equal(SILK_DECODER.create('silk', 16000, 2, ''), null);
  });

  for (const rate of [16000, 8000]) {
    it(`${rate} Hz: packet by packet after a pre-decode equals silk-wasm decoding the whole stream`, async (t) => {
      const F = rate / 50;
      const e = await encoded(rate, TEXT);
      assert.ok(e.packets.length > 200);
      const pre = await predecoded(e.packets, rate);
      const dec = SILK_DECODER.create('silk', rate, 1, '') as SilkDecoder;
      dec.preload(pre);
      const ours = serve(dec, e.packets, F);
      assert.equal(ours.length, e.packets.length * F);
      // silk-wasm's own decode of its own file skips the file's 3rd and 4th packets (its loop
      // reads two ahead) and adds two frames at the end: our frame k + 2 is its frame k, and
      // after the state difference of those two frames dies out the two are identical.
      const r = await silkWasmDecode(e.file, rate);
      const whole = new Int16Array(r.data.buffer, r.data.byteOffset, r.data.length >> 1);
      const from = 30;
      const snr = snrDb(whole.subarray(from * F, (e.packets.length - 4) * F), ours.subarray((from + 2) * F, (e.packets.length - 2) * F));
      t.diagnostic(`vs silk-wasm whole-stream decode (frames ${from}…): ${snr === Infinity ? 'bit-exact' : `${snr.toFixed(1)} dB`}`);
      assert.ok(snr >= 40, `SNR ${snr}`);
      // And with the source: the SILK encoder's delay is 5 ms.
      const c = bestLag(e.src, ours, rate / 100);
      t.diagnostic(`correlation with the source ${c.corr.toFixed(3)} at ${c.lag} samples`);
      assert.equal(c.lag, rate / 200);
      assert.ok(c.corr > 0.85, `correlation ${c.corr}`);
    });
  }

  it('chunked pre-decode (3000 packets + 50 of warm-up) matches one call', async (t) => {
    const rate = 8000;
    const F = 160;
    const e = await encoded(rate, `${TEXT} ${TEXT} ${TEXT} ${TEXT} ${TEXT} ${TEXT}`);
    // Repeat the packets to pass one chunk (packets are independent bitstreams; the decoder state carries).
    const long = Array.from({ length: 3400 }, (_, i) => e.packets[i % e.packets.length]!);
    const pre = await predecoded(long, rate);
    const dec = new SilkDecoder(rate);
    dec.preload(pre);
    const ours = serve(dec, long, F);
    assert.equal(ours.length, long.length * F);
    // Reference: all 3400 packets in one silk-wasm call.
    const one = await predecodeSilk(
      long.map((p) => ({ payload: p })),
      rate,
      { chunk: 10000 },
    );
    assert.ok(one.ok);
    const tail = 3000 * F;
    assert.equal(one.pcm.length, ours.length);
    const snr = snrDb(one.pcm.subarray(tail), ours.subarray(tail));
    t.diagnostic(`after the chunk boundary: ${snr === Infinity ? 'bit-exact' : `${snr.toFixed(1)} dB`}`);
    assert.ok(snr >= 60, `chunk boundary SNR ${snr}`);
    assert.deepEqual(one.pcm.subarray(0, tail), ours.subarray(0, tail));
  });

  it('lost packets: the pre-decode conceals them with SILK PLC, and decoding recovers', async (t) => {
    const rate = 16000;
    const F = 320;
    const e = await encoded(rate, TEXT);
    const lossy = e.packets.map((p, i) => (i === 100 || i === 150 || i === 151 ? null : p));
    const full = new SilkDecoder(rate);
    full.preload(await predecoded(e.packets, rate));
    const ref = serve(full, e.packets, F);
    const dec = new SilkDecoder(rate);
    dec.preload(await predecoded(lossy, rate));
    const got = serve(dec, lossy, F);
    assert.equal(got.length, ref.length, 'one 20 ms frame of concealment per lost packet');
    const rms = (a: Int16Array): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    const plc = got.subarray(100 * F, 101 * F);
    assert.ok(rms(plc) > 0.2 * rms(ref.subarray(99 * F, 100 * F)), 'concealment is not silence');
    const later = snrDb(ref.subarray(165 * F, 260 * F), got.subarray(165 * F, 260 * F));
    t.diagnostic(`after the losses (frames 165…260) vs the lossless decode: ${later.toFixed(1)} dB`);
    assert.ok(later > 30, `${later}`);
    // conceal() gives nothing when no loss is next in line.
    assert.equal(dec.conceal(320, new Int16Array(320)), 0);
  });

  it('without a pre-decode: synchronous windowed decoding, close to the whole-stream decode', async (t) => {
    const rate = 16000;
    const F = 320;
    const e = await encoded(rate, TEXT);
    const N = 60;
    const full = new SilkDecoder(rate);
    full.preload(await predecoded(e.packets, rate));
    const ref = serve(full, e.packets.slice(0, N), F);
    const dec = new SilkDecoder(rate);
    const t0 = performance.now();
    const got = serve(dec, e.packets.slice(0, N), F);
    const ms = (performance.now() - t0) / N;
    assert.equal(got.length, N * F);
    const snr = snrDb(ref.subarray(0, N * F), got);
    t.diagnostic(`windowed fallback: ${snr === Infinity ? 'bit-exact' : `${snr.toFixed(1)} dB`} vs whole stream, ${ms.toFixed(1)} ms per packet`);
    assert.ok(snr >= 40, `${snr}`);
  });

  it('why: decoding each packet with a fresh decoder loses the SILK state (measured)', async (t) => {
    const rate = 16000;
    const F = 320;
    const e = await encoded(rate, TEXT);
    const full = new SilkDecoder(rate);
    full.preload(await predecoded(e.packets, rate));
    const ref = serve(full, e.packets, F);
    const from = 80;
    const N = 60;
    const alone = new Int16Array(N * F);
    for (let i = 0; i < N; i++) {
      const r = await predecodeSilk([{ payload: e.packets[from + i]! }], rate);
      assert.ok(r.ok);
      alone.set(r.pcm.subarray(0, F), i * F);
    }
    const snr = snrDb(ref.subarray(from * F, (from + N) * F), alone);
    t.diagnostic(`one packet per decoder: ${snr.toFixed(1)} dB vs the whole-stream decode`);
    assert.ok(snr < 15, `${snr}`);
  });

  it('never throws on bad payloads', async () => {
    const dec = new SilkDecoder(8000);
    const tmp = new Int16Array(4096);
    assert.equal(dec.decode(new Uint8Array(0), 0, 0, tmp), 0);
    assert.equal(dec.decode(new Uint8Array(2000), 0, 2000, tmp), 0);
    for (const p of [Uint8Array.from([1, 2, 3]), Uint8Array.from({ length: 80 }, (_, i) => (i * 97) & 0xff)]) {
      const n = dec.decode(p, 0, p.length, tmp);
      assert.ok(n >= 0 && n <= tmp.length);
    }
    const bad = await predecodeSilk([{ payload: new Uint8Array([9, 9, 9]) }, { payload: null, samples: 160 }], 44100);
    assert.equal(bad.ok, false);
    const empty = await predecodeSilk([], 8000);
    assert.ok(empty.ok);
    assert.equal(empty.pcm.length, 0);
  });

  it('speed: pre-decode of a 60 s stream (× real time)', async (t) => {
    const rate = 16000;
    const e = await encoded(rate, TEXT);
    const long = Array.from({ length: 3000 }, (_, i) => ({ payload: e.packets[i % e.packets.length]! }));
    const t0 = performance.now();
    const r = await predecodeSilk(long, rate);
    const x = (3000 * 20) / (performance.now() - t0);
    assert.ok(r.ok);
    t.diagnostic(`SILK pre-decode 16 kHz: ${x.toFixed(0)}× real time`);
    assert.ok(x > 20, `${x}`);
  });
});
