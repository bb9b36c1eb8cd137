/**
 * Worker-thread entry of FsyncBatcher: fsyncs a batch of file descriptors (and directories, to
 * make new entries durable) one after the other and answers once per batch. File descriptors
 * are per process, so the main thread's open spools can be synced from here.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

export interface FsyncRequest {
  id: number;
  fds: number[];
  dirs: string[];
}

export type FsyncReply = { id: number; failedFds: number[]; failedDirs: number } | { ready: true };

const port = parentPort;
if (port !== null) {
  port.on('message', (r: FsyncRequest) => {
    const failedFds: number[] = [];
    let failedDirs = 0;
    for (const fd of r.fds) {
      try {
        fsyncSync(fd);
      } catch {
        failedFds.push(fd);
      }
    }
    for (const d of r.dirs) {
      try {
        const fd = openSync(d, 'r');
        try {
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      } catch {
        failedDirs++;
      }
    }
    port.postMessage({ id: r.id, failedFds, failedDirs } satisfies FsyncReply);
  });
  port.postMessage({ ready: true } satisfies FsyncReply);
}
