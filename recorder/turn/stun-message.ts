/**
 * STUN message header and attribute walk, RFC 8489 §5 and §14:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |0 0|     STUN Message Type     |         Message Length        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                         Magic Cookie                          |   0x2112A442 (RFC 5389 and later)
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                     Transaction ID (96 bits)                  |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Without the cookie (RFC 3489, and [MS-TURN] §2.2.2 which follows draft-ietf-behave-rfc3489bis-02)
 * the 128 bits after the length are all transaction id. Message Length counts the attributes only.
 *
 * Message type bits (§5): M11..M7 C1 M6..M4 C0 M3..M0, i.e. the class is split over bits 8 and 4.
 *
 * Attributes (§14), each padded to a multiple of 4 bytes (padding not counted in Length):
 *
 *    |         Type                  |            Length             |
 *    |                         Value (variable)                ....
 */
import { u16, u32 } from '../core/bytes.js';
import { Status } from '../core/status.js';

export const STUN_HEADER_LEN = 20;
export const STUN_MAGIC_COOKIE = 0x2112a442;
/** Attributes kept per message; more are counted in `attrOverflow` and skipped (bounded work per packet). */
export const STUN_MAX_ATTRS = 32;

const OFF_LENGTH = 2;
const OFF_COOKIE = 4;
const OFF_TXID = 8;
const ATTR_HEADER_LEN = 4;

/** Class, RFC 8489 §5: the two C bits. */
export const StunClass = { Request: 0, Indication: 1, SuccessResponse: 2, ErrorResponse: 3 } as const;
export type StunClass = (typeof StunClass)[keyof typeof StunClass];

/** Attribute types we read (RFC 8489 §18.3, RFC 8656 §18). */
export const StunAttr = {
  MappedAddress: 0x0001,
  ChannelNumber: 0x000c,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Data: 0x0013,
  XorRelayedAddress: 0x0016,
  XorMappedAddress: 0x0020,
} as const;

export const stunMethod = (type: number): number => ((type & 0x3e00) >>> 2) | ((type & 0x00e0) >>> 1) | (type & 0x000f);
export const stunClass = (type: number): StunClass => (((type & 0x0100) >>> 7) | ((type & 0x0010) >>> 4)) as StunClass;
export const stunType = (method: number, cls: StunClass): number =>
  ((method & 0x0f80) << 2) | ((method & 0x0070) << 1) | (method & 0x000f) | ((cls & 2) << 7) | ((cls & 1) << 4);

/** Decoded message, filled in place; attribute k is buf[attrOff[k], attrOff[k] + attrLen[k]). */
export class StunMessage {
  type = 0;
  method = 0;
  cls: StunClass = StunClass.Request;
  /** Message Length field: attribute bytes after the 20-byte header. */
  length = 0;
  /** RFC 5389/8489 cookie present; false for RFC 3489 and MS-TURN. */
  magic = false;
  /** Transaction id: buf[txOff, txOff + txLen) — 12 bytes with the cookie, 16 without. */
  txOff = 0;
  txLen = 0;
  attrCount = 0;
  /** Attributes beyond STUN_MAX_ATTRS, walked but not kept. */
  attrOverflow = 0;
  readonly attrType = new Uint16Array(STUN_MAX_ATTRS);
  readonly attrOff = new Uint32Array(STUN_MAX_ATTRS);
  readonly attrLen = new Uint16Array(STUN_MAX_ATTRS);

  /** Index of the first attribute of `type`, or -1. */
  find(type: number): number {
    for (let i = 0; i < this.attrCount; i++) if (this.attrType[i] === type) return i;
    return -1;
  }
}

/**
 * Decodes the STUN message at buf[off, off + len). `len` may exceed the message (trailing bytes are
 * ignored, a datagram holds one message); the message ends at off + 20 + length.
 *
 * Truncated: fewer bytes than the header or than Message Length says. Malformed: top two bits set,
 * or an attribute runs past Message Length. Padding after the last attribute may be absent
 * (RFC 3489-era stacks), so the walk only demands the unpadded value.
 */
