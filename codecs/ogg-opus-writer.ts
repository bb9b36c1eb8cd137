/**
 * Ogg Opus recordings (RFC 7845): Opus packets (RFC 6716) from libopus in Ogg pages (ogg.ts).
 *
 * Layout: page 0 holds OpusHead alone (BOS), page 1… OpusTags, then audio pages of about one
 * second each (RFC 7845 §3: each header on its own page(s), audio starting on a fresh page); the
 * last page carries the EOS flag. Memory stays constant: a page is written once it holds 17
 * packets of 60 ms.
 *
 * Granule positions count 48 kHz samples of decoder output, pre-skip included (§4): after k
 * packets of 60 ms the granule is k × 2880. The encoder's look-ahead delays the input, so the
 * first `pre-skip` decoded samples are dropped by players (§4.2), and at the end silence is fed
 * until the packets cover pre-skip + input; the last page's granule is set to exactly pre-skip +
 * input frames × 48000/rate, which trims the padding (§4.5): the decoded file is as long as the
 * input, to the sample.
 *
 * Channels: mono is one Opus stream, channel mapping family 0. Dual-channel recordings (caller
 * left, callee right) use mapping family 1 with two uncoupled mono streams (§5.1.1.2, stream
 * count 2, coupled count 0): a coupled stereo stream codes mid/side, and at speech bit rates
 * libopus narrows the stereo image or falls back to mono, which leaks one party into the other
 * channel; two mono streams keep the parties apart exactly, and two mono encoders also run
 * faster than one stereo encoder. Each multistream packet is the first stream's packet in
 * self-delimiting framing (RFC 6716 Appendix B) followed by the second's.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { OggPageWriter } from './ogg.js';
import { OPUS, OPUS_RATES, createOpusEncoder, loadOpus, type OpusEncoder } from './opus.js';
import type { OpusApplication, RecordingWriter, WriterFactory, WriterOptions } from './types.js';

/** Default bit rates: per stream, speech at the quality of a good wideband call. */
const DEFAULT_MONO_BPS = 24000;
const DEFAULT_STEREO_BPS = 32000;
/**
 * libopus complexity (0–10). With SILK (application 'voip') complexity 0 measured the same
 * correlation with the source as 1 on our speech tests (0.961 against 0.958 at 8 kHz and
 * 16 kbit/s) while encoding 8–15 % faster. With CELT (application 'lowdelay', the default) 0
 * encodes 1.7× faster than 2 and 3.5× faster than 5 at 12.9 dB waveform SNR against 12.1 / 14.2
 * dB (espeak-ng speech, 8 kHz, 16 kbit/s). Renders must run several hundred times faster than
 * real time.
 */
const COMPLEXITY = 0;
/**
 * Which libopus mode codes the speech. CELT only ('lowdelay') is the default: a C program on
 * Debian's libopus 1.3.1 at complexity 0, 60 ms and 16 kbit/s encoded espeak-ng speech at
 * 1,190–1,360× real time at 8 kHz and 1,050× at 16 kHz, against 470–530× and 307× for SILK
 * ('voip'), and decoded closer to the input: 12.9 / 19.0 / 24.2 dB waveform SNR at 16 / 24 / 32
 * kbit/s against SILK's 11.3 / 12.2 / 12.4 (8 kHz; 10.2 / 13.3 / 16.3 against 9.4 / 11.3 / 12.0
 * at 16 kHz). SILK undershoots its bit rate (13.7 kbit/s asked 16), so it remains the choice
 * for the smallest files. Its lookahead is 2.5 ms against SILK's 6.5 ms (the pre-skip).
 */
const DEFAULT_APPLICATION: OpusApplication = 'lowdelay';
/**
 * Frame duration: 60 ms, SILK's longest frame (RFC 6716 §2.1.4, TOC configs 3/7/11; CELT codes
 * it as one packet of three 20-ms frames, code 3 of §3.2.5). Same
 * quality as 20 ms on our speech tests (and 3–4 % fewer bytes: one TOC and range-coder flush
 * per 60 ms), with a third of the packets: fewer encoder calls, packet copies and Ogg lacing.
 */
