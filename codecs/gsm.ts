/**
 * GSM 06.10 full rate (RTP static payload type 3, 8 kHz) through libgsm in codecs.node.
 *
 * RFC 3551 §4.5.8: 33-octet frames of 20 ms, several per packet allowed. A frame without the
 * 0xD signature nibble decodes as 20 ms of silence so later frames keep their place; a payload
 * with no valid frame decodes nothing. libgsm has no loss concealment.
 */
import { NativeDecoder, openNative } from './native-addon.js';
import type { AudioDecoder, DecoderFactory } from './types.js';

export const GSM: DecoderFactory = {
  names: ['gsm'],
  create(_codec, clockRate, channels): AudioDecoder | null {
    if (clockRate !== 8000 || channels !== 1) return null;
    const n = openNative('gsm');
    return n === null ? null : new NativeDecoder(8000, n.addon, n.handle);
  },
};
