import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '../recorder/calls/call-record.js';
import { portLayout, type GeneratorResult } from './load-generator.js';
import { scrapeMetrics } from '../test/support/metrics-scrape.js';
import { makeVethNamespace, removeStaleNamespaces } from './veth-namespace.js';
import { cpuSeconds } from './proc-stat.js';

/**
 * `npm run bench:capacity` (issue 8): for each N and output format, `recorder run` captures N live
 * calls from bench/load-generator; then tcpdump -w captures the same load, for the CPU ratio.
 * Everything runs inside a network namespace this script makes (iproute2; needs root) holding a
 * veth pair: the generator writes frames on gen0, the recorder and tcpdump capture on rec0, and
 * nothing reaches any other interface. Env: BENCH_CAPACITY_N (100,250,500,1000),
 * BENCH_CAPACITY_FORMATS (wav,opus), BENCH_CAPACITY_SECONDS (20), BENCH_CAPACITY_RAMP (5),
 * BENCH_CAPACITY_BASE_PORT (40000), BENCH_CAPACITY_KEEP=1 keeps the recordings.
 */
const LO = '127.0.0.1';
const GEN_IF = 'gen0';
const REC_IF = 'rec0';
const NETNS_ENV = 'BENCH_CAPACITY_NETNS';

/** Outside the namespace: make it, run this script again inside it, remove it (also on failure). */
function runInOwnNamespace(): never {
  removeStaleNamespaces('callrec-capacity-');
  const ns = makeVethNamespace(`callrec-capacity-${process.pid}`, GEN_IF, REC_IF);
  let status = 1;
  try {
    const [cmd, ...args] = ns.exec;
    const r = spawnSync(cmd!, [...args, process.execPath, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, [NETNS_ENV]: ns.name } });
    status = r.status ?? 1;
  } finally {
    ns.remove();
  }
  process.exit(status);
}
if (process.env[NETNS_ENV] === undefined) runInOwnNamespace();

const list = (v: string | undefined, d: string): string[] => (v ?? d).split(',').map((s) => s.trim()).filter(Boolean);
const SIZES = list(process.env['BENCH_CAPACITY_N'], '100,250,500,1000').map(Number).filter((n) => n > 0);
const FORMATS = list(process.env['BENCH_CAPACITY_FORMATS'], 'wav,opus');
const SECONDS = Number(process.env['BENCH_CAPACITY_SECONDS'] ?? 20);
const RAMP = Number(process.env['BENCH_CAPACITY_RAMP'] ?? 5);
const BASE = Number(process.env['BENCH_CAPACITY_BASE_PORT'] ?? 40000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const exited = (c: ChildProcess): Promise<number | null> => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.on('exit', (code) => r(code))));