const FRAME_MS = 60;
/** Packets per page: 17 × 60 ms ≈ one second of audio per page. */
const PACKETS_PER_PAGE = Math.round(1000 / FRAME_MS);
const VENDOR = 'voip-recorder (libopus)';

/** Next Opus rate at or above `rate` (RFC 6716 §2: 8, 12, 16, 24, 48 kHz). */
export function opusRateFor(rate: number): number {
  for (const r of OPUS_RATES) if (rate <= r) return r;
  return 48000;
}

/** Writes one length in RFC 6716 §3.2.1 form (1 or 2 octets); returns the new offset. */
function putLength(dst: Uint8Array, at: number, len: number): number {
  if (len < 252) {
    dst[at] = len;
    return at + 1;
  }
  const first = 252 + (len & 3);
  dst[at] = first;
  dst[at + 1] = (len - first) >> 2;
  return at + 2;
}

/** Reads a length in RFC 6716 §3.2.1 form: [value, octets used], or [-1, 0] when truncated. */
function getLength(src: Uint8Array, at: number, end: number): [number, number] {
  if (at >= end) return [-1, 0];
  const a = src[at]!;
  if (a < 252) return [a, 1];
  if (at + 1 >= end) return [-1, 0];
  return [a + 4 * src[at + 1]!, 2];
}

/**
 * Copies the Opus packet `src[0, n)` to `dst[at…]` in self-delimiting framing (RFC 6716
 * Appendix B): the one length the normal framing leaves implicit is written out (code 0/1: the
 * frame size; code 2: the second frame's; code 3: the last frame's, or the common size when CBR).
 * Returns the end offset, or −1 for a malformed packet.
 */
export function selfDelimit(src: Uint8Array, n: number, dst: Uint8Array, at: number): number {
  if (n < 1) return -1;
  const toc = src[0]!;
  let p = 1;
  let o = at;
  dst[o++] = toc;
  let implicit: number;
  switch (toc & 3) {
    case 0:
      implicit = n - 1;
      break;
    case 1:
      if ((n - 1) % 2 !== 0) return -1;
      implicit = (n - 1) / 2;
      break;
    case 2: {
      const [n1, used] = getLength(src, p, n);
      if (n1 < 0 || p + used + n1 > n) return -1;
      for (let i = 0; i < used; i++) dst[o++] = src[p + i]!;
      p += used;
      implicit = n - p - n1;
      break;
    }
    default: {
      if (n < 2) return -1;
      const fc = src[p++]!;
      dst[o++] = fc;
      const count = fc & 0x3f;
      if (count === 0) return -1;
      let padding = 0;
      if (fc & 0x40) {
        // Padding length: each 255 adds 254 and continues (RFC 6716 §3.2.5).
        for (;;) {
          if (p >= n) return -1;
          const v = src[p++]!;
          dst[o++] = v;
          padding += v === 255 ? 254 : v;
          if (v !== 255) break;
        }
      }
      if (fc & 0x80) {
        let sum = 0;
        for (let k = 0; k < count - 1; k++) {
          const [len, used] = getLength(src, p, n);
          if (len < 0) return -1;
          for (let i = 0; i < used; i++) dst[o++] = src[p + i]!;
          p += used;
          sum += len;
        }
        implicit = n - p - padding - sum;
      } else {
        const data = n - p - padding;
        if (data < 0 || data % count !== 0) return -1;
        implicit = data / count;
      }
    }
  }
  if (implicit < 0) return -1;
  o = putLength(dst, o, implicit);
  for (let i = p; i < n; i++) dst[o++] = src[i]!;
  return o;
}

/** RFC 7845 §5.1 identification header. */
export function opusHead(channels: number, preSkip: number, inputRate: number): Uint8Array {
  const family = channels === 1 ? 0 : 1;
  const h = new Uint8Array(family === 0 ? 19 : 21 + channels);
  const v = new DataView(h.buffer);
  h.set(Buffer.from('OpusHead', 'latin1'), 0);
  h[8] = 1; // version
  h[9] = channels;
  v.setUint16(10, preSkip, true);
  v.setUint32(12, inputRate, true);
  v.setInt16(16, 0, true); // output gain
  h[18] = family;
  if (family === 1) {
    h[19] = channels; // streams: one mono stream per channel
    h[20] = 0; // coupled streams
    for (let c = 0; c < channels; c++) h[21 + c] = c;
  }
  return h;
}

