/**
 * RTP fixed header, RFC 3550 §5.1:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                           timestamp                           |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |           synchronization source (SSRC) identifier            |
 *    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *    |            contributing source (CSRC) identifiers             |
 *    |                             ....                              |   CC × 32 bits, at 12 + 4i
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * then, if X, the header extension (§5.3.1):
 *
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |      defined by profile       |           length              |   length in 32-bit words,
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   this word not counted
 *    |                        header extension                       |
 *    |                             ....                              |
 *
 * RFC 8285 puts its one-byte (profile 0xBEDE) and two-byte (0x100X) elements inside; both are
 * skipped by that length, the location is kept for whoever wants the elements. If P, the last
 * payload byte counts the padding bytes, itself included (§5.1), and they are stripped.
 */
import { u16, u32 } from '../core/bytes.js';
import { Status } from '../core/status.js';

export const RTP_VERSION = 2;
export const RTP_HEADER_LEN = 12;
export const RTP_MAX_CSRC = 15;

const OFF_SEQ = 2;
const OFF_TS = 4;
const OFF_SSRC = 8;
const OFF_CSRC = 12;
const EXT_HEADER_LEN = 4;

const B0_VERSION_SHIFT = 6;
const B0_PADDING = 0x20;
const B0_EXTENSION = 0x10;
const B0_CC_MASK = 0x0f;
const B1_MARKER = 0x80;
const B1_PT_MASK = 0x7f;

/** RFC 8285 header-extension profiles. */
export const RtpExtensionProfile = {
  /** One-byte elements (§4.2). */
  OneByte: 0xbede,
  /** Two-byte elements (§4.3): 0x100 in the top 12 bits, "appbits" in the low 4. */
  TwoByte: 0x1000,
  TwoByteMask: 0xfff0,
} as const;

/** Decoded fixed header, filled in place (one instance per decoder loop, nothing allocated per packet). */
export class RtpHeader {
  version = 0;
  padding = false;
  extension = false;
  marker = false;
  pt = 0;
  seq = 0;
  timestamp = 0;
  ssrc = 0;
  csrcCount = 0;
  /** CSRC identifiers; entries [0, csrcCount) are valid. */
  readonly csrcs = new Uint32Array(RTP_MAX_CSRC);
  /** Header extension "defined by profile" field (0 without X). */
  extProfile = 0;
  /** Header extension data (after its 4-byte header): buf[extOff, extOff + extLen). */
  extOff = 0;
  extLen = 0;
  /** Padding bytes stripped (0 without P). */
  padLen = 0;
  /** Payload: buf[payloadOff, payloadOff + payloadLen), padding excluded. */
  payloadOff = 0;
  payloadLen = 0;
}

/**
 * Decodes the RTP header of buf[off, off + len) into `out`.
 *
 * Truncated: shorter than its header, CSRC list or extension. Malformed: version is not 2, or
 * the padding count is 0 or larger than the payload. Set `truncated` when the datagram was cut by
 * the snaplen (Packet.truncated): its last byte is then not the padding count, so padding is left
 * in the payload instead of being judged.
 */
export function decodeRtpHeader(buf: Buffer, off: number, len: number, out: RtpHeader, truncated = false): Status {
  if (len < RTP_HEADER_LEN || off < 0 || off + len > buf.length) return Status.Truncated;
  const b0 = buf[off]!;
  const b1 = buf[off + 1]!;
  const version = b0 >>> B0_VERSION_SHIFT;
  if (version !== RTP_VERSION) return Status.Malformed;
  const cc = b0 & B0_CC_MASK;
  let hdr = OFF_CSRC + 4 * cc;
  if (hdr > len) return Status.Truncated;

  out.version = version;
  out.padding = (b0 & B0_PADDING) !== 0;
  out.extension = (b0 & B0_EXTENSION) !== 0;
  out.marker = (b1 & B1_MARKER) !== 0;
  out.pt = b1 & B1_PT_MASK;
  out.seq = u16(buf, off + OFF_SEQ);
  out.timestamp = u32(buf, off + OFF_TS);
  out.ssrc = u32(buf, off + OFF_SSRC);
  out.csrcCount = cc;
  for (let i = 0; i < cc; i++) out.csrcs[i] = u32(buf, off + OFF_CSRC + 4 * i);

  out.extProfile = 0;
  out.extOff = 0;
  out.extLen = 0;
  if (out.extension) {
    if (hdr + EXT_HEADER_LEN > len) return Status.Truncated;
    const words = u16(buf, off + hdr + 2);
    out.extProfile = u16(buf, off + hdr);
    hdr += EXT_HEADER_LEN;
    out.extOff = off + hdr;
    out.extLen = words * 4;
    hdr += words * 4;
    if (hdr > len) return Status.Truncated;
  }

  let pad = 0;
  if (out.padding && !truncated) {
    if (len === hdr) return Status.Malformed; // no room for the count byte
    pad = buf[off + len - 1]!;
    if (pad === 0 || pad > len - hdr) return Status.Malformed;
  }
  out.padLen = pad;
  out.payloadOff = off + hdr;
  out.payloadLen = len - hdr - pad;
  return Status.Ok;
}
