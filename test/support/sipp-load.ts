/**
 * The SIPREC load run shared by the test (small) and the benchmark (bench/siprec-load.ts): SIPp
 * opens N concurrent recording sessions to an in-process SRS on loopback, each streaming G.711
 * A-law RTP for a while, then BYE. Reports lost sessions, lost packets, ports left in the pool and
 * the recorder's CPU time per session.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CallRecorder } from '../../recorder/call-recorder.js';
import type { CallRecord } from '../../recorder/calls/call-record.js';
import { Counters } from '../../recorder/core/counters.js';
import { MediaJobPool } from '../../recorder/media/job-pool.js';
import { Pipeline } from '../../recorder/pipeline.js';
import { SiprecServer } from '../../recorder/siprec/siprec-server.js';
import { SpoolDirectory } from '../../recorder/spool/spool-directory.js';
import { runSipp } from './sipp.js';
import { tempDir } from './temp-dir.js';

export interface LoadOptions {
  sessions: number;
  seconds: number;
  /** SRS media port range start (pairs: sessions × 1 needed). */
  portBase: number;
  /** Render recordings at the end (slow for many sessions); off: spool and index only. */
  render?: boolean;
  /** New sessions per second (SIPp -r). */
  rate?: number;
  /** SIP over one TCP connection (SIPp -t t1) instead of UDP. */
  tcp?: boolean;
}

export interface LoadResult {
  sipp: { code: number | null; stdout: string; errors: string };
  sessions: number;
  answered: number;
  recorded: number;
  /** Records without any media (a lost session, or SIPp's RTP never arrived). */
  withoutMedia: number;
  packets: number;
  /** RFC 3550 loss summed over the streams. */
  lost: number;
  /** Packets expected from the run (50 per second of stream per session). */
  expectedPackets: number;
  portsInUseAfter: number;
  peakSessions: number;
  /** Recorder process CPU seconds (user + system) during the run, and per session-minute. */
  cpuSeconds: number;
  cpuMsPerSessionMinute: number;
  wallSeconds: number;
  peakRssMiB: number;
  counters: Record<string, number>;
}

/** An 8 kHz A-law WAV (format 6) with one second of a 440 Hz tone, for SIPp's rtp_stream. */
export function writeAlawWav(path: string): void {
  const n = 8000;
  const data = Buffer.alloc(n);
  for (let i = 0; i < n; i++) data[i] = linearToAlaw(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + n, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(6, 20); // WAVE_FORMAT_ALAW
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(8000, 28);
  h.writeUInt16LE(1, 32);
  h.writeUInt16LE(8, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(n, 40);
  writeFileSync(path, Buffer.concat([h, data]));
}

/** G.711 A-law encoding of a linear sample: 13-bit magnitude, segment = position of its top bit, 4 mantissa bits, even bits inverted. */
function linearToAlaw(x: number): number {
  let v = Math.max(-32768, Math.min(32767, Math.round(x))) >> 3;
  const sign = v >= 0 ? 0x80 : 0;
  if (v < 0) v = -v - 1;
  let seg = 0;
  while (seg < 8 && v > (0x1f << seg)) seg++;
  if (seg >= 8) return (sign | 0x7f) ^ 0x55;
  const mant = seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
  return (sign | (seg << 4) | mant) ^ 0x55;
}

export async function runSiprecLoad(o: LoadOptions): Promise<LoadResult> {
  const dir = tempDir('siprec-load-');
  mkdirSync(join(dir, 'rec'));
  const wav = join(dir, 'tone-alaw.wav');
  writeAlawWav(wav);
  const counters = new Counters();
  const pool = new MediaJobPool(1);
  const spool = new SpoolDirectory(join(dir, 'spool'), counters);
  spool.start();
  const recorder = new CallRecorder({ counters, spool, pool: o.render ? pool : null, recordingsDir: join(dir, 'rec'), format: 'wav' });
  const pipeline = new Pipeline(counters, recorder);
  const server = new SiprecServer(
    { registry: recorder.registry, inject: (p) => pipeline.inject(p), counters },
    { host: '127.0.0.1', port: 0, audioPorts: { start: o.portBase, end: o.portBase + 2 * o.sessions + 20 }, maxSessions: o.sessions + 10 },
  );
  await server.start();
  let peak = 0;
  let peakRss = 0;
  const watch = setInterval(() => {
    peak = Math.max(peak, server.activeSessions);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const rate = o.rate ?? Math.max(10, Math.ceil(o.sessions / 5));
  const sipp = await runSipp({
    scenario: 'siprec-load.xml',
    vars: { WAV_FILE: wav, HOLD_MS: String(Math.round(o.seconds * 1000)) },
    serverPort: o.tcp ? server.ports.tcp : server.ports.udp,
    transport: o.tcp ? 't1' : 'u1',
    calls: o.sessions,
    concurrent: o.sessions,
    rate,
    mediaPort: o.portBase + 2 * o.sessions + 100,
    timeoutMs: o.seconds * 1000 + Math.ceil(o.sessions / rate) * 1000 + 60_000,
  });
  // Let the last BYEs and packets land.
  await new Promise((r) => setTimeout(r, 300));
  const cpu = process.cpuUsage(cpu0);
  const wallSeconds = (Date.now() - t0) / 1000;
  clearInterval(watch);
  const answered = server.stats.sessions;
  await server.stop();
  const records: CallRecord[] = await recorder.finish(Date.now() / 1000, 'load-end');
  await spool.closeAll();
  await pool.close();
  const siprec = records.filter((r) => r.protocol === 'siprec');
  let packets = 0;
  let lost = 0;
  for (const r of siprec)
    for (const s of r.streams) {
      packets += s.packets;
      lost += s.lost;
    }
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    sipp: { code: sipp.code, stdout: sipp.stdout, errors: sipp.errors },
    sessions: o.sessions,
    answered,
    recorded: siprec.length,
    withoutMedia: siprec.filter((r) => r.streams.length === 0).length,
    packets,
    lost,
    expectedPackets: Math.round(o.sessions * o.seconds * 50),
    portsInUseAfter: server.pool.inUse,
    peakSessions: peak,
    cpuSeconds,
    cpuMsPerSessionMinute: (cpuSeconds * 1000) / (o.sessions * (o.seconds / 60)),
    wallSeconds,
    peakRssMiB: peakRss / 2 ** 20,
    counters: counters.toJSON(),
  };
}
