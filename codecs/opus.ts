/**
 * Opus (RFC 6716) for the recorder: the RTP payload decoder (RFC 7587) and the encoder the Ogg
 * Opus writer drives.
 *
 * libopus comes from the `@evan/opus` package, used at two levels:
 *
 * - Its WebAssembly build (`wasm/simd.wasm`, or `wasm/opus.wasm` without SIMD) exports the
 *   libopus C API itself. We instantiate it once per thread and call `opus_decode` directly:
 *   the package's JS classes hide the `decode_fec` flag and always decode with a 120 ms buffer,
 *   so neither in-band FEC nor loss concealment of an exact duration is reachable through them.
 *   Calling the exports also lets every call run without allocating: packets and PCM go through
 *   fixed areas of the module's memory.
 * - For encoding, Debian's libopus through our codecs.node (native/codecs/opus_enc.c) is 1.5–2×
 *   as fast as the WASM build at the writers' settings (511 vs 343× realtime, 8 kHz mono,
 *   complexity 1). @evan/opus's own native addon is as fast but unusable here: loaded in a
 *   worker thread (the media job pool's), it crashes the process with SIGSEGV when the worker
 *   ends (@evan/opus 1.0.3, Node 20.20). When codecs.node is not built (or `OPUS_FORCE_WASM`
 *   is set), encoders run on the WASM build.
 *
 * Both are synchronous once loaded. `loadOpus()` compiles the WASM asynchronously (a factory's
 * `init()`); used before that, the module compiles synchronously on first use instead.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { codecsAddonOrNull, type CodecHandle, type CodecsAddon } from './native-addon.js';
import type { AudioDecoder, DecoderFactory, OpusApplication } from './types.js';

const require = createRequire(import.meta.url);

/**
 * The slice of the WebAssembly JS API used here (the project's lib settings carry no DOM types,
 * where TypeScript declares it).
 */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
/** A compiled module (opaque). */
export interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
  compile(bytes: Uint8Array): Promise<WasmModule>;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** libopus request codes (opus_defines.h). */
export const OPUS = {
  APPLICATION_VOIP: 2048,
  APPLICATION_AUDIO: 2049,
  APPLICATION_RESTRICTED_LOWDELAY: 2051,
  SET_BITRATE: 4002,
  SET_VBR: 4006,
  SET_COMPLEXITY: 4010,
  SET_INBAND_FEC: 4012,
  SET_PACKET_LOSS_PERC: 4014,
  SET_DTX: 4016,
  SET_FORCE_CHANNELS: 4022,
  SET_SIGNAL: 4024,
  GET_LOOKAHEAD: 4027,
  SET_LSB_DEPTH: 4036,
  SIGNAL_VOICE: 3001,
} as const;

/** Largest PCM of one decode call: 120 ms at 48 kHz (RFC 6716 §3.2.5). */
const MAX_FRAME = 5760;
/** Largest Opus packet we accept: 48 frames of 1275 octets, rounded up (RFC 6716 §3.2.5). */
const MAX_PACKET = 65536;
/** Encoder output area: RFC 6716 caps one frame at 1275 octets; 4000 is libopus' advice. */
const MAX_ENCODED = 4000;
/** Opus rates the codec runs at (RFC 6716 §2). */
export const OPUS_RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];

interface OpusExports {
  memory: WasmMemory;
  malloc(size: number): number;
  free(ptr: number): void;
  _initialize?(): void;
  opus_decoder_get_size(channels: number): number;
  opus_decoder_init(st: number, fs: number, channels: number): number;
  opus_decode(st: number, data: number, len: number, pcm: number, frameSize: number, decodeFec: number): number;
  opus_decoder_ctl_set(st: number, request: number, value: number): number;
  opus_encoder_get_size(channels: number): number;
  opus_encoder_init(st: number, fs: number, channels: number, application: number): number;
  opus_encode(st: number, pcm: number, frameSize: number, data: number, maxBytes: number): number;
  opus_encoder_ctl_set(st: number, request: number, value: number): number;
  opus_encoder_ctl_get(st: number, request: number): number;
}

