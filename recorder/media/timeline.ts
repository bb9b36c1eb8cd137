/**
 * Where a stream's packets go on the call's time line: by RTP timestamp (RFC 3550 §5.1: the
 * sampling instant), anchored to capture time.
 *
 * A stream is cut into segments. Within a segment a packet's time is
 * `anchor + (timestamp − base) / clockRate`; the anchor is the smallest "implied start"
 * `capture − (timestamp − base) / clockRate` over the segment's packets, i.e. the packet that
 * travelled fastest fixes the offset between the sender's clock and ours (network delay only
 * ever adds). The anchor is therefore independent of arrival order: reordered packets give
 * the same placement as ordered ones.
 *
 * A packet whose implied start disagrees with its segment by more than a threshold (1 s) did
 * not continue that segment: the sender restarted its timestamps (a PBX transfer, a hold/resume
 * with a new base, a new talkspurt after a media server switch). It then opens a new segment
 * anchored at its capture time, unless it fits one of the recent segments again (one packet
 * delayed past the threshold must not move the rest of the stream).
 *
 * Timestamps are unwrapped from 32 bits with RFC 1982 arithmetic relative to the previous
 * packet, so reordering and wrap-around both work, and a restart may jump either way.
 *
 * A render runs the same classification twice, in the same order: pass 1 to learn every
 * segment's final anchor, pass 2 to place packets with those anchors.
 */
import { seqDiff } from '../core/serial.js';

/** Recent segments a packet may return to. */
const LOOKBACK = 8;

export class StreamTimeline {
  readonly clockRate: number;
  private readonly threshold: number;
  private lastTs = 0;
  private lastExt = 0;
  private started = false;
  private current = -1;
  /** Per segment: unwrapped timestamp at its start. */
  readonly base: number[] = [];
  /** Per segment: smallest implied start, seconds of capture time. */
  readonly anchor: number[] = [];
  /** Per segment: smallest (timestamp − base) of its packets (a reordered first packet is < 0). */
  readonly minOffset: number[] = [];

  constructor(clockRate: number, thresholdSec: number) {
    this.clockRate = clockRate;
    this.threshold = thresholdSec;
  }

  /** 32-bit RTP timestamp → unwrapped timestamp (a double, exact far beyond any call). */
  unwrap(ts: number): number {
    if (!this.started) {
      this.started = true;
      this.lastTs = ts >>> 0;
      this.lastExt = ts >>> 0;
      return this.lastExt;
    }
    this.lastExt += seqDiff(ts, this.lastTs);
    this.lastTs = ts >>> 0;
    return this.lastExt;
  }

  /**
   * The segment of a packet. `timingExt` is the unwrapped timestamp that matches the capture
   * time `cap` (for a telephone-event packet: event start + duration so far); `startExt` is
   * where the packet's audio starts (for audio the same).
   */
  classify(timingExt: number, startExt: number, cap: number): number {
    const c = this.current;
    if (c >= 0 && this.fits(c, timingExt, startExt, cap)) return c;
    for (let k = c - 1; k >= 0 && k >= c - LOOKBACK; k--) {
      if (this.fits(k, timingExt, startExt, cap)) {
        this.current = k;
        return k;
      }
    }
    this.base.push(startExt);
    this.anchor.push(cap - (timingExt - startExt) / this.clockRate);
    this.minOffset.push(0);
    this.current = this.base.length - 1;
    return this.current;
  }

  private fits(k: number, timingExt: number, startExt: number, cap: number): boolean {
    const base = this.base[k]!;
    const implied = cap - (timingExt - base) / this.clockRate;
    const a = this.anchor[k]!;
    if (Math.abs(implied - a) > this.threshold) return false;
    if (implied < a) this.anchor[k] = implied;
    const off = startExt - base;
    if (off < this.minOffset[k]!) this.minOffset[k] = off;
    return true;
  }

  get segments(): number {
    return this.base.length;
  }

  /** Earliest audio start of segment k, seconds of capture time. */
  segmentStart(k: number): number {
    return this.anchor[k]! + this.minOffset[k]! / this.clockRate;
  }
}
