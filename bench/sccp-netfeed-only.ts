/** `node dist/bench/sccp-netfeed-only.js`: just the SCCP and call-event feed rows of bench/run.ts. */
import { benchNetfeed } from './netfeed.js';
import { benchSccp } from './sccp.js';

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
console.log('| run | messages | seconds | messages/s | note |');
console.log('|---|---:|---:|---:|---|');
for (const r of benchSccp(Number(process.env['BENCH_SCCP_CALLS'] ?? 20_000))) console.log(`| SCCP: ${r.name} | ${fmt(r.messages)} | ${r.seconds.toFixed(3)} | ${fmt(r.perSec)} | ${r.note ?? ''} |`);
for (const r of benchNetfeed(Number(process.env['BENCH_NETFEED_CALLS'] ?? 5000))) console.log(`| feed: ${r.name} | ${fmt(r.messages)} | ${r.seconds.toFixed(3)} | ${fmt(r.perSec)} | ${r.note ?? ''} |`);
