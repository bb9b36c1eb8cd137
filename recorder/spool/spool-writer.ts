/**
 * Moves the spools' disk work off the capture thread. Every spool of the process appends its
 * records, and small control messages (open a call, replace its meta, flush, close, directory
 * ticks), to one shared-memory ring (spool-ring.ts); one worker thread consumes the ring
 * (spool-consumer.ts): it creates the calls' files, demultiplexes records per call, seals the
 * CRCs and writes each call's batch with one writev(2). The capture thread's share of spooling
 * is then encoding each record into the ring: no syscall, no postMessage, no per-call buffer.
 *
 * Answers come back as one message per consumer pass: counter deltas, answered tickets
 * (whenWritten) and finalized calls (close).
 *
 * Ring full (the writer cannot keep up): the capture thread never blocks and never buffers
 * without bound. Packets are dropped and counted (`spool.ring_full`, and lost records of the
 * call, shown in its recording's notes); control messages, rare and small, wait in a queue in
 * order, and packets are dropped while it is not empty so that no call's records get reordered.
 *
 * Crash model, as before: a record is on disk (page cache) once the writer wrote its batch,
 * about a second after it arrived; durable once fsynced. Records still in the ring when the
 * process is killed are lost like records in memory; the reader keeps every complete record.
 *
 * If the worker cannot start or dies, the ring is consumed on the calling thread from then on
 * (as in `sync` mode). Calls the dead worker knew are finalized by start-up recovery.
 */
import type { Worker } from 'node:worker_threads';
import type { Counters } from '../core/counters.js';
import { startHelperThread } from '../core/worker-options.js';
import { FsyncBatcher } from './fsync-batcher.js';
import { SpoolConsumer, type ClosedSpool, type SpoolReport } from './spool-consumer.js';
import { MsgKind, RingConsumer, RingProducer, newRingMemory, type RingMemory } from './spool-ring.js';
import type { WriterInit } from './spool-writer-worker.js';

export interface SpoolWriterOptions {
  /**
   * Ring size in bytes, a power of two. Default 16 MiB: about 80 ms of 1 M packets/s of G.711,
   * 0.8 s at 100k; measured no drops in the 300-call replay at 16 MiB or 32 MiB, and the ring
   * is resident memory once it has wrapped.
   */
  ringBytes?: number;
  /** The worker's entry (tests substitute one). */
  url?: URL;
  /** Lossless mode gives up (drops, counted) after the writer thread made no progress this long (default 10 s). */
  stallLimitMs?: number;
  /** Consume the ring on this thread, synchronously (`sync` spool mode). */
  inThread?: boolean;
  /** fsync for the in-thread consumer (the worker uses its own FsyncBatcher). */
  sync?: (fd: number, dirs: string[], via: number) => Promise<boolean>;
  /** false: the in-thread consumer does without the native record loop (tests compare both). */
  native?: boolean;
}

interface Queued {
  kind: MsgKind;
  id: number;
  body: Buffer;
}

const DEFAULT_RING = 16 * 1024 * 1024;
/** Lossless mode: wait for the consumer in slices of this long. */
const LOSSLESS_WAIT_MS = 50;

export class SpoolWriter {
  private static instance: SpoolWriter | null = null;

  /** The process-wide writer (one ring, one worker thread). */
  static shared(): SpoolWriter {
    return (SpoolWriter.instance ??= new SpoolWriter());
  }

  readonly ring: RingProducer;
  private readonly mem: RingMemory;
  /** Packets leave this much of the ring to control messages. */
  private readonly headroom: number;
  private readonly stallLimitMs: number;
  /** Lossless mode gave up while the consumer stood at this read index (-1: it did not). */
  private stuckAt = -1;
  private readonly url: URL;
  private readonly syncFn: (fd: number, dirs: string[], via: number) => Promise<boolean>;
  private readonly native: boolean;
  private worker: Worker | null = null;
  private started = false;
  private consumer: SpoolConsumer | null = null;
  private pumping = false;
  private retry: NodeJS.Timeout | null = null;
  private readonly queue: Queued[] = [];
  private readonly dirs = new Map<number, Counters>();
  private nextDir = 1;
  private nextTicket = 0;
  private acked = 0;
  private waiters: { ticket: number; resolve: () => void }[] = [];
  private readonly closing = new Map<number, (c: ClosedSpool) => void>();
  /** batches: writes done by the consumer; ringFull: packets dropped because the ring was full. */
  readonly stats = { batches: 0, workerErrors: 0, ringFull: 0 };

