/**
 * SILK (Skype; Microsoft Lync/Skype for Business: `SILK/8000`, `SILK/16000`; also 12 and
 * 24 kHz), RTP payload per draft-vos-silk-02: one SILK packet of 1–5 frames of 20 ms.
 *
 * The decoder is the Skype SILK SDK 1.0.9 inside the `silk-wasm` package, whose only decoding
 * entry point is `decode(file, rate)`: asynchronous, it instantiates a fresh WASM module per call
 * (≈ 5 ms) and decodes a whole Tencent "\x02#!SILK_V3" file — 16-bit little-endian length,
 * packet, length, packet, … — with a decoder state that lives for that one call. There is no
 * call that decodes one packet into a state kept between calls, no loss flag and no FEC.
 *
 * SILK's state matters: decoding each packet on its own (a fresh decoder per packet) measures
 * 1.7 dB SNR against decoding the stream as a whole, correlation 0.57 with the source instead of
 * 0.91 (speech, 16 kHz); gains and pitch history take ~10 packets to converge after a reset.
 * Hence two ways in:
 *
 * - Pre-decoding (the intended one): the render gives `predecodeSilk()` the stream's payloads in
 *   sequence order, lost packets marked, before its synchronous pass; the whole stream decodes
 *   in a few calls (chunks of 3000 packets, each preceded by 50 packets of warm-up), and
 *   `SilkDecoder.preload()` then serves every packet's PCM, and each lost packet's SILK PLC
 *   (an empty entry in the stream makes the SDK conceal that frame), from memory. Bit-exact
 *   with silk-wasm decoding the stream in one call.
 * - Without a pre-decode, `decode()` still works, synchronously: each packet decodes together
 *   with the 25 packets before it (warm-up for the state) in a helper thread, the caller
 *   blocking on Atomics.wait. ≥ 40 dB against the whole-stream decode once 10 packets are in,
 *   but ≈ 6 ms per packet (about 3× real time), for the module instantiation per call.
 *
 * silk-wasm 3.7.1's file loop has a quirk this module works around: after reading the first two
 * packets it skips the next two (the third and fourth packets of a file are never decoded, the
 * rest shift by 40 ms) and it decodes two extra frames at the end. Our files put two empty
 * entries at positions 2–3 and end with a zero length, so every packet decodes in order and
 * the two trailing frames are known to be concealment, dropped.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { AudioDecoder, DecoderFactory, PredecodedStream } from './types.js';

/** Clock rates SILK runs at (draft-vos-silk-02 §4.1: 8, 12, 16, 24 kHz). */
export const SILK_RATES: readonly number[] = [8000, 12000, 16000, 24000];
/** SILK SDK limits: 250 octets a frame, 5 frames a packet (SKP_Silk_SDK_API.h). */
const MAX_PACKET = 1250;
const MAX_FRAMES = 5;
const HEADER = [0x02, ...Array.from('#!SILK_V3', (c) => c.charCodeAt(0))];
/** Packets per silk-wasm call when pre-decoding, and the warm-up decoded before each chunk. */
const CHUNK = 3000;
const CHUNK_WARMUP = 50;
/** Warm-up packets of the synchronous fallback. */
const WINDOW = 25;

interface SilkWasm {
  decode(input: Uint8Array, sampleRate: number): Promise<{ data: Uint8Array; duration: number }>;
}

let silkWasm: Promise<SilkWasm> | null = null;
const silk = (): Promise<SilkWasm> => (silkWasm ??= import('silk-wasm') as Promise<SilkWasm>);

/** One entry of a stream file: a packet, or null for a lost frame (the SDK conceals it). */
type Entry = Uint8Array | null;

/**
 * The file silk-wasm's loop decodes entry by entry (see the header comment): entries 0 and 1,
 * two empty fillers it skips, the rest, and a zero length at the end (two concealed frames).
 * The first two entries must be packets (the loop reads their lengths without a check).
 */
