/**
 * Agent and HEP benchmarks (issue 5):
 *  - agent packets/s per core, capture file → HEP over UDP to a loopback socket (CPU time of this
 *    process, which does everything the CLI does: read, decode, unwrap, encode, send);
 *  - CPU at 100 concurrent forwarded calls replayed in real time (50 packets/s each way per call);
 *  - recorder HEP ingest: HEP packets decoded and injected into the recording pipeline.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Agent } from '../agent/agent.js';
import { defaultAgentConfig } from '../agent/config.js';
import { CallRecorder } from '../recorder/call-recorder.js';
import { Counters } from '../recorder/core/counters.js';
import { attachHepToRegistry } from '../recorder/hep/call-hooks.js';
import { encodeHep3, HepPacket, hep3Size } from '../recorder/hep/hep3.js';
import { HepInput } from '../recorder/hep/hep-input.js';
import { Pipeline } from '../recorder/pipeline.js';
import { writePcap, type WriterFrame } from '../test/support/capture-writer.js';
import { turnCall, type Wrapping } from '../test/support/turn-call.js';
import { fillHep, forwardFile } from '../test/agent/agent-harness.js';

export interface AgentBenchRow {
  name: string;
  packets: number;
  wallSeconds: number;
  cpuSeconds: number;
  perCore: number;
  note?: string;
}

const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** `calls` TURN-wrapped (or plain) calls of `packets` RTP packets each way, interleaved in time. */
function calls(n: number, packets: number, wrapping: Wrapping | 'plain'): WriterFrame[] {
  const frames: WriterFrame[] = [];
  for (let i = 0; i < n; i++) {
    const c = turnCall({ callId: `bench-${i}@agent`, wrapping: wrapping === 'plain' ? 'channel-udp' : wrapping, slot: i % 250, t0: 1_700_000_000 + (i % 20) * 0.001, packets, seed: i + 1 });
    frames.push(...(wrapping === 'plain' ? c.unwrapped : c.wrapped));
  }
  return frames.sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
}

/**
 * A HEP collector in another process (UDP and TCP, counts and discards), so that its receiving
 * work is not charged to the agent's CPU time. On loopback the kernel's delivery path still runs
 * in the sender's system call, as it would not on a real NIC.
 */
async function sink(): Promise<{ port: number; close: () => void }> {
  const code = `
    const dgram = require('node:dgram'), net = require('node:net');
    const u = dgram.createSocket({ type: 'udp4', recvBufferSize: 32 << 20 });
    u.on('message', () => {});
    u.bind(0, '127.0.0.1', () => {
      const t = net.createServer((c) => c.on('data', () => {}));
      t.listen(u.address().port, '127.0.0.1', () => process.stdout.write(String(u.address().port) + '\\n'));
    });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  return { port, close: () => child.kill() };
}

async function runAgent(file: string, speed: number, port: number, transport: 'udp' | 'tcp'): Promise<{ wall: number; cpu: number; forwarded: number; seen: number; rssMiB: number }> {
  const config = defaultAgentConfig();
  config.destinations = [{ to: `${transport}:127.0.0.1:${port}`, transport, host: '127.0.0.1', port, ips: [] }];
  config.tcp.ack = 'off';
  config.statusIntervalSec = 0;
  const agent = new Agent(config);
  const c0 = cpu();
  const t0 = performance.now();
  await agent.readFiles([file], speed, 5);
  const wall = (performance.now() - t0) / 1000;
  const used = cpu() - c0;
  await agent.output.close();
  return { wall, cpu: used, forwarded: agent.forwarder.stats.forwarded, seen: agent.seen, rssMiB: process.memoryUsage().rss / 2 ** 20 };
}

export async function benchAgent(): Promise<AgentBenchRow[]> {
  const rows: AgentBenchRow[] = [];
  const s = await sink();
  try {
    for (const wrapping of ['channel-udp', 'plain'] as const) {
      const file = `/tmp/voip-agent-bench-${wrapping}.pcap`;
      writePcap(file, calls(100, 2000, wrapping), { linkType: 1 });
      for (const transport of ['udp', 'tcp'] as const) {
        await runAgent(file, 0, s.port, transport); // warm-up (JIT)
        const r = await runAgent(file, 0, s.port, transport);
        const what = wrapping === 'plain' ? 'plain RTP/UDP' : 'TURN ChannelData/UDP';
        rows.push({ name: `agent: ${what} → HEP/${transport.toUpperCase()}, capture file`, packets: r.seen, wallSeconds: r.wall, cpuSeconds: r.cpu, perCore: r.seen / r.cpu, note: `${r.forwarded} forwarded` });
      }
    }
    // 100 concurrent calls in real time: 10 s of capture, 10,000 packets/s.
    const rt = '/tmp/voip-agent-bench-realtime.pcap';
    writePcap(rt, calls(100, 500, 'channel-udp'), { linkType: 1 });
    for (const transport of ['udp', 'tcp'] as const) {
      const r = await runAgent(rt, 1, s.port, transport);
      rows.push({ name: `agent: 100 concurrent TURN calls, real time, HEP/${transport.toUpperCase()}`, packets: r.seen, wallSeconds: r.wall, cpuSeconds: r.cpu, perCore: r.seen / r.cpu, note: `${((100 * r.cpu) / r.wall).toFixed(2)} % of a core, RSS ${r.rssMiB.toFixed(0)} MiB (bench process)` });
    }
  } finally {
    s.close();
  }
  rows.push(await benchHepIngest());
  return rows;
}

/** HEP packets (the agent's output for 100 calls) decoded and injected into the recorder's pipeline. */
async function benchHepIngest(): Promise<AgentBenchRow> {
  const file = '/tmp/voip-agent-bench-ref.pcap';
  writePcap(file, calls(100, 2000, 'plain'), { linkType: 1 });
  const forwarded = (await forwardFile([file])).out.got;
  const h = new HepPacket();
  const encoded = forwarded.map((x, i) => {
    fillHep(h, x).seq = i;
    const b = Buffer.alloc(hep3Size(h));
    encodeHep3(h, b);
    return b;
  });
  const run = (): { wall: number; cpu: number } => {
    const counters = new Counters();
    const recorder = new CallRecorder({ counters });
    const pipeline = new Pipeline(counters, recorder);
    const input = new HepInput({ counters, authKey: '', inject: (p) => pipeline.inject(p) });
    attachHepToRegistry(recorder.registry, input.relays, input.loss);
    const c0 = cpu();
    const t0 = performance.now();
    for (const b of encoded) input.onPacket(b, 0, b.length, '127.0.0.1');
    return { wall: (performance.now() - t0) / 1000, cpu: cpu() - c0 };
  };
  run();
  const r = run();
  return { name: 'recorder: HEP ingest (decode + inject + calls, no spool)', packets: encoded.length, wallSeconds: r.wall, cpuSeconds: r.cpu, perCore: encoded.length / r.cpu };
}