/** One libopus WASM instance (per thread) and its fixed scratch areas. */
class OpusWasm {
  readonly x: OpusExports;
  /** Packet in (decode) / packet out (encode). */
  readonly packetPtr: number;
  /** PCM out (decode, mono) / PCM in (encode, up to stereo). */
  readonly pcmPtr: number;
  u8!: Uint8Array;
  i16!: Int16Array;

  constructor(module: WasmModule) {
    const instance = new WA.Instance(module, {
      // The build is an Emscripten "reactor" that never prints nor exits in normal use.
      wasi_snapshot_preview1: { fd_seek: () => 0, fd_write: () => 0, fd_close: () => 0, proc_exit: () => undefined },
      env: { emscripten_notify_memory_growth: () => this.views() },
    });
    this.x = instance.exports as OpusExports;
    this.x._initialize?.();
    this.packetPtr = this.x.malloc(MAX_PACKET);
    this.pcmPtr = this.x.malloc(MAX_FRAME * 2 * 2);
    if (this.packetPtr === 0 || this.pcmPtr === 0) throw new Error('opus: WASM allocation failed');
    this.views();
  }

  views(): void {
    this.u8 = new Uint8Array(this.x.memory.buffer);
    this.i16 = new Int16Array(this.x.memory.buffer);
  }

  /** Memory can grow when a decoder/encoder state is allocated; views must follow. */
  fresh(): void {
    if (this.u8.byteLength === 0 || this.u8.buffer !== this.x.memory.buffer) this.views();
  }

  alloc(size: number): number {
    const p = this.x.malloc(size);
    this.fresh();
    return p;
  }
}

function wasmPath(simd: boolean): string {
  return require.resolve(`@evan/opus/wasm/${simd ? 'simd' : 'opus'}.wasm`);
}

let wasmInstance: OpusWasm | null = null;
let wasmLoading: Promise<OpusWasm> | null = null;

async function compileAsync(): Promise<WasmModule> {
  try {
    return await WA.compile(await readFile(wasmPath(true)));
  } catch {
    return WA.compile(await readFile(wasmPath(false)));
  }
}

function compileSync(): WasmModule {
  try {
    return new WA.Module(readFileSync(wasmPath(true)));
  } catch {
    return new WA.Module(readFileSync(wasmPath(false)));
  }
}

/** The thread's libopus WASM instance, compiled synchronously if loadOpus() was not awaited. */
function opusWasm(): OpusWasm {
  wasmInstance ??= new OpusWasm(compileSync());
  return wasmInstance;
}

/** Compiles libopus (WASM) and loads the native encoder once per thread. */
export async function loadOpus(): Promise<void> {
  if (wasmInstance === null) {
    wasmLoading ??= compileAsync().then((m) => (wasmInstance ??= new OpusWasm(m)));
    await wasmLoading;
  }
  addonEncoder();
}

// ---------------------------------------------------------------------------------------------
// Decoder


/**
 * One Opus stream's decoder, mono, at 48 kHz by default (the factory's). RFC 6716 §4 lets a
 * decoder run at any Opus rate whatever the sender encoded; a lower `rate` (16 or 24 kHz) decodes
 * about 1.5× faster and drops only content above its Nyquist. A mono libopus decoder downmixes
 * stereo packets itself (RFC 7587 §3.4: a sender may switch between mono and stereo).
 */
export class OpusDecoder implements AudioDecoder {
  readonly sampleRate: number;
  private readonly w: OpusWasm;
  private st: number;
  /** Samples in 2.5 ms: libopus conceals only whole multiples of it. */
  private readonly plcStep: number;
  /** Samples in 120 ms, the longest Opus packet. */
  private readonly maxFrame: number;
  /** Duration of the last decoded packet: the size of concealment for an empty payload. */
  private lastFrames: number;

