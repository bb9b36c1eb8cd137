/**
 * The Skinny (SCCP) message header, as Wireshark's packet-skinny dissector reads it
 * (wireshark/wireshark `epan/dissectors/packet-skinny.c`, `get_skinny_pdu_len`, and the message
 * table generated from `tools/SkinnyProtocolOptimized.xml`). Every field is little-endian:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                  data length (LE, from byte 8 on)             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |       header version (LE): 0 basic, 0x0A..0x16 = V10..V22     |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                      message id (LE)                          |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    message data ...                           |
 *
 * The data length counts the message id and the data, so a whole message is `length + 8` bytes.
 * The header version selects the layout of several messages (CallManager 7+ phones send V17 and
 * later): from V17 every IP address is an `ipv4or6` (a type word, then 16 bytes); from V18 a
 * directory number field is 25 bytes instead of 24; V11+ and V15+ add trailing fields.
 */
import { Status } from '../core/status.js';

export const HEADER_LEN = 12;
/** Bytes before the counted part: the length word and the version word. */
export const PREFIX_LEN = 8;
const OFF_LENGTH = 0;
const OFF_VERSION = 4;
const OFF_ID = 8;

/** Header versions (packet-skinny.c `header_version`). */
export const SkinnyVersion = {
  Basic: 0x00,
  V10: 0x0a,
  V11: 0x0b,
  V15: 0x0f,
  V16: 0x10,
  V17: 0x11,
  V18: 0x12,
  V19: 0x13,
  V20: 0x14,
  V21: 0x15,
  V22: 0x16,
} as const;

/** Versions seen on the wire; anything else is not a Skinny header (used to resynchronise). */
export const isKnownVersion = (v: number): boolean => v === 0 || (v >= SkinnyVersion.V10 && v <= SkinnyVersion.V22);

/**
 * The largest message we accept. The biggest fixed layouts (DeviceToUserData with 2000 bytes of
 * XML, ServerRes, StartAnnouncement) stay under 2.1 KiB; a bigger length is garbage or hostile.
 */
export const MAX_MESSAGE_LEN = 16 * 1024;

export class SkinnyHeader {
  /** The length word: message id + data. */
  dataLength = 0;
  version = 0;
  messageId = 0;
  /** Offset and length of the data after the message id. */
  bodyOff = 0;
  bodyLen = 0;
}

export const le32 = (b: Buffer, off: number): number => (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;

/**
 * The whole message length (header included) that starts at `off`, from its length word alone:
 * -1 when fewer than 8 bytes are there, 0 when the length word cannot be a Skinny message.
 */
export function skinnyMessageLength(buf: Buffer, off: number, len: number): number {
  if (len < PREFIX_LEN) return -1;
  const dl = le32(buf, off + OFF_LENGTH);
  if (dl < 4 || dl > MAX_MESSAGE_LEN - PREFIX_LEN) return 0;
  return dl + PREFIX_LEN;
}

/** Decodes one whole message's header; `len` is exactly the message (from skinnyMessageLength). */
export function decodeSkinnyHeader(buf: Buffer, off: number, len: number, out: SkinnyHeader): Status {
  if (len < HEADER_LEN) return Status.Truncated;
  const dl = le32(buf, off + OFF_LENGTH);
  if (dl < 4) return Status.Malformed;
  if (dl + PREFIX_LEN > len) return Status.Truncated;
  out.dataLength = dl;
  out.version = le32(buf, off + OFF_VERSION);
  out.messageId = le32(buf, off + OFF_ID);
  out.bodyOff = off + HEADER_LEN;
  out.bodyLen = dl - 4;
  return Status.Ok;
}

/** Writes a header (tests, the benchmark and the encoder of test captures). */
export function encodeSkinnyHeader(version: number, messageId: number, body: Buffer): Buffer {
  const h = Buffer.alloc(HEADER_LEN);
  h.writeUInt32LE(body.length + 4, OFF_LENGTH);
  h.writeUInt32LE(version, OFF_VERSION);
  h.writeUInt32LE(messageId, OFF_ID);
  return Buffer.concat([h, body]);
}
