/**
 * Receiver statistics of one RTP stream (one SSRC on one flow), after RFC 3550 Appendix A,
 * adapted to a passive observer:
 *
 *  - A.1 sequence extension, without probation: we count from the first packet we see, since
 *    we cannot ask the sender to start again. A jump beyond MAX_DROPOUT ahead or
 *    MAX_MISORDER behind is taken as a restart once the next packet follows it (A.1's bad_seq
 *    rule), and the counts carry on instead of being reset as A.1's init_seq would do.
 *  - A.3 expected = highest - base + 1 per sequence run; `lostRaw` = expected - packets (negative
 *    with duplicates, as RFC 3550 and tshark report it); `lost` subtracts the duplicates we
 *    recognised and is never negative.
 *  - Out of order: a packet below the highest sequence seen that is not a duplicate. Duplicates:
 *    a sequence number seen before within the last WINDOW numbers (a bitmap).
 *  - A.8 interarrival jitter J += (|D| - J) / 16 in timestamp units, over packets in arrival
 *    order; `jitterMs` converts with the clock rate. Arrival is capture time in seconds.
 *
 * Max and mean jitter are aggregated like tshark's RTP stream analysis (ui/tap-rtp-analysis.c)
 * so the two can be compared: over every packet but the first, leaving out packets with the
 * marker bit (a talkspurt start) and untimed ones. tshark differs in that it measures D against
 * the last packet in timestamp order rather than in arrival order (same result unless packets
 * are reordered), and prints Lost as expected - packets (our `lostRaw`).
 */
import { seq16Diff, seqDiff } from '../core/serial.js';
import { PAGE_BYTES, PageSet, nativeAddon, type SlabAddon } from '../core/native-pages.js';

/** A.1: a forward step of up to this many is a gap (loss), not a restart. */
export const MAX_DROPOUT = 3000;
/** Duplicate-detection window, also the farthest back a packet counts as merely late. */
export const WINDOW = 1024;
/** Per A.1's MAX_MISORDER, widened to the duplicate window. */
export const MAX_MISORDER = WINDOW;

const WINDOW_WORDS = WINDOW / 32;

/** Flags for update(). */
export const RtpUpdateFlag = {
  /** The packet has the marker bit: left out of the max/mean jitter aggregates. */
  Marker: 1,
  /**
   * The timestamp does not follow the sampling clock (RFC 4733 events repeat the event's
   * start timestamp; RFC 3389 CN may use another clock): count the packet, skip jitter.
   */
  Untimed: 2,
} as const;

/** What a packet was to the stream: the first one, a duplicate, out of order, or in order (gaps and restarts included). */
export type RtpArrival = 'new' | 'dup' | 'late' | 'ok';

/**
 * The fields an in-order packet touches, one record of R_STRIDE doubles per stream in shared
 * pages (StatsSlab): two cache lines per packet with thousands of streams, instead of a line
 * per object and boxed double, and the layout native/fastpath/rtp_fast_path.c updates for the
 * packets it takes (the in-order case of `update`, same arithmetic).
 */
export const R_RECEIVED = 0;
export const R_MAX_SEQ = 1;
/** Extended highest sequence number of the current run. */
export const R_MAX_EXT = 2;
/** -1, or the sequence number that would confirm a restart (A.1's bad_seq). */
export const R_BAD_SEQ = 3;
/** 1 once the first packet was seen. */
export const R_STARTED = 4;
export const R_CLOCK_RATE = 5;
/** 1 once a timed packet was seen (the jitter reference exists). */
export const R_HAVE_TIMING = 6;
export const R_LAST_TS = 7;
export const R_JITTER_COUNT = 8;
export const R_JITTER = 9;
export const R_MAX_JITTER = 10;
export const R_JITTER_SUM = 11;
/** Arrival of the last timed packet (the jitter reference). */
export const R_LAST_TIMED = 12;
/** Arrival of the last packet of any kind. */
export const R_LAST_SEEN = 13;
export const R_STRIDE = 16;
const RECORDS_PER_PAGE = PAGE_BYTES / (R_STRIDE * 8);

/** The pages of this thread's statistics records, and their free slots. */
export class StatsSlab {
  readonly pages: PageSet;
  private readonly views: Float64Array[] = [];
  private readonly free: number[] = [];

  constructor(addon: SlabAddon | null) {
    this.pages = new PageSet(addon);
  }

  /** A record's slot (its page is slot / RECORDS_PER_PAGE). */
  take(): number {
    if (this.free.length === 0) {
      const page = this.pages.add();
      const b = this.pages.pages[page]!;
      this.views.push(new Float64Array(b.buffer, b.byteOffset, PAGE_BYTES / 8));
      for (let i = RECORDS_PER_PAGE - 1; i >= 0; i--) this.free.push(page * RECORDS_PER_PAGE + i);
    }
    return this.free.pop()!;
  }

  give(slot: number): void {
    this.free.push(slot);
  }

  page(slot: number): Float64Array {
    return this.views[Math.floor(slot / RECORDS_PER_PAGE)]!;
  }