  constructor(rate = 48000) {
    if (!OPUS_RATES.includes(rate)) throw new Error(`opus: ${rate} Hz is not an Opus rate`);
    this.sampleRate = rate;
    this.plcStep = rate / 400;
    this.maxFrame = (rate * 3) / 25;
    this.lastFrames = rate / 50;
    this.w = opusWasm();
    const x = this.w.x;
    this.st = this.w.alloc(x.opus_decoder_get_size(1));
    if (this.st === 0 || x.opus_decoder_init(this.st, rate, 1) !== 0) throw new Error('opus: decoder initialisation failed');
  }

  decode(payload: Uint8Array, off: number, len: number, out: Int16Array): number {
    if (this.st === 0) return 0;
    // An empty payload carries no TOC: nothing says its duration, so it stands for one packet
    // like the previous (an RTP packet kept for timing while the encoder was in DTX).
    if (len <= 0) return this.conceal(this.lastFrames, out);
    if (len > MAX_PACKET || off < 0 || off + len > payload.length) return 0;
    const w = this.w;
    w.fresh();
    const heap = w.u8;
    for (let i = 0, at = w.packetPtr; i < len; i++) heap[at + i] = payload[off + i]!;
    const n = this.run(w.packetPtr, len, Math.min(out.length, this.maxFrame), 0);
    if (n <= 0) return 0;
    this.lastFrames = n;
    return this.copyOut(n, out, 0);
  }

  /**
   * PLC over about `samples` samples (rounded to 2.5 ms steps, as libopus requires). With `next`
   * (the packet after the loss) the last frame of the gap comes from its in-band FEC (LBRR,
   * RFC 6716 §4.2.4.1 / §4.2.7.3) when it carries some: libopus decodes the SILK redundancy of
   * the lost frame, and falls back to PLC by itself for CELT-only packets or packets without it.
   */
  conceal(samples: number, out: Int16Array, next?: Uint8Array): number {
    if (this.st === 0) return 0;
    const step = this.plcStep;
    const limit = Math.floor(Math.min(out.length, 1 << 20) / step) * step;
    let want = Math.min(limit, Math.max(step, Math.round(samples / step) * step));
    if (want <= 0) return 0;
    const w = this.w;
    w.fresh();
    let done = 0;
    const fec = next !== undefined && next.length > 0 && next.length <= MAX_PACKET;
    while (want > 0) {
      const n = Math.min(want, this.maxFrame);
      want -= n;
      let got: number;
      if (fec && want === 0) {
        w.u8.set(next, w.packetPtr);
        got = this.run(w.packetPtr, next.length, n, 1);
      } else {
        got = this.run(0, 0, n, 0);
      }
      if (got <= 0) break;
      done = this.copyOut(got, out, done);
    }
    return done;
  }

  free(): void {
    if (this.st !== 0) this.w.x.free(this.st);
    this.st = 0;
  }

  private run(data: number, len: number, frames: number, fec: number): number {
    return this.w.x.opus_decode(this.st, data, len, this.w.pcmPtr, frames, fec);
  }

  /** Copies n decoded samples to out[at…]; returns the new fill. */
  private copyOut(n: number, out: Int16Array, at: number): number {
    const src = this.w.i16;
    const base = this.w.pcmPtr >> 1;
    const m = Math.min(n, out.length - at);
    for (let i = 0; i < m; i++) out[at + i] = src[base + i]!;
    return at + m;
  }
}

/**
 * RFC 7587 §7: the SDP always says `opus/48000/2`, whatever the sender encodes (mono or
 * stereo, any bandwidth); the RTP clock is 48 kHz. Other clock rates in a broken SDP still
 * decode: the render places packets by the clock the SDP gave.
 */
export const OPUS_DECODER: DecoderFactory = {
  names: ['opus'],
  create(): AudioDecoder | null {
    return new OpusDecoder();
  },
  init: loadOpus,
};

