/**
 * [MS-TURN] §2.1.4 TCP framing: over TCP every TURN message and every piece of relayed data sent to
 * or from the TURN server is preceded by a 4-byte header:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |     Type      |   Reserved    |            Length             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Type 0x02 is a TURN control message (a whole MS-TURN STUN-format message follows), 0x03 end-to-end
 * data (bytes for the active destination, [MS-TURN] §3.1.5). Length counts the bytes after the
 * header. The pseudo-TLS handshake some clients run first on port 443 is not framed (and is not
 * decoded here: a stream that does not start with a frame header is reported `lost`).
 */
import { u16 } from '../core/bytes.js';
import { FRAME_LOST, FrameBuffer } from '../core/frame-buffer.js';

export const MS_TCP_HEADER_LEN = 4;
export const MsTcpFrame = { Control: 0x02, Data: 0x03 } as const;
export type MsTcpFrame = (typeof MsTcpFrame)[keyof typeof MsTcpFrame];

/** True when buf[off..] starts with a plausible [MS-TURN] TCP frame header. */
export function isMsTurnTcpHeader(buf: Buffer, off: number, len: number): boolean {
  if (len < MS_TCP_HEADER_LEN) return false;
  const t = buf[off]!;
  return (t === MsTcpFrame.Control || t === MsTcpFrame.Data) && buf[off + 1] === 0;
}

/** Called with each frame's body; buf is the framer's own buffer, valid only during the call. */
export type MsTurnFrameHandler = (type: MsTcpFrame, buf: Buffer, off: number, len: number) => void;

/**
 * Splits an [MS-TURN] TCP stream into frames. Buffering is bounded by one maximal frame; a header
 * with another type or a non-zero reserved byte means the stream is not MS-TURN (or sync was lost
 * after a capture gap): the framer stops (`lost`) until reset().
 */
export class MsTurnStreamFramer {
  private readonly fb: FrameBuffer;
  frames = 0;

  constructor(onFrame: MsTurnFrameHandler) {
    this.fb = new FrameBuffer(MS_TCP_HEADER_LEN + 0xffff, {
      headerLen: MS_TCP_HEADER_LEN,
      measure: (b, start) => (isMsTurnTcpHeader(b, start, MS_TCP_HEADER_LEN) ? MS_TCP_HEADER_LEN + u16(b, start + 2) : FRAME_LOST),
      deliver: (b, start, size) => {
        this.frames++;
        onFrame(b[start] as MsTcpFrame, b, start + MS_TCP_HEADER_LEN, size - MS_TCP_HEADER_LEN);
      },
    });
  }

  get lost(): boolean {
    return this.fb.lost;
  }

  reset(): void {
    this.fb.reset();
  }

  get buffered(): number {
    return this.fb.buffered;
  }

  push(buf: Buffer, off: number, len: number): void {
    this.fb.push(buf, off, len);
  }
}
