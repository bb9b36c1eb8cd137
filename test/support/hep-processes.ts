/**
 * Child processes for the agent → HEP → recorder tests: `recorder run --hep` (port read from its
 * log), `agent --read`, and reading the recorder's index back.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { CallRecord } from '../../recorder/calls/call-record.js';

export interface RunningRecorder {
  child: ChildProcess;
  udpPort: number;
  tcpPort: number;
  metricsPort: number;
  log: () => string;
}

export async function startRecorder(out: string, hep: string, extra: string[] = []): Promise<RunningRecorder> {
  const child = spawn('bin/recorder', ['run', '--hep', hep, '--out', out, '--metrics', '127.0.0.1:0', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`recorder not ready: ${log}`)), 20_000);
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /metrics on [^:]+:(\d+)\/metrics/.exec(log);
      const h = /HEP listener on \S+ ((?:udp:\d+ ?)?(?:tcp:\d+)?)/.exec(log);
      if (m && h) {
        clearTimeout(timer);
        resolve({
          child,
          udpPort: Number(/udp:(\d+)/.exec(h[1]!)?.[1] ?? 0),
          tcpPort: Number(/tcp:(\d+)/.exec(h[1]!)?.[1] ?? 0),
          metricsPort: Number(m[1]),
          log: () => log,
        });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`recorder exited ${code}: ${log}`));
    });
  });
}

export const exited = (c: ChildProcess): Promise<number | null> => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.on('exit', (code) => r(code))));

export async function stopRecorder(r: RunningRecorder): Promise<void> {
  r.child.kill('SIGTERM');
  const code = await exited(r.child);
  assert.equal(code, 0, r.log());
}

export interface AgentRun {
  status: number | null;
  stderr: string;
}

/** Runs `bin/agent` to completion (asynchronously, so the recorder in this process's children keeps running). */
export function runAgent(args: string[], timeoutMs = 30_000): Promise<AgentRun> {
  return new Promise((resolve) => {
    const child = spawn('bin/agent', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (status) => {
      clearTimeout(t);
      resolve({ status, stderr });
    });
  });
}

export function indexedCalls(out: string): CallRecord[] {
  const r = spawnSync('bin/recorder', ['calls', '--index', join(out, 'index'), '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as CallRecord[];
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns true or `ms` pass. */
export async function until(fn: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return true;
    await sleep(50);
  }
  return fn();
}
