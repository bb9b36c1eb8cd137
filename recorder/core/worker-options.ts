import type { WorkerOptions } from 'node:worker_threads';

/**
 * Options for our worker threads: the parent's Node flags, less those that only make sense for
 * a main script (`--input-type` with `-e`/`--eval` makes a worker fail to load its own file).
 */
export function workerOptions(extra: WorkerOptions = {}): WorkerOptions {
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  return { execArgv, ...extra };
}
