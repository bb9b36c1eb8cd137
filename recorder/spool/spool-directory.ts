/**
 * The spool root: one directory per call (`<root>/<call id>/meta.json` + `media.spool`), the
 * open CallSpools, and the flusher that batches their writes (batches go to the process-wide
 * SpoolWriter's thread, fsyncs through the process-wide FsyncBatcher's: the capture thread
 * neither writes media nor waits for the disk).
 *
 * The flusher ticks every 100 ms of wall time and flushes each spool whose batch is a flush
 * interval (1 s) old. Calls start at different times, so their writes spread over the ticks
 * instead of arriving as one burst a second.
 */
import { mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordingInfo } from '../calls/call-record.js';
import type { Counters } from '../core/counters.js';
import { CallSpool, type ResolvedSpoolOptions, type SpoolHost } from './call-spool.js';
import { FsyncBatcher } from './fsync-batcher.js';
import { SpoolWriter } from './spool-writer.js';
import { MEDIA_FILE, newMetaFile, readMeta, writeMeta, writeMetaSync, type SpoolCallMeta, type SpoolState } from './spool-meta.js';

export interface SpoolOptions {
  /** Flush a call's batch when it is this old (default 1000 ms). */
  flushIntervalMs?: number;
  /** fsync a call's file at most this often (default 1000 ms). */
  fsyncIntervalMs?: number;
  /** Flush a call's batch when it reaches this size (default 64 KiB): bounded memory per call. */
  maxBufferBytes?: number;
  /** Wall clock in ms (default Date.now); tests inject a fake one. */
  now?: () => number;
  /** Default: the process-wide batcher (one worker thread). */
  syncer?: FsyncBatcher;
  /**
   * `worker` (default): batches are sealed and written by the SpoolWriter's thread; `sync`:
   * on the caller's thread (simpler to reason about in a crash test; slower).
   */
  io?: 'worker' | 'sync';
  /** Default: the process-wide writer. */
  writer?: SpoolWriter;
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

export class SpoolDirectory {
  readonly root: string;
  private readonly host: SpoolHost;
  private readonly open_ = new Set<CallSpool>();
  private timer: NodeJS.Timeout | null = null;

  constructor(root: string, counters: Counters, opts: SpoolOptions = {}) {
    this.root = root;
    mkdirSync(root, { recursive: true });
    const options: ResolvedSpoolOptions = {
      flushIntervalMs: opts.flushIntervalMs ?? 1000,
      fsyncIntervalMs: opts.fsyncIntervalMs ?? 1000,
      maxBufferBytes: Math.max(4096, opts.maxBufferBytes ?? 64 * 1024),
      io: opts.io ?? 'worker',
    };
    const now = opts.now ?? Date.now;
    const set = this.open_;
    const syncer = opts.syncer ?? FsyncBatcher.shared();
    this.host = {
      counters,
      options,
      root,
      now,
      sync: (fd, dirs) => syncer.sync(fd, dirs),
      writer: opts.writer ?? SpoolWriter.shared(),
      released: (s: CallSpool): void => {
        set.delete(s);
      },
    };
  }

  /** Creates the call's directory, its media file and meta.json (state `open`). */
  open(meta: SpoolCallMeta): CallSpool {
    const base = safeName(meta.id);
    let dir = '';
    for (let n = 0; ; n++) {
      dir = join(this.root, n === 0 ? base : `${base}-${n}`);
      try {
        mkdirSync(dir);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || n > 1000) throw e;
      }
    }
    // Media file first: a directory with media.spool is a spool even if the crash came before
    // meta.json (listSpools treats it as open and recovery names it after the directory).
    const fd = openSync(join(dir, MEDIA_FILE), 'wx');
    writeMetaSync(dir, newMetaFile(meta, 'open'));
    const spool = new CallSpool(this.host, dir, fd, meta);
    this.open_.add(spool);
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

  /** One flusher pass: flush batches that are due, start due fsyncs. */
  tick(): void {
    const now = this.host.now();
    for (const s of this.open_) s.tick(now);
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

  /** Hands every buffered record to the writer now (SIGTERM, or before a planned exit). */
  flushAll(): void {
    for (const s of this.open_) s.flush();
  }

  /** Resolves when every batch handed over so far is written (or has failed). */
  async whenWritten(): Promise<void> {
    await Promise.all([...this.open_].map((s) => s.whenWritten()));
  }

  /** Finalizes every open spool with its latest meta (SIGTERM). */
  async closeAll(): Promise<void> {
    this.stop();
    await Promise.all([...this.open_].map((s) => s.close()));
  }
}
