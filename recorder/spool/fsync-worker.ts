/**
 * Worker-thread entry of FsyncBatcher: makes a batch of file descriptors (and directories, for
 * new entries) durable and answers once per batch. File descriptors are per process, so the
 * main thread's open spools can be synced from here.
 *
 * One fsync(2) per file is one device cache flush (and on a journaling filesystem one commit)
 * per file: with thousands of open calls, thousands per second. A batch comes in groups, one
 * per spool root: when a group holds at least `syncfsMin` files and directories, one syncfs(2)
 * (native/pcap/fs_sync.c) through the root's fd, then an fsync of that fd, make all of them
 * durable at once (the fsync's cache flush comes after every block syncfs wrote: ext4 without a
 * journal flushes before it writes inode and directory blocks).
 *
 * Errors: syncfs reports a writeback error on the filesystem once per fd, the first time it is
 * called after the error (errseq, Linux ≥ 5.8; the filesystem's own sync result only since
 * 5.17, so older kernels get no syncfs here). The root's fd was opened before any of its files,
 * so the first error on any of them is seen. The batch that sees it fsyncs its files one by one,
 * to name the failed ones; the error is then used up for that fd, while it may belong to a file
 * of a later batch, so the root gets no syncfs again: from then on every file is fsync'd, and an
 * fsync reports the errors of its own file since the file was opened.
 */
import { closeSync, fstatSync, fsyncSync, openSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { loadAddon } from '../capture/live-source.js';

/** Files and directories of one spool root. */
export interface SyncGroup {
  /** The root's fd (opened before these files), for syncfs; -1: fsync each. */
  via: number;
  fds: number[];
  dirs: string[];
}

export interface FsyncRequest {
  id: number;
  groups: SyncGroup[];
  /** Files and directories in a group from which one syncfs replaces their fsyncs. */
  syncfsMin: number;
}

export type FsyncReply = { id: number; failedFds: number[]; failedDirs: number; syncfs: number; syncfsErrors: number } | { ready: true };

export interface SyncOutcome {
  failedFds: number[];
  failedDirs: number;
  /** syncfs calls made (0: every file was fsync'd on its own). */
  syncfs: number;
  /** syncfs calls that failed (their roots get per-file fsyncs from then on). */
  syncfsErrors: number;
}

/** syncfs(2) of the filesystem holding fd: 0 or -errno. */
export type SyncFs = (fd: number) => number;

function fsyncOk(fd: number): boolean {
  try {
    fsyncSync(fd);
    return true;
  } catch {
    return false;
  }
}

function fsyncDirOk(dir: string): boolean {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch {
    return false;
  }
}

/** The filesystem (device) of an fd or a path; -1 when it cannot be read. */
function deviceOf(x: number | string): number {
  try {
    return typeof x === 'number' ? fstatSync(x).dev : statSync(x).dev;
  } catch {
    return -1;
  }
}

/** [those for which `on` holds, the others]. */
function partition<T>(xs: T[], on: (x: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const x of xs) (on(x) ? yes : no).push(x);
  return [yes, no];
}

/**
 * Makes the batch durable: per group one syncfs through its `via` when the group is large
 * enough, for the files and directories on via's filesystem (a mount below the root is not);
 * everything else, and a group whose syncfs failed, is fsync'd one by one.
 */
export function syncBatch(groups: SyncGroup[], syncfsMin: number, syncFs: SyncFs | null, failedRoots: Set<number>): SyncOutcome {
  const out: SyncOutcome = { failedFds: [], failedDirs: 0, syncfs: 0, syncfsErrors: 0 };
  const each = (fds: number[], dirs: string[]): void => {
    for (const fd of fds) if (!fsyncOk(fd)) out.failedFds.push(fd);
    for (const d of dirs) if (!fsyncDirOk(d)) out.failedDirs++;
  };
  for (const g of groups) {
    const dev = g.via >= 0 && !failedRoots.has(g.via) && g.fds.length + g.dirs.length >= syncfsMin ? deviceOf(g.via) : -1;
    if (syncFs === null || dev === -1) {
      each(g.fds, g.dirs);
      continue;
    }
    // A mount below the root is another filesystem: its files and directories are fsync'd alone.
    const [fds, otherFds] = partition(g.fds, (fd) => deviceOf(fd) === dev);
    const [dirs, otherDirs] = partition(g.dirs, (d) => deviceOf(d) === dev);
    each(otherFds, otherDirs);
    if (fds.length + dirs.length === 0) continue;
    out.syncfs++;
    if (syncFs(g.via) === 0 && fsyncOk(g.via)) continue;
    out.syncfsErrors++;
    failedRoots.add(g.via);
    each(fds, dirs); // to answer which ones failed
  }
  return out;
}

/** Whether a Linux release string (`uname -r`, e.g. "6.1.0-18-amd64") is at least major.minor. */
export function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (m === null) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

/**
 * The addon's syncfs, or null where it is not built, not Linux, or a kernel before 5.17 (whose
 * syncfs can return success after a failed writeback or journal commit): then every file is fsync'd.
 */
export function nativeSyncFs(): SyncFs | null {
  if (process.platform !== 'linux' || !kernelAtLeast(release(), 5, 17)) return null;
  try {
    return loadAddon().syncFs ?? null;
  } catch {
    return null;
  }
}

const port = parentPort;
if (port !== null) {
  const syncFs = nativeSyncFs();
  const failedRoots = new Set<number>();
  port.on('message', (r: FsyncRequest) => {
    const o = syncBatch(r.groups, r.syncfsMin, syncFs, failedRoots);
    port.postMessage({ id: r.id, failedFds: o.failedFds, failedDirs: o.failedDirs, syncfs: o.syncfs, syncfsErrors: o.syncfsErrors } satisfies FsyncReply);
  });
  port.postMessage({ ready: true } satisfies FsyncReply);
}
