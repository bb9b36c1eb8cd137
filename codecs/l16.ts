/** L16 (RFC 3551 §4.5.11): big-endian signed 16-bit, channels interleaved; downmixed to mono. */
import type { AudioDecoder, DecoderFactory } from './types.js';

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

export const L16_DECODER: DecoderFactory = {
  names: ['l16'],
  create(_codec, clockRate, channels) {
    return clockRate > 0 && channels >= 1 && channels <= 8 ? new L16Decoder(clockRate, channels) : null;
  },
};
