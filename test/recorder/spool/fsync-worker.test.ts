import assert from 'node:assert/strict';
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nativeSyncFs, syncBatch, type SyncFs } from '../../../recorder/spool/fsync-worker.js';
import { tempDir } from '../../support/temp-dir.js';

/** n files with a little data each, open for writing. */
function openFiles(n: number): { dir: string; fds: number[] } {
  const dir = tempDir('fsync-worker-');
  const fds = Array.from({ length: n }, (_, i) => openSync(join(dir, `f${i}`), 'w'));
  for (const fd of fds) writeSync(fd, Buffer.alloc(1000, 1));
  return { dir, fds };
}

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

describe('fsync worker: syncfs for many files on one filesystem', () => {
  it('the addon syncfs answers 0 for an open file and -EBADF for no file', () => {
    const real = nativeSyncFs();
    assert.ok(real);
    const { fds } = openFiles(1);
    assert.equal(real(fds[0]!), 0);
    assert.equal(real(-1), -9);
    closeSync(fds[0]!);
  });

  it('from syncfsMin files on one filesystem: one syncfs through one of them, nothing failed', () => {
    const { fds } = openFiles(20);
    const s = spy(null);
    const o = syncBatch(fds, [], 16, s.fn);
    assert.deepEqual(o, { failedFds: [], failedDirs: 0, syncfs: 1 });
    assert.equal(s.calls.length, 1);
    assert.ok(fds.includes(s.calls[0]!));
    for (const fd of fds) closeSync(fd);
  });

  it('below syncfsMin, or without the addon: every file fsync’d on its own', () => {
    const { fds } = openFiles(5);
    const s = spy(null);
    assert.deepEqual(syncBatch(fds, [], 16, s.fn), { failedFds: [], failedDirs: 0, syncfs: 0 });
    assert.equal(s.calls.length, 0);
    assert.deepEqual(syncBatch(fds, [], 1, null), { failedFds: [], failedDirs: 0, syncfs: 0 });
    for (const fd of fds) closeSync(fd);
  });

  it('a failed syncfs falls back to fsync per file, which names only the files that fail', () => {
    const { fds } = openFiles(20);
    const s = spy(-5); // EIO
    const o = syncBatch(fds, [], 16, s.fn);
    assert.equal(s.calls.length, 1);
    assert.deepEqual(o, { failedFds: [], failedDirs: 0, syncfs: 1 }, 'each file fsyncs fine, so none is reported failed');
    for (const fd of fds) closeSync(fd);
  });

  it('a closed descriptor fails alone; the rest are synced together', () => {
    const { fds } = openFiles(20);
    const gone = fds.pop()!;
    closeSync(gone);
    const s = spy(null);
    const o = syncBatch([...fds, gone], [], 16, s.fn);
    assert.deepEqual(o, { failedFds: [gone], failedDirs: 0, syncfs: 1 });
    for (const fd of fds) closeSync(fd);
  });

  it('directories count toward a filesystem’s batch; a directory alone is synced through an fd opened for it', () => {
    const a = openFiles(0).dir;
    const b = openFiles(0).dir;
    const s = spy(null);
    assert.deepEqual(syncBatch([], [a, b, join(a, 'missing')], 2, s.fn), { failedFds: [], failedDirs: 1, syncfs: 1 });
    assert.equal(s.calls.length, 1);
    assert.throws(() => fstatSync(s.calls[0]!), /EBADF/, 'the directory fd opened for syncfs is closed again');
  });

  it('one syncfs per filesystem: files of two filesystems are two groups', () => {
    const { fds } = openFiles(2);
    const proc = openSync('/proc/self/stat', 'r'); // procfs: another filesystem
    const s = spy(null);
    const o = syncBatch([...fds, proc], [], 1, s.fn);
    assert.equal(o.syncfs, 2);
    assert.equal(s.calls.length, 2);
    assert.notEqual(fstatSync(s.calls[0]!).dev, fstatSync(s.calls[1]!).dev);
    for (const fd of [...fds, proc]) closeSync(fd);
  });
});
