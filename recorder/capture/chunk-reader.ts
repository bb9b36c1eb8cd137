import type { FileHandle } from 'node:fs/promises';
import type { Frame } from './frame.js';

/** Default read size: large reads keep syscalls per frame negligible, small enough for many open files. */
export const CHUNK_SIZE = 4 * 1024 * 1024;

/**
 * A window over a file, refilled in large chunks, so a capture of any size streams
 * through one reused buffer. Bytes buf[start, end) are unread; decoders read them in
 * place and advance `start`.
 *
 * `fill` and `skip` move bytes and overwrite the buffer, so every view handed out
 * before them is invalid afterwards: callers only use them between batches.
 */
export class ChunkReader {
  buf: Buffer;
  view: DataView;
  start = 0;
  end = 0;
  /** File offset of buf[0]. */
  base = 0;
  private eof = false;

  constructor(
    private readonly fh: FileHandle,
    size = CHUNK_SIZE,
  ) {
    this.buf = Buffer.allocUnsafe(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  get available(): number {
    return this.end - this.start;
  }

  /** File offset of buf[start]: how far the file has been consumed. */
  get offset(): number {
    return this.base + this.start;
  }

  /**
   * Make at least `need` unread bytes available, reading ahead as much as fits.
   * Returns false when the file ends first (the bytes that are there stay available).
   */
  async fill(need: number): Promise<boolean> {
    if (this.end - this.start >= need) return true;
    if (this.eof) return false;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, this.start, this.end);
      this.replace(bigger);
    } else if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
    }
    this.base += this.start;
    this.end -= this.start;
    this.start = 0;
    while (this.end < need) {
      const { bytesRead } = await this.fh.read(this.buf, this.end, this.buf.length - this.end, this.base + this.end);
      if (bytesRead === 0) {
        this.eof = true;
        return false;
      }
      this.end += bytesRead;
    }
    return true;
  }

  /**
   * Consume `n` bytes without reading them (a block we do not decode). Returns false
   * when the file is shorter than that; everything is then consumed.
   */
  skip(n: number, fileSize: number): boolean {
    if (this.end - this.start >= n) {
      this.start += n;
      return true;
    }
    const target = this.base + this.start + n;
    this.base = Math.min(target, fileSize);
    this.start = 0;
    this.end = 0;
    if (target > fileSize) {
      this.eof = true;
      return false;
    }
    return true;
  }

  private replace(buf: Buffer): void {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
}

/** What a record decoder needs next (see RecordDecoder.decode). */
export const Step = {
  /** `max` frames were produced; call again. */
  Full: 0,
  /** The next record is incomplete: fill(`need`) then call again. */
  NeedMore: 1,
  /** The next block is not decoded and not fully buffered: skip(`skip`) then call again. */
  Skip: 2,
  /** Unrecoverable damage (already counted); the file ends here. */
  Stop: 3,
} as const;
export type Step = (typeof Step)[keyof typeof Step];

/**
 * Decodes records from a ChunkReader's unread bytes into Frames. Pure over the buffer:
 * all I/O is left to the caller, so the decoder can be driven from any loop.
 */
export interface RecordDecoder {
  /** Bytes wanted after Step.NeedMore. */
  need: number;
  /** Bytes to skip after Step.Skip. */
  skip: number;
  /** Appends frames to `out` until it holds `max` frames or the buffered bytes run out. */
  decode(out: Frame[], max: number): Step;
}
