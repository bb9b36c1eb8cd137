/**
 * Writes one spool batch (its records sealed as they were batched) with one writev(2) at the
 * batch's position, continuing buffer by buffer after a short write. On error the batch is cut
 * off the file again. Shared by the SpoolWriter's thread and the synchronous mode, so both
 * write the same bytes the same way. Calls go through the `fs` namespace so tests can inject
 * failures.
 */
import fs from 'node:fs';

export function writeBatch(fd: number, views: Uint8Array[], pos: number): { ok: boolean; bytes: number } {
  let total = 0;
  for (const v of views) total += v.length;
  try {
    let done = fs.writevSync(fd, views, pos);
    if (done < total) {
      let skip = done;
      for (const v of views) {
        if (skip >= v.length) {
          skip -= v.length;
          continue;
        }
        let o = skip;
        skip = 0;
        while (o < v.length) {
          const n = fs.writeSync(fd, v, o, v.length - o, pos + done);
          if (n <= 0) throw new Error('write made no progress');
          o += n;
          done += n;
        }
      }
    }
    return { ok: true, bytes: done };
  } catch {
    try {
      fs.ftruncateSync(fd, pos);
    } catch {
      // the reader drops a torn tail anyway
    }
    return { ok: false, bytes: 0 };
  }
}
