/**
 * The spool root: one directory per call (`<root>/<call id>/meta.json` + `media.spool`) and the
 * open CallSpools. Everything that touches the disk for an open call (creating its files,
 * batches, meta updates, fsyncs, the close) runs in the process-wide SpoolWriter's thread,
 * which gets it through one shared ring (spool-writer.ts): the capture thread neither writes
 * nor waits for the disk.
 *
 * The flusher ticks every 100 ms of wall time: one message telling the writer the time, which
 * then writes each of this directory's batches that is a flush interval (1 s) old and starts
 * the due fsyncs. Calls start at different times, so their writes spread over the ticks
 * instead of arriving as one burst a second.
 */
import { mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordingInfo } from '../calls/call-record.js';
import type { Counters } from '../core/counters.js';
import { CallSpool, openBody, type ResolvedSpoolOptions, type SpoolHost } from './call-spool.js';
import type { SpoolOpenRequest } from './spool-consumer.js';
import { FsyncBatcher } from './fsync-batcher.js';
import { MsgKind } from './spool-ring.js';
import { SpoolWriter } from './spool-writer.js';
import { MEDIA_FILE, newMetaFile, readMeta, writeMeta, type SpoolCallMeta, type SpoolState } from './spool-meta.js';

export interface SpoolOptions {
  /** Flush a call's batch when it is this old (default 1000 ms). */
  flushIntervalMs?: number;
  /** fsync a call's file at most this often (default 1000 ms). */
  fsyncIntervalMs?: number;
  /**
   * Default true: when an fsync batch (the fsyncs due at one tick) holds 16 or more of this
   * root's files and directories, one syncfs(2) of its filesystem makes them durable
   * (fsync-worker.ts; Linux 5.17 or later; after a failed syncfs the root goes back to fsyncs). It also
   * writes back every other dirty file there: false keeps an fsync per file, for a spool that
   * shares its filesystem with other busy writers.
   */
  syncfs?: boolean;
  /** Flush a call's batch when it reaches this size (default 64 KiB): bounded memory per call. */
  maxBufferBytes?: number;
  /** Wall clock in ms (default Date.now); tests inject a fake one. */
  now?: () => number;
  /** fsyncs of `sync` mode (default: the process-wide batcher; the writer thread has its own). */
  syncer?: FsyncBatcher;
  /**
   * `worker` (default): the process-wide SpoolWriter's thread does the I/O; `sync`: this
   * directory gets its own ring, consumed on the caller's thread at once (syscalls can be
   * counted and failures injected in a test; slower).
   */
  io?: 'worker' | 'sync';
  /** Default: the process-wide writer (`worker` mode), a private in-thread one (`sync`). */
  writer?: SpoolWriter;
  /**
   * Replay: when the writer thread falls behind, this directory's calls wait for it instead of
   * dropping packets (SpoolWriter.reserveRecord's `wait`).
   */
  lossless?: boolean;
}

/**
 * An fd of the spool root, opened before any call's files exist, through which the fsync
 * worker's syncfs sees the first writeback error on the filesystem from then on (syncfs reports
 * an error once per fd: fsync-worker.ts). One per SpoolDirectory, used by its writer's batcher
 * alone, so no other batcher can use up an error it must see. Never closed: a reused fd number
 * could make a syncfs sync another filesystem. -1 if the root cannot be opened (then every file
 * is fsync'd).
 */
function openForSyncfs(root: string): number {
  try {
    return openSync(root, 'r');
  } catch {
    return -1;
  }
}

export interface SpoolEntry {
  dir: string;
  /** `open` also when meta.json is missing or unreadable (a crash right after the call began). */
  state: SpoolState;
}

/** Spool directories under `root` and their states, sorted by name (call ids sort by start time). */
export function listSpools(root: string): SpoolEntry[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const out: SpoolEntry[] = [];
  for (const name of names.sort()) {
    const dir = join(root, name);
    try {
      if (!statSync(dir).isDirectory()) continue;
      statSync(join(dir, MEDIA_FILE));
    } catch {
      continue;
    }
    out.push({ dir, state: readMeta(dir)?.state ?? 'open' });
  }
  return out;
}

/** Records the render's result in meta.json (state `done`), durably. */
export async function markRendered(dir: string, recording: RecordingInfo, recovered = false): Promise<void> {
  const m = readMeta(dir) ?? newMetaFile({ id: dirName(dir), callId: '', record: null }, 'done');
  m.state = 'done';
  m.recording = recording;
  if (recovered) m.recovered = true;
  await writeMeta(dir, m);
}

/** Records a failed render (state `failed`), so that start-up recovery does not retry it forever. */
export async function markFailed(dir: string, error: string): Promise<void> {
  const m = readMeta(dir) ?? newMetaFile({ id: dirName(dir), callId: '', record: null }, 'failed');
  m.state = 'failed';
  m.error = error;
  await writeMeta(dir, m);
}

const dirName = (dir: string): string => dir.split(/[\\/]/).filter(Boolean).pop() ?? dir;