  constructor(opts: SpoolWriterOptions = {}) {
    this.mem = newRingMemory(opts.ringBytes ?? DEFAULT_RING);
    this.ring = new RingProducer(this.mem);
    this.headroom = this.ring.size >>> 4;
    this.stallLimitMs = opts.stallLimitMs ?? 10_000;
    this.url = opts.url ?? new URL('./spool-writer-worker.js', import.meta.url);
    this.syncFn = opts.sync ?? ((fd, dirs, via): Promise<boolean> => FsyncBatcher.shared().sync(fd, dirs, via));
    this.native = opts.native ?? true;
    if (opts.inThread === true) this.consumeHere();
  }

  /** Space packets leave free for control messages (the native fast path reserves as reserveRecord does). */
  get packetHeadroom(): number {
    return this.headroom;
  }

  /** No control message waits for ring space (packets may go into the ring directly). */
  get queueEmpty(): boolean {
    return this.queue.length === 0;
  }

  /** A directory's counters receive the consumer's counts for its calls. */
  register(counters: Counters): number {
    const id = this.nextDir++;
    this.dirs.set(id, counters);
    return id;
  }

  /**
   * Reserves a Record message of `body` bytes for spool `sid`; returns where to encode it in
   * `ring.buf` (then `ring.commit()`), or -1 when it must be dropped (ring full). Hot path.
   * `wait`: with the ring full, wait for the writer thread instead of dropping — for a replay,
   * where the file can wait and every packet must reach its recording; a live capture drops and
   * counts (it must not fall behind the wire).
   */
  reserveRecord(sid: number, body: number, wait = false): number {
    for (let stalls = 0; ; ) {
      if (this.queue.length === 0 || this.drainQueue()) {
        const at = this.ring.begin(MsgKind.Record, sid, body, this.headroom);
        if (at >= 0) return at;
        if (this.consumer !== null) {
          this.pump();
          return this.ring.begin(MsgKind.Record, sid, body, 0);
        }
      }
      // Lossless (a replay): wait for the writer thread; give up only if it stops moving.
      if (!wait || this.worker === null) break;
      // Once given up, drop at once until the writer thread moves again.
      if (this.stuckAt !== -1 && this.ring.consumed === this.stuckAt) break;
      this.stuckAt = -1;
      if (stalls * LOSSLESS_WAIT_MS >= this.stallLimitMs) {
        this.stuckAt = this.ring.consumed;
        break;
      }
      stalls = this.ring.waitForConsumer(LOSSLESS_WAIT_MS) ? 0 : stalls + 1;
    }
    this.stats.ringFull++;
    return -1;
  }

  /** Sends a control message (never dropped: queued in order while the ring is full). */
  control(kind: MsgKind, id: number, body: Buffer | null): void {
    this.ensureConsumer();
    const b = body ?? EMPTY;
    if (!this.drainQueue() || !this.put(kind, id, b)) {
      this.queue.push({ kind, id, body: Buffer.from(b) });
      this.retryLater();
    }
    if (this.consumer !== null) {
      this.pump();
      this.drainQueue();
    } else this.ring.bell();
  }

