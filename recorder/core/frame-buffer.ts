/**
 * The common part of our TCP framers (TURN, MS-TURN, HEP3): bytes of a stream arrive in any
 * pieces; whole frames, each sized by its own header, are handed on from one buffer that never
 * holds more than one maximal frame. The protocol says how big the frame at a position is, or
 * that none starts there; then it may say where to look again (HEP3 resynchronises on its magic),
 * or the stream stops until reset() (TURN has no resync point).
 */

/** `measure` result: no frame starts here. */
export const FRAME_LOST = -1;

export interface FrameRules {
  /** Bytes `measure` needs to decide. */
  readonly headerLen: number;
  /** The whole frame's size at b[start] (≥ headerLen, at most the buffer), or FRAME_LOST. */
  measure(b: Buffer, start: number): number;
  /** After FRAME_LOST: where to look again (> start), or absent to stop the stream. */
  resync?(b: Buffer, start: number, used: number): number;
  /** A whole frame; `b` is the framer's buffer, valid only during the call. */
  deliver(b: Buffer, start: number, size: number): void;
}

export class FrameBuffer {
  private readonly pending: Buffer;
  private used = 0;
  /** The stream stopped (no frame where one must start, and no way to resynchronise). */
  lost = false;

  constructor(
    maxFrame: number,
    private readonly rules: FrameRules,
  ) {
    this.pending = Buffer.alloc(maxFrame);
  }

  /** Bytes buffered waiting for the rest of a frame. */
  get buffered(): number {
    return this.used;
  }

  reset(): void {
    this.used = 0;
    this.lost = false;
  }

  push(buf: Buffer, off: number, len: number): void {
    if (off < 0 || len < 0 || off + len > buf.length) return;
    let p = off;
    const end = off + len;
    while (p < end && !this.lost) {
      const n = Math.min(this.pending.length - this.used, end - p);
      buf.copy(this.pending, this.used, p, p + n);
      this.used += n;
      p += n;
      this.drain();
    }
  }

  private drain(): void {
    const b = this.pending;
    const r = this.rules;
    let start = 0;
    while (this.used - start >= r.headerLen) {
      const size = r.measure(b, start);
      if (size === FRAME_LOST || size > b.length) {
        if (r.resync === undefined) {
          this.lost = true;
          this.used = 0;
          return;
        }
        start = Math.max(start + 1, Math.min(this.used, r.resync(b, start, this.used)));
        continue;
      }
      if (this.used - start < size) break;
      r.deliver(b, start, size);
      start += size;
    }
    if (start > 0) {
      b.copy(b, 0, start, this.used);
      this.used -= start;
    }
  }
}

/** A protocol's stream framer: its rules in a FrameBuffer, and the stream operations callers use. */
export abstract class FramedStream {
  protected abstract readonly fb: FrameBuffer;

  /** The stream stopped: no frame where one must start (until reset()). */
  get lost(): boolean {
    return this.fb.lost;
  }

  reset(): void {
    this.fb.reset();
  }

  /** Bytes buffered waiting for the rest of a frame. */
  get buffered(): number {
    return this.fb.buffered;
  }

  push(buf: Buffer, off = 0, len = buf.length - off): void {
    this.fb.push(buf, off, len);
  }
}
