/** `bin/recorder run --iface lo …` as a child process for the live-capture tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface LiveRecorder {
  child: ChildProcess;
  /** Resolves with the metrics port once it listens and capture on lo has started. */
  ready: Promise<number>;
  log: () => string;
}

/** Starts `bin/recorder run` with `args` (which must capture on lo and give `--metrics HOST:0`). */
export function startLiveRecorder(args: string[]): LiveRecorder {
  const child = spawn('bin/recorder', ['run', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const ready = new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /metrics on [^:]+:(\d+)\/metrics/.exec(log);
      if (m && /capturing on lo/.test(log)) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`recorder exited ${code}: ${log}`)));
    setTimeout(() => reject(new Error(`recorder not ready: ${log}`)), 15_000).unref();
  });
  return { child, ready, log: () => log };
}

export const exited = (c: ChildProcess): Promise<number | null> => new Promise((r) => (c.exitCode !== null ? r(c.exitCode) : c.on('exit', (code) => r(code))));

/** A TCP port free on 127.0.0.1 right now (for a listener a child process opens next). */
export const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
