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
import { DECODERS } from '../../codecs/index.js';
import type { AudioDecoder, DecoderFactory } from '../../codecs/types.js';

export type { AudioDecoder, DecoderFactory };

/** The codecs every render knows (codecs/index.ts). */
const BUILT_IN: readonly DecoderFactory[] = DECODERS;

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

/** The factory registered for an SDP encoding name. */
export const decoderFactory = (codec: string): DecoderFactory | undefined => registry.get(codec.toLowerCase());

/** A decoder for an SDP encoding name, or null when none is registered for it. */
export function createDecoder(codec: string, clockRate: number, channels: number, fmtp = ''): AudioDecoder | null {
  const name = codec.toLowerCase();
  return registry.get(name)?.create(name, clockRate, channels, fmtp) ?? null;
}
