/**
 * HEP3 over TCP: packets back to back, each sized by its own header ("HEP3", u16 total length incl.
 * the 6 header bytes). The framer buffers at most one maximal packet (64 KiB); bytes that do not
 * start a HEP3 header (garbage, a lying length) are skipped up to the next "HEP3" and counted, so a
 * hostile or confused sender costs bounded memory and work and the stream recovers.
 */
import { u16 } from '../core/bytes.js';
import { FRAME_LOST, FrameBuffer, FramedStream } from '../core/frame-buffer.js';
import { HEP3_HEADER_LEN } from './hep3.js';

const MAGIC = Buffer.from('HEP3', 'latin1');
const MAX_PACKET = 0xffff;

/** Called per whole packet; buf is the framer's buffer, valid only during the call. */
export type HepPacketHandler = (buf: Buffer, off: number, len: number) => void;

export class HepStreamFramer extends FramedStream {
  protected readonly fb: FrameBuffer;
  /** Bytes skipped to find a packet start again. */
  skipped = 0;
  /** Times the stream lost sync. */
  resyncs = 0;
  packets = 0;
  /** False between losing sync and finding the next packet start (one resync however bytes arrive). */
  private inSync = true;

  constructor(onPacket: HepPacketHandler) {
    super();
    this.fb = new FrameBuffer(MAX_PACKET + HEP3_HEADER_LEN, {
      headerLen: HEP3_HEADER_LEN,
      measure: (b, start) => {
        const total = u16(b, start + 4);
        if (b.compare(MAGIC, 0, 4, start, start + 4) !== 0 || total < HEP3_HEADER_LEN) return FRAME_LOST;
        this.inSync = true;
        return total;
      },
      // Lost sync: skip to the next "HEP3" (or keep the last 3 bytes, which may start one).
      resync: (b, start, used) => {
        if (this.inSync) this.resyncs++;
        this.inSync = false;
        const next = b.subarray(0, used).indexOf(MAGIC, start + 1);
        const to = next >= 0 ? next : Math.max(start + 1, used - 3);
        this.skipped += to - start;
        return to;
      },
      deliver: (b, start, size) => {
        this.packets++;
        onPacket(b, start, size);
      },
    });
  }
}
