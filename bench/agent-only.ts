/** `node dist/bench/agent-only.js`: only the agent and HEP figures of `npm run bench`. */
import { benchAgent } from './agent.js';

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
console.log('| run | packets | wall s | CPU s | packets/s per core | note |');
console.log('|---|---:|---:|---:|---:|---|');
for (const r of await benchAgent()) console.log(`| ${r.name} | ${fmt(r.packets)} | ${r.wallSeconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${fmt(r.perCore)} | ${r.note ?? ''} |`);
