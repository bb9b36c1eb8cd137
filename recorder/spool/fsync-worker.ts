/**
 * Worker-thread entry of FsyncBatcher: makes a batch of file descriptors (and directories, for
 * new entries) durable and answers once per batch. File descriptors are per process, so the
 * main thread's open spools can be synced from here.
 *
 * One fsync(2) per file is one device cache flush (and on a journaling filesystem one commit)
 * per file: with thousands of open calls, thousands per second. When a batch holds at least
 * `syncfsMin` files and directories on one filesystem, one syncfs(2) (native/pcap/fs_sync.c)
 * makes all of them durable at once; if it fails, those files are fsync'd one by one, so the
 * answer still names the ones that failed.
 */
import { closeSync, fstatSync, fsyncSync, openSync, statSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { loadAddon } from '../capture/live-source.js';

export interface FsyncRequest {
  id: number;
  /** Files and directories a syncfs of their filesystem may make durable. */
  fds: number[];
  dirs: string[];
  /** Files and directories that are fsync'd one by one (their spool directory chose so). */
  soloFds: number[];
  soloDirs: string[];
  /** Files and directories on one filesystem from which one syncfs replaces their fsyncs. */
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

interface DeviceGroup {
  fds: number[];
  dirs: string[];
}

/** Makes fds and dirs durable: per filesystem one syncfs when it covers enough of them, else fsync each. */
export function syncBatch(fds: number[], dirs: string[], syncfsMin: number, syncFs: SyncFs | null): SyncOutcome {
  const out: SyncOutcome = { failedFds: [], failedDirs: 0, syncfs: 0 };
  const groups = new Map<number, DeviceGroup>();
  const group = (dev: number): DeviceGroup => {
    let g = groups.get(dev);
    if (g === undefined) groups.set(dev, (g = { fds: [], dirs: [] }));
    return g;
  };
  for (const fd of fds) {
    try {
      group(syncFs === null ? 0 : fstatSync(fd).dev).fds.push(fd);
    } catch {
      out.failedFds.push(fd); // not an open file: it cannot be durable
    }
  }
  for (const d of dirs) {
    try {
      group(syncFs === null ? 0 : statSync(d).dev).dirs.push(d);
    } catch {
      out.failedDirs++;
    }
  }
  for (const g of groups.values()) {
    if (syncFs !== null && g.fds.length + g.dirs.length >= syncfsMin) {
      out.syncfs++;
      if (syncWhole(g, syncFs)) continue;
      // It failed: fsync each below, to answer which ones did.
    }
    for (const fd of g.fds) if (!fsyncOk(fd)) out.failedFds.push(fd);
    for (const d of g.dirs) if (!fsyncDirOk(d)) out.failedDirs++;
  }
  return out;
}

/** One syncfs through a file of the group (or one of its directories, opened for it). */
function syncWhole(g: DeviceGroup, syncFs: SyncFs): boolean {
  const fd = g.fds[0];
  if (fd !== undefined) return syncFs(fd) === 0;
  try {
    const dfd = openSync(g.dirs[0]!, 'r');
    try {
      return syncFs(dfd) === 0;
    } finally {
      closeSync(dfd);
    }
  } catch {
    return false;
  }
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
    const o = syncBatch(r.fds, r.dirs, r.syncfsMin, syncFs);
    const solo = syncBatch(r.soloFds, r.soloDirs, Infinity, null);
    port.postMessage({
      id: r.id,
      failedFds: [...o.failedFds, ...solo.failedFds],
      failedDirs: o.failedDirs + solo.failedDirs,
      syncfs: o.syncfs,
    } satisfies FsyncReply);
  });
  port.postMessage({ ready: true } satisfies FsyncReply);
}
