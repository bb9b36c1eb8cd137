/**
 * MP3 recordings: LAME 3.100 (the `wasm-media-encoders` WASM build), constant bit rate, at the
 * render's rate when it is an MPEG rate (ISO/IEC 11172-3 / 13818-3: 32, 44.1, 48 kHz; MPEG-2
 * 16, 22.05, 24; MPEG-2.5 8, 11.025, 12), streamed to the file as LAME produces frames.
 *
 * File layout: an ID3v2.4 tag with the recording's tags (TXXX frames), then one "Info" frame —
 * a silent MP3 frame carrying the Xing/LAME header that LAME itself writes when it can seek back
 * (frame count, byte count, seek table, and the encoder delay and end padding) — then the audio.
 * The Info frame is reserved when the file opens and filled in at close(). Decoders that honour
 * it (ffmpeg, foobar2000, iTunes, …) play exactly the input, sample-aligned: LAME delays the
 * audio by 576 samples and pads the last frame, and the tag says both. wasm-media-encoders does
 * not write that frame (it cannot seek), so we do.
 *
 * Duration as ffprobe reports it: ffmpeg 5.1's MP3 demuxer (libavformat/mp3dec.c) takes the
 * stream duration from the Info frame count alone (frames × samples per frame) and only uses the
 * LAME delay and padding to trim decoded audio (start skip = delay + 529, the decoder's own
 * delay; end discard = padding − 529). So `format=duration` is (576 + input + padding) / rate,
 * and no valid file can say less: the decoder needs input + 576 + 529 samples of frames to
 * output the last input sample, rounded up to whole frames (576 samples at 8–24 kHz). That is
 * 138–210 ms over at 8 kHz and 69–105 ms at 16 kHz, for our files and for ffmpeg's own
 * libmp3lame output alike. What ffprobe decodes (the sum of its frames' `nb_samples`) is the
 * input to the sample; the tests check both.
 *
 * LAME's encoders are created asynchronously (WASM instantiation) while writers are created
 * synchronously: `init()` compiles the module and keeps idle encoder instances; a writer takes
 * one and gives it back at close().
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createEncoder, type WasmMediaEncoder } from 'wasm-media-encoders';
import type { RecordingWriter, WriterFactory, WriterOptions } from './types.js';

const require = createRequire(import.meta.url);

type Mp3Encoder = WasmMediaEncoder<'audio/mpeg'>;
type Cbr = 8 | 16 | 24 | 32 | 40 | 48 | 64 | 80 | 96 | 112 | 128 | 160 | 192 | 224 | 256 | 320;
type MpegRate = 8000 | 11025 | 12000 | 16000 | 22050 | 24000 | 32000 | 44100 | 48000;

export const MPEG_RATES: readonly MpegRate[] = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000];

/** Next MPEG audio rate at or above `rate`. */
export function mp3RateFor(rate: number): number {
  for (const r of MPEG_RATES) if (rate <= r) return r;
  return 48000;
}

/** Layer III bit rates by index (ISO/IEC 11172-3 Table 2.4.2.3; 13818-3 for the low rates). */
const KBPS_MPEG1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const KBPS_MPEG2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
/** What wasm-media-encoders accepts. */
const CBR_VALUES: readonly Cbr[] = [8, 16, 24, 32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
/** LAME's encoder delay in samples (lame_get_encoder_delay, ENCDELAY in LAME 3.100). */
const LAME_DELAY = 576;

interface MpegParams {
  /** 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5 (the header's version bits). */
  version: 3 | 2 | 0;
  rateIndex: number;
  /** Samples per frame: 1152 (MPEG-1) or 576. */
  spf: number;
  table: readonly number[];
}

function mpegParams(rate: number): MpegParams | null {
  const i = MPEG_RATES.indexOf(rate as MpegRate);
  if (i < 0) return null;
  // Rates in MPEG_RATES order: 2.5 (8, 11.025, 12), 2 (16, 22.05, 24), 1 (32, 44.1, 48); within
  // a version the index bits are 44.1/22.05/11.025 = 0, 48/24/12 = 1, 32/16/8 = 2.
  const group = Math.floor(i / 3);
  const rateIndex = [2, 0, 1][i % 3]!;
  if (group === 2) return { version: 3, rateIndex, spf: 1152, table: KBPS_MPEG1 };
  return { version: group === 1 ? 2 : 0, rateIndex, spf: 576, table: KBPS_MPEG2 };
}

/** Default CBR for speech: per the MPEG version's band and the channel count. */
function defaultKbps(rate: number, channels: number): number {
  if (rate <= 12000) return channels === 1 ? 32 : 48;
  if (rate <= 24000) return channels === 1 ? 48 : 64;
  return channels === 1 ? 64 : 96;
}

/** The allowed bit rate nearest `kbps` (legal for the MPEG version and for the encoder). */
function legalKbps(kbps: number, p: MpegParams): Cbr {
  let best: Cbr = CBR_VALUES.find((v) => p.table.includes(v))!;
  for (const v of CBR_VALUES) if (p.table.includes(v) && Math.abs(v - kbps) < Math.abs(best - kbps)) best = v;
  return best;
}

const frameBytes = (p: MpegParams, kbps: number, rate: number, pad: number): number =>
  Math.floor(((p.spf / 8) * kbps * 1000) / rate) + pad;

// ---------------------------------------------------------------------------------------------
// Info (Xing) + LAME tag frame

/** CRC-16/ARC (polynomial 0x8005 reflected, initial 0): the LAME tag's two checksums, by byte. */
const CRC16_TABLE = Uint16Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  return c;
});