const statusKiB = (pid: number, key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const syscw = (pid: number): number => Number(/^syscw:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);

const scrape = (port: number): Promise<string> => scrapeMetrics(LO, port);
/** Sum of a metric's samples (all label sets). */
function metric(text: string, name: string): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

function filterFor(n: number): string {
  const l = portLayout(BASE, n);
  return `udp and portrange ${l.first}-${l.last}`;
}

async function runGenerator(n: number): Promise<GeneratorResult> {
  const g = spawn(process.execPath, ['dist/bench/load-generator.js', '--iface', GEN_IF, '--calls', String(n), '--seconds', String(SECONDS), '--ramp', String(RAMP), '--base-port', String(BASE)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  g.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await exited(g);
  const line = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`load generator exited ${code}: ${out}`);
  return JSON.parse(line) as GeneratorResult;
}

interface RecorderRow {
  format: string;
  n: number;
  gen: GeneratorResult;
  captured: number;
  kernelDrops: number;
  rtpLost: number;
  complete: number;
  recorded: number;
  maxDurErrMs: number;
  /** Recordings more than 100 ms off S (the max alone hides whether it is one call or all). */
  durOff: number;
  cpuS: number;
  wallS: number;
  peakRssMiB: number;
  writesPerS: number;
  peakQueue: number;
  /** Peak of recorder_media_queue_lag_seconds: how long a finished call waited for its render. */
  peakLagS: number;
  /** recorder_spool_writes_total ÷ (N × call seconds): spool writes per call per second of call. */
  spoolWritesPerCallS: number;
  drainS: number;
}

async function runRecorder(n: number, format: string): Promise<RecorderRow> {
  const out = mkdtempSync(join(tmpdir(), `capacity-${format}-${n}-`));
  const child = spawn('bin/recorder', ['run', '--iface', REC_IF, '--filter', filterFor(n), '--out', out, '--format', format, '--metrics', `${LO}:0`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /metrics on [^:]+:(\d+)\/metrics/.exec(log);
      if (m && log.includes(`capturing on ${REC_IF}`)) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`recorder exited ${code}: ${log}`)));
    setTimeout(() => reject(new Error(`recorder not ready: ${log}`)), 20_000).unref();
  });
  const pid = child.pid!;
  const cpu0 = cpuSeconds(pid);
  const w0 = syscw(pid);
  const t0 = Date.now();
  // Media queue depth sampled while the load runs (a coarse view of media lag).
  let peakQueue = 0;
  let peakLagS = 0;
  const sample = (text: string): void => {
    peakQueue = Math.max(peakQueue, metric(text, 'recorder_media_queue_depth'));
    peakLagS = Math.max(peakLagS, metric(text, 'recorder_media_queue_lag_seconds'));
  };
  let polling = true;
  const poller = (async () => {
    while (polling) {
      await sleep(2000);
      if (polling) sample(await scrape(port));
    }
  })();
  const gen = await runGenerator(n);
  polling = false;
  await poller;
  const tGen = Date.now();
  // Wait for the capture to drain (libpcap hands over blocks on a timeout) and every recording
  // to be rendered, so CPU and writes include the whole cost of the calls; bounded at 300 s.
  let text = '';
  let lastPackets = -1;
  for (let i = 0; i < 600; i++) {
    await sleep(500);
    text = await scrape(port);
    sample(text);
    const packets = metric(text, 'recorder_packets_total');
    const done = metric(text, 'recorder_calls_total') >= n && metric(text, 'recorder_media_queue_depth') === 0;
    if (packets === lastPackets && done && i >= 3) break;
    lastPackets = packets;
  }
  const drainS = (Date.now() - tGen) / 1000;
  const cpuS = cpuSeconds(pid) - cpu0;
  const wallS = (Date.now() - t0) / 1000;
  const peakRssMiB = statusKiB(pid, 'VmHWM') / 1024;
  const writes = syscw(pid) - w0;
  child.kill('SIGTERM');
  const code = await exited(child);
  if (code !== 0) console.error(`recorder exited ${code}: ${log.slice(-2000)}`);
  const r = spawnSync('bin/recorder', ['calls', '--index', join(out, 'index'), '--json', '--limit', String(n * 2 + 100)], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const calls = r.status === 0 ? (JSON.parse(r.stdout) as CallRecord[]) : [];
  let rtpLost = 0;
  let complete = 0;
  let maxDurErrMs = 0;
  let recorded = 0;
  let durOff = 0;
  for (const c of calls) {
    for (const s of c.streams) rtpLost += s.lost;
    if (!c.recording) continue;
    recorded++;
    if (c.recording.complete) complete++;
    const err = Math.abs(c.recording.durationMs - SECONDS * 1000);
    if (err > 100) durOff++;
    maxDurErrMs = Math.max(maxDurErrMs, err);
  }
  if (process.env['BENCH_CAPACITY_KEEP'] === '1') console.error(`kept ${out}`);
  else rmSync(out, { recursive: true, force: true });
  return {
    format,
    n,
    gen,
    captured: metric(text, 'recorder_packets_total'),
    kernelDrops: metric(text, 'recorder_capture_kernel_drops_total'),
    rtpLost,
    complete,
    recorded,
    maxDurErrMs,
    durOff,
    cpuS,
    wallS,
    peakRssMiB,
    writesPerS: writes / wallS,
    peakQueue,
    peakLagS,
    spoolWritesPerCallS: metric(text, 'recorder_spool_writes_total') / (n * SECONDS),
    drainS,
  };
}

interface TcpdumpRow {
  n: number;
  gen: GeneratorResult;
  cpuS: number;
  captured: number;
  drops: number;
}

