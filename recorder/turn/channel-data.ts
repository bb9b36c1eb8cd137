/**
 * TURN ChannelData message, RFC 8656 §12.4:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |         Channel Number        |            Length             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    /                       Application Data                        /
 *    +-------------------------------+
 *
 * Channel numbers 0x4000–0x4FFF are valid (§12); 0x5000–0x7FFF are reserved and so rejected here.
 * Length counts the data only. Over UDP the padding to 4 is optional; over TCP it is mandatory
 * (§12.5), which is what lets TurnStreamFramer find the next message.
 */
import { u16 } from '../core/bytes.js';
import { Status } from '../core/status.js';
import { STUN_HEADER_LEN } from './stun-message.js';

export const CHANNEL_DATA_HEADER_LEN = 4;
export const CHANNEL_MIN = 0x4000;
export const CHANNEL_MAX = 0x4fff;

export const isChannelNumber = (n: number): boolean => n >= CHANNEL_MIN && n <= CHANNEL_MAX;

export class ChannelData {
  channel = 0;
  /** Application data: buf[dataOff, dataOff + dataLen). */
  dataOff = 0;
  dataLen = 0;
}

/** Decodes buf[off, off + len); bytes past the data (padding, or nothing over UDP) are ignored. */
export function decodeChannelData(buf: Buffer, off: number, len: number, out: ChannelData): Status {
  if (len < CHANNEL_DATA_HEADER_LEN || off < 0 || off + len > buf.length) return Status.Truncated;
  const channel = u16(buf, off);
  if (!isChannelNumber(channel)) return Status.Malformed;
  const dataLen = u16(buf, off + 2);
  if (CHANNEL_DATA_HEADER_LEN + dataLen > len) return Status.Truncated;
  out.channel = channel;
  out.dataOff = off + CHANNEL_DATA_HEADER_LEN;
  out.dataLen = dataLen;
  return Status.Ok;
}

export const TurnFrameKind = { Stun: 0, ChannelData: 1 } as const;
export type TurnFrameKind = (typeof TurnFrameKind)[keyof typeof TurnFrameKind];

/** Called with each whole frame; buf is the framer's own buffer, valid only during the call. */
export type TurnFrameHandler = (kind: TurnFrameKind, buf: Buffer, off: number, len: number) => void;

/** Largest frame: STUN header + 0xFFFF, or ChannelData header + 0xFFFF padded to 4. */
const MAX_FRAME = STUN_HEADER_LEN + 0xffff;

/**
 * Splits a TURN-over-TCP byte stream (RFC 8656 §12.5, also RFC 6062 data connections before
 * ConnectionBind) into STUN messages and ChannelData messages. The first two bits tell them apart
 * (RFC 7983 §7: 00 STUN, 01 ChannelData); a STUN message is 20 + Message Length bytes, a ChannelData
 * message 4 + Length rounded up to 4. Anything else means the stream is not TURN or we lost sync:
 * the framer then stops (`lost`) since TCP offers no resync point; reset() clears it.
 *
 * Buffering is bounded by one maximal frame (MAX_FRAME + 4 bytes). [MS-TURN] over TCP adds its own
 * framing header (§2.1) and is not handled here.
 */
export class TurnStreamFramer {
  private readonly pending = Buffer.alloc(MAX_FRAME + 4);
  private used = 0;
  lost = false;
  frames = 0;

  constructor(private readonly onFrame: TurnFrameHandler) {}

  reset(): void {
    this.used = 0;
    this.lost = false;
  }

  /** Bytes buffered waiting for the rest of a frame. */
  get buffered(): number {
    return this.used;
  }

  push(buf: Buffer, off: number, len: number): void {
    if (off < 0 || len < 0 || off + len > buf.length) return;
    let p = off;
    const end = off + len;
    while (p < end && !this.lost) {
      const room = this.pending.length - this.used;
      const n = Math.min(room, end - p);
      buf.copy(this.pending, this.used, p, p + n);
      this.used += n;
      p += n;
      this.drain();
    }
  }

  private drain(): void {
    const b = this.pending;
    let start = 0;
    while (this.used - start >= 4) {
      const top = b[start]! >>> 6;
      const length = u16(b, start + 2);
      let size: number;
      let kind: TurnFrameKind;
      if (top === 0) {
        size = STUN_HEADER_LEN + length;
        kind = TurnFrameKind.Stun;
      } else if (top === 1) {
        size = CHANNEL_DATA_HEADER_LEN + ((length + 3) & ~3);
        kind = TurnFrameKind.ChannelData;
      } else {
        this.lost = true;
        this.used = 0;
        return;
      }
      if (this.used - start < size) break;
      this.frames++;
      this.onFrame(kind, b, start, size);
      start += size;
    }
    if (start > 0) {
      b.copy(b, 0, start, this.used);
      this.used -= start;
    }
  }
}