/** Continues CRC-16/ARC `c` over `b[from, to)`. */
function crc16(b: Uint8Array, from: number, to: number, c = 0): number {
  for (let i = from; i < to; i++) c = (c >>> 8) ^ CRC16_TABLE[(c ^ b[i]!) & 0xff]!;
  return c;
}

/**
 * The header of the Info frame: layer III, no CRC, the stream's version, rate and mode, and
 * the smallest bit rate index (not below the stream's) whose frame holds the tag.
 */
function infoHeader(p: MpegParams, rate: number, kbps: number, channels: number): { header: Uint8Array; size: number } {
  let index = p.table.indexOf(kbps);
  while (index < 14 && frameBytes(p, p.table[index]!, rate, 0) < 200) index++;
  const header = new Uint8Array(4);
  header[0] = 0xff;
  header[1] = 0xe0 | (p.version << 3) | (1 << 1) | 1; // sync, version, layer III (01), no CRC
  header[2] = (index << 4) | (p.rateIndex << 2); // no padding, private 0
  header[3] = (channels === 1 ? 3 : 1) << 6; // mono / joint stereo, as LAME encodes; original 0
  return { header, size: frameBytes(p, p.table[index]!, rate, 0) };
}

/** Side information length, after which Xing/Info starts (by version and mono/stereo). */
const sideInfo = (p: MpegParams, channels: number): number => (p.version === 3 ? (channels === 1 ? 17 : 32) : channels === 1 ? 9 : 17);

function infoFrame(
  p: MpegParams,
  rate: number,
  kbps: number,
  channels: number,
  frames: number,
  audioBytes: number,
  padding: number,
  musicCrc: number,
): Uint8Array {
  const { header, size } = infoHeader(p, rate, kbps, channels);
  const f = new Uint8Array(size);
  f.set(header, 0);
  const v = new DataView(f.buffer);
  let at = 4 + sideInfo(p, channels);
  f.set([0x49, 0x6e, 0x66, 0x6f], at); // "Info": the Xing header of a CBR file
  v.setUint32(at + 4, 0x0f, false); // frames, bytes, TOC and quality fields present
  v.setUint32(at + 8, frames, false);
  const total = size + audioBytes;
  v.setUint32(at + 12, total, false);
  // TOC: byte position (/256) of each percent of duration, linear for CBR.
  for (let i = 0; i < 100; i++) f[at + 16 + i] = Math.min(255, Math.floor((i * 256) / 100));
  v.setUint32(at + 116, 0, false); // quality
  at += 120;
  // LAME extension, after "Mp3 info tag rev 1 specifications" (G. Bouvigne, LAME project,
  // gabriel.mp3-tech.org/mp3infotag.html), the layout LAME 3.100 writes (revision 0):
  //   +0 version string (9)   +9 revision (4 bits) | VBR method (4 bits; 1 = CBR)
  //  +10 lowpass / 100 Hz    +11 peak (4)  +15 radio gain (2)  +17 audiophile gain (2)
  //  +19 encoding flags | ATH type         +20 bit rate (CBR: the bit rate, kbit/s)
  //  +21 encoder delay (12 bits) | padding (12 bits): samples LAME added before / after the input
  //  +24 misc: source rate (2 bits) | unwise (1) | stereo mode (3) | noise shaping (2)
  //  +25 MP3 gain  +26 surround | preset (2)
  //  +28 music length: bytes from this frame's first byte to the last audio frame's end
  //  +32 music CRC: CRC-16 of the audio frames after this one
  //  +34 tag CRC: CRC-16 of this frame's bytes before it
  // Replay gain is not measured (zero: "not set"), the peak likewise.
  f.set(Array.from('LAME3.100', (c) => c.charCodeAt(0)), at);
  f[at + 9] = 0x01;
  f[at + 10] = Math.min(255, Math.round(rate / 2 / 100));
  f[at + 20] = Math.min(255, kbps);
  f[at + 21] = (LAME_DELAY >> 4) & 0xff;
  f[at + 22] = ((LAME_DELAY & 0x0f) << 4) | ((padding >> 8) & 0x0f);
  f[at + 23] = padding & 0xff;
  // Source rate code: 0 up to 32 kHz, 1 = 44.1, 2 = 48; stereo mode 0 = mono, 3 = joint stereo.
  f[at + 24] = ((rate === 44100 ? 1 : rate === 48000 ? 2 : 0) << 6) | ((channels === 1 ? 0 : 3) << 2);
  v.setUint32(at + 28, total, false);
  v.setUint16(at + 32, musicCrc, false);
  // The tag CRC covers the frame up to itself (byte 190 with MPEG-1 stereo side info).
  const crcAt = at + 34;
  v.setUint16(crcAt, crc16(f, 0, crcAt), false);
  return f;
}

