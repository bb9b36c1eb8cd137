/**
 * The capture thread's handle on one call's spool. `append` encodes a PACKET record straight
 * into the SpoolWriter's shared ring (one copy of the payload, no syscall, no per-call buffer
 * on this thread); stream infos, meta updates, flushes and the close go through the same ring
 * as control messages, so they reach the writer in order with the packets. The writer's
 * thread (spool-consumer.ts) creates the files, batches records per call (about one writev(2)
 * a second), seals CRCs, fsyncs at most once per fsync interval and finalizes the spool.
 *
 * Crash model: a batch written with write(2) is in the page cache and survives kill -9 of the
 * recorder; an fsynced batch also survives power loss. Either way the reader keeps every
 * complete record and drops a torn tail (spool-format.ts).
 */
import type { Counters } from '../core/counters.js';
import { MAX_BODY, MAX_PAYLOAD, RECORD_OVERHEAD, packetRecordSize, writePacketRecord, writeStreamRecord, type SpoolStreamInfo } from './spool-format.js';
import type { SpoolCallMeta } from './spool-meta.js';
import { MsgKind } from './spool-ring.js';
import type { SpoolWriter } from './spool-writer.js';

export interface ResolvedSpoolOptions {
  flushIntervalMs: number;
  fsyncIntervalMs: number;
  maxBufferBytes: number;
  /** `worker`: the ring is consumed by the SpoolWriter's thread; `sync`: on the caller's. */
  io: 'worker' | 'sync';
}

/** What a CallSpool needs from its SpoolDirectory (kept narrow to avoid an import cycle). */
export interface SpoolHost {
  readonly counters: Counters;
  readonly writer: SpoolWriter;
  /** A full ring makes an append wait for the writer thread instead of dropping (replay). */
  readonly lossless: boolean;
  released(spool: CallSpool): void;
}

let nextSid = 1;

const OPEN = 0;
const CLOSING = 1;
const CLOSED = 2;

export class CallSpool {
  /** Process-wide serial number: the spool's id in the ring. */
  readonly sid = nextSid++;
  private dir_: string;
  private readonly host: SpoolHost;
  private readonly writer: SpoolWriter;
  private streamCount = 0;
  private meta: SpoolCallMeta;
  /** Records lost on this side (oversize payloads, ring full); the writer adds write errors at close. */
  private lost = 0;
  private state = OPEN;
  private closing: Promise<void> | null = null;

  /** Use SpoolDirectory.open. */
  constructor(host: SpoolHost, dir: string, meta: SpoolCallMeta) {
    this.host = host;
    this.writer = host.writer;
    this.dir_ = dir;
    this.meta = meta;
  }

  /**
   * The call's directory. Chosen on the capture thread when the call opens; if another process
   * took the name meanwhile, the writer adds a suffix and this is the final name once `close`
   * resolved.
   */
  get dir(): string {
    return this.dir_;
  }

  get streams(): number {
    return this.streamCount;
  }

  /** Records that could not be stored (oversize payloads, ring full; write errors once closed). */
  get lostRecords(): number {
    return this.lost;
  }

  get isOpen(): boolean {
    return this.state === OPEN;
  }

  /** Declares a stream (an SSRC of a party); returns its index for `append`. */
  addStream(info: SpoolStreamInfo): number {
    const index = this.streamCount;
    this.writeStream(index, info);
    this.streamCount++;
    return index;
  }

  /** Replaces a stream's info from now on (e.g. a re-INVITE changed its payload map). */
  updateStream(index: number, info: SpoolStreamInfo): void {
    if (index < 0 || index >= this.streamCount) throw new RangeError(`no stream ${index}`);
    this.writeStream(index, info);
  }

  private writeStream(index: number, info: SpoolStreamInfo): void {
    if (this.state !== OPEN) throw new Error(`spool ${this.dir_} is closed`);
    if (index > 0xffff) throw new RangeError('too many streams in one call');
    const json = Buffer.from(JSON.stringify(info));
    if (json.length + 2 > MAX_BODY) throw new RangeError('stream info too large');
    // A STREAM record is a control message: never dropped, the packets after it need it.
    const rec = Buffer.allocUnsafe(RECORD_OVERHEAD + 2 + json.length);
    writeStreamRecord(rec, 0, index, json);
    this.writer.control(MsgKind.Record, this.sid, rec);
    this.host.counters.inc('spool.stream_records');
  }

