/**
 * Comfort noise payload (RFC 3389 §3), static PT 13 (and dynamic CN/16000 etc.):
 *
 *      0 1 2 3 4 5 6 7
 *     +-+-+-+-+-+-+-+-+
 *     |0|   level     |   noise level in -dBov, 0..127 (§3.1)
 *     +-+-+-+-+-+-+-+-+
 *     |      N1       |   quantized reflection coefficients, model order M = length - 1
 *     +-+-+-+-+-+-+-+-+   (§3.2; M is not sent, and M = 0 is the level-only form of the
 *     |      ...      |   RFC 1890 drafts that older gear still sends)
 *     +-+-+-+-+-+-+-+-+
 *     |      NM       |
 *     +-+-+-+-+-+-+-+-+
 */
import { Status } from '../core/status.js';

/** Coefficients kept; RFC 3389 leaves the order open, G.711 Appendix II uses 10, WebRTC up to 12. */
export const CN_MAX_ORDER = 32;
const LEVEL_MASK = 0x7f;
const RESERVED_BIT = 0x80;

export class ComfortNoise {
  /** Noise level in dBov (0 down to -127). */
  levelDbov = 0;
  /** Model order M: coefficients in `coefficients[0, order)`. */
  order = 0;
  /** Reflection coefficients k_i = (N_i - 127) / 128, i.e. the byte read as Q7 around 127. */
  readonly coefficients = new Float64Array(CN_MAX_ORDER);
}

/**
 * Decodes buf[off, off + len). Truncated: empty. Malformed: the reserved top bit of the level
 * byte is set. Unsupported: more than CN_MAX_ORDER coefficients (the level is still filled in).
 */
export function decodeComfortNoise(buf: Buffer, off: number, len: number, out: ComfortNoise): Status {
  if (len < 1 || off < 0 || off + len > buf.length) return Status.Truncated;
  const b0 = buf[off]!;
  if ((b0 & RESERVED_BIT) !== 0) return Status.Malformed;
  out.levelDbov = 0 - (b0 & LEVEL_MASK); // not -(…): level 0 must not read as -0
  const order = len - 1;
  if (order > CN_MAX_ORDER) {
    out.order = 0;
    return Status.Unsupported;
  }
  out.order = order;
  for (let i = 0; i < order; i++) out.coefficients[i] = (buf[off + 1 + i]! - 127) / 128;
  return Status.Ok;
}
