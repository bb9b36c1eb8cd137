/**
 * ITU-T G.711 (11/88) µ-law and A-law, as 16-bit linear PCM.
 *
 * A code is a sign bit, a 3-bit segment (chord) and a 4-bit step within the segment; each
 * segment doubles the step size. The reconstruction value is the middle of the code's
 * decision interval (G.711 Tables 1a/2a, "decoder output value"), scaled here to 16 bits:
 *
 *   µ-law (Table 2a): transmitted bits are inverted; magnitude = ((2·step + 33) << segment) − 33
 *                     in 14-bit units, ×4 for 16 bits: ±32124 at the ends, 0 for 0xFF and 0x7F.
 *   A-law (Table 1a): even bits inverted (XOR 0x55); magnitude = 2·step + 1 in segment 0,
 *                     (2·step + 33) << (segment − 1) above, in 13-bit units, ×8 for 16 bits:
 *                     ±8 for the smallest codes, ±32256 at the ends. Sign bit 1 = positive.
 *
 * Decoding is a 256-entry table lookup; the tests compare both tables with sox for every code.
 */
import type { AudioDecoder, DecoderFactory } from './types.js';

function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const segment = (u >> 4) & 7;
  const step = u & 0x0f;
  const magnitude = (((step << 1) + 33) << segment) - 33; // 14-bit units
  return (u & 0x80 ? -magnitude : magnitude) * 4;
}

function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  const segment = (a >> 4) & 7;
  const step = a & 0x0f;
  const magnitude = segment === 0 ? (step << 1) + 1 : ((step << 1) + 33) << (segment - 1); // 13-bit units
  return (a & 0x80 ? magnitude : -magnitude) * 8;
}

function table(f: (code: number) => number): Int16Array {
  const t = new Int16Array(256);
  for (let c = 0; c < 256; c++) t[c] = f(c);
  return t;
}

/** µ-law code → 16-bit linear sample. */
export const ULAW_TO_LINEAR: Int16Array = table(ulawToLinear);
/** A-law code → 16-bit linear sample. */
export const ALAW_TO_LINEAR: Int16Array = table(alawToLinear);

/** Decodes `len` codes from `src[off…]` into `out[outOff…]` (the caller sized `out`). */
export function decodeG711(lut: Int16Array, src: Uint8Array, off: number, len: number, out: Int16Array, outOff: number): void {
  for (let i = 0; i < len; i++) out[outOff + i] = lut[src[off + i]!]!;
}

/**
 * Encoders (linear → code). G.711 quantizes 14-bit (µ-law) or 13-bit (A-law) uniform PCM:
 * the 16-bit sample is first rounded to that width (to nearest, halves up, saturating at the
 * top, as sox does, so our G.711 files equal sox's conversion), then G.711's segment rule drops
 * the bits below the code's step. Built once into 64 Ki-entry tables indexed by the sample's
 * 16-bit pattern.
 */
function linearToUlaw(x: number): number {
  let m = (x + 2) >> 2; // 14-bit
  if (m > 8191) m = 8191;
  let sign = 0;
  if (m < 0) {
    sign = 0x80;
    m = -m;
  }
  m += 33; // µ-law's bias (G.711 Table 2a: segment ends at 2^(5+s) − 33)
  if (m >= 8192) return ~(sign | 0x7f) & 0xff; // beyond the last segment: saturate
  let segment = 0;
  while (m >= 64 << segment) segment++;
  const step = (m >> (segment + 1)) & 0x0f;
  return ~(sign | (segment << 4) | step) & 0xff;
}

function linearToAlaw(x: number): number {
  let m = (x + 4) >> 3; // 13-bit
  if (m > 4095) m = 4095;
  // A-law's negative side is the one's complement (G.711 Table 1a: −1 maps like +0).
  let sign = 0x80;
  if (m < 0) {
    sign = 0;
    m = -m - 1;
  }
  if (m >= 4096) return (sign | 0x7f) ^ 0x55;
  let segment = 0;
  while (m >= 32 << segment) segment++;
  const step = segment === 0 ? (m >> 1) & 0x0f : (m >> segment) & 0x0f;
  return (sign | (segment << 4) | step) ^ 0x55;
}

let ulawEnc: Uint8Array | null = null;
let alawEnc: Uint8Array | null = null;

function encTable(f: (x: number) => number): Uint8Array {
  const t = new Uint8Array(65536);
  for (let x = -32768; x < 32768; x++) t[x & 0xffff] = f(x);
  return t;
}

/** Linear sample → µ-law code. */
export const encodeUlaw = (x: number): number => (ulawEnc ??= encTable(linearToUlaw))[x & 0xffff]!;
/** Linear sample → A-law code. */
export const encodeAlaw = (x: number): number => (alawEnc ??= encTable(linearToAlaw))[x & 0xffff]!;

/** Encodes `len` samples into `dst[dstOff…]` with µ-law (`law` 'mulaw') or A-law. */
export function encodeG711(law: 'mulaw' | 'alaw', src: Int16Array, off: number, len: number, dst: Uint8Array, dstOff: number): void {
  const t = law === 'mulaw' ? (ulawEnc ??= encTable(linearToUlaw)) : (alawEnc ??= encTable(linearToAlaw));
  for (let i = 0; i < len; i++) dst[dstOff + i] = t[src[off + i]! & 0xffff]!;
}

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

/** PCMU/PCMA (RFC 3551 §4.5.14): one byte per sample, any number of samples per packet. */
export const G711_DECODER: DecoderFactory = {
  names: ['pcmu', 'pcma'],
  create(codec, clockRate, channels) {
    if (channels !== 1) return null;
    return new G711Decoder(codec === 'pcmu' ? ULAW_TO_LINEAR : ALAW_TO_LINEAR, clockRate > 0 ? clockRate : 8000);
  },
};
