import { u16, u32 } from '../core/bytes.js';
import { PayloadKind } from './payload-kind.js';

/**
 * Classify a UDP payload by cheap checks, in the order of RFC 7983 §7 (first byte ranges:
 * 0–3 STUN, 20–63 DTLS, 64–79 TURN ChannelData, 128–191 RTP/RTCP), then SIP by its start line.
 * Each check also validates a length or magic field so that text protocols whose first letter
 * falls in the ChannelData range ('A'..'O': INVITE, ACK, BYE…) are not mistaken for it.
 */
const STUN_HEADER = 20;
const STUN_MAGIC = 0x2112a442;
const CHANNEL_HEADER = 4;
const RTP_MIN = 12;
const RTCP_MIN = 8;

/** Configured hints: ports where SIP is expected even if the start line is odd (keep-alives). */
export interface DemuxPorts {
  sip: ReadonlySet<number>;
}

export const DEFAULT_DEMUX_PORTS: DemuxPorts = { sip: new Set([5060, 5061, 5080]) };

export function classifyUdp(buf: Buffer, off: number, len: number, srcPort: number, dstPort: number, ports: DemuxPorts): PayloadKind {
  if (len === 0) return PayloadKind.Unknown;
  const b0 = buf[off]!;
  if (b0 < 4) return isStun(buf, off, len) ? PayloadKind.Stun : PayloadKind.Unknown;
  if (b0 >= 20 && b0 <= 63) {
    if (isDtls(buf, off, len)) return PayloadKind.Dtls;
  } else if (b0 >= 64 && b0 <= 79) {
    if (isChannelData(buf, off, len, false)) return PayloadKind.ChannelData;
  } else if (b0 >= 128 && b0 <= 191) {
    if (isRtcp(buf, off, len)) return PayloadKind.Rtcp;
    if (isRtp(buf, off, len)) return PayloadKind.Rtp;
    return PayloadKind.Unknown;
  }
  if (isSipStartLine(buf, off, len)) return PayloadKind.Sip;
  if ((ports.sip.has(dstPort) || ports.sip.has(srcPort)) && isCrlfKeepAlive(buf, off, len)) return PayloadKind.SipKeepAlive;
  return PayloadKind.Unknown;
}

/**
 * STUN (RFC 8489 §5): top two bits 0, length a multiple of 4 covering the rest of the datagram.
 * The magic cookie is not required: RFC 3489 STUN and Microsoft's MS-TURN (Lync/Skype Edge)
 * predate it.
 */
export function isStun(buf: Buffer, off: number, len: number): boolean {
  if (len < STUN_HEADER || buf[off]! > 3) return false;
  const msgLen = u16(buf, off + 2);
  if (msgLen % 4 !== 0 || msgLen + STUN_HEADER !== len) return false;
  if (u32(buf, off + 4) === STUN_MAGIC) return true;
  // Without the cookie, accept only the classic method/class pairs (binding, allocate…).
  const type = u16(buf, off);
  return (type & 0x3eef) <= 0x000b;
}

/**
 * TURN ChannelData (RFC 8656 §12.4): channel 0x4000–0x4FFF and a length that fits the datagram;
 * over UDP the 4-byte padding is optional, so the datagram is exactly 4 + length or padded to 4.
 */
export function isChannelData(buf: Buffer, off: number, len: number, stream: boolean): boolean {
  if (len < CHANNEL_HEADER) return false;
  const ch = u16(buf, off);
  if (ch < 0x4000 || ch > 0x4fff) return false;
  const dataLen = u16(buf, off + 2);
  const exact = CHANNEL_HEADER + dataLen;
  if (stream) return exact <= len;
  return len === exact || len === ((exact + 3) & ~3);
}

/** DTLS record (RFC 9147 §4 / RFC 6347 §4.1): content type 20–25, version 0xFEFF/0xFEFD/0xFEFC. */
export function isDtls(buf: Buffer, off: number, len: number): boolean {
  if (len < 13) return false;
  const ct = buf[off]!;
  if (ct < 20 || ct > 25) return false;
  return buf[off + 1] === 0xfe && buf[off + 2]! >= 0xfc;
}

/**
 * RTCP (RFC 3550 §6.4, RFC 5761 §4): version 2, packet type 192–223 (200–204 and the
 * feedback/XR types 205–207 in practice), and the first packet's length within the datagram.
 */
export function isRtcp(buf: Buffer, off: number, len: number): boolean {
  if (len < RTCP_MIN || buf[off]! >> 6 !== 2) return false;
  const pt = buf[off + 1]!;
  if (pt < 192 || pt > 223) return false;
  const words = u16(buf, off + 2);
  return (words + 1) * 4 <= len;
}

/** RTP (RFC 3550 §5.1): version 2, room for the fixed header and CSRCs, payload type not RTCP's. */
export function isRtp(buf: Buffer, off: number, len: number): boolean {
  if (len < RTP_MIN) return false;
  const b0 = buf[off]!;
  if (b0 >> 6 !== 2) return false;
  const pt = buf[off + 1]! & 0x7f;
  // 72–76 with the marker set would read as RTCP 200–204 (RFC 5761 §4): never valid RTP.
  if (pt >= 72 && pt <= 76) return false;
  return len >= RTP_MIN + (b0 & 0x0f) * 4;
}

const SIP_VERSION = Buffer.from('SIP/2.0');
/** Longest start line considered; real ones are far shorter, and the check must stay cheap. */
const MAX_START_LINE = 2048;

/**
 * A SIP start line (RFC 3261 §7.1/§7.2): `SIP/2.0 NNN …` or `METHOD SP Request-URI SP SIP/2.0`.
 * The method is any token of upper-case letters, so extension methods pass too.
 */
export function isSipStartLine(buf: Buffer, off: number, len: number): boolean {
  const end = off + Math.min(len, MAX_START_LINE);
  if (len >= 12 && buf.compare(SIP_VERSION, 0, 7, off, off + 7) === 0) {
    return buf[off + 7] === 0x20 && isDigit(buf[off + 8]!) && isDigit(buf[off + 9]!) && isDigit(buf[off + 10]!);
  }
  let p = off;
  while (p < end && buf[p]! >= 0x41 && buf[p]! <= 0x5a) p++;
  if (p === off || p >= end || buf[p] !== 0x20) return false;
  let eol = p + 1;
  while (eol < end && buf[eol] !== 0x0d && buf[eol] !== 0x0a) eol++;
  if (eol === end) return false;
  return eol - 8 > p && buf[eol - 8] === 0x20 && buf.compare(SIP_VERSION, 0, 7, eol - 7, eol) === 0;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

function isCrlfKeepAlive(buf: Buffer, off: number, len: number): boolean {
  if (len !== 2 && len !== 4) return false;
  for (let i = 0; i < len; i += 2) if (buf[off + i] !== 0x0d || buf[off + i + 1] !== 0x0a) return false;
  return true;
}