  /** The queue waits for the worker to free space: try again shortly, without waiting for another message. */
  private retryLater(): void {
    if (this.retry !== null || this.consumer !== null) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (!this.drainQueue()) this.retryLater();
      this.ring.bell();
    }, 2);
    this.retry.unref();
  }

  /** Resolves once the consumer has processed every message sent before (batches flushed then are written). */
  ticket(): Promise<void> {
    const t = ++this.nextTicket;
    const p = new Promise<void>((resolve) => this.waiters.push({ ticket: t, resolve }));
    this.refresh();
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(t >>> 0, 0);
    this.control(MsgKind.Ticket, 0, b);
    return p;
  }

  /** Sends a Close message; resolves when the call's spool is finalized. */
  close(sid: number, body: Buffer): Promise<ClosedSpool> {
    const p = new Promise<ClosedSpool>((resolve) => this.closing.set(sid, resolve));
    this.refresh();
    this.control(MsgKind.Close, sid, body);
    return p;
  }

  /** Writes queued control messages into the ring while they fit; true when the queue is empty. */
  drainQueue(): boolean {
    while (this.queue.length > 0) {
      const q = this.queue[0]!;
      if (!this.put(q.kind, q.id, q.body)) {
        if (this.consumer === null) return false;
        this.pump();
        if (!this.put(q.kind, q.id, q.body)) return false;
      }
      this.queue.shift();
    }
    return true;
  }

  private put(kind: MsgKind, id: number, body: Buffer): boolean {
    const at = this.ring.begin(kind, id, body.length, 0);
    if (at < 0) return false;
    body.copy(this.ring.buf, at);
    this.ring.commit();
    return true;
  }

  /** Stops the worker (tests; a later message starts nothing: the ring is then consumed here). */
  async terminate(): Promise<void> {
    const w = this.worker;
    if (w === null) return;
    w.ref();
    await w.terminate();
    this.died(w);
  }

  private ensureConsumer(): void {
    if (this.started) return;
    this.started = true;
    const w = startHelperThread<SpoolReport>(
      this.url,
      (r) => this.apply(r),
      (dead) => this.died(dead),
    );
    if (w === null) {
      this.stats.workerErrors++;
      this.consumeHere();
      return;
    }
    this.worker = w;
    w.postMessage({ ring: this.mem } satisfies WriterInit);
    // Adding the message listener ref'd the thread again: idle, it must not keep the process alive.
    this.refresh();
  }

  private consumeHere(): void {
    this.started = true;
    this.consumer = new SpoolConsumer(
      new RingConsumer(this.mem),
      {
        sync: this.syncFn,
        report: (r) => this.apply(r),
        reportMs: 0,
      },
      { native: this.native },
    );
  }

  /** In-thread consumption (re-entrant calls, from a report's callbacks, wait for the outer pass). */
  pump(): void {
    if (this.consumer === null || this.pumping) return;
    this.pumping = true;
    try {
      this.ring.publish();
      this.consumer.pump();
    } finally {
      this.pumping = false;
    }
  }

  private apply(r: SpoolReport): void {
    for (const [d, name, n] of r.counters) this.dirs.get(d)?.inc(name, n);
    this.stats.batches += r.batches;
    for (const c of r.closed) {
      const f = this.closing.get(c.sid);
      this.closing.delete(c.sid);
      f?.(c);
    }
    if (r.ticket !== this.acked) {
      this.acked = r.ticket;
      // Tickets are answered in order; compare as 32-bit serial numbers.
      const keep: typeof this.waiters = [];
      for (const w of this.waiters) if (((this.acked - w.ticket) | 0) >= 0) w.resolve();
      else keep.push(w);
      this.waiters = keep;
    }
    this.refresh();
  }

  /** The worker keeps the process alive only while someone waits for an answer. */
  private refresh(): void {
    const w = this.worker;
    if (w === null) return;
    if (this.waiters.length > 0 || this.closing.size > 0) w.ref();
    else w.unref();
  }

  /**
   * The worker died (or could not load). What it had buffered is lost; its calls stay `open`
   * on disk, for start-up recovery. Their waiters are answered; the ring is consumed here from now on.
   */
  private died(w: Worker): void {
    if (w !== this.worker) return;
    this.worker = null;
    this.stats.workerErrors++;
    this.consumeHere();
    const closing = [...this.closing];
    this.closing.clear();
    for (const [sid, f] of closing) f({ sid, dir: '', lost: 0 });
    this.pump();
    this.drainQueue();
    for (const x of this.waiters) x.resolve();
    this.waiters = [];
  }
}

const EMPTY = Buffer.alloc(0);
