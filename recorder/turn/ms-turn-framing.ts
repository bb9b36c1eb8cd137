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
 * header. The pseudo-TLS handshake clients run first on port 443 ([MS-TURN] §2.1.3: a ClientHello,
 * answered by ServerHello + ServerHelloDone in one TLS record, then framed MS-TURN in the clear) is
 * skipped by PseudoTlsSkipper below.
 */
import { u16 } from '../core/bytes.js';
import { FRAME_LOST, FrameBuffer, FramedStream } from '../core/frame-buffer.js';

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
export class MsTurnStreamFramer extends FramedStream {
  protected readonly fb: FrameBuffer;
  frames = 0;

  constructor(onFrame: MsTurnFrameHandler) {
    super();
    this.fb = new FrameBuffer(MS_TCP_HEADER_LEN + 0xffff, {
      headerLen: MS_TCP_HEADER_LEN,
      measure: (b, start) => (isMsTurnTcpHeader(b, start, MS_TCP_HEADER_LEN) ? MS_TCP_HEADER_LEN + u16(b, start + 2) : FRAME_LOST),
      deliver: (b, start, size) => {
        this.frames++;
        onFrame(b[start] as MsTcpFrame, b, start + MS_TCP_HEADER_LEN, size - MS_TCP_HEADER_LEN);
      },
    });
  }
}

/** TLS record header (RFC 2246 §6.2): content type, version, u16 length. */
const TLS_HEADER_LEN = 5;
const TlsContent = { ChangeCipherSpec: 0x14, Alert: 0x15, Handshake: 0x16, ApplicationData: 0x17 } as const;

/**
 * Size of the record starting at buf[off] (5 bytes available) when it is the first record of a
 * pseudo-TLS exchange: a TLS 1.x Handshake record, or the SSLv2-compatible ClientHello ([MS-TURN]
 * §2.1.3 allows either form; RFC 2246 Appendix E.1: 2-byte length with the top bit set, then
 * CLIENT-HELLO (1) and version 3.x). -1 when it is neither.
 */
export function pseudoTlsRecordSize(buf: Buffer, off: number): number {
  const b0 = buf[off]!;
  if (b0 === TlsContent.Handshake && buf[off + 1] === 3 && buf[off + 2]! <= 4) return TLS_HEADER_LEN + u16(buf, off + 3);
  if ((b0 & 0x80) !== 0 && buf[off + 2] === 1 && buf[off + 3] === 3) return (((b0 & 0x7f) << 8) | buf[off + 1]!) + 2;
  return -1;
}

/** True when a TCP stream starts with what pseudoTlsRecordSize accepts. */
export const isPseudoTlsStart = (buf: Buffer, off: number, len: number): boolean => len >= TLS_HEADER_LEN && pseudoTlsRecordSize(buf, off) > 0;

export const PseudoTls = { Skipping: 0, Framing: 1, RealTls: 2, NotTls: 3 } as const;
export type PseudoTls = (typeof PseudoTls)[keyof typeof PseudoTls];

/**
 * One direction of a port-443 MS-TURN connection: drops its first record (the pseudo-TLS hello),
 * then hands the rest on. If the record after it is TLS again (a real TLS session: TURNS, HTTPS),
 * the stream is encrypted and nothing in it can be read: state RealTls.
 */
export class PseudoTlsSkipper {
  state: PseudoTls = PseudoTls.Skipping;
  private readonly head = Buffer.alloc(TLS_HEADER_LEN);
  private headLen = 0;
  /** Bytes of the record left to skip, once its header is known (-1 before). */
  private left = -1;

  /**
   * Where framed MS-TURN data starts in buf[off, off+len): off once the hello is behind us; -1 when
   * the bytes were all hello, or the stream turned out not to be pseudo-TLS (state says which).
   */
  take(buf: Buffer, off: number, len: number): number {
    if (this.state === PseudoTls.Framing) return off;
    let o = off;
    const end = off + len;
    while (o < end && this.state === PseudoTls.Skipping) {
      if (this.left < 0) {
        const n = Math.min(TLS_HEADER_LEN - this.headLen, end - o);
        buf.copy(this.head, this.headLen, o, o + n);
        this.headLen += n;
        o += n;
        if (this.headLen < TLS_HEADER_LEN) return -1;
        const size = pseudoTlsRecordSize(this.head, 0);
        if (size < 0) {
          this.state = PseudoTls.NotTls;
          return -1;
        }
        this.left = size - TLS_HEADER_LEN;
      }
      const n = Math.min(this.left, end - o);
      this.left -= n;
      o += n;
      if (this.left > 0) return -1;
      // The hello is over. Another TLS record (content types 20–23) means a real TLS session; MS-TURN
      // frames start with type 2 or 3.
      if (o === end) return -1;
      const t = buf[o]!;
      this.state = t >= TlsContent.ChangeCipherSpec && t <= TlsContent.ApplicationData ? PseudoTls.RealTls : PseudoTls.Framing;
    }
    return this.state === PseudoTls.Framing && o < end ? o : -1;
  }
}
