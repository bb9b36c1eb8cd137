import { readFileSync } from 'node:fs';

const CLK_TCK = 100; // Linux USER_HZ on every platform Node ships for

/**
 * utime + stime in seconds, fields 14 and 15 of a /proc stat file (after the comm): a process
 * (`/proc/PID/stat`) or one of its threads (`/proc/PID/task/TID/stat`).
 */
function statCpuSeconds(statPath: string): number {
  const s = readFileSync(statPath, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** CPU seconds of a live process, every thread. */
export const cpuSeconds = (pid: number): number => statCpuSeconds(`/proc/${pid}/stat`);

/** CPU seconds of this process's main thread alone (its thread id is the process id). */
export const mainThreadCpuSeconds = (): number => statCpuSeconds(`/proc/self/task/${process.pid}/stat`);
