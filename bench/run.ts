import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { benchConcurrentCalls } from './concurrent-calls.js';
import { benchDecoders } from './decoders.js';
import { benchMediaJob } from './media-job.js';
import { benchPacketPath } from './packet-path.js';
import { benchSiprecLoad } from './siprec-load.js';

/** `npm run bench`: prints figures beside reference runs on the same machine, as ratios. */
const PACKETS = Number(process.env['BENCH_PACKETS'] ?? 1_000_000);
// The packet count is in the name: a capture left by a run with another count is not reused.
const file = process.env['BENCH_FILE'] ?? `/tmp/voip-recorder-bench-mixed-${PACKETS}.pcap`;

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
console.log(`\n## Packet path: ${fmt(PACKETS)} mixed packets (200-byte RTP/UDP, 1 in 50 SIP), ${file}\n`);
const rows = await benchPacketPath(file, PACKETS);
const tsharkRow = rows[3]!;
const dissectRow = rows[4]!;
const pathRow = rows[1]!;
console.log('| stage | seconds | packets/s | × (d) tshark -q | × (e) tshark dissecting |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.seconds.toFixed(3)} | ${fmt(r.packetsPerSec)} | ${(r.packetsPerSec / tsharkRow.packetsPerSec).toFixed(1)} | ${(r.packetsPerSec / dissectRow.packetsPerSec).toFixed(1)} |`);
}
console.log(
  `\n(b): ${fmt(pathRow.packetsPerSec)} packets/s on one core (target ≥ 2,000,000); ` +
    `${(pathRow.packetsPerSec / dissectRow.packetsPerSec).toFixed(1)}× dissecting tshark, ` +
    `${(pathRow.packetsPerSec / tsharkRow.packetsPerSec).toFixed(1)}× tshark -q (target ≥ 5×). ${tsharkRow.note ?? ''}`,
);

// Concurrent G.711 calls (SIP slice): replay throughput, memory per active call, time to WAVs.
const sizes = (process.env['BENCH_CALLS'] ?? '100,1000,5000').split(',').map(Number).filter((x) => x > 0);
const seconds = Number(process.env['BENCH_CALL_SECONDS'] ?? 5);
console.log(`\n## Concurrent G.711 calls, ${seconds} s each, both directions at 20 ms, dual-channel WAV\n`);
console.log('| calls | packets | processing s | packets/s | capture-thread CPU s | packets per capture-thread CPU s | steady state: packets per capture-thread CPU s | other threads CPU s | native path share | calls/s | × realtime | peak active | base RSS MiB | RSS KiB/call | heap KiB/call | to all WAVs s | tshark -z rtp,streams s | × tshark |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const callRows: { calls: number; rssPerCallKiB: number }[] = [];
for (const n of sizes) {
  const r = await benchConcurrentCalls(n, seconds);
  callRows.push(r);
  console.log(
    `| ${fmt(r.calls)} | ${fmt(r.packets)} | ${r.processSeconds.toFixed(2)} | ${fmt(r.packetsPerSec)} | ${r.captureCpuSeconds.toFixed(2)} | ${fmt(r.packetsPerCaptureCpuSec)} | ${Number.isNaN(r.steadyPacketsPerCaptureCpuSec) ? '— (window < 0.2 CPU s)' : fmt(r.steadyPacketsPerCaptureCpuSec)} | ${r.otherCpuSeconds.toFixed(2)} | ${(100 * r.fastShare).toFixed(1)} % | ${fmt(r.callsPerSec)} | ${r.realtime.toFixed(1)} | ${fmt(r.peakActive)} | ${r.baseRssMiB.toFixed(0)} | ${r.rssPerCallKiB.toFixed(1)} | ${r.heapPerCallKiB.toFixed(1)} | ${r.endToEndSeconds.toFixed(2)} | ${r.tsharkSeconds.toFixed(2)} | ${(r.tsharkSeconds / r.processSeconds).toFixed(1)} |`,
  );
}

// RSS per call above includes the per-process costs that grow with load but not per call
// (heap pages, allocator arenas); the slope between two sizes is what one more call costs.
for (let i = 1; i < callRows.length; i++) {
  const a = callRows[i - 1]!;
  const b = callRows[i]!;
  if (b.calls <= a.calls) continue;
  const slope = (b.rssPerCallKiB * b.calls - a.rssPerCallKiB * a.calls) / (b.calls - a.calls);
  console.log(`Memory per additional active call, ${fmt(a.calls)} → ${fmt(b.calls)} calls: ${slope.toFixed(1)} KiB (target ≤ 64)`);
}

// Media job (codecs issue): a 10-minute G.711 call to each format, and its pieces.
const callSec = Number(process.env['BENCH_MEDIA_SECONDS'] ?? 600);
console.log(`\n## Media job: ${callSec} s two-party G.711 call, one thread\n`);
console.log('| job | seconds | × realtime | file bytes |');
console.log('|---|---:|---:|---:|');
for (const r of await benchMediaJob(callSec)) console.log(`| ${r.name} | ${r.seconds.toFixed(3)} | ${fmt(r.realtime)} | ${r.bytes === undefined ? '' : fmt(r.bytes)} |`);

// SIPREC server (issue 6): concurrent sessions from SIPp with media, lost sessions/packets, CPU.
const siprecSizes = (process.env['BENCH_SIPREC_SESSIONS'] ?? '200').split(',').map(Number).filter((x) => x > 0);
await benchSiprecLoad(siprecSizes, Number(process.env['BENCH_SIPREC_SECONDS'] ?? 60));

// Forwarding agent and HEP input (issue 5), in a process of its own: an agent's CPU and memory are
// its own, not those of a bench process that has just run the sections above (1 GB of heaps to GC).
console.log('\n## Agent and HEP\n');
{
  const r = spawnSync(process.execPath, [new URL('./agent-only.js', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench/agent-only.js exited ${r.status}`);
  process.stdout.write(r.stdout);
}

// SCCP (Skinny) signaling and the Lync/Skype call-event feed (issue 7), one core.
{
  const { benchSccp } = await import('./sccp.js');
  const { benchNetfeed } = await import('./netfeed.js');
  console.log('\n## SCCP and the call-event feed\n');
  console.log('| run | messages | seconds | messages/s | note |');
  console.log('|---|---:|---:|---:|---|');
  for (const r of benchSccp(Number(process.env['BENCH_SCCP_CALLS'] ?? 20_000))) console.log(`| SCCP: ${r.name} | ${fmt(r.messages)} | ${r.seconds.toFixed(3)} | ${fmt(r.perSec)} | ${r.note ?? ''} |`);
  for (const r of benchNetfeed(Number(process.env['BENCH_NETFEED_CALLS'] ?? 5000))) console.log(`| feed: ${r.name} | ${fmt(r.messages)} | ${r.seconds.toFixed(3)} | ${fmt(r.perSec)} | ${r.note ?? ''} |`);
}

// Decoders (codecs issue): × realtime per core, packet by packet as a render decodes.
const decSec = Number(process.env['BENCH_DECODER_SECONDS'] ?? 60);
console.log(`\n## Decoders: ${decSec} s of speech each, one thread\n`);
console.log('| codec | audio s | seconds | × realtime | note |');
console.log('|---|---:|---:|---:|---|');
for (const r of await benchDecoders(decSec)) console.log(`| ${r.codec} | ${r.audioSeconds.toFixed(1)} | ${r.seconds.toFixed(3)} | ${fmt(r.realtime)} | ${r.note ?? ''} |`);
