/**
 * Speex through libspeex in codecs.node (RFC 5574): the RTP clock rate picks the mode,
 * 8000 narrowband, 16000 wideband, 32000 ultra-wideband. A payload carries one or more frames
 * without a count; all are decoded until the bits run out or the terminator (RFC 5574 §3).
 * Loss concealment is libspeex's lost-frame decoding.
 */
import { ConcealingNativeDecoder, openNative } from './native-addon.js';
import type { AudioDecoder, DecoderFactory } from './types.js';

/** RTP clock rate → libspeex mode id (SPEEX_MODEID_NB/WB/UWB). */
const MODES: ReadonlyMap<number, number> = new Map([
  [8000, 0],
  [16000, 1],
  [32000, 2],
]);

export const SPEEX: DecoderFactory = {
  names: ['speex'],
  create(_codec, clockRate, channels): AudioDecoder | null {
    const mode = MODES.get(clockRate);
    if (mode === undefined || channels !== 1) return null;
    const n = openNative('speex', mode);
    return n === null ? null : new ConcealingNativeDecoder(clockRate, n.addon, n.handle);
  },
};
