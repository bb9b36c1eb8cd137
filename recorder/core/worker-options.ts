import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Options for our worker threads: the parent's Node flags, less those that only make sense for
 * a main script (`--input-type` with `-e`/`--eval` makes a worker fail to load its own file).
 */
export function workerOptions(extra: WorkerOptions = {}): WorkerOptions {
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  return { execArgv, ...extra };
}

/** Young generation of a helper thread's heap (both semi-spaces and the new large-object space). */
const HELPER_YOUNG_GENERATION_MB = 3;

/**
 * An idle (unref'd) helper thread of ours: `onMessage` for its replies (the `{ ready: true }`
 * hello excepted), `onDeath` once when it errors or exits. Null when the thread cannot start;
 * the caller then does the work itself.
 */
export function startHelperThread<M>(url: URL, onMessage: (m: M, w: Worker) => void, onDeath: (w: Worker) => void): Worker | null {
  try {
    // A helper allocates little (a few objects per batch or request), but V8 grows an isolate's
    // young generation to 16 MiB semi-spaces under a steady allocation rate, and those pages stay
    // resident: measured 17 MiB of the spool writer's at 1,000 replayed calls (RSS per active call
    // 29 → 62–79 KiB). 1 MiB semi-spaces keep it small; a scavenge of this heap is cheap.
    const w = new Worker(url, workerOptions({ resourceLimits: { maxYoungGenerationSizeMb: HELPER_YOUNG_GENERATION_MB } }));
    w.unref();
    w.on('message', (m: M | { ready: true }) => {
      if (typeof m === 'object' && m !== null && 'ready' in m) return;
      onMessage(m, w);
    });
    w.on('error', () => onDeath(w));
    w.on('exit', () => onDeath(w));
    return w;
  } catch {
    return null;
  }
}
