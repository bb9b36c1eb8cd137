/**
 * × realtime per core of every decoder: 60 s of speech encoded by a reference encoder (ffmpeg,
 * sox, bcg729, libopus, the SILK SDK), cut into RTP payloads as senders do, decoded packet by
 * packet through `createDecoder` (what a render does) on this thread.
 */
import { encode as silkEncode } from 'silk-wasm';
import { encodeUlaw } from '../codecs/g711.js';
import { createOpusEncoder } from '../codecs/opus.js';
import { predecodeSilk } from '../codecs/silk.js';
import { createDecoder, prepareDecoders } from '../recorder/media/decoder.js';
import { amrStorageFrames, encodeG729, ffmpegEncode, oggPackets, soxEncodeAmrNb, speech, tsharkRtpPayloads } from '../test/support/codec-reference.js';

export interface DecoderRow {
  codec: string;
  audioSeconds: number;
  seconds: number;
  realtime: number;
  note?: string;
}

interface Stream {
  codec: string;
  clockRate: number;
  fmtp?: string;
  payloads: Uint8Array[];
  audioSeconds: number;
  note?: string;
}

const chunk = (b: Uint8Array, size: number): Uint8Array[] => {
  const out: Uint8Array[] = [];
  for (let i = 0; i + size <= b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
};

async function streams(seconds: number): Promise<Stream[]> {
  const s8 = speech(8000, seconds);
  const s16 = speech(16000, seconds);
  const list: Stream[] = [];
  list.push({ codec: 'PCMU', clockRate: 8000, payloads: chunk(Uint8Array.from(s8, (v) => encodeUlaw(v)), 160), audioSeconds: seconds });
  list.push({ codec: 'G722', clockRate: 8000, payloads: chunk(ffmpegEncode(s16, 16000, ['-c:a', 'g722', '-f', 'g722']), 160), audioSeconds: seconds });
  list.push({ codec: 'G726-32', clockRate: 8000, payloads: chunk(ffmpegEncode(s8, 8000, ['-c:a', 'g726le', '-b:a', '32k', '-f', 'g726le']), 80), audioSeconds: seconds });
  const g729 = encodeG729(s8, false);
  const g729Payloads: Uint8Array[] = [];
  for (let i = 0; i + 1 < g729.length; i += 2) g729Payloads.push(Buffer.concat([g729[i]!, g729[i + 1]!]));
  list.push({ codec: 'G729', clockRate: 8000, payloads: g729Payloads, audioSeconds: seconds });
  list.push({ codec: 'GSM', clockRate: 8000, payloads: chunk(ffmpegEncode(s8, 8000, ['-c:a', 'libgsm', '-f', 'gsm']), 33), audioSeconds: seconds });
  // Speex in Ogg: packet 0 is the header, 1 the comments.
  const spx = oggPackets(ffmpegEncode(s16, 16000, ['-c:a', 'libspeex', '-f', 'ogg'])).slice(2);
  list.push({ codec: 'speex', clockRate: 16000, payloads: spx, audioSeconds: spx.length * 0.02 });
  // AMR storage frames become octet-aligned payloads: CMR 15, then the frame header is the ToC (F = 0).
  const amr = amrStorageFrames(soxEncodeAmrNb(s8, 7), false).map((f) => Buffer.concat([Buffer.from([0xf0]), f]));
  list.push({ codec: 'AMR', clockRate: 8000, fmtp: 'octet-align=1', payloads: amr, audioSeconds: amr.length * 0.02 });
  // iLBC: no encoder on Debian; the real capture's 30 ms payloads, looped.
  const ilbcOne = tsharkRtpPayloads('fixtures/lundgrel-sipp__sip-rtp-ilbc.pcap', 0x043eefa7).map((p) => p.payload);
  const ilbc: Uint8Array[] = [];
  while (ilbc.length * 0.03 < seconds) ilbc.push(...ilbcOne);
  list.push({ codec: 'iLBC', clockRate: 8000, fmtp: 'mode=30', payloads: ilbc, audioSeconds: ilbc.length * 0.03, note: 'real capture looped' });
  // Opus: our encoder (libopus) at 16 kHz, 20 ms frames, decoded at 48 kHz as in a render.
  const enc = createOpusEncoder(16000, 1);
  const opus: Uint8Array[] = [];
  for (let i = 0; i + 320 <= s16.length; i += 320) {
    const n = enc.encode(s16.subarray(i, i + 320));
    if (n > 0) opus.push(enc.out.slice(0, n));
  }
  enc.free();
  list.push({ codec: 'opus', clockRate: 48000, payloads: opus, audioSeconds: opus.length * 0.02 });
  const { data } = await silkEncode(s16, 16000);
  const silk: Uint8Array[] = [];
  for (let off = 10; off + 2 <= data.length; ) {
    const n = data[off]! | (data[off + 1]! << 8);
    if (n === 0xffff || off + 2 + n > data.length) break;
    silk.push(data.slice(off + 2, off + 2 + n));
    off += 2 + n;
  }
  list.push({ codec: 'SILK', clockRate: 16000, payloads: silk, audioSeconds: silk.length * 0.02, note: 'whole-stream pre-decode + served per packet' });
  return list;
}

export async function benchDecoders(seconds: number): Promise<DecoderRow[]> {
  await prepareDecoders();
  const rows: DecoderRow[] = [];
  const out = new Int16Array(1 << 16);
  for (const s of await streams(seconds)) {
    const run = async (): Promise<number> => {
      const t = process.hrtime.bigint();
      const dec = createDecoder(s.codec, s.clockRate, 1, s.fmtp ?? '');
      if (dec === null) throw new Error(`no decoder for ${s.codec}`);
      if (s.codec === 'SILK') {
        const pre = await predecodeSilk(
          s.payloads.map((payload) => ({ payload })),
          s.clockRate,
        );
        if (pre.ok) dec.preload?.(pre);
      }
      for (const p of s.payloads) dec.decode(p, 0, p.length, out);
      dec.free?.();
      return Number(process.hrtime.bigint() - t) / 1e9;
    };
    await run(); // warm-up (JIT, WASM tiers)
    const t = Math.min(await run(), await run());
    rows.push({ codec: s.codec, audioSeconds: s.audioSeconds, seconds: t, realtime: s.audioSeconds / t, ...(s.note !== undefined ? { note: s.note } : {}) });
  }
  return rows;
}
