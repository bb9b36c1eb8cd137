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

// Slots of RtpStreamStats.f.
const F_JITTER = 0;
const F_MAX_JITTER = 1;
const F_JITTER_SUM = 2;
/** Arrival of the last timed packet (the jitter reference). */
const F_LAST_TIMED = 3;
/** Arrival of the last packet of any kind. */
const F_LAST_SEEN = 4;
const F_COUNT = 5;

export class RtpStreamStats {
  readonly clockRate: number;
  private started = false;
  private first = 0;
  private maxSeq = 0;
  /** Extended highest sequence number of the current run. */
  private maxExt = 0;
  private baseExt = 0;
  /** Expected packets of earlier runs (before restarts), and stray jumped packets. */
  private priorExpected = 0;
  private badSeq = -1;
  private received = 0;
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
  /**
   * The fractional state, one small array: a double field of an object is a separate heap box in
   * V8, so four of them cost four cache lines per packet with thousands of streams (F_* index it).
   */
  private readonly f = new Float64Array(F_COUNT);
  private haveTiming = false;
  private lastTs = 0;
  private jitterCount = 0;

  /** `clockRate`: RTP timestamp units per second; 0 or less turns jitter off. */
  constructor(clockRate: number) {
    this.clockRate = clockRate > 0 && Number.isFinite(clockRate) ? clockRate : 0;
  }

  /** Accounts one packet: 16-bit sequence number, 32-bit timestamp, capture time in seconds. */
  update(seq: number, ts: number, arrival: number, flags = 0): RtpArrival {
    this.received++;
    this.f[F_LAST_SEEN] = arrival;
    let result: RtpArrival;
    let timed = (flags & RtpUpdateFlag.Untimed) === 0;
    if (!this.started) {
      this.started = true;
      this.first = seq;
      this.startRun(seq);
      result = 'new';
    } else {
      const delta = seq16Diff(seq, this.maxSeq);
      const udelta = (seq - this.maxSeq) & 0xffff;
      if (udelta > 0 && udelta < MAX_DROPOUT) {
        this.advance(udelta);
        this.maxSeq = seq;
        this.badSeq = -1;
        result = 'ok';
      } else if (delta <= 0 && -delta < MAX_MISORDER) {
        const ext = this.maxExt + delta;
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
      } else if (seq === this.badSeq) {
        // Two in a row after a jump: the sender restarted its sequence (A.1).
        this.priorExpected += this.maxExt - this.baseExt + 1;
        this.restarts++;
        this.startRun(seq);
        this.haveTiming = false; // the timestamp most likely jumped too: take this packet as the new reference
        result = 'ok';
      } else {
        // A lone jumped packet: counted as received and expected, the run goes on.
        this.badSeq = (seq + 1) & 0xffff;
        this.priorExpected++;
        timed = false;
        result = 'ok';
      }
    }
    if (timed && this.clockRate > 0) this.jitterUpdate(ts, arrival, flags);
    return result;
  }

  private startRun(seq: number): void {
    this.maxSeq = seq;
    this.maxExt = seq;
    this.baseExt = seq;
    this.runFrom = seq;
    this.badSeq = -1;
    this.seen.fill(0);
  }

  /** Moves the window forward by n (1 ≤ n < MAX_DROPOUT), clearing the numbers it enters. */
  private advance(n: number): void {
    if (n === 1) {
      this.maxExt++;
      return;
    }
    // A gap ends the run: write it into the bitmap, clear the missing numbers, start a new run.
    if (n >= WINDOW) this.seen.fill(0);
    else {
      this.setBits(Math.max(this.runFrom, this.maxExt - WINDOW + 1), this.maxExt, true);
      this.setBits(this.maxExt + 1, this.maxExt + n - 1, false);
    }
    this.maxExt += n;
    this.runFrom = this.maxExt;
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
    const f = this.f;
    if (this.haveTiming) {
      // A.8 with differences: D = (R_j - R_i) - (S_j - S_i), timestamps compared mod 2^32.
      const d = (arrival - f[F_LAST_TIMED]!) * this.clockRate - seqDiff(ts, this.lastTs);
      const j = f[F_JITTER]! + (Math.abs(d) - f[F_JITTER]!) / 16;
      f[F_JITTER] = j;
      if ((flags & RtpUpdateFlag.Marker) === 0) {
        if (j > f[F_MAX_JITTER]!) f[F_MAX_JITTER] = j;
        f[F_JITTER_SUM] = f[F_JITTER_SUM]! + j;
        this.jitterCount++;
      }
    }
    this.haveTiming = true;
    f[F_LAST_TIMED] = arrival;
    this.lastTs = ts;
  }

  /** Packets received, duplicates included (RFC 3550 A.3 "received", tshark's Pkts). */
  get packets(): number {
    return this.received;
  }
  /** Packets expected from the sequence numbers seen (A.3), summed over restarts. */
  get expected(): number {
    return this.started ? this.priorExpected + this.maxExt - this.baseExt + 1 : 0;
  }
  /** expected - packets: RFC 3550's cumulative loss and tshark's Lost, negative with duplicates. */
  get lostRaw(): number {
    return this.expected - this.received;
  }
  /** Packets never seen: expected - (packets - duplicates), never below 0. */
  get lost(): number {
    return Math.max(0, this.expected - (this.received - this.dups));
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
    return this.maxExt;
  }
  /** Capture time (seconds) of the latest packet, 0 before the first. */
  get lastArrival(): number {
    return this.f[F_LAST_SEEN]!;
  }
  /** Current interarrival jitter estimate in ms. */
  get jitterMs(): number {
    return this.clockRate > 0 ? (this.f[F_JITTER]! * 1000) / this.clockRate : 0;
  }
  get maxJitterMs(): number {
    return this.clockRate > 0 ? (this.f[F_MAX_JITTER]! * 1000) / this.clockRate : 0;
  }
  get meanJitterMs(): number {
    return this.clockRate > 0 && this.jitterCount > 0 ? (this.f[F_JITTER_SUM]! * 1000) / this.clockRate / this.jitterCount : 0;
  }
}
