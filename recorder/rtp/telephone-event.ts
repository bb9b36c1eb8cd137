/**
 * RFC 4733 telephone-events (DTMF and other tones sent as named events), §2.3:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |     event     |E|R| volume    |          duration             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * One key press is sent as many packets (§2.5.1): all carry the RTP timestamp of the event's
 * start, the duration grows, the first has the marker bit, and the final duration is repeated
 * in (usually three) packets with E set. DtmfDetector folds them back into one event.
 */
import { u16 } from '../core/bytes.js';
import { seqGt } from '../core/serial.js';
import { Status } from '../core/status.js';

export const TELEPHONE_EVENT_LEN = 4;
const OFF_EVENT = 0;
const OFF_FLAGS = 1;
const OFF_DURATION = 2;
const FLAG_END = 0x80;
const VOLUME_MASK = 0x3f;
/** §2.5.1.3: a duration field saturates here and the event goes on in a new segment. */
const MAX_DURATION = 0xffff;

export class TelephoneEventPayload {
  /** Event code (§3.2 for DTMF, RFC 4734 for modem and fax tones). */
  event = 0;
  /** E bit: the event has ended and `duration` is final. */
  end = false;
  /** Power level of the tone in -dBm0 (0..63); 0 for events without a level. */
  volume = 0;
  /** Duration so far in RTP timestamp units, counted from the event's timestamp. */
  duration = 0;
}

/**
 * Decodes the first event block of buf[off, off + len). A payload may hold more than one block
 * (§2.5.1.5 RFC 2198 redundancy is a separate format); only the first is read here.
 */
export function decodeTelephoneEvent(buf: Buffer, off: number, len: number, out: TelephoneEventPayload): Status {
  if (len < TELEPHONE_EVENT_LEN || off < 0 || off + len > buf.length) return Status.Truncated;
  const flags = buf[off + OFF_FLAGS]!;
  out.event = buf[off + OFF_EVENT]!;
  out.end = (flags & FLAG_END) !== 0;
  out.volume = flags & VOLUME_MASK;
  out.duration = u16(buf, off + OFF_DURATION);
  return Status.Ok;
}

const DTMF_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D', 'flash'];
/** RFC 4734 data-modem and fax events 32–36 (the ones a recorder flags: answer tones, fax calling tone). */
const TONE_NAMES = ['ANS', '/ANS', 'ANSam', '/ANSam', 'CNG'];

/** `0`-`9`, `*`, `#`, `A`-`D`, `flash` (RFC 4733 §3.2), RFC 4734 tone names, else `event-<n>`. */
export function eventName(event: number): string {
  return DTMF_NAMES[event] ?? TONE_NAMES[event - 32] ?? `event-${event}`;
}

/** One key press (or tone), folded from its packets. */
export interface DtmfEvent {
  /** eventName() of the code: '0'-'9', '*', '#', 'A'-'D', 'flash', …. */
  digit: string;
  event: number;
  /** RTP timestamp of the event start (the first segment's, for long events). */
  rtpTimestamp: number;
  /** Capture time (seconds) of the first packet seen for it. */
  firstArrival: number;
  /** Longest duration seen, in ms (the final one if an end packet came). */
  durationMs: number;
  volume: number;
  /** An end packet was seen; false when the event was closed by the next one or by flush(). */
  ended: boolean;
  /** Packets that carried it, up to the first end packet. */
  packets: number;
}

interface Current {
  /** Timestamp of the first segment (the event start). */
  startTs: number;
  /** Timestamp of the current segment: the packets' key. */
  ts: number;
  event: number;
  firstArrival: number;
  /** Units of earlier segments of a long event (§2.5.1.3). */
  before: number;
  duration: number;
  volume: number;
  ended: boolean;
  packets: number;
}

/**
 * Turns a stream's telephone-event packets into one DtmfEvent per key press. An event is
 * reported when its first end packet arrives; one whose end packets were all lost is reported
 * when the next event starts, or on flush(). Retransmitted end packets are then ignored.
 */
export class DtmfDetector {
  private cur: Current | null = null;
  private readonly payload = new TelephoneEventPayload();

  constructor(
    private readonly onEvent: (e: DtmfEvent) => void,
    /** The telephone-event clock from a=rtpmap (8000 unless negotiated otherwise). */
    readonly clockRate = 8000,
  ) {}

  /** Feeds one telephone-event packet: its RTP timestamp and marker bit, its payload, its capture time. */
  push(rtpTimestamp: number, marker: boolean, buf: Buffer, off: number, len: number, arrival: number): Status {
    const st = decodeTelephoneEvent(buf, off, len, this.payload);
    if (st !== Status.Ok) return st;
    const p = this.payload;
    const cur = this.cur;
    if (cur && rtpTimestamp === cur.ts) {
      cur.packets++;
      if (p.duration > cur.duration) cur.duration = p.duration;
      if (p.end && !cur.ended) {
        cur.ended = true;
        this.emit(cur);
      }
      return Status.Ok;
    }
    if (cur) {
      // A packet of an event older than the current one (reordered or very late): nothing new.
      if (!seqGt(rtpTimestamp, cur.ts)) return Status.Ok;
      if (!cur.ended && !marker && p.event === cur.event && cur.duration >= MAX_DURATION - this.clockRate / 10) {
        // §2.5.1.3: a long event continues in a new segment with a new timestamp, no marker.
        cur.before += cur.duration;
        cur.ts = rtpTimestamp;
        cur.duration = p.duration;
        cur.packets++;
        if (p.end) {
          cur.ended = true;
          this.emit(cur);
        }
        return Status.Ok;
      }
      if (!cur.ended) this.emit(cur);
    }
    const next: Current = {
      startTs: rtpTimestamp,
      ts: rtpTimestamp,
      event: p.event,
      firstArrival: arrival,
      before: 0,
      duration: p.duration,
      volume: p.volume,
      ended: p.end,
      packets: 1,
    };
    this.cur = next;
    if (next.ended) this.emit(next);
    return Status.Ok;
  }

  /** End of stream: reports an event still open. */
  flush(): void {
    const cur = this.cur;
    if (cur && !cur.ended) this.emit(cur);
    this.cur = null;
  }

  private emit(c: Current): void {
    this.onEvent({
      digit: eventName(c.event),
      event: c.event,
      rtpTimestamp: c.startTs,
      firstArrival: c.firstArrival,
      durationMs: ((c.before + c.duration) * 1000) / this.clockRate,
      volume: c.volume,
      ended: c.ended,
      packets: c.packets,
    });
  }
}