/**
 * RFC 7845 §5.2 comment header: vendor string and `NAME=value` comments. Field names are ASCII
 * 0x20–0x7D without '=' (the Vorbis comment rule RFC 7845 adopts); other characters become '_'.
 */
export function opusTags(vendor: string, tags: Readonly<Record<string, string>> | undefined): Uint8Array {
  const parts: Buffer[] = [Buffer.from('OpusTags', 'latin1')];
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const vendorBytes = Buffer.from(vendor, 'utf8');
  parts.push(u32(vendorBytes.length), vendorBytes);
  const entries = Object.entries(tags ?? {});
  parts.push(u32(entries.length));
  for (const [k, v] of entries) {
    const name = k.replace(/[^\x20-\x3c\x3e-\x7d]/g, '_').toUpperCase() || '_';
    const c = Buffer.from(`${name}=${v}`, 'utf8');
    parts.push(u32(c.length), c);
  }
  return new Uint8Array(Buffer.concat(parts));
}

export class OggOpusWriter implements RecordingWriter {
  readonly sampleRate: number;
  readonly channels: number;
  /** Pre-skip in 48 kHz samples (the encoder's look-ahead). */
  readonly preSkip: number;
  /** 'native' or 'wasm' libopus. */
  readonly backend: 'native' | 'wasm';
  private readonly fd: number;
  private readonly ogg: OggPageWriter;
  private readonly encoders: OpusEncoder[];
  /** Samples per channel in one frame (FRAME_MS) at the input rate. */
  private readonly frameSize: number;
  /** 48000 / rate: input samples → granule units. */
  private readonly scale: number;
  private readonly frame: Int16Array;
  private readonly mono: Int16Array[];
  private fill = 0;
  private readonly packet = new Uint8Array(2 * 4000 + 8);
  private encoded = 0;
  private onPage = 0;
  private input = 0;
  private closed = false;

