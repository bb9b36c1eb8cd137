/**
 * SIPREC load: SIPp (loopback) opens N concurrent recording sessions, each streaming G.711 A-law
 * for S seconds, against an in-process SRS feeding the recorder (spool and index; recordings
 * are not rendered, the media job has its own benchmark). Prints lost sessions and packets,
 * ports left allocated, and the recorder's CPU per session (SIPp's own CPU is not counted: it is
 * a separate process, but it shares the 2 cores).
 *
 *   BENCH_SIPREC_SESSIONS=200,500 BENCH_SIPREC_SECONDS=60 node dist/bench/siprec-load.js
 */
import { runSiprecLoad, type LoadResult } from '../test/support/sipp-load.js';
import { haveSipp } from '../test/support/sipp.js';

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export async function benchSiprecLoad(sizes: readonly number[], seconds: number): Promise<LoadResult[]> {
  const out: LoadResult[] = [];
  if (!haveSipp()) {
    console.log('(sipp not installed: apt-get install sip-tester)');
    return out;
  }
  console.log(`\n## SIPREC sessions from SIPp on loopback, ${seconds} s of G.711 each (recorder CPU; SIPp shares the 2 cores)\n`);
  console.log('| sessions | peak at once | answered | recorded | without media | packets | expected | lost | ports left | recorder CPU s | CPU ms per session-minute | peak RSS MiB | wall s |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const n of sizes) {
    const r = await runSiprecLoad({ sessions: n, seconds, portBase: 20000 });
    out.push(r);
    console.log(
      `| ${fmt(n)} | ${fmt(r.peakSessions)} | ${fmt(r.answered)} | ${fmt(r.recorded)} | ${r.withoutMedia} | ${fmt(r.packets)} | ${fmt(r.expectedPackets)} | ${fmt(r.lost)} | ${r.portsInUseAfter} | ${r.cpuSeconds.toFixed(1)} | ${r.cpuMsPerSessionMinute.toFixed(0)} | ${r.peakRssMiB.toFixed(0)} | ${r.wallSeconds.toFixed(0)} |`,
    );
    if (r.sipp.code !== 0) console.log(`  sipp exit ${r.sipp.code}: ${r.sipp.errors.split('\n').slice(-3).join(' / ')}`);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = (process.env['BENCH_SIPREC_SESSIONS'] ?? '200').split(',').map(Number).filter((x) => x > 0);
  await benchSiprecLoad(sizes, Number(process.env['BENCH_SIPREC_SECONDS'] ?? 60));
}
