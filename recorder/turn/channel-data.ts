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
import { FRAME_LOST, FrameBuffer, FramedStream } from '../core/frame-buffer.js';

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
export class TurnStreamFramer extends FramedStream {
  protected readonly fb: FrameBuffer;
  frames = 0;

  constructor(onFrame: TurnFrameHandler) {
    super();
    this.fb = new FrameBuffer(MAX_FRAME + 4, {
      headerLen: 4,
      measure: (b, start) => {
        const top = b[start]! >>> 6;
        const length = u16(b, start + 2);
        if (top === 0) return STUN_HEADER_LEN + length;
        if (top === 1) return CHANNEL_DATA_HEADER_LEN + ((length + 3) & ~3);
        return FRAME_LOST;
      },
      deliver: (b, start, size) => {
        this.frames++;
        onFrame(b[start]! >>> 6 === 0 ? TurnFrameKind.Stun : TurnFrameKind.ChannelData, b, start, size);
      },
    });
  }
}
