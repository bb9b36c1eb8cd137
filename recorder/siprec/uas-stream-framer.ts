/**
 * SIP messages on a TCP connection to the SRS (RFC 3261 §18.3): header block, then exactly
 * Content-Length bytes of body. Unlike the passive framer in sip/stream-framer.ts (which must
 * survive capture gaps and resynchronise), this one sits at the end of a real, lossless
 * connection, so it can answer instead of guessing: a message whose Content-Length exceeds the
 * limit has its header block delivered to `onTooLarge` (the server answers 413, RFC 3261
 * §21.4.11) and its body is skipped as it streams by, never buffered. A header block that does
 * not end within the limit cannot be answered: `onFatal` (the connection is closed).
 *
 * CRLF keep-alives between messages are skipped; a double-CRLF "ping" is reported so the server
 * can answer the single-CRLF "pong" (RFC 5626 §3.5.1).
 */
const LF = 0x0a;
const CR = 0x0d;

export interface FramerEvents {
  onMessage(msg: Buffer): void;
  onTooLarge(headerBlock: Buffer, contentLength: number): void;
  onPing(): void;
  onFatal(reason: 'header_too_large' | 'bad_content_length'): void;
}

export class UasStreamFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Body bytes still to skip of a message too large to keep. */
  private skip = 0;
  private dead = false;

  constructor(
    private readonly events: FramerEvents,
    /** Largest message (headers + body) kept. */
    private readonly maxMessage: number,
    /** Largest header block. */
    private readonly maxHeader: number = 64 * 1024,
  ) {}

  get buffered(): number {
    return this.buf.length;
  }

  push(chunk: Buffer): void {
    if (this.dead) return;
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length);
      this.skip -= n;
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.drain();
  }

  private drain(): void {
    for (;;) {
      // Keep-alives: CRLFs before a message (RFC 5626 §4.4.1).
      let i = 0;
      while (i < this.buf.length && (this.buf[i] === CR || this.buf[i] === LF)) i++;
      if (i > 0) {
        if (i >= 4 || (i >= 2 && this.buf[0] === LF && this.buf[1] === LF)) this.events.onPing();
        this.buf = this.buf.subarray(i);
      }
      if (this.buf.length === 0) return;
      const hdrEnd = headerEnd(this.buf, this.maxHeader);
      if (hdrEnd < 0) {
        if (this.buf.length > this.maxHeader) {
          this.dead = true;
          this.buf = Buffer.alloc(0);
          this.events.onFatal('header_too_large');
        } else if (this.buf.byteOffset !== 0 || this.buf.buffer.byteLength > this.buf.length * 2) {
          // Keep only what is pending, not the whole chunk it came in.
          this.buf = Buffer.from(this.buf);
        }
        return;
      }
      const cl = contentLength(this.buf.toString('latin1', 0, hdrEnd));
      if (cl < 0) {
        this.dead = true;
        this.buf = Buffer.alloc(0);
        this.events.onFatal('bad_content_length');
        return;
      }
      if (hdrEnd + cl > this.maxMessage) {
        const head = Buffer.from(this.buf.subarray(0, hdrEnd));
        const have = this.buf.length - hdrEnd;
        if (have >= cl) this.buf = this.buf.subarray(hdrEnd + cl);
        else {
          this.skip = cl - have;
          this.buf = Buffer.alloc(0);
        }
        this.events.onTooLarge(head, cl);
        if (this.skip > 0) return;
        continue;
      }
      if (this.buf.length < hdrEnd + cl) {
        if (this.buf.byteOffset !== 0) this.buf = Buffer.from(this.buf);
        return;
      }
      const msg = Buffer.from(this.buf.subarray(0, hdrEnd + cl));
      this.buf = this.buf.subarray(hdrEnd + cl);
      this.events.onMessage(msg);
    }
  }
}

/** Index just past the empty line ending the header block (CRLFCRLF or LFLF), -1 if not within max. */
function headerEnd(b: Buffer, max: number): number {
  const lim = Math.min(b.length, max);
  let i = b.indexOf(LF);
  while (i >= 0 && i < lim) {
    const j = b[i + 1] === CR ? i + 2 : i + 1;
    if (j < b.length && b[j] === LF) return j + 1;
    i = b.indexOf(LF, i + 1);
  }
  return -1;
}

/** Content-Length (or compact `l`) of a header block; 0 when absent (§20.14), -1 when not a number. */
function contentLength(head: string): number {
  const m = /(?:^|\n)[ \t]*(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)/i.exec(head);
  if (!m) return 0;
  const v = (m[1] ?? '').trim();
  if (!/^\d{1,12}$/.test(v)) return -1;
  return Number(v);
}
