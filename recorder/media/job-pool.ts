/**
 * A pool of worker threads running render jobs (DESIGN.md "Runtime model": media work never
 * runs on the capture thread). FIFO queue, one job per worker at a time. A worker that dies
 * fails its job and is replaced. Idle workers are unref'd, so an idle pool never keeps the
 * process alive.
 *
 * Latency is recorded per job (queue wait + render), for metrics: `stats` and `onJobDone`.
 */
import { Worker } from 'node:worker_threads';
import type { RecordingInfo } from '../calls/call-record.js';
import type { RenderOptions } from './render.js';
import type { RenderReply, RenderRequest } from './render-worker.js';
import { workerOptions } from '../core/worker-options.js';

export class RenderJobError extends Error {
  override readonly name = 'RenderJobError';
}

export interface JobTiming {
  spoolDir: string;
  ok: boolean;
  /** From `render()` to the result. */
  latencyMs: number;
  /** Of which waiting in the queue. */
  waitMs: number;
}

export interface MediaJobPoolOptions {
  /** Called after every job (for a Prometheus histogram, logs). */
  onJobDone?: (t: JobTiming) => void;
  /** Worker entry (default: render-worker.js beside this module). */
  workerUrl?: URL;
}

export interface PoolStats {
  submitted: number;
  completed: number;
  failed: number;
  lastLatencyMs: number;
  maxLatencyMs: number;
  totalLatencyMs: number;
  workerRestarts: number;
}

interface Job {
  id: number;
  spoolDir: string;
  opts: RenderOptions;
  queuedAt: number;
  startedAt: number;
  resolve: (info: RecordingInfo) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  /** The worker loaded its modules (it said `ready`): a death before that (a bad entry file) is not retried. */
  online: boolean;
}

export class MediaJobPool {
  readonly size: number;
  private readonly url: URL;
  private readonly onJobDone: ((t: JobTiming) => void) | undefined;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closing = false;
  private drained: (() => void) | null = null;
  readonly stats: PoolStats = {
    submitted: 0,
    completed: 0,
    failed: 0,
    lastLatencyMs: 0,
    maxLatencyMs: 0,
    totalLatencyMs: 0,
    workerRestarts: 0,
  };

  constructor(size = 1, opts: MediaJobPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(size));
    this.url = opts.workerUrl ?? new URL('./render-worker.js', import.meta.url);
    this.onJobDone = opts.onJobDone;
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  /** Jobs waiting for a worker. */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Seconds the oldest waiting job has waited (0 when none waits): how far media work lags the calls. */
  get lagSeconds(): number {
    const oldest = this.queue[0];
    return oldest === undefined ? 0 : (performance.now() - oldest.queuedAt) / 1000;
  }

  /** Jobs being rendered now. */
  get running(): number {
    return this.slots.filter((s) => s.job !== null).length;
  }

  render(spoolDir: string, opts: RenderOptions): Promise<RecordingInfo> {
    if (this.closing) return Promise.reject(new RenderJobError('media job pool is closed'));
    if (this.slots.length === 0) return Promise.reject(new RenderJobError('no render worker could start'));
    this.stats.submitted++;
    return new Promise<RecordingInfo>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, spoolDir, opts, queuedAt: performance.now(), startedAt: 0, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops taking jobs, lets queued and running ones finish, then stops the workers. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.queue.length > 0 || this.running > 0) {
      await new Promise<void>((r) => {
        this.drained = r;
      });
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    const worker = new Worker(this.url, workerOptions());
    const slot: Slot = { worker, job: null, online: false };
    worker.unref();
    worker.on('message', (m: RenderReply) => {
      if ('ready' in m) slot.online = true;
      else this.onReply(slot, m);
    });
    worker.on('error', (e: Error) => this.onDeath(slot, e));
    worker.on('exit', (code) => {
      if (code !== 0 || slot.job !== null) this.onDeath(slot, new RenderJobError(`render worker exited with code ${code}`));
    });
    return slot;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job !== null) continue;
      const job = this.queue.shift();
      if (job === undefined) break;
      slot.job = job;
      job.startedAt = performance.now();
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, spoolDir: job.spoolDir, opts: job.opts } satisfies RenderRequest);
    }
    if (this.closing && this.queue.length === 0 && this.running === 0 && this.drained !== null) {
      const d = this.drained;
      this.drained = null;
      d();
    }
  }

  private finishJob(slot: Slot, ok: boolean): Job | null {
    const job = slot.job;
    if (job === null) return null;
    slot.job = null;
    slot.worker.unref();
    const now = performance.now();
    const latencyMs = now - job.queuedAt;
    const st = this.stats;
    if (ok) st.completed++;
    else st.failed++;
    st.lastLatencyMs = latencyMs;
    st.totalLatencyMs += latencyMs;
    if (latencyMs > st.maxLatencyMs) st.maxLatencyMs = latencyMs;
    this.onJobDone?.({ spoolDir: job.spoolDir, ok, latencyMs, waitMs: job.startedAt - job.queuedAt });
    return job;
  }

  private onReply(slot: Slot, m: Exclude<RenderReply, { ready: true }>): void {
    if (slot.job === null || m.id !== slot.job.id) return;
    const job = this.finishJob(slot, m.ok);
    if (job !== null) {
      if (m.ok) job.resolve(m.info);
      else {
        const e = new RenderJobError(`render of ${job.spoolDir} failed: ${m.error}`);
        if (m.stack !== undefined) e.stack = m.stack;
        job.reject(e);
      }
    }
    this.dispatch();
  }

  private onDeath(slot: Slot, e: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    const job = this.finishJob(slot, false);
    job?.reject(new RenderJobError(`render of ${job.spoolDir} failed: ${e.message}`, { cause: e }));
    void slot.worker.terminate();
    // Replace the worker, unless we are shutting down with nothing left to do, or it never
    // started (respawning a worker that cannot load would spin).
    if (slot.online && (!this.closing || this.queue.length > 0)) {
      this.stats.workerRestarts++;
      this.slots[i] = this.spawn();
    } else this.slots.splice(i, 1);
    if (this.slots.length === 0) {
      for (const j of this.queue.splice(0)) {
        this.stats.failed++;
        j.reject(new RenderJobError(`no render worker left: ${e.message}`, { cause: e }));
      }
    }
    this.dispatch();
  }
}