// ---------------------------------------------------------------------------------------------
// ID3v2.4 (id3.org "ID3 tag version 2.4.0 - Main Structure" / "Native Frames")

function syncsafe(n: number): number[] {
  return [(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f];
}

function id3Frame(id: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(id, 'latin1'), Buffer.from(syncsafe(body.length)), Buffer.from([0, 0]), body]);
}

/** ID3v2.4 tag: TSSE (encoder) and one TXXX (UTF-8) per tag; empty when there is nothing to say. */
export function id3v2(tags: Readonly<Record<string, string>> | undefined, encoder: string): Uint8Array {
  const frames: Buffer[] = [id3Frame('TSSE', Buffer.concat([Buffer.from([3]), Buffer.from(encoder, 'utf8')]))];
  for (const [k, v] of Object.entries(tags ?? {})) {
    frames.push(id3Frame('TXXX', Buffer.concat([Buffer.from([3]), Buffer.from(k, 'utf8'), Buffer.from([0]), Buffer.from(v, 'utf8')])));
  }
  const body = Buffer.concat(frames);
  return new Uint8Array(Buffer.concat([Buffer.from('ID3', 'latin1'), Buffer.from([4, 0, 0]), Buffer.from(syncsafe(body.length)), body]));
}

// ---------------------------------------------------------------------------------------------
// Encoder pool

let wasmModule: Promise<unknown> | null = null;
const idle: Mp3Encoder[] = [];
let refilling: Promise<void> | null = null;
/** Idle encoders kept ready per thread (a render writes one recording at a time). */
const POOL = 2;

async function refill(): Promise<void> {
  wasmModule ??= Promise.resolve().then(() => {
    // The package maps './wasm/mp3' to the binary; compile it once per thread.
    const bytes = readFileSync(require.resolve('wasm-media-encoders/wasm/mp3'));
    return (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<unknown> } }).WebAssembly.compile(bytes);
  });
  const mod = await wasmModule;
  while (idle.length < POOL) idle.push(await createEncoder('audio/mpeg', mod as Parameters<typeof createEncoder>[1]));
}

function topUp(): void {
  refilling ??= refill().finally(() => {
    refilling = null;
  });
  refilling.catch(() => undefined);
}

async function loadMp3(): Promise<void> {
  await refill();
}

// ---------------------------------------------------------------------------------------------

/** Length of the MP3 frame whose header starts at h[0..3]; 0 when it is not a layer III header. */
function headerFrameLength(h0: number, h1: number, h2: number): number {
  if (h0 !== 0xff || (h1 & 0xe0) !== 0xe0 || ((h1 >> 1) & 3) !== 1) return 0;
  const version = (h1 >> 3) & 3;
  if (version === 1) return 0;
  const bi = h2 >> 4;
  const ri = (h2 >> 2) & 3;
  if (bi === 0 || bi === 15 || ri === 3) return 0;
  const base = version === 3 ? [44100, 48000, 32000] : version === 2 ? [22050, 24000, 16000] : [11025, 12000, 8000];
  const kbps = (version === 3 ? KBPS_MPEG1 : KBPS_MPEG2)[bi]!;
  const spf = version === 3 ? 1152 : 576;
  return Math.floor(((spf / 8) * kbps * 1000) / base[ri]!) + ((h2 >> 1) & 1);
}

const STAGING = 16384;
const ENCODER_NAME = 'voip-recorder (LAME 3.100)';

export class Mp3Writer implements RecordingWriter {
  readonly sampleRate: number;
  readonly channels: number;
  readonly kbps: number;
  private readonly params: MpegParams;
  private readonly fd: number;
  private readonly enc: Mp3Encoder;
  private pos = 0;
  private readonly infoAt: number;
  private readonly infoSize: number;
  private input = 0;
  private audioBytes = 0;
  private readonly planes: Float32Array[];
  /** Frame counting across chunks: bytes left of the current frame, and a partial header. */
  private skip = 0;
  private readonly head = new Uint8Array(3);
  private headFill = 0;
  private audioFrames = 0;
  /** CRC-16 of the audio frames so far (the LAME tag's music CRC). */
  private musicCrc = 0;
  private closed = false;

