/**
 * Loss per HEP sender, from our agent's per-destination sequence numbers (hep3 OurChunk.Sequence).
 * A sender is its capture agent id and source address. Gaps are remembered with their capture
 * time, so that a call can be told how many packets its senders lost while it was up (a gap is
 * attributed to every call in progress at that time: the sequence numbers say that something was
 * lost, not what).
 *
 * Serial arithmetic (RFC 1982) on 32 bits. Sequence 0, or a jump back by more than RESTART_GAP, is
 * the agent restarting (its numbering starts over); a small step back is a late or duplicate packet.
 */
import { seqDiff } from '../core/serial.js';

const RESTART_GAP = 100_000;
const MAX_EVENTS = 4096;
const MAX_SENDERS = 1024;

interface LossEvent {
  time: number;
  lost: number;
}

export class HepSender {
  last = -1;
  received = 0;
  lost = 0;
  late = 0;
  restarts = 0;
  readonly events: LossEvent[] = [];
  constructor(
    readonly captureId: number,
    readonly address: string,
  ) {}

  get label(): string {
    return `agent ${this.captureId} at ${this.address}`;
  }
}

export class HepLossTracker {
  private readonly senders = new Map<string, HepSender>();
  /** Senders not tracked because the table was full. */
  untracked = 0;

  get all(): HepSender[] {
    return [...this.senders.values()];
  }

  get totalLost(): number {
    let n = 0;
    for (const s of this.senders.values()) n += s.lost;
    return n;
  }

  onSequence(captureId: number, address: string, seq: number, time: number): void {
    const key = `${captureId}@${address}`;
    let s = this.senders.get(key);
    if (!s) {
      if (this.senders.size >= MAX_SENDERS) {
        this.untracked++;
        return;
      }
      s = new HepSender(captureId, address);
      this.senders.set(key, s);
    }
    s.received++;
    if (s.last < 0) {
      s.last = seq;
      return;
    }
    const d = seqDiff(seq, s.last);
    // Our agent numbers each destination's stream from 0: a 0 after anything else is a restart.
    if (seq === 0 && d !== 1) {
      s.restarts++;
      s.last = seq;
      return;
    }
    if (d === 1) {
      s.last = seq;
      return;
    }
    if (d > 1 && d < RESTART_GAP) {
      this.gap(s, d - 1, time);
      s.last = seq;
      return;
    }
    if (d <= 0 && d > -RESTART_GAP) {
      // Late (or repeated) packet: it fills part of a gap counted earlier.
      s.late++;
      const e = s.events[s.events.length - 1];
      if (d < 0 && e && e.lost > 0 && s.lost > 0) {
        e.lost--;
        s.lost--;
      }
      return;
    }
    s.restarts++;
    s.last = seq;
  }

  private gap(s: HepSender, n: number, time: number): void {
    s.lost += n;
    const e = s.events[s.events.length - 1];
    // One event per second of capture time is precise enough to attribute loss to calls.
    if (e && time - e.time < 1) e.lost += n;
    else {
      s.events.push({ time, lost: n });
      if (s.events.length > MAX_EVENTS) s.events.shift();
    }
  }

  /** Packets each sender lost between `start` and `end` (capture time, seconds). */
  lostDuring(start: number, end: number): { sender: HepSender; lost: number }[] {
    const out: { sender: HepSender; lost: number }[] = [];
    for (const s of this.senders.values()) {
      let n = 0;
      for (const e of s.events) if (e.time >= start && e.time <= end) n += e.lost;
      if (n > 0) out.push({ sender: s, lost: n });
    }
    return out;
  }
}
