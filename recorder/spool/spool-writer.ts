/**
 * Moves the spools' disk writes off the capture thread. A spool hands a batch (its filled
 * chunks, transferred, not copied) to one process-wide worker, which fills the records' CRCs
 * and writes the batch with one writev(2) at the batch's file position, then hands the chunks
 * back for reuse. The capture thread's share of spooling is then the copy of each payload into
 * a chunk; the write syscalls, the copy into the page cache and the CRCs run on another core.
 *
 * Crash model, as before: a batch is on disk (page cache) once its write returned, durable once
 * fsynced. A batch still queued for the worker when the process is killed is lost, like one
 * still in memory; the reader keeps every complete record either way.
 *
 * If the worker cannot start or dies, batches are sealed and written synchronously on the
 * calling thread: spooling never depends on it.
 */
import type { Worker } from 'node:worker_threads';
import { sealAndWrite } from './batch-write.js';
import type { WriteRequest, WriterMessage, WriterReply } from './spool-writer-worker.js';
import { startHelperThread } from '../core/worker-options.js';

/** One batch: whole records in `bufs[i][0, lens[i])`, to be written at `pos`. */
export interface WriteBatch {
  sid: number;
  fd: number;
  pos: number;
  epoch: number;
  bufs: Buffer[];
  lens: number[];
  sealFrom: number;
}

export interface WriteResult {
  ok: boolean;
  /** Not attempted: an earlier batch of the same spool (same epoch) failed. */
  dropped: boolean;
  bytes: number;
  /** The batch's buffers, free to reuse. */
  bufs: Buffer[];
}

interface Pending {
  resolve: (r: WriteResult) => void;
  batch: WriteBatch;
  bytes: number;
}

/**
 * Bytes handed to the worker and not yet written, at most: beyond, batches are written on the
 * calling thread, which slows capture down the way a slow disk always did, instead of letting
 * memory grow without bound.
 */
const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

/** Chunks are this size (a record larger than it gets a buffer of its own). */
export const CHUNK_BYTES = 8 * 1024;
/** Free chunks kept for reuse (16 MiB); beyond, they go back to the allocator. */
const MAX_FREE_CHUNKS = 2048;
const freeChunks: Buffer[] = [];

/** A chunk with its own ArrayBuffer (transferable to the worker). */
export function takeChunk(): Buffer {
  return freeChunks.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
}

export function returnChunks(bufs: readonly Buffer[]): void {
  for (const b of bufs) if (b.length === CHUNK_BYTES && b.byteOffset === 0 && freeChunks.length < MAX_FREE_CHUNKS) freeChunks.push(b);
}

/** Writes a batch on this thread (the fallback, and the `sync` spool mode). */
export function writeBatchSync(b: WriteBatch): WriteResult {
  const r = sealAndWrite(
    b.fd,
    b.bufs.map((x, i) => x.subarray(0, b.lens[i])),
    b.pos,
    b.sealFrom,
  );
  return { ...r, dropped: false, bufs: b.bufs };
}

export class SpoolWriter {
  private static instance: SpoolWriter | null = null;

  static shared(): SpoolWriter {
    return (SpoolWriter.instance ??= new SpoolWriter());
  }

  private worker: Worker | null = null;
  private broken = false;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private inFlightBytes = 0;
  private outgoing: WriteRequest[] = [];
  private forgotten: number[] = [];
  private sendScheduled = false;
  /** Spools whose batches failed in the synchronous fallback: same epoch rule as the worker. */
  private readonly failedSync = new Map<number, number>();
  readonly stats = { batches: 0, workerErrors: 0, overflowSync: 0 };

  constructor(private readonly url = new URL('./spool-writer-worker.js', import.meta.url)) {}

  /** Batches handed over and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  write(batch: WriteBatch): Promise<WriteResult> {
    this.stats.batches++;
    const w = this.broken ? null : this.ensureWorker();
    if (w === null) return Promise.resolve(this.writeFallback(batch));
    let bytes = 0;
    for (const n of batch.lens) bytes += n;
    if (this.inFlightBytes + bytes > MAX_IN_FLIGHT_BYTES) {
      this.stats.overflowSync++;
      return Promise.resolve(this.writeFallback(batch));
    }
    this.inFlightBytes += bytes;
    return new Promise<WriteResult>((resolve) => {
      const id = ++this.nextId;
      this.pending.set(id, { resolve, batch, bytes });
      const bufs = batch.bufs.map((b) => b.buffer as ArrayBuffer);
      this.outgoing.push({ id, sid: batch.sid, fd: batch.fd, pos: batch.pos, epoch: batch.epoch, bufs, lens: batch.lens, sealFrom: batch.sealFrom });
      this.schedule(w);
    });
  }

  /** The spool is closed: its failure record can go. */
  forget(sid: number): void {
    this.failedSync.delete(sid);
    if (this.worker !== null) {
      this.forgotten.push(sid);
      this.schedule(this.worker);
    }
  }

  /** Everything handed over in this turn of the event loop goes to the worker as one message. */
  private schedule(w: Worker): void {
    if (this.sendScheduled) return;
    this.sendScheduled = true;
    w.ref();
    setImmediate(() => {
      this.sendScheduled = false;
      if (this.worker !== w) return; // died meanwhile: died() answered the pending batches
      const writes = this.outgoing;
      const forget = this.forgotten;
      this.outgoing = [];
      this.forgotten = [];
      if (writes.length === 0 && forget.length === 0) return;
      const transfer: ArrayBuffer[] = [];
      for (const r of writes) for (const b of r.bufs) transfer.push(b);
      w.postMessage({ writes, forget } satisfies WriterMessage, transfer);
      if (this.pending.size === 0) w.unref();
    });
  }

  private writeFallback(batch: WriteBatch): WriteResult {
    const f = this.failedSync.get(batch.sid);
    if (f !== undefined && batch.epoch <= f) return { ok: false, dropped: true, bytes: 0, bufs: batch.bufs };
    const r = writeBatchSync(batch);
    if (!r.ok) this.failedSync.set(batch.sid, batch.epoch);
    return r;
  }

  private ensureWorker(): Worker | null {
    if (this.worker !== null) return this.worker;
    const w = startHelperThread<Exclude<WriterReply, { ready: true }>>(
      this.url,
      (m, self) => {
        for (const d of m.done) {
          const p = this.pending.get(d.id);
          if (p === undefined) continue;
          this.pending.delete(d.id);
          this.inFlightBytes -= p.bytes;
          p.resolve({ ok: d.ok, dropped: d.dropped, bytes: d.bytes, bufs: d.bufs.map((ab) => Buffer.from(ab)) });
        }
        if (this.pending.size === 0) self.unref();
      },
      (dead) => this.died(dead),
    );
    if (w === null) {
      this.broken = true;
      this.stats.workerErrors++;
    }
    this.worker = w;
    return w;
  }

  /**
   * The worker died. Its queued batches were transferred to it and are gone with it: they are
   * reported as failed (their packets counted lost), and from now on batches are written here.
   */
  private died(w: Worker): void {
    if (w !== this.worker) return;
    this.worker = null;
    this.broken = true;
    this.stats.workerErrors++;
    const lost = [...this.pending.values()];
    this.pending.clear();
    this.outgoing = [];
    this.forgotten = [];
    this.inFlightBytes = 0;
    for (const p of lost) {
      this.failedSync.set(p.batch.sid, Math.max(this.failedSync.get(p.batch.sid) ?? -1, p.batch.epoch));
      p.resolve({ ok: false, dropped: false, bytes: 0, bufs: [] });
    }
  }
}