  constructor(path: string, opts: WriterOptions) {
    const rate = opts.sampleRate;
    const ch = opts.channels;
    if (!OPUS_RATES.includes(rate)) throw new Error(`ogg-opus: ${rate} Hz is not an Opus rate (use rateFor)`);
    if (ch !== 1 && ch !== 2) throw new Error(`ogg-opus: ${ch} channels (1 or 2)`);
    this.sampleRate = rate;
    this.channels = ch;
    this.frameSize = (rate * FRAME_MS) / 1000;
    this.scale = 48000 / rate;
    this.frame = new Int16Array(this.frameSize * ch);
    this.mono = ch === 2 ? [new Int16Array(this.frameSize), new Int16Array(this.frameSize)] : [];
    const total = opts.bitrate ?? (ch === 1 ? DEFAULT_MONO_BPS : DEFAULT_STEREO_BPS);
    const perStream = Math.max(6000, Math.min(256000, Math.round(total / ch)));
    this.encoders = [];
    for (let s = 0; s < ch; s++) {
      const e = createOpusEncoder(rate, 1, undefined, opts.opusApplication ?? DEFAULT_APPLICATION);
      e.set(OPUS.SET_BITRATE, perStream);
      e.set(OPUS.SET_COMPLEXITY, COMPLEXITY);
      e.set(OPUS.SET_SIGNAL, OPUS.SIGNAL_VOICE);
      this.encoders.push(e);
    }
    this.backend = this.encoders[0]!.backend;
    this.preSkip = this.encoders[0]!.lookahead * this.scale;
    this.fd = openSync(path, 'w');
    const fd = this.fd;
    // A random serial number, as RFC 3533 §6 asks, so streams can be chained or multiplexed.
    const serial = (Math.random() * 0x100000000) >>> 0;
    this.ogg = new OggPageWriter((page, len) => {
      let done = 0;
      while (done < len) done += writeSync(fd, page, done, len - done);
    }, serial);
    try {
      const head = opusHead(ch, this.preSkip, rate);
      this.ogg.packet(head, 0, head.length, 0);
      this.ogg.flush();
      const tags = opusTags(VENDOR, opts.tags);
      this.ogg.packet(tags, 0, tags.length, 0);
      this.ogg.flush();
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get frames(): number {
    return this.input;
  }

  write(pcm: Int16Array, samples: number): void {
    if (this.closed) throw new Error('ogg-opus: write after close');
    const ch = this.channels;
    const frame = this.frame;
    const size = frame.length;
    const n = samples - (samples % ch);
    let i = 0;
    // Complete a frame left partly filled by the previous call.
    if (this.fill > 0) {
      const take = Math.min(size - this.fill, n);
      for (let k = 0; k < take; k++) frame[this.fill + k] = pcm[k]!;
      this.fill += take;
      i = take;
      if (this.fill === size) {
        this.encodeFrame(frame, 0, -1);
        this.fill = 0;
      }
    }
    // Whole frames straight from the caller's buffer (no staging copy), then keep the rest.
    for (; n - i >= size; i += size) this.encodeFrame(pcm, i, -1);
    if (i < n) {
      for (let k = 0; i + k < n; k++) frame[k] = pcm[i + k]!;
      this.fill = n - i;
    }
    this.input += n / ch;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      // Pad with silence until the packets cover pre-skip + input; the last one's granule trims.
      const end = this.preSkip + this.input * this.scale;
      const per = this.frameSize * this.scale;
      if (this.input === 0) {
        // No audio: one 20 ms DTX frame per stream (TOC 0xF8, CELT-only 20 ms, empty frame:
        // RFC 6716 §3.2.1), its granule trimmed to the pre-skip, so the file decodes to nothing
        // (a SILK frame here would leave ffmpeg's own decoder a few ms of silence).
        const dtx = this.channels === 1 ? [0xf8] : [0xf8, 0x00, 0xf8];
        this.packet.set(dtx, 0);
        this.ogg.packet(this.packet, 0, dtx.length, end);
      } else if (this.fill > 0 || this.encoded * per < end) {
        for (;;) {
          this.frame.fill(0, this.fill);
          this.fill = 0;
          const last = (this.encoded + 1) * per >= end;
          this.encodeFrame(this.frame, 0, last ? end : -1);
          if (last) break;
        }
      }
      this.ogg.flush(true);
    } finally {
      for (const e of this.encoders) e.free();
      closeSync(this.fd);
    }
  }

  /**
   * Encodes one frame of interleaved samples at `src[off…]`; `granule` ≥ 0 overrides the
   * packet's granule (end trim).
   */
  private encodeFrame(src: Int16Array, off: number, granule: number): void {
    let len: number;
    let buf: Uint8Array = this.packet;
    if (this.channels === 1) {
      const e = this.encoders[0]!;
      len = e.encodeAt(src, off, this.frameSize);
      if (len < 0) throw new Error(`ogg-opus: encoder error ${len}`);
      buf = e.out; // the page writer copies it
    } else {
      const f = src;
      const [l, r] = this.mono as [Int16Array, Int16Array];
      for (let i = 0, j = off; i < l.length; i++, j += 2) {
        l[i] = f[j]!;
        r[i] = f[j + 1]!;
      }
      // The native encoders share one output buffer: the first stream's packet is copied
      // (self-delimited) before the second is encoded.
      const e0 = this.encoders[0]!;
      const n0 = e0.encode(l);
      if (n0 < 0) throw new Error(`ogg-opus: encoder error ${n0}`);
      const at = selfDelimit(e0.out, n0, this.packet, 0);
      if (at < 0) throw new Error('ogg-opus: encoder produced a malformed packet');
      const e1 = this.encoders[1]!;
      const n1 = e1.encode(r);
      if (n1 < 0) throw new Error(`ogg-opus: encoder error ${n1}`);
      const out = e1.out;
      const p = this.packet;
      for (let i = 0; i < n1; i++) p[at + i] = out[i]!;
      len = at + n1;
    }
    this.encoded++;
    this.ogg.packet(buf, 0, len, granule >= 0 ? granule : this.encoded * this.frameSize * this.scale);
    if (++this.onPage >= PACKETS_PER_PAGE && granule < 0) {
      this.ogg.flush();
      this.onPage = 0;
    }
  }
}

export const OGG_OPUS_WRITER: WriterFactory = {
  format: 'opus',
  extension: 'opus',
  rateFor: opusRateFor,
  create: (path, opts) => new OggOpusWriter(path, opts),
  init: loadOpus,
};
