/**
 * Skinny framing over one direction of a TCP stream: messages back to back, each sized by its
 * own length word (header.ts), several in one segment or one across several. Whole messages in
 * the delivered bytes are handed on in place (zero-copy); only a message cut by a segment end is
 * copied until it completes.
 *
 * Bad input never stalls the stream: a length word outside 4..16 KiB or a version word above
 * 0xFF is not a Skinny header, so the framer resynchronises by scanning for the next plausible
 * header (length in range, a known header version, a known message id), counting the bytes it
 * skipped. After a TCP gap it drops the partial message and resynchronises the same way.
 *
 * Counters: sccp.too_large, sccp.malformed_header, sccp.resync, sccp.resync_skipped_bytes,
 * sccp.gap_dropped.
 */
import type { Counters } from '../core/counters.js';
import { isKnownVersion, le32, MAX_MESSAGE_LEN, PREFIX_LEN, HEADER_LEN } from './header.js';
import { isKnownMessageId } from './message-ids.js';

/** Called per whole message: buf[off, off + len) is valid only during the call. */
export type SkinnyMessageHandler = (buf: Buffer, off: number, len: number) => void;

/** The version word of a real header is a small number (0 … 0x16 today). */
const MAX_VERSION = 0xff;

export class SkinnyStreamFramer {
  private pending: Buffer | null = null;
  /** Bytes of `pending` filled. */
  private have = 0;
  /** Whole size of the pending message once its length word is known, else 0. */
  private need = 0;
  private resyncing = false;
  messages = 0;

  constructor(
    private readonly onMessage: SkinnyMessageHandler,
    private readonly counters: Counters,
  ) {}

  /** A partial message is waiting for more bytes. */
  get pendingMessage(): boolean {
    return this.have > 0;
  }

  /** Bytes of this direction will never arrive: the partial message is lost. */
  gap(): void {
    if (this.have > 0) this.counters.inc('sccp.gap_dropped');
    this.have = 0;
    this.need = 0;
    this.resyncing = true;
  }

  push(buf: Buffer, off: number, len: number): void {
    let p = off;
    const end = off + len;
    if (this.have > 0) p = this.fillPending(buf, p, end);
    while (p < end) {
      if (this.resyncing) {
        p = this.resync(buf, p, end);
        if (this.resyncing) return;
      }
      const avail = end - p;
      if (avail < PREFIX_LEN) {
        this.keep(buf, p, end, 0);
        return;
      }
      const dl = le32(buf, p);
      const version = le32(buf, p + 4);
      if (dl < 4 || version > MAX_VERSION) {
        this.counters.inc('sccp.malformed_header');
        this.resyncing = true;
        continue;
      }
      if (dl > MAX_MESSAGE_LEN - PREFIX_LEN) {
        this.counters.inc('sccp.too_large');
        this.resyncing = true;
        continue;
      }
      const size = dl + PREFIX_LEN;
      if (size > avail) {
        this.keep(buf, p, end, size);
        return;
      }
      this.deliver(buf, p, size);
      p += size;
    }
  }

  /** Completes the pending message from buf[p, end); returns where unread bytes start. */
  private fillPending(buf: Buffer, p: number, end: number): number {
    const pend = this.pending!;
    if (this.need === 0) {
      // Only part of the 8-byte prefix is here: complete it, then learn the size.
      const take = Math.min(PREFIX_LEN - this.have, end - p);
      buf.copy(pend, this.have, p, p + take);
      this.have += take;
      p += take;
      if (this.have < PREFIX_LEN) return p;
      const dl = le32(pend, 0);
      const version = le32(pend, 4);
      if (dl < 4 || version > MAX_VERSION || dl > MAX_MESSAGE_LEN - PREFIX_LEN) {
        this.counters.inc(dl > MAX_MESSAGE_LEN - PREFIX_LEN && version <= MAX_VERSION ? 'sccp.too_large' : 'sccp.malformed_header');
        this.have = 0;
        this.resyncing = true;
        return p;
      }
      this.need = dl + PREFIX_LEN;
      if (pend.length < this.need) {
        const grown = Buffer.allocUnsafe(this.need);
        pend.copy(grown, 0, 0, this.have);
        this.pending = grown;
      }
    }
    const target = this.pending!;
    const take = Math.min(this.need - this.have, end - p);
    buf.copy(target, this.have, p, p + take);
    this.have += take;
    p += take;
    if (this.have === this.need) {
      const size = this.need;
      this.have = 0;
      this.need = 0;
      this.deliver(target, 0, size);
    }
    return p;
  }

  /** Copies the start of a message that continues in later segments. */
  private keep(buf: Buffer, p: number, end: number, size: number): void {
    const want = Math.max(size, PREFIX_LEN);
    if (this.pending === null || this.pending.length < want) this.pending = Buffer.allocUnsafe(Math.max(want, 256));
    buf.copy(this.pending, 0, p, end);
    this.have = end - p;
    this.need = size;
  }

  /** Skips to the next plausible header in buf[p, end); returns its offset (resyncing cleared) or end. */
  private resync(buf: Buffer, p: number, end: number): number {
    const start = p;
    // A plausible header whose message ends inside the buffer must be followed by another
    // plausible header (or the end): zero-filled bytes after garbage otherwise look like a
    // header with a large length that would swallow the real messages. One that runs past the
    // end cannot be checked: it is taken only when no checked one follows.
    let unchecked = -1;
    for (; p + HEADER_LEN <= end; p++) {
      if (!plausibleHeader(buf, p)) continue;
      const next = p + le32(buf, p) + PREFIX_LEN;
      if (next > end) {
        if (unchecked < 0) unchecked = p;
        continue;
      }
      if (next === end || next + HEADER_LEN > end || plausibleHeader(buf, next)) {
        this.resyncing = false;
        break;
      }
    }
    if (this.resyncing && unchecked >= 0) {
      p = unchecked;
      this.resyncing = false;
    }
    // Without a header in sight everything is skipped, the last < 12 bytes too: a header split
    // exactly at this segment end is lost with them (one message), which keeps this stateless.
    if (this.resyncing) p = end;
    if (p > start) {
      this.counters.inc('sccp.resync');
      this.counters.inc('sccp.resync_skipped_bytes', p - start);
    }
    return p;
  }

  private deliver(buf: Buffer, off: number, size: number): void {
    this.messages++;
    this.onMessage(buf, off, size);
  }
}

/** A length in range, a known header version and a known message id at `p` (12 bytes there). */
function plausibleHeader(buf: Buffer, p: number): boolean {
  const dl = le32(buf, p);
  return dl >= 4 && dl <= MAX_MESSAGE_LEN - PREFIX_LEN && isKnownVersion(le32(buf, p + 4)) && isKnownMessageId(le32(buf, p + 8));
}