  static offset(slot: number): number {
    return (slot % RECORDS_PER_PAGE) * R_STRIDE;
  }
}

let slab: StatsSlab | undefined;

/** This thread's statistics records (their pages known to the capture addon when it is built). */
export function statsSlab(): StatsSlab {
  return (slab ??= new StatsSlab(nativeAddon<SlabAddon>([])));
}

export class RtpStreamStats {
  readonly clockRate: number;
  /** The record's slot in statsSlab(), -1 once released. */
  private slotNo: number;
  /** The record: F[o + R_*]. A page of the slab, or after release() a copy of its own. */
  private F: Float64Array;
  private o: number;
  private first = 0;
  private baseExt = 0;
  /** Expected packets of earlier runs (before restarts), and stray jumped packets. */
  private priorExpected = 0;
  private dups = 0;
  private late = 0;
  private restarts = 0;
  /**
   * Every extended sequence number in [runFrom, maxExt] was seen: an unbroken run of in-order
   * packets, the usual case, is kept as this one number, so that an in-order packet touches no
   * bitmap (a cold cache line per packet with thousands of streams). The run is written into
   * `seen` only when a gap ends it.
   */
  private runFrom = 0;
  /** Bit (ext & (WINDOW-1)) set when that extended sequence number in (maxExt - WINDOW, runFrom) was seen. */
  private readonly seen = new Uint32Array(WINDOW_WORDS);

  /** `clockRate`: RTP timestamp units per second; 0 or less turns jitter off. */
  constructor(clockRate: number) {
    this.clockRate = clockRate > 0 && Number.isFinite(clockRate) ? clockRate : 0;
    const t = statsSlab();
    this.slotNo = t.take();
    this.F = t.page(this.slotNo);
    this.o = StatsSlab.offset(this.slotNo);
    const F = this.F;
    const o = this.o;
    F.fill(0, o, o + R_STRIDE);
    F[o + R_BAD_SEQ] = -1;
    F[o + R_CLOCK_RATE] = this.clockRate;
  }

  /** The record's slot in statsSlab() (the native path updates it there), -1 once released. */
  get slot(): number {
    return this.slotNo;
  }

  /**
   * The stream is over (its call's record is built): the record moves to memory of its own and
   * the slot is free for another stream. Reads keep working; so would updates.
   */
  release(): void {
    if (this.slotNo < 0) return;
    const own = this.F.slice(this.o, this.o + R_STRIDE);
    statsSlab().give(this.slotNo);
    this.slotNo = -1;
    this.F = own;
    this.o = 0;
  }

  /** Accounts one packet: 16-bit sequence number, 32-bit timestamp, capture time in seconds. */
  update(seq: number, ts: number, arrival: number, flags = 0): RtpArrival {
    const F = this.F;
    const o = this.o;
    F[o + R_RECEIVED] = F[o + R_RECEIVED]! + 1;
    F[o + R_LAST_SEEN] = arrival;
    let result: RtpArrival;
    let timed = (flags & RtpUpdateFlag.Untimed) === 0;
    if (F[o + R_STARTED] === 0) {
      F[o + R_STARTED] = 1;
      this.first = seq;
      this.startRun(seq);
      result = 'new';
    } else {
      const maxSeq = F[o + R_MAX_SEQ]!;
      const delta = seq16Diff(seq, maxSeq);
      const udelta = (seq - maxSeq) & 0xffff;
      if (udelta > 0 && udelta < MAX_DROPOUT) {
        this.advance(udelta);
        F[o + R_MAX_SEQ] = seq;
        F[o + R_BAD_SEQ] = -1;
        result = 'ok';
      } else if (delta <= 0 && -delta < MAX_MISORDER) {
        const ext = F[o + R_MAX_EXT]! + delta;
        const bit = ext & (WINDOW - 1);
        const word = bit >>> 5;
        const mask = 1 << (bit & 31);
        if (ext >= this.runFrom || (this.seen[word]! & mask) !== 0) {
          this.dups++;
          result = 'dup';
        } else {
          this.seen[word] = this.seen[word]! | mask;
          this.late++;
          // Capture may start mid-stream with a reordered packet: count from the lowest seen.
          if (ext < this.baseExt) this.baseExt = ext;
          result = 'late';
        }
      } else if (seq === F[o + R_BAD_SEQ]) {
        // Two in a row after a jump: the sender restarted its sequence (A.1).
        this.priorExpected += F[o + R_MAX_EXT]! - this.baseExt + 1;
        this.restarts++;
        this.startRun(seq);
        F[o + R_HAVE_TIMING] = 0; // the timestamp most likely jumped too: take this packet as the new reference
        result = 'ok';
      } else {
        // A lone jumped packet: counted as received and expected, the run goes on.
        F[o + R_BAD_SEQ] = (seq + 1) & 0xffff;
        this.priorExpected++;
        timed = false;
        result = 'ok';
      }
    }
    if (timed && this.clockRate > 0) this.jitterUpdate(ts, arrival, flags);
    return result;
  }

