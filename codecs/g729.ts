/**
 * G.729 / G.729A / G.729B (RTP static payload type 18, 8 kHz) through bcg729 in codecs.node.
 *
 * RFC 3551 §4.5.6: a payload holds 10-octet frames (10 ms each) and at most one trailing
 * 2-octet Annex B SID frame, from which bcg729 makes comfort noise. Annex A and B share the bit
 * stream, so `annexb=yes|no` (RFC 4856) changes nothing here. Loss concealment is G.729 §4.4
 * frame erasure (bcg729's erasure flag), or continued comfort noise after a SID (Annex B §B.27).
 * G.729D/E (6.4 and 11.8 kbit/s, 8- and 15-octet frames) are other encodings, not decoded here.
 */
import { ConcealingNativeDecoder, openNative } from './native-addon.js';
import type { AudioDecoder, DecoderFactory } from './types.js';

/** RFC 3551 §4.5.6: a payload whose length is 2 more than a multiple of 10 ends in a SID. */
class G729Decoder extends ConcealingNativeDecoder {
  inDtx = false;
  override decode(payload: Uint8Array, off: number, len: number, out: Int16Array): number {
    this.inDtx = len % 10 === 2;
    return super.decode(payload, off, len, out);
  }
}

export const G729: DecoderFactory = {
  names: ['g729'],
  create(_codec, clockRate, channels): AudioDecoder | null {
    if (clockRate !== 8000 || channels !== 1) return null;
    const n = openNative('g729');
    return n === null ? null : new G729Decoder(8000, n.addon, n.handle);
  },
};