export function decodeStunMessage(buf: Buffer, off: number, len: number, out: StunMessage): Status {
  if (len < STUN_HEADER_LEN || off < 0 || off + len > buf.length) return Status.Truncated;
  const type = u16(buf, off);
  if ((type & 0xc000) !== 0) return Status.Malformed;
  const length = u16(buf, off + OFF_LENGTH);
  if (STUN_HEADER_LEN + length > len) return Status.Truncated;

  out.type = type;
  out.method = stunMethod(type);
  out.cls = stunClass(type);
  out.length = length;
  out.magic = u32(buf, off + OFF_COOKIE) === STUN_MAGIC_COOKIE;
  out.txOff = off + (out.magic ? OFF_TXID : OFF_COOKIE);
  out.txLen = out.magic ? 12 : 16;
  out.attrCount = 0;
  out.attrOverflow = 0;

  const end = off + STUN_HEADER_LEN + length;
  let p = off + STUN_HEADER_LEN;
  while (p < end) {
    if (p + ATTR_HEADER_LEN > end) return Status.Malformed;
    const aLen = u16(buf, p + 2);
    const vOff = p + ATTR_HEADER_LEN;
    if (vOff + aLen > end) return Status.Malformed;
    const n = out.attrCount;
    if (n < STUN_MAX_ATTRS) {
      out.attrType[n] = u16(buf, p);
      out.attrOff[n] = vOff;
      out.attrLen[n] = aLen;
      out.attrCount = n + 1;
    } else {
      out.attrOverflow++;
    }
    p = vOff + ((aLen + 3) & ~3);
  }
  return Status.Ok;
}

/** Address family values in (XOR-)MAPPED-ADDRESS, RFC 8489 §14.1. */
export const StunFamily = { IPv4: 0x01, IPv6: 0x02 } as const;

/** A transport address, filled in place; `ipv6` is only meaningful when family is IPv6. */
export class StunAddress {
  family = 0;
  port = 0;
  /** IPv4 address as an unsigned 32-bit number. */
  ipv4 = 0;
  readonly ipv6 = Buffer.alloc(16);
}

/**
 * MAPPED-ADDRESS value (RFC 8489 §14.1), also the format of [MS-TURN] DESTINATION-ADDRESS and
 * REMOTE-ADDRESS (§2.2.2.9 / §2.2.2.10, after draft-ietf-behave-turn-08 §9.2):
 *
 *    |0 0 0 0 0 0 0 0|    Family     |           Port                |
 *    |                 Address (32 bits or 128 bits)                 |
 */
export function decodeMappedAddress(buf: Buffer, off: number, len: number, out: StunAddress): Status {
  return decodeAddress(buf, off, len, -1, out);
}

/**
 * XOR-MAPPED-ADDRESS / XOR-PEER-ADDRESS / XOR-RELAYED-ADDRESS value, RFC 8489 §14.2 (same layout as
 * MAPPED-ADDRESS): the port is XORed with the cookie's top 16 bits, an IPv4 address with the cookie,
 * an IPv6 address with cookie ‖ transaction id. `txOff` is StunMessage.txOff of a message with the cookie.
 */
export function decodeXorAddress(buf: Buffer, off: number, len: number, txOff: number, out: StunAddress): Status {
  if (txOff < 0 || txOff + 12 > buf.length) return Status.Truncated;
  return decodeAddress(buf, off, len, txOff, out);
}

function decodeAddress(buf: Buffer, off: number, len: number, txOff: number, out: StunAddress): Status {
  if (len < 8 || off < 0 || off + len > buf.length) return Status.Truncated;
  const family = buf[off + 1]!;
  const xor = txOff >= 0;
  out.family = family;
  out.port = xor ? u16(buf, off + 2) ^ (STUN_MAGIC_COOKIE >>> 16) : u16(buf, off + 2);
  if (family === StunFamily.IPv4) {
    out.ipv4 = xor ? (u32(buf, off + 4) ^ STUN_MAGIC_COOKIE) >>> 0 : u32(buf, off + 4);
    return Status.Ok;
  }
  if (family !== StunFamily.IPv6) return Status.Malformed;
  if (len < 20) return Status.Truncated;
  for (let i = 0; i < 16; i++) {
    // The XOR pad is the cookie (4 bytes) followed by the 12-byte transaction id.
    const pad = !xor ? 0 : i < 4 ? (STUN_MAGIC_COOKIE >>> (24 - 8 * i)) & 0xff : buf[txOff + i - 4]!;
    out.ipv6[i] = buf[off + 4 + i]! ^ pad;
  }
  return Status.Ok;
}

/**
 * CHANNEL-NUMBER value, RFC 8656 §18.1: 16-bit channel then 16 bits RFFU (ignored on receipt).
 * Returns the channel, or -1 when the value is shorter than 4 bytes.
 */
export function decodeChannelNumber(buf: Buffer, off: number, len: number): number {
  if (len < 4 || off < 0 || off + len > buf.length) return -1;
  return u16(buf, off);
}