  constructor(path: string, opts: WriterOptions) {
    const p = mpegParams(opts.sampleRate);
    if (p === null) throw new Error(`mp3: ${opts.sampleRate} Hz is not an MPEG rate (use rateFor)`);
    if (opts.channels !== 1 && opts.channels !== 2) throw new Error(`mp3: ${opts.channels} channels (1 or 2)`);
    const enc = idle.pop();
    if (enc === undefined) throw new Error('mp3: no encoder ready (await MP3_WRITER.init() in this thread first)');
    topUp();
    this.enc = enc;
    this.params = p;
    this.sampleRate = opts.sampleRate;
    this.channels = opts.channels;
    this.kbps = legalKbps(opts.bitrate !== undefined ? opts.bitrate / 1000 : defaultKbps(opts.sampleRate, opts.channels), p);
    enc.configure({ sampleRate: opts.sampleRate, channels: opts.channels, bitrate: this.kbps as Cbr, outputSampleRate: opts.sampleRate as MpegRate });
    this.planes = Array.from({ length: opts.channels }, () => new Float32Array(STAGING));
    this.fd = openSync(path, 'w');
    try {
      const id3 = id3v2(opts.tags, ENCODER_NAME);
      this.put(id3, id3.length);
      this.infoAt = this.pos;
      const { size } = infoHeader(p, opts.sampleRate, this.kbps, opts.channels);
      this.infoSize = size;
      // Placeholder, rewritten at close (a valid frame already: a player reading an unfinished
      // file sees a tag with zero frames and plays the audio after it).
      const frame = infoFrame(p, opts.sampleRate, this.kbps, opts.channels, 0, 0, 0, 0);
      this.put(frame, frame.length);
    } catch (e) {
      closeSync(this.fd);
      idle.push(enc);
      throw e;
    }
  }

  get frames(): number {
    return this.input;
  }

  write(pcm: Int16Array, samples: number): void {
    if (this.closed) throw new Error('mp3: write after close');
    const ch = this.channels;
    const frames = Math.floor(samples / ch);
    let done = 0;
    while (done < frames) {
      const n = Math.min(STAGING, frames - done);
      for (let c = 0; c < ch; c++) {
        const plane = this.planes[c]!;
        for (let i = 0, j = (done * ch) + c; i < n; i++, j += ch) plane[i] = pcm[j]! / 32768;
      }
      const out = this.enc.encode(n === STAGING ? this.planes : this.planes.map((pl) => pl.subarray(0, n)));
      this.audio(out);
      done += n;
    }
    this.input += frames;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.audio(this.enc.finalize());
      const spf = this.params.spf;
      // LAME pads the end so that delay + input + padding fills whole frames.
      const padding = Math.max(0, Math.min(4095, this.audioFrames * spf - LAME_DELAY - this.input));
      const tag = infoFrame(this.params, this.sampleRate, this.kbps, this.channels, this.audioFrames, this.audioBytes, padding, this.musicCrc);
      if (tag.length !== this.infoSize) throw new Error('mp3: Info frame size changed');
      writeSync(this.fd, tag, 0, tag.length, this.infoAt);
    } finally {
      closeSync(this.fd);
      idle.push(this.enc);
    }
  }

  /** Writes encoder output and counts the frames in it (headers can straddle chunks). */
  private audio(b: Uint8Array): void {
    const n = b.length;
    if (n === 0) return;
    let i = 0;
    while (i < n) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, n - i);
        this.skip -= k;
        i += k;
        continue;
      }
      this.head[this.headFill++] = b[i++]!;
      if (this.headFill === 3) {
        const len = headerFrameLength(this.head[0]!, this.head[1]!, this.head[2]!);
        this.headFill = 0;
        if (len > 3) {
          this.audioFrames++;
          this.skip = len - 3;
        }
      }
    }
    this.put(b, n);
    this.audioBytes += n;
    this.musicCrc = crc16(b, 0, n, this.musicCrc);
  }

  private put(b: Uint8Array, len: number): void {
    let done = 0;
    while (done < len) {
      const k = writeSync(this.fd, b, done, len - done, this.pos);
      done += k;
      this.pos += k;
    }
  }
}

export const MP3_WRITER: WriterFactory = {
  format: 'mp3',
  extension: 'mp3',
  rateFor: mp3RateFor,
  create: (path, opts) => new Mp3Writer(path, opts),
  init: loadMp3,
};
