/**
 * G.726 ADPCM at 16, 24, 32 and 40 kbit/s through spandsp in codecs.node.
 *
 * Two packings of the 2-5 bit code words exist (RFC 3551 §4.5.4): `G726-xx` packs the first code
 * word into the least significant bits of the first octet; `AAL2-G726-xx` (ITU-T I.366.2
 * Annex E packing, media types of RFC 4856) packs from the most significant bit down.
 * spandsp has no loss concealment for G.726.
 */
import { NativeDecoder, openNative } from './native-addon.js';
import type { AudioDecoder, DecoderFactory } from './types.js';

const RATES = [16, 24, 32, 40] as const;

/** Encoding name → [bit rate, packing (0 RFC 3551, 1 AAL2)]. */
const VARIANTS = new Map<string, readonly [number, 0 | 1]>();
for (const k of RATES) {
  VARIANTS.set(`g726-${k}`, [k * 1000, 0]);
  VARIANTS.set(`aal2-g726-${k}`, [k * 1000, 1]);
}

export const G726: DecoderFactory = {
  names: [...VARIANTS.keys()],
  create(codec, clockRate, channels): AudioDecoder | null {
    const v = VARIANTS.get(codec.toLowerCase());
    if (v === undefined || clockRate !== 8000 || channels !== 1) return null;
    const n = openNative('g726', v[0], v[1]);
    return n === null ? null : new NativeDecoder(8000, n.addon, n.handle);
  },
};