function buildFile(entries: readonly Entry[]): Uint8Array {
  let size = HEADER.length + 2 * 2 + 2;
  for (const e of entries) size += 2 + (e?.length ?? 0);
  const f = new Uint8Array(size);
  f.set(HEADER, 0);
  let at = HEADER.length;
  const put = (e: Entry): void => {
    const n = e?.length ?? 0;
    f[at] = n & 0xff;
    f[at + 1] = n >> 8;
    if (e !== null) f.set(e, at + 2);
    at += 2 + n;
  };
  entries.forEach((e, i) => {
    if (i === 2) {
      put(null);
      put(null);
    }
    put(e);
  });
  if (entries.length <= 2) {
    put(null);
    put(null);
  }
  // The final zero length (already zero in the fresh array) ends the file.
  return f;
}

/** A packet the SDK can take, or null (lost / too large to be SILK). */
const usable = (p: Uint8Array | null): Entry => (p !== null && p.length > 0 && p.length <= MAX_PACKET ? p : null);

export interface SilkPacketIn {
  /** The RTP payload, or null for a lost packet. */
  payload: Uint8Array | null;
  /**
   * The packet's duration in samples at the clock rate (from RTP timestamps): required for a
   * lost packet (it becomes that many 20 ms frames of concealment), optional for a received
   * one (when absent, all packets of one decode call are taken to hold the same frame count).
   */
  samples?: number;
}

/** The decoded stream: entry i's PCM is pcm[start[i], start[i + 1]). */
export interface SilkPredecoded extends PredecodedStream {
  readonly clockRate: number;
  readonly pcm: Int16Array;
  readonly start: Int32Array;
  /** The payload of each entry (null: concealment). */
  readonly payloads: readonly Entry[];
}

export type SilkPredecodeResult = ({ ok: true } & SilkPredecoded) | { ok: false; error: string };

/**
 * Decodes a whole SILK stream (packets in sequence order, losses marked) ahead of a render, in
 * silk-wasm calls of `chunk` packets (default 3000 = 60 s of 20 ms packets: bounded WASM memory).
 * Never throws: a stream silk-wasm rejects gives ok: false.
 */
export async function predecodeSilk(
  packets: readonly SilkPacketIn[],
  clockRate: number,
  opts: { chunk?: number } = {},
): Promise<SilkPredecodeResult> {
  const chunk = Math.max(1, opts.chunk ?? CHUNK);
  if (!SILK_RATES.includes(clockRate)) return { ok: false, error: `silk: clock rate ${clockRate}` };
  const F = clockRate / 50;
  // Entries: each packet, a lost packet as its duration in empty entries (1 frame each);
  // nothing before the first packet received (concealing from no state is silence).
  const entries: Entry[] = [];
  const frames: number[] = []; // known frame count per entry, 0 = unknown
  for (const p of packets) {
    const e = usable(p.payload);
    const known = p.samples !== undefined && p.samples > 0 ? Math.max(1, Math.min(MAX_FRAMES, Math.round(p.samples / F))) : 0;
    if (e === null) {
      if (entries.length === 0) continue;
      for (let k = 0; k < Math.max(1, known); k++) {
        entries.push(null);
        frames.push(1);
      }
    } else {
      entries.push(e);
      frames.push(known);
    }
  }
  // The second entry must be a packet too (see buildFile): a loss there repeats the first.
  if (entries.length > 1 && entries[1] === null) entries[1] = entries[0]!;
  const chunks: Int16Array[] = [];
  const start = new Int32Array(entries.length + 1);
  let total = 0;
  try {
    const api = await silk();
    for (let c = 0; c < entries.length; c += chunk) {
      // Warm-up from a point where two packets follow each other (entries 0 and 1 always do).
      let from = Math.max(0, c - CHUNK_WARMUP);
      while (from > 0 && (entries[from] === null || entries[from + 1] === null)) from--;
      const to = Math.min(entries.length, c + chunk);
      const list = entries.slice(from, to);
      const fr = frames.slice(from, to);
      if (list.length === 1) {
        list.push(list[0]!);
        fr.push(fr[0]!);
      }
      const r = await api.decode(buildFile(list), clockRate);
      const out = new Int16Array(r.data.buffer, r.data.byteOffset, r.data.length >> 1);
      if (!assignFrames(fr, out.length / F - 2)) return { ok: false, error: `silk: ${out.length} samples do not split into the packets` };
      let at = 0;
      for (let i = from; i < to; i++) {
        const n = fr[i - from]! * F;
        if (i >= c) {
          start[i] = total;
          chunks.push(out.slice(at, at + n));
          total += n;
        }
        at += n;
      }
    }
  } catch (e) {
    return { ok: false, error: `silk: ${(e as Error).message}` };
  }
  start[entries.length] = total;
  const pcm = new Int16Array(total);
  let at = 0;
  for (const ch of chunks) {
    pcm.set(ch, at);
    at += ch.length;
  }
  return { ok: true, clockRate, pcm, start, payloads: entries };
}

