/**
 * The decoder seam between the render and the codecs. A render asks `createDecoder` for each
 * (stream, payload type) it meets; null means "unsupported": the stream stays in the spool, and
 * the recording gets silence for it and a note.
 *
 * Adding a codec: implement `DecoderFactory` (codecs/types.ts) in `codecs/` and list it in
 * `BUILT_IN` below, or call `registerDecoder` at start-up of the worker. WASM codecs compile in
 * `init()`, which `prepareDecoders()` awaits once per worker before the first render;
 * `createDecoder` itself stays synchronous.
 */
import { ALAW_TO_LINEAR, ULAW_TO_LINEAR, decodeG711 } from './g711.js';
import { DECODERS } from '../../codecs/index.js';
import type { AudioDecoder, DecoderFactory } from '../../codecs/types.js';

export type { AudioDecoder, DecoderFactory };

class G711Decoder implements AudioDecoder {
  readonly sampleRate: number;
  constructor(
    private readonly lut: Int16Array,
    clockRate: number,
  ) {
    this.sampleRate = clockRate;
  }
  decode(payload: Uint8Array, off: number, len: number, out: Int16Array): number {
    const n = Math.min(len, out.length);
    decodeG711(this.lut, payload, off, n, out, 0);
    return n;
  }
}

/** L16 (RFC 3551 §4.5.11): big-endian signed 16-bit, channels interleaved; downmixed to mono. */
class L16Decoder implements AudioDecoder {
  readonly sampleRate: number;
  constructor(
    clockRate: number,
    private readonly channels: number,
  ) {
    this.sampleRate = clockRate;
  }
  decode(payload: Uint8Array, off: number, len: number, out: Int16Array): number {
    const ch = this.channels;
    const frames = Math.min(Math.floor(len / (2 * ch)), out.length);
    for (let f = 0; f < frames; f++) {
      let sum = 0;
      for (let c = 0; c < ch; c++) {
        const p = off + (f * ch + c) * 2;
        sum += ((payload[p]! << 24) >> 16) | payload[p + 1]!;
      }
      out[f] = Math.round(sum / ch);
    }
    return frames;
  }
}

const G711: DecoderFactory = {
  names: ['pcmu', 'pcma'],
  create(codec, clockRate, channels) {
    if (channels !== 1) return null;
    return new G711Decoder(codec === 'pcmu' ? ULAW_TO_LINEAR : ALAW_TO_LINEAR, clockRate > 0 ? clockRate : 8000);
  },
};

const L16: DecoderFactory = {
  names: ['l16'],
  create(_codec, clockRate, channels) {
    return clockRate > 0 && channels >= 1 && channels <= 8 ? new L16Decoder(clockRate, channels) : null;
  },
};

/** The codecs every render knows: G.711 and L16 here, the rest from codecs/. */
const BUILT_IN: readonly DecoderFactory[] = [G711, L16, ...DECODERS];

const registry = new Map<string, DecoderFactory>();
const pendingInit: DecoderFactory[] = [];
for (const f of BUILT_IN) registerDecoder(f);

/** Adds (or replaces, by name) a decoder factory in this thread. */
export function registerDecoder(f: DecoderFactory): void {
  for (const n of f.names) registry.set(n.toLowerCase(), f);
  if (f.init !== undefined) pendingInit.push(f);
}

/** Runs the asynchronous set-up of registered factories (once each). */
export async function prepareDecoders(): Promise<void> {
  while (pendingInit.length > 0) {
    const f = pendingInit.shift();
    if (f?.init !== undefined) await f.init();
  }
}

/** A decoder for an SDP encoding name, or null when none is registered for it. */
export function createDecoder(codec: string, clockRate: number, channels: number, fmtp = ''): AudioDecoder | null {
  const name = codec.toLowerCase();
  return registry.get(name)?.create(name, clockRate, channels, fmtp) ?? null;
}