  private startRun(seq: number): void {
    this.F[this.o + R_MAX_SEQ] = seq;
    this.F[this.o + R_MAX_EXT] = seq;
    this.baseExt = seq;
    this.runFrom = seq;
    this.F[this.o + R_BAD_SEQ] = -1;
    this.seen.fill(0);
  }

  /** Moves the window forward by n (1 ≤ n < MAX_DROPOUT), clearing the numbers it enters. */
  private advance(n: number): void {
    const F = this.F;
    const at = this.o + R_MAX_EXT;
    const maxExt = F[at]!;
    if (n === 1) {
      F[at] = maxExt + 1;
      return;
    }
    // A gap ends the run: write it into the bitmap, clear the missing numbers, start a new run.
    if (n >= WINDOW) this.seen.fill(0);
    else {
      this.setBits(Math.max(this.runFrom, maxExt - WINDOW + 1), maxExt, true);
      this.setBits(maxExt + 1, maxExt + n - 1, false);
    }
    F[at] = maxExt + n;
    this.runFrom = maxExt + n;
  }

  /** Sets (or clears) the bits of extended sequence numbers from..to (at most WINDOW of them), a word at a time. */
  private setBits(from: number, to: number, value: boolean): void {
    for (let a = from; a <= to; ) {
      const bit = a & (WINDOW - 1);
      const off = bit & 31;
      const count = Math.min(32 - off, to - a + 1);
      const mask = count === 32 ? 0xffffffff : ((1 << count) - 1) << off;
      const w = bit >>> 5;
      this.seen[w] = value ? this.seen[w]! | mask : this.seen[w]! & ~mask;
      a += count;
    }
  }

  private jitterUpdate(ts: number, arrival: number, flags: number): void {
    const F = this.F;
    const o = this.o;
    if (F[o + R_HAVE_TIMING] !== 0) {
      // A.8 with differences: D = (R_j - R_i) - (S_j - S_i), timestamps compared mod 2^32.
      const d = (arrival - F[o + R_LAST_TIMED]!) * this.clockRate - seqDiff(ts, F[o + R_LAST_TS]!);
      const j = F[o + R_JITTER]! + (Math.abs(d) - F[o + R_JITTER]!) / 16;
      F[o + R_JITTER] = j;
      if ((flags & RtpUpdateFlag.Marker) === 0) {
        if (j > F[o + R_MAX_JITTER]!) F[o + R_MAX_JITTER] = j;
        F[o + R_JITTER_SUM] = F[o + R_JITTER_SUM]! + j;
        F[o + R_JITTER_COUNT] = F[o + R_JITTER_COUNT]! + 1;
      }
    }
    F[o + R_HAVE_TIMING] = 1;
    F[o + R_LAST_TIMED] = arrival;
    F[o + R_LAST_TS] = ts;
  }

  /** Packets received, duplicates included (RFC 3550 A.3 "received", tshark's Pkts). */
  get packets(): number {
    return this.F[this.o + R_RECEIVED]!;
  }
  /** Packets expected from the sequence numbers seen (A.3), summed over restarts. */
  get expected(): number {
    return this.F[this.o + R_STARTED] !== 0 ? this.priorExpected + this.F[this.o + R_MAX_EXT]! - this.baseExt + 1 : 0;
  }
  /** expected - packets: RFC 3550's cumulative loss and tshark's Lost, negative with duplicates. */
  get lostRaw(): number {
    return this.expected - this.packets;
  }
  /** Packets never seen: expected - (packets - duplicates), never below 0. */
  get lost(): number {
    return Math.max(0, this.expected - (this.packets - this.dups));
  }
  get outOfOrder(): number {
    return this.late;
  }
  get duplicates(): number {
    return this.dups;
  }
  /** Sequence restarts detected (jumps confirmed by the next packet). */
  get sequenceRestarts(): number {
    return this.restarts;
  }
  get firstSeq(): number {
    return this.first;
  }
  /** Extended highest sequence number (A.1 cycles + max_seq) of the current run. */
  get highestExtSeq(): number {
    return this.F[this.o + R_MAX_EXT]!;
  }
  /** Capture time (seconds) of the latest packet, 0 before the first. */
  get lastArrival(): number {
    return this.F[this.o + R_LAST_SEEN]!;
  }
  /** Current interarrival jitter estimate in ms. */
  get jitterMs(): number {
    return this.clockRate > 0 ? (this.F[this.o + R_JITTER]! * 1000) / this.clockRate : 0;
  }
  get maxJitterMs(): number {
    return this.clockRate > 0 ? (this.F[this.o + R_MAX_JITTER]! * 1000) / this.clockRate : 0;
  }
  get meanJitterMs(): number {
    const n = this.F[this.o + R_JITTER_COUNT]!;
    return this.clockRate > 0 && n > 0 ? (this.F[this.o + R_JITTER_SUM]! * 1000) / this.clockRate / n : 0;
  }
}