/** Fills unknown (0) frame counts so they sum to `total`, equal among them; false if impossible. */
function assignFrames(fr: number[], total: number): boolean {
  let known = 0;
  let unknown = 0;
  for (const f of fr) {
    if (f === 0) unknown++;
    else known += f;
  }
  if (unknown === 0) return known === total;
  const each = (total - known) / unknown;
  if (!Number.isInteger(each) || each < 1 || each > MAX_FRAMES) return false;
  for (let i = 0; i < fr.length; i++) if (fr[i] === 0) fr[i] = each;
  return true;
}

const samePayload = (a: Uint8Array, b: Uint8Array, off: number, len: number): boolean => {
  if (a.length !== len) return false;
  for (let i = 0; i < len; i++) if (a[i] !== b[off + i]) return false;
  return true;
};

/** How far ahead of the expected entry a payload is looked for (packets the render skipped). */
const MATCH_AHEAD = 64;

export class SilkDecoder implements AudioDecoder {
  readonly sampleRate: number;
  private pre: SilkPredecoded | null = null;
  private next = 0;
  /** Fallback: the previous packets (warm-up) and their frame counts. */
  private readonly history: Uint8Array[] = [];
  private readonly historyFrames: number[] = [];

  constructor(clockRate: number) {
    this.sampleRate = clockRate;
  }

  /** Serves this stream from a pre-decode (predecodeSilk of the same packets, in order). */
  preload(stream: PredecodedStream): void {
    const p = stream as SilkPredecoded;
    if (p.clockRate !== this.sampleRate || !(p.pcm instanceof Int16Array)) return;
    this.pre = p;
    this.next = 0;
  }

  decode(payload: Uint8Array, off: number, len: number, out: Int16Array): number {
    if (len <= 0 || len > MAX_PACKET || off < 0 || off + len > payload.length) return 0;
    const p = this.pre;
    if (p !== null) {
      const end = Math.min(p.payloads.length, this.next + MATCH_AHEAD);
      for (let i = this.next; i < end; i++) {
        const e = p.payloads[i];
        if (e !== null && e !== undefined && samePayload(e, payload, off, len)) {
          this.next = i + 1;
          return this.copy(p, i, i + 1, out);
        }
      }
    }
    return this.decodeWindowed(payload.slice(off, off + len), out);
  }

  /** The pre-decoded concealment of the lost packets next in line (SILK PLC); 0 otherwise. */
  conceal(_samples: number, out: Int16Array): number {
    const p = this.pre;
    if (p === null) return 0;
    let i = this.next;
    while (i < p.payloads.length && p.payloads[i] === null) i++;
    if (i === this.next) return 0;
    const n = this.copy(p, this.next, i, out);
    this.next = i;
    return n;
  }

  free(): void {
    this.pre = null;
    this.history.length = 0;
    this.historyFrames.length = 0;
  }

  private copy(p: SilkPredecoded, from: number, to: number, out: Int16Array): number {
    const a = p.start[from]!;
    const n = Math.min(p.start[to]! - a, out.length);
    const pcm = p.pcm;
    for (let i = 0; i < n; i++) out[i] = pcm[a + i]!;
    return n;
  }

