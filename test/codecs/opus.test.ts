import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OggPageWriter } from '../../codecs/ogg.js';
import { opusHead, opusTags } from '../../codecs/ogg-opus-writer.js';
import { OPUS, OPUS_DECODER, OpusDecoder, createOpusEncoder, loadOpus, opusEncoderBackend, opusPacketSamples } from '../../codecs/opus.js';
import { correlation, ffmpegDecode, snrDb, speech } from '../support/ffprobe.js';
import { tshark } from '../support/tshark.js';
import { tempDir } from '../support/temp-dir.js';

const PCAP = 'fixtures/asterisk-testsuite__opus-2013785496.pcap';

/** The Opus payloads (PT 96) of the fixture, in sequence order, as tshark dissects them. */
function fixturePackets(): Buffer[] {
  const out = tshark(['-r', PCAP, '-d', 'udp.port==12906,rtp', '-T', 'fields', '-e', 'rtp.seq', '-e', 'rtp.p_type', '-e', 'rtp.payload']);
  return out
    .trim()
    .split('\n')
    .map((l) => l.split('\t'))
    .filter((f) => f[1] === '96')
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map((f) => Buffer.from((f[2] ?? '').replace(/:/g, ''), 'hex'));
}

/** Packets into an Ogg Opus file (pre-skip 0) for a reference decoder. */
function oggOf(packets: readonly Uint8Array[], channels: number, path: string): void {
  const parts: Buffer[] = [];
  const w = new OggPageWriter((p, n) => parts.push(Buffer.from(p.subarray(0, n))), 99);
  const head = opusHead(channels, 0, 48000);
  w.packet(head, 0, head.length, 0);
  w.flush();
  const tags = opusTags('test', {});
  w.packet(tags, 0, tags.length, 0);
  w.flush();
  let g = 0;
  packets.forEach((p, i) => {
    g += opusPacketSamples(p, 0, p.length);
    w.packet(p, 0, p.length, g);
    if (i % 50 === 49) w.flush();
  });
  w.flush(true);
  writeFileSync(path, Buffer.concat(parts));
}

function decodeAll(dec: OpusDecoder, packets: readonly Uint8Array[]): Int16Array {
  const out = new Int16Array(packets.length * 5760);
  const tmp = new Int16Array(5760);
  let n = 0;
  for (const p of packets) {
    const k = dec.decode(p, 0, p.length, tmp);
    out.set(tmp.subarray(0, k), n);
    n += k;
  }
  return out.subarray(0, n);
}

/** Speech encoded at 16 kHz into 20 ms packets (SILK/hybrid, where LBRR lives). */
function encodeSpeech(fec: boolean): { src: Int16Array; packets: Uint8Array[] } {
  const src = speech('Seven silver swans swam silently seaward. The rain in Spain stays mainly in the plain.', 16000);
  const e = createOpusEncoder(16000, 1);
  e.set(OPUS.SET_BITRATE, 24000);
  e.set(OPUS.SET_SIGNAL, OPUS.SIGNAL_VOICE);
  if (fec) {
    e.set(OPUS.SET_INBAND_FEC, 1);
    e.set(OPUS.SET_PACKET_LOSS_PERC, 20);
  }
  const packets: Uint8Array[] = [];
  const frame = new Int16Array(320);
  for (let i = 0; i + 320 <= src.length; i += 320) {
    frame.set(src.subarray(i, i + 320));
    const n = e.encode(frame);
    assert.ok(n > 0);
    packets.push(e.out.slice(0, n));
  }
  e.free();
  return { src, packets };
}

