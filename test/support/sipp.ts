/**
 * SIPp (Debian `sip-tester`) as a real SIP client in tests: runs one of our scenarios in
 * test/sipp/ against a server on loopback, with placeholders of our own (upper-case words such
 * as PCAP_FILE) filled in first. Loopback only; every run is bounded by a timeout and killed past it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

export const SIPP_DIR = new URL('../../../test/sipp/', import.meta.url).pathname;

/** SIPp is installed (the tests that need it are skipped otherwise). */
export const haveSipp = (): boolean => spawnSync('sipp', ['-v'], { stdio: 'ignore' }).status !== null && spawnSync('sipp', ['-v'], { encoding: 'utf8' }).stdout.includes('SIPp');

export interface SippRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Contents of the error trace file, if SIPp wrote one. */
  errors: string;
  ms: number;
}

export interface SippOptions {
  scenario: string;
  /** Placeholder → value, replaced in the scenario text before the run. */
  vars?: Record<string, string>;
  serverPort: number;
  transport?: 'u1' | 'un' | 't1' | 'tn';
  /** Calls in total (-m), at once (-l), per second (-r). */
  calls?: number;
  concurrent?: number;
  rate?: number;
  /** Local media port base (-mp): with [media_port] each SIPp instance needs its own. */
  mediaPort?: number;
  timeoutMs?: number;
  extra?: string[];
}

export async function runSipp(o: SippOptions): Promise<SippRun> {
  const dir = tempDir('sipp-');
  let text = readFileSync(join(SIPP_DIR, o.scenario), 'latin1');
  for (const [k, v] of Object.entries(o.vars ?? {})) text = text.split(k).join(v);
  const sf = join(dir, o.scenario);
  writeFileSync(sf, text, 'latin1');
  const args = [
    `127.0.0.1:${o.serverPort}`,
    '-sf',
    sf,
    '-i',
    '127.0.0.1',
    '-mi',
    '127.0.0.1',
    '-p',
    '0',
    '-t',
    o.transport ?? 'u1',
    '-m',
    String(o.calls ?? 1),
    '-l',
    String(o.concurrent ?? o.calls ?? 1),
    '-r',
    String(o.rate ?? 10),
    '-nostdin',
    '-trace_err',
    '-error_file',
    join(dir, 'errors.log'),
    '-timeout',
    `${Math.ceil((o.timeoutMs ?? 60_000) / 1000)}s`,
    '-timeout_error',
    '-max_socket',
    '2000',
    ...(o.mediaPort ? ['-mp', String(o.mediaPort)] : []),
    ...(o.extra ?? []),
  ];
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = setTimeout(() => child.kill('SIGKILL'), (o.timeoutMs ?? 60_000) + 5000);
    child.on('close', (code) => {
      clearTimeout(kill);
      let errors = '';
      try {
        errors = readFileSync(join(dir, 'errors.log'), 'utf8');
      } catch {
        errors = '';
      }
      resolve({ code, stdout: stdout.slice(-4000), stderr: stderr.slice(-4000), errors: errors.slice(-4000), ms: Date.now() - t0 });
    });
  });
}