// ---------------------------------------------------------------------------------------------
// Encoder

/** An Opus encoder state: PCM frames in, one packet out at a time. */
export interface OpusEncoder {
  /** Samples of look-ahead at the encoder's rate (the Ogg pre-skip, scaled to 48 kHz). */
  readonly lookahead: number;
  /** 'native' (the addon) or 'wasm'. */
  readonly backend: 'native' | 'wasm';
  /** The packet of the last encode() is `out[0, n)`; valid until the next Opus call of this thread. */
  readonly out: Uint8Array;
  /**
   * Encodes one frame: `pcm` holds exactly one frame of interleaved samples (its length is
   * frameSize × channels). Returns the packet length, or a negative libopus error.
   */
  encode(pcm: Int16Array): number;
  /**
   * Encodes the `frames` interleaved frames at `pcm[off…]` (a valid Opus frame duration): the
   * writers encode straight from the mixer's buffer, without staging a copy.
   */
  encodeAt(pcm: Int16Array, off: number, frames: number): number;
  /** An encoder CTL with an integer argument; returns the libopus status (0 = OK). */
  set(request: number, value: number): number;
  free(): void;
}

/**
 * libopus through our addon (codecs.node over Debian's libopus): the encoder of the writers,
 * in any thread. Probed once per thread; null means "use WASM".
 */
let addonState: { addon: CodecsAddon } | null | undefined;

function addonEncoder(): { addon: CodecsAddon } | null {
  if (addonState !== undefined) return addonState;
  addonState = null;
  if (process.env.OPUS_FORCE_WASM) return addonState;
  const addon = codecsAddonOrNull();
  if (addon === null || typeof addon.opusEncoderOpen !== 'function') return addonState;
  const h = addon.opusEncoderOpen(8000, 1, OPUS.APPLICATION_VOIP);
  if (h === null) return addonState;
  const out = new Uint8Array(MAX_ENCODED);
  const n = addon.opusEncode(h, new Int16Array(160), 0, 160, out, 0);
  addon.close(h);
  if (n > 0) addonState = { addon };
  return addonState;
}

class NativeOpusEncoder implements OpusEncoder {
  readonly backend = 'native';
  readonly lookahead: number;
  readonly out = new Uint8Array(MAX_ENCODED);
  private readonly addon: CodecsAddon;
  private h: CodecHandle | null;
  private readonly channels: number;

  constructor(addon: CodecsAddon, rate: number, channels: number, application: number) {
    const h = addon.opusEncoderOpen(rate, channels, application);
    if (h === null) throw new Error('opus: encoder initialisation failed');
    this.addon = addon;
    this.h = h;
    this.channels = channels;
    this.lookahead = addon.opusEncoderCtl(h, OPUS.GET_LOOKAHEAD, 0);
  }

  encode(pcm: Int16Array): number {
    return this.h === null ? -1 : this.addon.opusEncode(this.h, pcm, 0, pcm.length / this.channels, this.out, 0);
  }

  encodeAt(pcm: Int16Array, off: number, frames: number): number {
    return this.h === null ? -1 : this.addon.opusEncode(this.h, pcm, off, frames, this.out, 0);
  }

  set(request: number, value: number): number {
    return this.h === null ? -1 : this.addon.opusEncoderCtl(this.h, request, value);
  }

  free(): void {
    if (this.h !== null) this.addon.close(this.h);
    this.h = null;
  }
}

class WasmOpusEncoder implements OpusEncoder {
  readonly backend = 'wasm';
  readonly lookahead: number;
  out: Uint8Array;
  private readonly w: OpusWasm;
  private readonly channels: number;
  private st: number;

  constructor(rate: number, channels: number, application: number) {
    this.channels = channels;
    this.w = opusWasm();
    const x = this.w.x;
    this.st = this.w.alloc(x.opus_encoder_get_size(channels));
    if (this.st === 0 || x.opus_encoder_init(this.st, rate, channels, application) !== 0) {
      throw new Error('opus: encoder initialisation failed');
    }
    this.lookahead = x.opus_encoder_ctl_get(this.st, OPUS.GET_LOOKAHEAD);
    this.out = this.w.u8.subarray(this.w.packetPtr, this.w.packetPtr + MAX_ENCODED);
  }

