import assert from 'node:assert/strict';
import { closeSync, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { kernelAtLeast, nativeSyncFs, syncBatch, type SyncFs } from '../../../recorder/spool/fsync-worker.js';
import { tempDir } from '../../support/temp-dir.js';

/** A spool-like root opened first (the `via` of its group), then n files in it with a little data, open for writing. */
function openRoot(n: number): { dir: string; via: number; fds: number[] } {
  const dir = tempDir('fsync-worker-');
  const via = openSync(dir, 'r');
  const fds = Array.from({ length: n }, (_, i) => openSync(join(dir, `f${i}`), 'w'));
  for (const fd of fds) writeSync(fd, Buffer.alloc(1000, 1));
  return { dir, via, fds };
}

const closeAll = (fds: number[]): void => fds.forEach((fd) => closeSync(fd));

/** The addon's syncfs, recording the fds it was given and answering `answer` (the real result when null). */
function spy(answer: number | null): { fn: SyncFs; calls: number[] } {
  const real = nativeSyncFs();
  assert.ok(real, 'native/build/Release/pcap_capture.node exports syncFs on Linux');
  const calls: number[] = [];
  return {
    calls,
    fn: (fd) => {
      calls.push(fd);
      const r = real(fd);
      return answer ?? r;
    },
  };
}

describe('fsync worker: one syncfs for many files of a spool root', () => {
  it('the addon syncfs answers 0 for an open file and -EBADF for no file', () => {
    const real = nativeSyncFs();
    assert.ok(real);
    const { via, fds } = openRoot(1);
    assert.equal(real(fds[0]!), 0);
    assert.equal(real(-1), -9);
    closeAll([via, ...fds]);
  });

  it('from syncfsMin files and directories in a group: one syncfs through its root fd, nothing failed', () => {
    const { dir, via, fds } = openRoot(20);
    const s = spy(null);
    const o = syncBatch([{ via, fds, dirs: [dir] }], 16, s.fn, new Set());
    assert.deepEqual(o, { failedFds: [], failedDirs: 0, syncfs: 1, syncfsErrors: 0 });
    assert.deepEqual(s.calls, [via]);
    closeAll([via, ...fds]);
  });

  it('below syncfsMin, with via -1, or without the addon: every file fsync’d on its own', () => {
    const { via, fds } = openRoot(5);
    const s = spy(null);
    assert.deepEqual(syncBatch([{ via, fds, dirs: [] }], 16, s.fn, new Set()), { failedFds: [], failedDirs: 0, syncfs: 0, syncfsErrors: 0 });
    assert.deepEqual(syncBatch([{ via: -1, fds, dirs: [] }], 1, s.fn, new Set()), { failedFds: [], failedDirs: 0, syncfs: 0, syncfsErrors: 0 });
    assert.deepEqual(syncBatch([{ via, fds, dirs: [] }], 1, null, new Set()), { failedFds: [], failedDirs: 0, syncfs: 0, syncfsErrors: 0 });
    assert.equal(s.calls.length, 0);
    closeAll([via, ...fds]);
  });

  it('a failed syncfs falls back to fsync per file, which names only the files that fail; the root gets no syncfs again', () => {
    const { via, fds } = openRoot(20);
    const gone = fds.pop()!;
    closeSync(gone);
    const s = spy(-5); // EIO
    const failedRoots = new Set<number>();
    const o = syncBatch([{ via, fds: [...fds, gone], dirs: [] }], 16, s.fn, failedRoots);
    assert.equal(s.calls.length, 1);
    assert.deepEqual(o, { failedFds: [gone], failedDirs: 0, syncfs: 1, syncfsErrors: 1 }, 'each open file fsyncs fine; the closed one fails');
    // The error is used up for the root's fd, but may have been another file's, in a later batch:
    // that file's own fsync is what reports it now.
    const later = openRoot(0);
    const more = Array.from({ length: 20 }, (_, i) => openSync(join(later.dir, `g${i}`), 'w'));
    const o2 = syncBatch([{ via, fds: more, dirs: [] }], 16, s.fn, failedRoots);
    assert.equal(s.calls.length, 1, 'no second syncfs through the failed root');
    assert.deepEqual(o2, { failedFds: [], failedDirs: 0, syncfs: 0, syncfsErrors: 0 });
    closeAll([via, later.via, ...fds, ...more]);
  });

  it('a closed descriptor fails alone; the rest are synced together', () => {
    const { via, fds } = openRoot(20);
    const gone = fds.pop()!;
    closeSync(gone);
    const s = spy(null);
    const o = syncBatch([{ via, fds: [...fds, gone], dirs: [] }], 16, s.fn, new Set());
    assert.deepEqual(o, { failedFds: [gone], failedDirs: 0, syncfs: 1, syncfsErrors: 0 });
    closeAll([via, ...fds]);
  });

  it('a file on another filesystem than its root is not covered by the root’s syncfs: fsync’d alone', () => {
    const { via, fds } = openRoot(3);
    const proc = openSync('/proc/self/stat', 'r'); // procfs, where fsync fails (EINVAL): it must be tried, and fail
    const s = spy(null);
    const o = syncBatch([{ via, fds: [...fds, proc], dirs: [] }], 1, s.fn, new Set());
    assert.deepEqual(o, { failedFds: [proc], failedDirs: 0, syncfs: 1, syncfsErrors: 0 });
    assert.notEqual(fstatSync(proc).dev, fstatSync(via).dev);
    closeAll([via, proc, ...fds]);
  });

  it('two roots are two syncfs; directories count toward their group, a missing one fails', () => {
    const a = openRoot(2);
    const b = openRoot(0);
    const sub = join(b.dir, 'call');
    mkdirSync(sub);
    const s = spy(null);
    const o = syncBatch(
      [
        { via: a.via, fds: a.fds, dirs: [a.dir] },
        { via: b.via, fds: [], dirs: [sub, b.dir, join(b.dir, 'missing')] },
      ],
      2,
      s.fn,
      new Set(),
    );
    assert.deepEqual(o, { failedFds: [], failedDirs: 1, syncfs: 2, syncfsErrors: 0 });
    assert.deepEqual(s.calls, [a.via, b.via]);
    closeAll([a.via, b.via, ...a.fds]);
  });

  it('syncfs only on Linux 5.17 and later (earlier ones may report success after a failed writeback or commit)', () => {
    assert.equal(kernelAtLeast('6.1.0-18-amd64', 5, 17), true);
    assert.equal(kernelAtLeast('5.17.0', 5, 17), true);
    assert.equal(kernelAtLeast('5.15.0-91-generic', 5, 17), false);
    assert.equal(kernelAtLeast('4.18.0-513.el8.x86_64', 5, 17), false);
    assert.equal(kernelAtLeast('10.0.1', 5, 17), true);
    assert.equal(kernelAtLeast('garbage', 5, 17), false);
  });
});
