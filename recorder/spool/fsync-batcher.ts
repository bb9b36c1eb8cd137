/**
 * fsync for every open spool, batched through one worker thread.
 *
 * Why not fs.fsync per file: each runs in libuv's 4-thread pool, which the capture thread also
 * needs for its own file I/O; a thousand calls on a slow disk would keep that pool busy all the
 * time. And every completion wakes the event loop with a write(2) to an eventfd, which nearly
 * doubles the write syscalls per call. Here the requests of one flusher tick form one batch,
 * the worker makes them durable (one syncfs per spool root with many files in the batch, else
 * fsync each: fsync-worker.ts), and one message comes back. A slow disk makes batches slower, never more
 * numerous (a file is in at most one batch at a time).
 *
 * One batcher serves the whole process (`FsyncBatcher.shared`): one extra thread, idle and
 * unref'd between batches. If the worker cannot run, the batcher falls back to fs.fsync, so
 * durability never depends on it.
 */
import fs from 'node:fs';
import type { Worker } from 'node:worker_threads';
import type { FsyncReply, FsyncRequest, SyncGroup } from './fsync-worker.js';
import { startHelperThread } from '../core/worker-options.js';

/**
 * Files and directories of one spool root in a batch (the fsyncs due at one 100-ms flusher
 * tick) from which one syncfs is cheaper than their fsyncs.
 */
export const DEFAULT_SYNCFS_MIN = 16;

interface Waiter {
  fd: number;
  dirs: string[];
  /** A spool root's fd through which a syncfs may stand in for this fsync; -1: fsync it. */
  via: number;
  resolve: (ok: boolean) => void;
}

export class FsyncBatcher {
  private static instance: FsyncBatcher | null = null;

  /** The process-wide batcher. */
  static shared(): FsyncBatcher {
    return (FsyncBatcher.instance ??= new FsyncBatcher());
  }

  private readonly url: URL;
  private worker: Worker | null = null;
  private broken = false;
  private next: Waiter[] = [];
  private inFlight: Waiter[] | null = null;
  private batchId = 0;
  private kickScheduled = false;
  private closed = false;
  /** Batches sent to the worker; times the worker failed (then fs.fsync took over); syncfs calls made, and failed. */
  readonly stats = { batches: 0, workerErrors: 0, syncfs: 0, syncfsErrors: 0 };
  private readonly syncfsMin: number;

  /**
   * `syncfsMin`: from this many files and directories of one spool root in a batch, one
   * syncfs(2) replaces their fsyncs (fsync-worker.ts); a few calls keep per-file fsyncs, which
   * do not flush unrelated files sharing the filesystem.
   */
  constructor(workerUrl = new URL('./fsync-worker.js', import.meta.url), syncfsMin = DEFAULT_SYNCFS_MIN) {
    this.url = workerUrl;
    this.syncfsMin = syncfsMin;
  }

  /**
   * fsync `fd` (then each of `dirs`) in the next batch; resolves false if it failed. `via`: an
   * fd opened on the same filesystem before `fd` was (a spool root), through which one syncfs
   * may make the batch's files durable; -1: never through a syncfs.
   */
  sync(fd: number, dirs: string[] = [], via = -1): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.next.push({ fd, dirs, via, resolve });
      // Requests of the same tick of the event loop go out together.
      if (!this.kickScheduled) {
        this.kickScheduled = true;
        setImmediate(() => {
          this.kickScheduled = false;
          this.kick();
        });
      }
    });
  }

  /** Batches in flight or waiting. */
  get pending(): number {
    return this.next.length + (this.inFlight?.length ?? 0);
  }

  /** Waits for nothing to be in flight, then stops the worker (a later sync starts a new one). */
  async close(): Promise<void> {
    this.closed = true;
    while (this.pending > 0) await new Promise((r) => setTimeout(r, 5));
    const w = this.worker;
    this.worker = null;
    if (w !== null) await w.terminate();
    this.closed = false;
  }

  private kick(): void {
    if (this.inFlight !== null || this.next.length === 0) return;
    const batch = this.next;
    this.next = [];
    const w = this.broken ? null : this.ensureWorker();
    if (w === null) {
      this.fallback(batch);
      return;
    }
    this.inFlight = batch;
    this.stats.batches++;
    // One group per spool root (new calls name the root among their directories: once each).
    const groups = new Map<number, { fds: number[]; dirs: Set<string> }>();
    for (const b of batch) {
      let g = groups.get(b.via);
      if (g === undefined) groups.set(b.via, (g = { fds: [], dirs: new Set() }));
      g.fds.push(b.fd);
      for (const d of b.dirs) g.dirs.add(d);
    }
    const sent: SyncGroup[] = [...groups].map(([via, g]) => ({ via, fds: g.fds, dirs: [...g.dirs] }));
    w.ref();
    w.postMessage({ id: ++this.batchId, groups: sent, syncfsMin: this.syncfsMin } satisfies FsyncRequest);
  }

  private ensureWorker(): Worker | null {
    if (this.worker !== null) return this.worker;
    const w = startHelperThread<Exclude<FsyncReply, { ready: true }>>(
      this.url,
      (m) => {
        this.stats.syncfs += m.syncfs;
        this.stats.syncfsErrors += m.syncfsErrors;
        this.done(m.id, m.failedFds, m.failedDirs);
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

  private done(id: number, failedFds: number[], failedDirs: number): void {
    const batch = this.inFlight;
    if (batch === null || id !== this.batchId) return;
    this.inFlight = null;
    this.worker?.unref();
    // A directory that failed fails every request that named it.
    const failed = new Set(failedFds);
    for (const b of batch) b.resolve(!failed.has(b.fd) && (failedDirs === 0 || b.dirs.length === 0));
    this.kick();
  }

  /** The worker died (or could not load): redo its batch with fs.fsync and stop using workers. */
  private died(w: Worker): void {
    if (w !== this.worker) return;
    this.worker = null;
    if (!this.closed) {
      this.broken = true;
      this.stats.workerErrors++;
    }
    const batch = this.inFlight;
    this.inFlight = null;
    if (batch !== null) this.fallback(batch);
    this.kick();
  }

  private fallback(batch: Waiter[]): void {
    for (const b of batch) {
      fs.fsync(b.fd, (err) => {
        let pending = b.dirs.length;
        if (pending === 0) b.resolve(err === null);
        for (const d of b.dirs) {
          fs.open(d, 'r', (e, dfd) => {
            if (e !== null) {
              if (--pending === 0) b.resolve(err === null);
              return;
            }
            fs.fsync(dfd, () => fs.close(dfd, () => (--pending === 0 ? b.resolve(err === null) : undefined)));
          });
        }
      });
    }
  }
}
