/**
 * G.722 (RTP static payload type 9) through spandsp in codecs.node, 64 kbit/s mode.
 *
 * RFC 3551 §4.5.2: the RTP clock is 8000 Hz for historical reasons, but the audio is sampled at
 * 16 kHz, so this decoder's sampleRate is 16000 (two samples per octet). An SDP that says
 * G722/16000 means the same codec and is accepted too. spandsp's G.722 has no loss concealment.
 */
import { NativeDecoder, openNative } from './native-addon.js';
import type { AudioDecoder, DecoderFactory } from './types.js';

export const G722: DecoderFactory = {
  names: ['g722'],
  create(_codec, clockRate, channels): AudioDecoder | null {
    if ((clockRate !== 8000 && clockRate !== 16000) || channels !== 1) return null;
    const n = openNative('g722');
    return n === null ? null : new NativeDecoder(16000, n.addon, n.handle);
  },
};