  /**
   * Appends one RTP packet's payload, `payload[off, off + len)`. Hot path: the record is encoded
   * in the ring, nothing else. Never throws on data; problems are counted. `view`/`viewAt`: the
   * payload's memory when the caller has it (a Frame's view, `payload[0]` at `viewAt`).
   */
  append(
    stream: number,
    seq: number,
    ts: number,
    marker: boolean,
    pt: number,
    captureSec: number,
    captureNsec: number,
    payload: Buffer,
    off: number,
    len: number,
    view?: DataView,
    viewAt = 0,
  ): void {
    if (this.state !== OPEN) {
      this.host.counters.inc('spool.append_after_close');
      return;
    }
    if ((stream | 0) !== stream || stream < 0 || stream >= this.streamCount) {
      this.host.counters.inc('spool.bad_stream');
      return;
    }
    if (len > MAX_PAYLOAD || len < 0 || off < 0 || off + len > payload.length) {
      this.host.counters.inc('spool.oversize');
      this.lost++;
      return;
    }
    const w = this.writer;
    const at = w.reserveRecord(this.sid, packetRecordSize(len), this.host.lossless);
    if (at < 0) {
      this.host.counters.inc('spool.ring_full');
      this.lost++;
      return;
    }
    const ring = w.ring;
    writePacketRecord(ring.view, at, stream, seq, ts, marker, pt, captureSec, captureNsec, payload, off, len, view, viewAt);
    ring.commit();
  }

  /** Asks the writer to write this call's batch now (SIGTERM, tests, a planned exit). */
  flush(): void {
    if (this.state === CLOSED) return;
    this.writer.control(MsgKind.Flush, this.sid, null);
  }

  /** Resolves when everything handed over so far has been processed (flushed batches written, or failed). */
  whenWritten(): Promise<void> {
    return this.writer.ticket();
  }

  /** Replaces meta.json (no fsync: it is small, rare, and the final meta is written durably). */
  updateMeta(meta: SpoolCallMeta): void {
    if (this.state !== OPEN) throw new Error(`spool ${this.dir_} is closed`);
    this.meta = meta;
    this.writer.control(MsgKind.Meta, this.sid, lostAndJson(this.lost, meta));
  }

  /** The latest meta given to open/updateMeta/close. */
  get currentMeta(): SpoolCallMeta {
    return this.meta;
  }

  /**
   * Finalizes: the writer writes what is buffered, fsyncs, closes the file, then writes
   * meta.json with state `closed` durably. From then on the spool is a render job's input;
   * appends are counted and ignored.
   */
  close(final?: SpoolCallMeta): Promise<void> {
    if (this.closing !== null) return this.closing;
    if (final !== undefined) this.meta = final;
    this.state = CLOSING;
    const body = final === undefined ? lostAndJson(this.lost, null) : lostAndJson(this.lost, final);
    this.closing = this.writer.close(this.sid, body).then((c) => {
      if (c.dir !== '') this.dir_ = c.dir;
      this.lost = Math.max(this.lost, c.lost);
      this.state = CLOSED;
      this.host.released(this);
    });
    return this.closing;
  }
}

/** u32 lost count, then the meta as JSON (nothing for "keep the latest"). */
function lostAndJson(lost: number, meta: SpoolCallMeta | null): Buffer {
  const json = meta === null ? '' : JSON.stringify(meta);
  const b = Buffer.allocUnsafe(4 + Buffer.byteLength(json));
  b.writeUInt32LE(lost >>> 0, 0);
  b.write(json, 4);
  return b;
}

/** The OPEN message body: wall-clock ms, the request's JSON length, the request, the meta. */
export function openBody(now: number, request: string, meta: SpoolCallMeta): Buffer {
  const req = Buffer.from(request);
  const json = JSON.stringify(meta);
  const b = Buffer.allocUnsafe(12 + req.length + Buffer.byteLength(json));
  b.writeDoubleLE(now, 0);
  b.writeUInt32LE(req.length, 8);
  req.copy(b, 12);
  b.write(json, 12 + req.length);
  return b;
}