async function runTcpdump(n: number): Promise<TcpdumpRow> {
  const dir = mkdtempSync(join(tmpdir(), `capacity-tcpdump-${n}-`));
  // Same 32 MiB buffer as the recorder's default ring, so only the per-packet work differs.
  const td = spawn('tcpdump', ['-i', REC_IF, '-n', '-B', '32768', '-w', join(dir, 'cap.pcap'), ...filterFor(n).split(' ')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    td.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (/listening on/.test(err)) resolve();
    });
    td.on('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${err}`)));
    setTimeout(() => reject(new Error(`tcpdump not ready: ${err}`)), 10_000).unref();
  });
  const pid = td.pid!;
  const cpu0 = cpuSeconds(pid);
  const gen = await runGenerator(n);
  await sleep(2500); // past libpcap's block timeout, so the last packets are written
  const cpuS = cpuSeconds(pid) - cpu0;
  td.kill('SIGINT');
  await exited(td);
  rmSync(dir, { recursive: true, force: true });
  return { n, gen, cpuS, captured: Number(/(\d+) packets captured/.exec(err)?.[1] ?? NaN), drops: Number(/(\d+) packets dropped by kernel/.exec(err)?.[1] ?? NaN) };
}

console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
console.log(`Calls of ${SECONDS} s, starts over ${RAMP} s, G.711 µ-law both ways at 20 ms, frames on a veth pair in netns ${process.env[NETNS_ENV]}; base port ${BASE}\n`);
const tcpdumps = new Map<number, TcpdumpRow>();
const rows: RecorderRow[] = [];
for (const n of SIZES) {
  for (const format of FORMATS) {
    const r = await runRecorder(n, format);
    rows.push(r);
    console.error(`${format} N=${n}: ${JSON.stringify({ ...r, gen: undefined, genCpuS: r.gen.cpuSeconds, genWallS: r.gen.wallSeconds, offered: r.gen.packetsOffered, lateTicks: r.gen.lateTicks, maxLateMs: r.gen.maxLateMs })}`);
  }
  const t = await runTcpdump(n);
  tcpdumps.set(n, t);
  console.error(`tcpdump N=${n}: ${JSON.stringify({ ...t, gen: undefined, offered: t.gen.packetsOffered })}`);
}

const zeroLoss = (r: RecorderRow): boolean => r.gen.packetsOffered === r.captured && r.kernelDrops === 0 && r.rtpLost === 0 && r.complete === r.n && r.recorded === r.n;
for (const format of FORMATS) {
  console.log(`\n### ${format}\n`);
  console.log('| calls | offered | captured | kernel drops | RTP lost | complete / N | max \\|dur err\\| ms (calls > 100 ms) | recorder CPU s | CPU per core | peak RSS MiB | writes/s (all) | writes/call/s (all) | spool writes/call/s | peak media queue (lag s) | drain s | tcpdump CPU s (captured, drops) | × tcpdump CPU | generator CPU s / wall s (late ticks, max late ms) |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows.filter((x) => x.format === format)) {
    const t = tcpdumps.get(r.n);
    console.log(
      `| ${fmt(r.n)} | ${fmt(r.gen.packetsOffered)} | ${fmt(r.captured)} | ${fmt(r.kernelDrops)} | ${fmt(r.rtpLost)} | ${r.complete} / ${r.n} | ${fmt(r.maxDurErrMs)} (${r.durOff}) | ${r.cpuS.toFixed(1)} | ${(r.cpuS / r.wallS).toFixed(2)} | ${fmt(r.peakRssMiB)} | ${fmt(r.writesPerS)} | ${(r.writesPerS / r.n).toFixed(2)} | ${r.spoolWritesPerCallS.toFixed(2)} | ${fmt(r.peakQueue)} (${r.peakLagS.toFixed(1)}) | ${r.drainS.toFixed(1)} | ${t ? `${t.cpuS.toFixed(2)} (${fmt(t.captured)}, ${fmt(t.drops)})` : ''} | ${t && t.cpuS > 0 ? (r.cpuS / t.cpuS).toFixed(1) : ''} | ${r.gen.cpuSeconds.toFixed(1)} / ${r.gen.wallSeconds.toFixed(1)} (${r.gen.lateTicks}, ${r.gen.maxLateMs}) |`,
    );
  }
  const best = rows.filter((x) => x.format === format && zeroLoss(x)).reduce((m, x) => Math.max(m, x.n), 0);
  console.log(`\n**${format}: highest N with zero loss and all recordings complete: ${best > 0 ? fmt(best) : 'none'}** (of ${SIZES.join(', ')})`);
}
