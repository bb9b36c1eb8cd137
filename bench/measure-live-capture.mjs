// SPDX-License-Identifier: GPL-3.0-or-later
// Rough live-capture throughput check, not a test: a child process blasts UDP datagrams at
// 127.0.0.1 as fast as node can send them while this process captures them on `lo` through
// dist/recorder/capture/live-source.js. Reports sent vs captured, kernel drops and this
// process's CPU time. Needs root and both builds (tsc, node-gyp).
//
//   node bench/measure-live-capture.mjs [count=200000] [payloadBytes=172]
//
// node's dgram tops out near 100k packets/s; to push harder set MEASURE_SENDER to a program
// taking `count size port` that prints {"sent":n,"ms":t} (e.g. a sendmmsg loop in C).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { LiveCapture, pcapVersion } = await import(
  pathToFileURL(join(here, '..', 'dist', 'recorder', 'capture', 'live-source.js')).href
);

const COUNT = Number(process.argv[2] ?? 200_000);
const PAYLOAD = Number(process.argv[3] ?? 172); // RTP header + 20 ms of G.711
const PORT = 40000 + Math.floor(Math.random() * 20000);
const SEQ_OFF = 14 + 20 + 8;

// Sends in bursts, waiting for each burst's last callback so node's send queue stays bounded.
const SENDER = `
  import dgram from 'node:dgram';
  const [count, size, port] = process.argv.slice(1).map(Number);
  const s = dgram.createSocket('udp4');
  s.on('error', () => {});
  const bufs = Array.from({ length: 256 }, () => Buffer.alloc(size));
  const t0 = process.hrtime.bigint();
  let i = 0;
  while (i < count) {
    const end = Math.min(count, i + 256);
    await new Promise((resolve) => {
      for (; i < end; i++) {
        const b = bufs[i & 255];
        b.writeUInt32BE(i, 0);
        s.send(b, port, '127.0.0.1', i === end - 1 ? resolve : undefined);
      }
    });
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  s.close();
  console.log(JSON.stringify({ sent: count, ms }));
`;

async function run(name, opts, slowMsPerBatch = 0) {
  let captured = 0;
  let gaps = 0;
  let reordered = 0;
  let next = 0;
  let batches = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const cap = LiveCapture.open({ iface: 'lo', filter: `udp and dst port ${PORT}`, ...opts }, (frames) => {
    batches++;
    for (const f of frames) {
      captured++;
      const seq = f.data.readUInt32BE(SEQ_OFF);
      if (seq > next) gaps += seq - next;
      else if (seq < next) reordered++;
      next = Math.max(next, seq + 1);
    }
    if (slowMsPerBatch > 0) {
      const until = performance.now() + slowMsPerBatch; // a consumer that cannot keep up
      while (performance.now() < until);
    }
  });
  const args = [String(COUNT), String(PAYLOAD), String(PORT)];
  const child = process.env.MEASURE_SENDER
    ? spawn(process.env.MEASURE_SENDER, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, ['--input-type=module', '-e', SENDER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((resolve) => child.on('exit', resolve));
  // Wait until the capture has been idle for 300 ms (the ring is drained).
  for (let last = -1; last !== captured; ) {
    last = captured;
    await new Promise((r) => setTimeout(r, 300));
  }
  const st = cap.stats();
  cap.close();
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0 - 300;
  const sender = JSON.parse(out);
  const r = {
    scenario: name,
    sent: sender.sent,
    sendRatePps: Math.round(sender.sent / (sender.ms / 1000)),
    captured,
    missing: sender.sent - captured,
    gapsInSeq: gaps,
    reordered,
    batches,
    avgBatch: Math.round(captured / Math.max(1, batches)),
    psRecv: st.received,
    psDrop: st.dropped,
    psIfDrop: st.ifDropped,
    cpuUserMs: Math.round(cpu.user / 1000),
    cpuSysMs: Math.round(cpu.system / 1000),
    cpuUsPerPacket: +((cpu.user + cpu.system) / Math.max(1, captured)).toFixed(2),
    wallMs: Math.round(wall),
  };
  console.log(JSON.stringify(r));
}

console.log(`# ${pcapVersion()}, node ${process.version}, ${COUNT} x ${PAYLOAD}-byte UDP payloads on lo`);
await run('default (32 MiB ring, TPACKET_V3, timeout 100 ms)', {});
await run('immediate (TPACKET_V2)', { immediate: true });
await run('2 MiB ring, consumer burns 5 ms per batch', { bufferSize: 2 << 20, batchSize: 256 }, 5);
