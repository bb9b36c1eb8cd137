/**
 * Loader of codecs.node (native/codecs/*.c): our N-API glue over Debian's codec libraries
 * (bcg729, spandsp, libgsm, libspeex, opencore-amr, libavcodec), and the AudioDecoder around one
 * of its decoding states.
 *
 * The addon is loaded on first use. When it is not built, the factories built on it answer
 * `create() → null`, so a render notes "unsupported codec" instead of failing the whole call;
 * `codecsAddonError()` then says why (for start-up checks and health reports), and
 * `loadCodecsAddon()` throws that error.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AudioDecoder } from './types.js';

declare const handleBrand: unique symbol;
/** A decoder or encoder state inside the addon (an N-API external, freed by close() or GC). */
export interface CodecHandle {
  readonly [handleBrand]: true;
}

/** Names understood by the addon's open(); see native/codecs/codecs.h for `a` and `b`. */
export type NativeCodec = 'g729' | 'g722' | 'g726' | 'gsm' | 'speex' | 'amrnb' | 'amrwb' | 'ilbc' | 'siren';

export interface CodecsAddon {
  /** A new state, or null when the parameters are not supported. */
  open(name: NativeCodec, a: number, b: number): CodecHandle | null;
  /** Decodes src[off, off + len) into dst from dstOff; the samples written (0: nothing decodable). */
  decode(h: CodecHandle, src: Uint8Array, off: number, len: number, dst: Int16Array, dstOff: number): number;
  /** Codec loss concealment of about `samples` samples; 0 when the codec has none. */
  conceal(h: CodecHandle, samples: number, dst: Int16Array, dstOff: number): number;
  /** Frees the state now (idempotent). */
  close(h: CodecHandle): void;
  /** bcg729's encoder, for tests that need Annex B streams (`vad`: emit SID/untransmitted frames). */
  g729EncoderOpen(vad: boolean): CodecHandle;
  /** Encodes pcm[off, off + 80) into dst at dstOff; the octets written (10 speech, 2 SID, 0 none). */
  g729Encode(h: CodecHandle, pcm: Int16Array, off: number, dst: Uint8Array, dstOff: number): number;
  /** A libopus encoder (Debian's libopus) at an Opus rate; null for parameters libopus refuses. */
  opusEncoderOpen(rate: number, channels: number, application: number): CodecHandle | null;
  /** An OPUS_SET_* request with one integer: the libopus status; OPUS_GET_LOOKAHEAD: the value. */
  opusEncoderCtl(h: CodecHandle, request: number, value: number): number;
  /** One frame (`frameSize` samples per channel, interleaved, from pcm[off]) into dst at dstOff: bytes, or < 0. */
  opusEncode(h: CodecHandle, pcm: Int16Array, off: number, frameSize: number, dst: Uint8Array, dstOff: number): number;
  /** Whether the linked libavcodec has a decoder of that name. */
  lavcHasDecoder(name: string): boolean;
  /** The linked FFmpeg's version string. */
  lavcVersion(): string;
}

export class CodecsAddonError extends Error {
  constructor(
    message: string,
    readonly code: 'ADDON_MISSING' | 'ADDON_LOAD_FAILED',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CodecsAddonError';
  }
}

const ADDON_FILE = 'codecs.node';

/**
 * Where `npx node-gyp rebuild -C native` puts the addon, seen from this module: compiled it runs
 * from dist/codecs/ (two levels below the repo root), from source (a TS loader) from codecs/.
 */
function addonCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const roots = [join(here, '..', '..'), join(here, '..')];
  return roots.flatMap((r) => ['Release', 'Debug'].map((b) => join(r, 'native', 'build', b, ADDON_FILE)));
}

let addon: CodecsAddon | undefined;
let failure: CodecsAddonError | undefined;