describe('Opus decoder (RFC 6716 / RFC 7587)', () => {
  it('loads; the factory takes opus/48000/2 and gives 48 kHz', async () => {
    await OPUS_DECODER.init!();
    const d = OPUS_DECODER.create('opus', 48000, 2, 'useinbandfec=1');
    assert.ok(d !== null);
    assert.equal(d.sampleRate, 48000);
    d.free?.();
    assert.deepEqual(OPUS_DECODER.names, ['opus']);
  });

  it('real RTP (asterisk fixture): matches ffmpeg with libopus on the same packets', (t) => {
    const packets = fixturePackets();
    assert.equal(packets.length, 725);
    const dir = tempDir('opus-ref-');
    const file = join(dir, 'ref.opus');
    oggOf(packets, 1, file);
    const ref = ffmpegDecode(file, 48000, 1, 'libopus');
    assert.equal(ref.errors, '');
    const dec = new OpusDecoder();
    const ours = decodeAll(dec, packets);
    dec.free();
    assert.equal(ours.length, 725 * 960);
    assert.equal(ref.channel[0]!.length, ours.length);
    const snr = snrDb(ref.channel[0]!, ours);
    t.diagnostic(`SNR vs ffmpeg/libopus: ${snr.toFixed(1)} dB`);
    assert.ok(snr >= 40, `SNR ${snr}`);
  });

  it('a decoder at 16 kHz gives the same audio band-limited (optional output rate)', () => {
    const packets = fixturePackets().slice(0, 200);
    const d16 = new OpusDecoder(16000);
    assert.equal(d16.sampleRate, 16000);
    const low = decodeAll(d16, packets);
    assert.equal(low.length, 200 * 320);
    assert.equal(d16.conceal(330, new Int16Array(1000)), 320, '2.5 ms steps at 16 kHz are 40 samples');
    d16.free();
    const full = decodeAll(new OpusDecoder(), packets);
    // Compare at 16 kHz: every third 48 kHz sample after a crude low-pass (3-tap mean).
    const dec = new Int16Array(low.length);
    for (let i = 0; i < dec.length; i++) dec[i] = Math.round(((full[3 * i - 1] ?? 0) + full[3 * i]! + (full[3 * i + 1] ?? 0)) / 3);
    const c = Math.max(...[-3, -2, -1, 0, 1, 2, 3].map((k) => correlation(dec, low, k)));
    assert.ok(c > 0.8, `${c}`);
    assert.throws(() => new OpusDecoder(44100));
  });

  it('downmixes stereo packets to mono', () => {
    const n = 48000;
    const l = new Int16Array(n);
    const r = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      l[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000));
      r[i] = Math.round(8000 * Math.sin((2 * Math.PI * 660 * i) / 48000));
    }
    const e = createOpusEncoder(48000, 2);
    e.set(OPUS.SET_BITRATE, 64000);
    const frame = new Int16Array(960 * 2);
    const dec = new OpusDecoder();
    const out = new Int16Array(n);
    const tmp = new Int16Array(5760);
    let at = 0;
    for (let f = 0; f + 960 <= n; f += 960) {
      for (let i = 0; i < 960; i++) {
        frame[2 * i] = l[f + i]!;
        frame[2 * i + 1] = r[f + i]!;
      }
      const k = e.encode(frame);
      assert.equal(e.out[0]! & 4, 4, 'stereo TOC');
      const m = dec.decode(e.out, 0, k, tmp);
      assert.equal(m, 960);
      out.set(tmp.subarray(0, m), at);
      at += m;
    }
    const mix = l.map((v, i) => (v + r[i]!) / 2);
    const lag = e.lookahead;
    const c = correlation(mix, out, lag);
    assert.ok(c > 0.9, `mono downmix correlation ${c}`);
    e.free();
    dec.free();
  });

  it('DTX: TOC-only packets and empty payloads decode to a frame of concealment', () => {
    const dec = new OpusDecoder();
    const { packets } = encodeSpeech(false);
    const tmp = new Int16Array(5760);
    for (const p of packets.slice(0, 10)) assert.equal(dec.decode(p, 0, p.length, tmp), 960);
    // A 1-byte packet (TOC only, RFC 6716 §3.2.1: a 0-length frame) is one 20 ms frame of DTX.
    const toc = new Uint8Array([packets[0]![0]! & 0xfc]);
    assert.equal(dec.decode(toc, 0, 1, tmp), 960);
    // An empty RTP payload: the previous packet's duration of concealment.
    assert.equal(dec.decode(new Uint8Array(0), 0, 0, tmp), 960);
    dec.free();
  });

  it('never throws on bad bytes; malformed packets give 0', () => {
    const dec = new OpusDecoder();
    const tmp = new Int16Array(5760);
    // Code 3 with a frame count of 0 is invalid (RFC 6716 §3.2.5, [R5]).
    assert.equal(dec.decode(new Uint8Array([0x03, 0x00]), 0, 2, tmp), 0);
    // Code 2 whose first frame length runs past the end ([R4]).
    assert.equal(dec.decode(new Uint8Array([0x0a, 200, 1, 2]), 0, 4, tmp), 0);
    let seed = 12345;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    for (let k = 0; k < 2000; k++) {
      const p = Uint8Array.from({ length: 1 + (rnd() % 200) }, rnd);
      const n = dec.decode(p, 0, p.length, tmp);
      assert.ok(n >= 0 && n <= tmp.length);
    }
    // A too-small output buffer: nothing written past it.
    const small = new Int16Array(100);
    assert.equal(dec.decode(new Uint8Array([0x08, 1, 2, 3]), 0, 4, small), 0);
    dec.free();
    // After free(): 0, no throw.
    assert.equal(dec.decode(new Uint8Array([0x08, 1]), 0, 2, tmp), 0);
  });

  it('conceals in whole 2.5 ms steps', () => {
    const dec = new OpusDecoder();
    const { packets } = encodeSpeech(false);
    const tmp = new Int16Array(5760 * 2);
    dec.decode(packets[5]!, 0, packets[5]!.length, tmp);
    assert.equal(dec.conceal(960, tmp), 960);
    assert.equal(dec.conceal(1000, tmp), 960);
    assert.equal(dec.conceal(10, tmp), 120);
    assert.equal(dec.conceal(9000, tmp), 9000);
    dec.free();
  });

  it('FEC: a lost frame rebuilt from the next packet is closer to the original than PLC', (t) => {
    const { packets } = encodeSpeech(true);
    const reference = decodeAll(new OpusDecoder(), packets);
    let plcErr = 0;
    let fecErr = 0;
    let energy = 0;
    const tmp = new Int16Array(5760);
    let fecUsed = 0;
    // Lose every 7th packet (from 10 on), each in a fresh run so losses do not interact.
    for (let lost = 10; lost < packets.length - 1; lost += 7) {
      for (const mode of ['plc', 'fec'] as const) {
        const dec = new OpusDecoder();
        for (let i = 0; i < lost; i++) dec.decode(packets[i]!, 0, packets[i]!.length, tmp);
        const n = mode === 'fec' ? dec.conceal(960, tmp, packets[lost + 1]) : dec.conceal(960, tmp);
        assert.equal(n, 960);
        let err = 0;
        let e = 0;
        for (let i = 0; i < 960; i++) {
          const r = reference[lost * 960 + i]!;
          err += (r - tmp[i]!) ** 2;
          e += r * r;
        }
        if (mode === 'fec') {
          fecErr += err;
          energy += e;
          if (err < e * 0.1) fecUsed++;
        } else plcErr += err;
        dec.free();
      }
    }
    const plcSnr = 10 * Math.log10(energy / plcErr);
    const fecSnr = 10 * Math.log10(energy / fecErr);
    t.diagnostic(`lost frames: SNR vs the lossless decode, PLC ${plcSnr.toFixed(1)} dB, FEC ${fecSnr.toFixed(1)} dB (${fecUsed} frames > 10 dB)`);
    assert.ok(fecSnr > plcSnr + 3, `FEC ${fecSnr} dB vs PLC ${plcSnr} dB`);
  });

  it('without FEC in the stream, conceal with next falls back to PLC', () => {
    const { packets } = encodeSpeech(false);
    const a = new OpusDecoder();
    const b = new OpusDecoder();
    const ta = new Int16Array(960);
    const tb = new Int16Array(960);
    for (let i = 0; i < 20; i++) {
      a.decode(packets[i]!, 0, packets[i]!.length, ta);
      b.decode(packets[i]!, 0, packets[i]!.length, tb);
    }
    assert.equal(a.conceal(960, ta, packets[21]), 960);
    assert.equal(b.conceal(960, tb), 960);
    assert.deepEqual(ta, tb);
    a.free();
    b.free();
  });

  it('speed: decode of the fixture (× real time, WASM libopus)', async (t) => {
    await loadOpus();
    const packets = fixturePackets();
    const tmp = new Int16Array(5760);
    let best = 0;
    for (let rep = 0; rep < 5; rep++) {
      const dec = new OpusDecoder();
      const t0 = performance.now();
      for (const p of packets) dec.decode(p, 0, p.length, tmp);
      best = Math.max(best, (packets.length * 20) / (performance.now() - t0));
      dec.free();
    }
    t.diagnostic(`Opus decode (hybrid SWB 20 ms → 48 kHz mono): ${best.toFixed(0)}× real time; encoder backend ${opusEncoderBackend()}`);
    assert.ok(best > 50, `${best}× real time`);
  });
});
