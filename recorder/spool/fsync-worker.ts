/**
 * Worker-thread entry of FsyncBatcher: makes a batch of file descriptors (and directories, for
 * new entries) durable and answers once per batch. File descriptors are per process, so the
 * main thread's open spools can be synced from here.
 *
 * One fsync(2) per file is one device cache flush (and on a journaling filesystem one commit)
 * per file: with thousands of open calls, thousands per second. A batch comes in groups, one
 * per spool root: when a group holds at least `syncfsMin` files and directories, one syncfs(2)
 * (native/pcap/fs_sync.c) through the root's fd makes all of them durable at once. The root was
 * opened before any of the group's files, and syncfs reports every writeback error on the
 * filesystem since its fd was opened (Linux ≥ 5.8), so no error on a file goes unseen; when it
 * reports one, the group's files are fsync'd one by one, so the answer names the failed ones.
 */
import { closeSync, fstatSync, fsyncSync, openSync, statSync } from 'node:fs';
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

export type FsyncReply = { id: number; failedFds: number[]; failedDirs: number; syncfs: number } | { ready: true };

export interface SyncOutcome {
  failedFds: number[];
  failedDirs: number;
  /** syncfs calls made (0: every file was fsync'd on its own). */
  syncfs: number;
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

/**
 * Makes the batch durable: per group one syncfs through its `via` when the group is large
 * enough, for the files and directories on via's filesystem (a mount below the root is not);
 * everything else, and a group whose syncfs failed, is fsync'd one by one.
 */
export function syncBatch(groups: SyncGroup[], syncfsMin: number, syncFs: SyncFs | null): SyncOutcome {
  const out: SyncOutcome = { failedFds: [], failedDirs: 0, syncfs: 0 };
  const each = (fds: number[], dirs: string[]): void => {
    for (const fd of fds) if (!fsyncOk(fd)) out.failedFds.push(fd);
    for (const d of dirs) if (!fsyncDirOk(d)) out.failedDirs++;
  };
  for (const g of groups) {
    const dev = syncFs !== null && g.via >= 0 && g.fds.length + g.dirs.length >= syncfsMin ? deviceOf(g.via) : -1;
    if (syncFs === null || dev === -1) {
      each(g.fds, g.dirs);
      continue;
    }
    const fds: number[] = [];
    const dirs: string[] = [];
    for (const fd of g.fds) {
      if (deviceOf(fd) === dev) fds.push(fd);
      else if (!fsyncOk(fd)) out.failedFds.push(fd);
    }
    for (const d of g.dirs) {
      if (deviceOf(d) === dev) dirs.push(d);
      else if (!fsyncDirOk(d)) out.failedDirs++;
    }
    out.syncfs++;
    if (syncFs(g.via) !== 0) each(fds, dirs); // to answer which ones failed
  }
  return out;
}

/** The addon's syncfs, or null where it is not built or not Linux (then every file is fsync'd). */
export function nativeSyncFs(): SyncFs | null {
  try {
    return loadAddon().syncFs ?? null;
  } catch {
    return null;
  }
}

const port = parentPort;
if (port !== null) {
  const syncFs = nativeSyncFs();
  port.on('message', (r: FsyncRequest) => {
    const o = syncBatch(r.groups, r.syncfsMin, syncFs);
    port.postMessage({ id: r.id, failedFds: o.failedFds, failedDirs: o.failedDirs, syncfs: o.syncfs } satisfies FsyncReply);
  });
  port.postMessage({ ready: true } satisfies FsyncReply);
}
