/**
 * HEP3 over TCP: packets back to back, each sized by its own header ("HEP3", u16 total length incl.
 * the 6 header bytes). The framer buffers at most one maximal packet (64 KiB); bytes that do not
 * start a HEP3 header (garbage, a lying length) are skipped up to the next "HEP3" and counted, so a
 * hostile or confused sender costs bounded memory and work and the stream recovers.
 */
import { u16 } from '../core/bytes.js';
import { HEP3_HEADER_LEN } from './hep3.js';

const MAGIC = Buffer.from('HEP3', 'latin1');
const MAX_PACKET = 0xffff;

/** Called per whole packet; buf is the framer's buffer, valid only during the call. */
export type HepPacketHandler = (buf: Buffer, off: number, len: number) => void;

export class HepStreamFramer {
  private readonly pending = Buffer.alloc(MAX_PACKET + HEP3_HEADER_LEN);
  private used = 0;
  /** Bytes skipped to find a packet start again. */
  skipped = 0;
  /** Times the stream lost sync. */
  resyncs = 0;
  packets = 0;
  /** False between losing sync and finding the next packet start (one resync however bytes arrive). */
  private inSync = true;

  constructor(private readonly onPacket: HepPacketHandler) {}

  push(buf: Buffer, off = 0, len = buf.length - off): void {
    let p = off;
    const end = off + len;
    while (p < end) {
      const n = Math.min(this.pending.length - this.used, end - p);
      buf.copy(this.pending, this.used, p, p + n);
      this.used += n;
      p += n;
      this.drain();
    }
  }

  private drain(): void {
    const b = this.pending;
    let start = 0;
    while (this.used - start >= HEP3_HEADER_LEN) {
      const total = u16(b, start + 4);
      if (b.compare(MAGIC, 0, 4, start, start + 4) !== 0 || total < HEP3_HEADER_LEN) {
        // Lost sync: skip to the next "HEP3" (or keep the last 3 bytes, which may start one).
        if (this.inSync) this.resyncs++;
        this.inSync = false;
        const next = b.subarray(0, this.used).indexOf(MAGIC, start + 1);
        const to = next >= 0 ? next : Math.max(start + 1, this.used - 3);
        this.skipped += to - start;
        start = to;
        continue;
      }
      this.inSync = true;
      if (this.used - start < total) break;
      this.packets++;
      this.onPacket(b, start, total);
      start += total;
    }
    if (start > 0) {
      b.copy(b, 0, start, this.used);
      this.used -= start;
    }
  }
}
