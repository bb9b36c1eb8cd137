/**
 * Temporary directories for tests, removed when the test process exits (`node --test` runs each
 * file in a process of its own). Tests used to leave them behind: ~2,000 per `make test`, and
 * ext4 then spends milliseconds per new inode skipping recently deleted ones once they are
 * cleared, which also distorted the spool benchmarks. TEST_KEEP_TMP=1 keeps them for debugging.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

function removeAll(): void {
  if (process.env['TEST_KEEP_TMP'] === '1') return;
  for (const d of made.splice(0)) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {
      // e.g. a child process still writing there: the others go all the same
    }
  }
}

/** A new directory `<os tmpdir>/<prefix>XXXXXX`, removed at exit. */
export function tempDir(prefix: string): string {
  if (made.length === 0) process.once('exit', removeAll);
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