/** The addon, loading it on first use; throws CodecsAddonError when it is not built or will not load. */
export function loadCodecsAddon(): CodecsAddon {
  if (addon !== undefined) return addon;
  if (failure !== undefined) throw failure;
  const candidates = addonCandidates();
  const file = candidates.find((f) => existsSync(f));
  if (file === undefined) {
    failure = new CodecsAddonError(
      `codec addon not built (looked for ${candidates[0] ?? ADDON_FILE}); run: make native (or npx node-gyp rebuild -C native)`,
      'ADDON_MISSING',
    );
    throw failure;
  }
  try {
    addon = createRequire(import.meta.url)(file) as CodecsAddon;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    failure = new CodecsAddonError(`cannot load ${file}: ${why}`, 'ADDON_LOAD_FAILED', { cause: e });
    throw failure;
  }
  return addon;
}

/** The addon, or null when it cannot be loaded (the reason is in codecsAddonError()). */
export function codecsAddonOrNull(): CodecsAddon | null {
  try {
    return loadCodecsAddon();
  } catch {
    return null;
  }
}

/** Why the addon could not be loaded, or null (loaded, or not tried yet). */
export const codecsAddonError = (): CodecsAddonError | null => failure ?? null;

/** Opens a native state, or null when the addon is missing or refuses the parameters. */
export function openNative(name: NativeCodec, a = 0, b = 0): { addon: CodecsAddon; handle: CodecHandle } | null {
  const lib = codecsAddonOrNull();
  const handle = lib?.open(name, a, b) ?? null;
  return lib === null || handle === null ? null : { addon: lib, handle };
}

/** An AudioDecoder over one native state whose decode() takes the RTP payload as it is. */
export class NativeDecoder implements AudioDecoder {
  protected handle: CodecHandle | null;

  constructor(
    readonly sampleRate: number,
    protected readonly addon: CodecsAddon,
    handle: CodecHandle,
  ) {
    this.handle = handle;
  }

  decode(payload: Uint8Array, off: number, len: number, out: Int16Array): number {
    return this.handle === null ? 0 : this.addon.decode(this.handle, payload, off, len, out, 0);
  }

  free(): void {
    if (this.handle !== null) this.addon.close(this.handle);
    this.handle = null;
  }
}

/** A NativeDecoder whose codec has its own loss concealment. */
export class ConcealingNativeDecoder extends NativeDecoder {
  conceal(samples: number, out: Int16Array): number {
    return this.handle === null ? 0 : this.addon.conceal(this.handle, samples, out, 0);
  }
}

/**
 * The value of one a=fmtp parameter (`mode` in `mode=30`, `octet-align` in
 * `octet-align=1; mode-set=0,2`), lower-cased names; undefined when absent. RFC 8866 §6.15
 * leaves the syntax to each format; all of ours use `name=value` separated by `;`.
 */
export function fmtpParam(fmtp: string, name: string): string | undefined {
  for (const part of fmtp.split(';')) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (key === name) return eq < 0 ? '' : part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Frames of one of two fixed sizes (iLBC 38/50 octets, G.722.1 60/80): the payload length picks
 * the size when only one divides it, otherwise the session's (fmtp) size; a length that neither
 * divides is malformed and decodes nothing. One native state per size, opened on first use: a
 * sender that changes size mid-stream restarts the decoder, as the codec's frames then differ.
 */
export class FrameSizeDecoder implements AudioDecoder {
  private readonly handles: (CodecHandle | null | undefined)[] = [undefined, undefined];

  constructor(
    readonly sampleRate: number,
    private readonly addon: CodecsAddon,
    private readonly sizes: readonly [number, number],
    private readonly preferred: 0 | 1,
    private readonly open: (size: 0 | 1) => CodecHandle | null,
  ) {}

  /** Index into `sizes` of the frame size of a payload of `len` octets, or -1. */
  sizeFor(len: number): -1 | 0 | 1 {
    const a = len > 0 && len % this.sizes[0] === 0;
    const b = len > 0 && len % this.sizes[1] === 0;
    if (a && b) return this.preferred;
    return a ? 0 : b ? 1 : -1;
  }

  decode(payload: Uint8Array, off: number, len: number, out: Int16Array): number {
    const k = this.sizeFor(len);
    if (k === -1) return 0;
    let h = this.handles[k];
    if (h === undefined) h = this.handles[k] = this.open(k);
    return h === null ? 0 : this.addon.decode(h, payload, off, len, out, 0);
  }

  free(): void {
    for (const h of this.handles) if (h !== undefined && h !== null) this.addon.close(h);
    this.handles.fill(null);
  }
}