  /** Synchronous fallback: this packet after up to WINDOW earlier ones, in the helper thread. */
  private decodeWindowed(packet: Uint8Array, out: Int16Array): number {
    const F = this.sampleRate / 50;
    const list: Entry[] = [...this.history, packet];
    if (list.length === 1) list.push(packet);
    const pcm = helperDecode(buildFile(list), this.sampleRate);
    if (pcm === null) return 0;
    let before = 0;
    for (const f of this.historyFrames) before += f;
    // Output: history, this packet, [its duplicate when alone], two concealed frames.
    let frames = pcm.length / F - 2 - before;
    if (this.history.length === 0) frames /= 2;
    if (!Number.isInteger(frames) || frames < 1 || frames > MAX_FRAMES) return 0;
    this.history.push(packet);
    this.historyFrames.push(frames);
    if (this.history.length > WINDOW) {
      this.history.shift();
      this.historyFrames.shift();
    }
    const n = Math.min(frames * F, out.length);
    out.set(pcm.subarray(before * F, before * F + n));
    return n;
  }
}

export const SILK_DECODER: DecoderFactory = {
  names: ['silk'],
  create(_codec, clockRate, channels): AudioDecoder | null {
    if (!SILK_RATES.includes(clockRate) || channels !== 1) return null;
    return new SilkDecoder(clockRate);
  },
  async init(): Promise<void> {
    await silk();
  },
  async predecode(_codec, clockRate, packets): Promise<PredecodedStream | null> {
    const r = await predecodeSilk(packets, clockRate);
    return r.ok ? r : null;
  },
};

// ---------------------------------------------------------------------------------------------
// The helper thread: runs silk-wasm's asynchronous decode for a caller blocked in Atomics.wait.

const HELPER_ROLE = 'silk-wasm-helper';
/** PCM capacity of one reply: (WINDOW + 2) packets of 5 frames and 2 frames more, at 24 kHz. */
const REPLY_SAMPLES = ((WINDOW + 2) * MAX_FRAMES + 2) * 480;
const HELPER_TIMEOUT_MS = 10_000;

interface HelperRequest {
  file: Uint8Array;
  rate: number;
}
interface HelperChannel {
  /** [0]: 0 pending / 1 done; [1]: samples (−1: failure). */
  ctrl: Int32Array;
  pcm: Int16Array;
}

let helper: { worker: Worker; ch: HelperChannel } | null = null;

function helperDecode(file: Uint8Array, rate: number): Int16Array | null {
  if (helper === null) {
    const ch: HelperChannel = {
      ctrl: new Int32Array(new SharedArrayBuffer(8)),
      pcm: new Int16Array(new SharedArrayBuffer(REPLY_SAMPLES * 2)),
    };
    const worker = new Worker(new URL(import.meta.url), { workerData: { role: HELPER_ROLE, ch } });
    worker.unref();
    worker.on('error', () => {
      helper = null;
    });
    helper = { worker, ch };
  }
  const { ctrl, pcm } = helper.ch;
  Atomics.store(ctrl, 0, 0);
  helper.worker.postMessage({ file, rate } satisfies HelperRequest);
  if (Atomics.wait(ctrl, 0, 0, HELPER_TIMEOUT_MS) === 'timed-out') return null;
  const n = Atomics.load(ctrl, 1);
  return n <= 0 ? null : pcm.slice(0, n);
}

function runHelper(ch: HelperChannel): void {
  parentPort?.on('message', (m: HelperRequest) => {
    void (async () => {
      let n = -1;
      try {
        const r = await (await silk()).decode(m.file, m.rate);
        const got = new Int16Array(r.data.buffer, r.data.byteOffset, r.data.length >> 1);
        if (got.length <= ch.pcm.length) {
          ch.pcm.set(got);
          n = got.length;
        }
      } catch {
        n = -1;
      }
      Atomics.store(ch.ctrl, 1, n);
      Atomics.store(ch.ctrl, 0, 1);
      Atomics.notify(ch.ctrl, 0);
    })();
  });
}

const wd = workerData as { role?: string; ch?: HelperChannel } | null;
if (!isMainThread && wd?.role === HELPER_ROLE && wd.ch !== undefined) runHelper(wd.ch);