/** A call id as one safe path component. */
function safeName(id: string): string {
  const s = id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200);
  return s === '' || s === '.' || s === '..' ? 'call' : s;
}

/** Ring of a `sync`-mode directory: consumed at once, so small. */
const SYNC_RING_BYTES = 1 << 20;

export class SpoolDirectory {
  readonly root: string;
  private readonly host: SpoolHost;
  private readonly options: ResolvedSpoolOptions;
  private readonly now: () => number;
  private readonly writer: SpoolWriter;

  /** The writer (and ring) this directory's calls spool through. */
  get ringWriter(): SpoolWriter {
    return this.writer;
  }
  private readonly dirId: number;
  private readonly open_ = new Set<CallSpool>();
  /**
   * Directory names in use: what the root held at start and the open calls'. The name is
   * chosen here without a syscall; a name taken behind our back gets a suffix in the writer.
   */
  private readonly taken: Set<string>;
  private readonly names = new Map<CallSpool, string>();
  private timer: NodeJS.Timeout | null = null;
  private readonly tickBody = Buffer.alloc(8);
  /** The root, opened for syncfs (openForSyncfs); -1 with `syncfs: false` or when it cannot be. */
  private readonly syncfsFd: number;

  constructor(root: string, counters: Counters, opts: SpoolOptions = {}) {
    this.root = root;
    mkdirSync(root, { recursive: true });
    this.taken = new Set(readdirSync(root));
    this.options = {
      flushIntervalMs: opts.flushIntervalMs ?? 1000,
      fsyncIntervalMs: opts.fsyncIntervalMs ?? 1000,
      maxBufferBytes: Math.max(4096, opts.maxBufferBytes ?? 64 * 1024),
      io: opts.io ?? 'worker',
    };
    this.syncfsFd = opts.syncfs === false ? -1 : openForSyncfs(root);
    this.now = opts.now ?? Date.now;
    if (opts.writer !== undefined) this.writer = opts.writer;
    else if (this.options.io === 'sync') {
      const syncer = opts.syncer ?? FsyncBatcher.shared();
      this.writer = new SpoolWriter({ inThread: true, ringBytes: SYNC_RING_BYTES, sync: (fd, dirs, via) => syncer.sync(fd, dirs, via) });
    } else this.writer = SpoolWriter.shared();
    this.dirId = this.writer.register(counters);
    const set = this.open_;
    const names = this.names;
    const taken = this.taken;
    this.host = {
      counters,
      writer: this.writer,
      lossless: opts.lossless === true,
      released: (s: CallSpool): void => {
        set.delete(s);
        const n = names.get(s);
        names.delete(s);
        if (n !== undefined) taken.delete(n);
      },
    };
  }

  /** Opens the call's spool; its directory, media file and meta.json (state `open`) are created by the writer. */
  open(meta: SpoolCallMeta): CallSpool {
    const base = safeName(meta.id);
    let name = base;
    for (let n = 1; this.taken.has(name); n++) name = `${base}-${n}`;
    this.taken.add(name);
    const dir = join(this.root, name);
    const spool = new CallSpool(this.host, dir, meta);
    const o = this.options;
    const req: SpoolOpenRequest = { dir, root: this.root, dirId: this.dirId, flushIntervalMs: o.flushIntervalMs, fsyncIntervalMs: o.fsyncIntervalMs, syncfsFd: this.syncfsFd, maxBufferBytes: o.maxBufferBytes };
    this.writer.control(MsgKind.Open, spool.sid, openBody(this.now(), JSON.stringify(req), meta));
    this.open_.add(spool);
    this.names.set(spool, name);
    this.host.counters.inc('spool.calls_opened');
    return spool;
  }

  get openCount(): number {
    return this.open_.size;
  }

  /** Call directories not finalized and not open here: at start-up, the leftovers of a crash. */
  pending(): string[] {
    const mine = new Set([...this.open_].map((s) => s.dir));
    return listSpools(this.root)
      .filter((e) => e.state === 'open' && !mine.has(e.dir))
      .map((e) => e.dir);
  }

  /** Finalized spools whose render has not been recorded (a crash between close and render). */
  unrendered(): string[] {
    return listSpools(this.root)
      .filter((e) => e.state === 'closed')
      .map((e) => e.dir);
  }

  /** One flusher pass: the writer flushes this directory's batches that are due and starts due fsyncs. */
  tick(): void {
    this.tickBody.writeDoubleLE(this.now(), 0);
    this.writer.control(MsgKind.Tick, this.dirId, this.tickBody);
  }

  /** Starts the wall-clock flusher (unref'd: it never keeps the process alive). */
  start(tickMs = 100): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Has the writer write every buffered record now (SIGTERM, or before a planned exit). */
  flushAll(): void {
    for (const s of this.open_) s.flush();
  }

  /** Resolves when everything handed over so far is processed (flushed batches written, or failed). */
  async whenWritten(): Promise<void> {
    await this.writer.ticket();
  }

  /** Finalizes every open spool with its latest meta (SIGTERM). */
  async closeAll(): Promise<void> {
    this.stop();
    await Promise.all([...this.open_].map((s) => s.close()));
  }
}