  encode(pcm: Int16Array): number {
    const w = this.w;
    w.fresh();
    if (this.out.byteLength === 0 || this.out.buffer !== w.u8.buffer) this.out = w.u8.subarray(w.packetPtr, w.packetPtr + MAX_ENCODED);
    w.i16.set(pcm, w.pcmPtr >> 1);
    const frames = pcm.length / this.channels;
    return w.x.opus_encode(this.st, w.pcmPtr, frames, w.packetPtr, MAX_ENCODED);
  }

  encodeAt(pcm: Int16Array, off: number, frames: number): number {
    return this.encode(pcm.subarray(off, off + frames * this.channels));
  }

  set(request: number, value: number): number {
    return this.w.x.opus_encoder_ctl_set(this.st, request, value);
  }

  free(): void {
    if (this.st !== 0) this.w.x.free(this.st);
    this.st = 0;
  }
}

/** libopus application for each of ffmpeg's `-application` names (opus_defines.h). */
export const OPUS_APPLICATION_CODES: Readonly<Record<OpusApplication, number>> = {
  voip: OPUS.APPLICATION_VOIP,
  audio: OPUS.APPLICATION_AUDIO,
  lowdelay: OPUS.APPLICATION_RESTRICTED_LOWDELAY,
};

/**
 * A new encoder at an Opus rate (RFC 6716 §2.1.8; application VOIP unless told: SILK for speech
 * at 8–16 kHz; 'lowdelay' is CELT only). `backend` forces one implementation (tests compare
 * them); default: native when it loads.
 */
export function createOpusEncoder(rate: number, channels: 1 | 2, backend?: 'native' | 'wasm', application: OpusApplication = 'voip'): OpusEncoder {
  if (!OPUS_RATES.includes(rate)) throw new Error(`opus: ${rate} Hz is not an Opus rate`);
  const app = OPUS_APPLICATION_CODES[application];
  const n = backend === 'wasm' ? null : addonEncoder();
  if (n !== null) return new NativeOpusEncoder(n.addon, rate, channels, app);
  if (backend === 'native') throw new Error('opus: the native encoder is not available');
  return new WasmOpusEncoder(rate, channels, app);
}

/** Which encoder backend this thread uses ('native': libopus through codecs.node). */
export function opusEncoderBackend(): 'native' | 'wasm' {
  return addonEncoder() !== null ? 'native' : 'wasm';
}

// ---------------------------------------------------------------------------------------------
// Packet structure (RFC 6716 §3)

/** Samples per frame at 48 kHz for each TOC configuration (RFC 6716 §3.1, Table 2). */
function frameSamples48(toc: number): number {
  const config = toc >> 3;
  if (config < 12) return [480, 960, 1920, 2880][config & 3]!; // SILK-only: 10/20/40/60 ms
  if (config < 16) return (config & 1) === 0 ? 480 : 960; // Hybrid: 10/20 ms
  return [120, 240, 480, 960][config & 3]!; // CELT-only: 2.5/5/10/20 ms
}

/**
 * Samples at 48 kHz one Opus packet decodes to, from its TOC and frame count (RFC 6716 §3.1–3.2);
 * 0 for a packet too short to say.
 */
export function opusPacketSamples(p: Uint8Array, off: number, len: number): number {
  if (len < 1) return 0;
  const toc = p[off]!;
  let frames: number;
  switch (toc & 3) {
    case 0:
      frames = 1;
      break;
    case 1:
    case 2:
      frames = 2;
      break;
    default:
      if (len < 2) return 0;
      frames = p[off + 1]! & 0x3f;
  }
  return frames * frameSamples48(toc);
}
