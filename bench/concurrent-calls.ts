import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openCaptureFile } from '../recorder/capture/file-source.js';
import { UsersDirectory } from '../recorder/calls/users-directory.js';
import { CallRecorder } from '../recorder/call-recorder.js';
import { Counters } from '../recorder/core/counters.js';
import { CallIndex } from '../recorder/index/call-index.js';
import { MediaJobPool } from '../recorder/media/job-pool.js';
import { Pipeline } from '../recorder/pipeline.js';
import { SpoolDirectory } from '../recorder/spool/spool-directory.js';
import { CallScenario, sdp } from '../test/support/call-scenario.js';
import * as B from '../test/support/packets.js';
import { pcapFileHeader, pcapRecord } from './pcap-stream.js';
import { mainThreadCpuSeconds } from './proc-stat.js';

export interface CallsBenchRow {
  calls: number;
  packets: number;
  captureSeconds: number;
  /** Packet path + SIP + calls + spool, until the last BYE was processed. */
  processSeconds: number;
  packetsPerSec: number;
  callsPerSec: number;
  realtime: number;
  /** CPU seconds of the capture thread (the main thread: packet path, SIP, calls, spool records) while processing. */
  captureCpuSeconds: number;
  /** Packets per CPU second of the capture thread: the "one core" figure. */
  packetsPerCaptureCpuSec: number;
  /**
   * The same in steady state: from when every call is up until the first BYE (no call set-up,
   * file creation or teardown in the window), packets and capture-thread CPU in between.
   */
  steadyPackets: number;
  /** NaN when the window took under 0.2 s of CPU (the clock counts 10 ms ticks) or there is none. */
  steadyPacketsPerCaptureCpuSec: number;
  /** CPU seconds of every other thread meanwhile (spool writer, fsync, media worker, GC helpers). */
  otherCpuSeconds: number;
  /** Share of the frames the native fast path took whole (the rest took the TypeScript path). */
  fastShare: number;
  peakActive: number;
  /** RSS before the first packet, with the writer and media threads and the ring in place. */
  baseRssMiB: number;
  /** (RSS − base) ÷ calls, mid-call with every call active, after a full GC of the main thread. */
  rssPerCallKiB: number;
  heapPerCallKiB: number;
  /** Until every WAV is written and indexed. */
  endToEndSeconds: number;
  tsharkSeconds: number;
}

const T0 = 1_700_000_000;

/** A full GC of this thread (V8's gc() without --expose-gc, which worker threads refuse). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Writes a classic pcap of `n` concurrent G.711 calls, each `seconds` long, starts spread over 1 s. */
export async function generate(path: string, n: number, seconds: number): Promise<number> {
  const out = createWriteStream(path);
  out.write(pcapFileHeader());
  const ip = (i: number, side: number): string => `10.${side}.${(i >> 8) & 255}.${i & 255}`;
  // Per call: the signaling frames and one RTP template per direction (seq/ts patched per packet).
  interface Tpl {
    at: number;
    frames: { t: number; data: Buffer }[];
    rtp: Buffer[];
  }
  const calls: Tpl[] = [];
  for (let i = 0; i < n; i++) {
    const at = (i / n) * 1.0;
    const a = { ip: ip(i, 1), sipPort: 5060 };
    const b = { ip: ip(i, 2), sipPort: 5060 };
    const sc = new CallScenario(`bench-${i}@load`, a, b, T0);
    sc.sip(at, 'caller', sc.request('INVITE', 'caller', { body: sdp({ ip: a.ip, port: 20000 }), cseq: 1 }));
    sc.sip(at + 0.05, 'callee', sc.response(200, 'OK', 'callee', 1, 'INVITE', { toTag: 'callee-tag', body: sdp({ ip: b.ip, port: 30000 }) }));
    sc.sip(at + 0.06, 'caller', sc.request('ACK', 'caller', { toTag: 'callee-tag', cseq: 1, branch: 'z9hG4bK-ack' }));
    sc.sip(at + 0.1 + seconds, 'caller', sc.request('BYE', 'caller', { toTag: 'callee-tag', cseq: 2 }));
    const payload = Buffer.alloc(172);
    const mk = (src: string, sp: number, dst: string, dp: number, ssrc: number): Buffer => B.ethernet(B.ipv4(src, dst, 17, B.udp(sp, dp, Buffer.concat([B.rtp(0, 0, ssrc, 0, 0), payload.subarray(12)]))));
    calls.push({
      at,
      frames: sc.frames.map((f) => ({ t: f.tsSec - T0 + f.tsNsec / 1e9, data: f.data })),
      rtp: [mk(a.ip, 20000, b.ip, 30000, 0x10000 + i), mk(b.ip, 30000, a.ip, 20000, 0x20000 + i)],
    });
  }
  const perCall = Math.round(seconds * 50);
  const events: { t: number; data: Buffer }[] = [];
  for (const c of calls) for (const f of c.frames) events.push(f);
  events.sort((x, y) => x.t - y.t);
  // RTP is generated tick by tick (20 ms), merged with the signaling in time order.
  let ev = 0;
  let packets = 0;
  const chunk: Buffer[] = [];
  const write = async (t: number, data: Buffer): Promise<void> => {
    chunk.push(pcapRecord(T0 * 1e6 + Math.round(t * 1e6), data));
    packets++;
    if (chunk.length >= 8192 && !out.write(Buffer.concat(chunk.splice(0)))) await once(out, 'drain');
  };
  const ticks = Math.ceil((1 + seconds + 0.2) / 0.02);
  for (let k = 0; k < ticks; k++) {
    const tickEnd = (k + 1) * 0.02;
    for (const c of calls) {
      const idx = k - Math.round((c.at + 0.1) / 0.02);
      if (idx < 0 || idx >= perCall) continue;
      const t = (idx + Math.round((c.at + 0.1) / 0.02)) * 0.02;
      while (ev < events.length && events[ev]!.t <= t) {
        await write(events[ev]!.t, events[ev]!.data);
        ev++;
      }
      for (const r of c.rtp) {
        r.writeUInt16BE(idx & 0xffff, 14 + 20 + 8 + 2);
        r.writeUInt32BE((idx * 160) >>> 0, 14 + 20 + 8 + 4);
        await write(t, r);
      }
    }
    while (ev < events.length && events[ev]!.t <= tickEnd) {
      await write(events[ev]!.t, events[ev]!.data);
      ev++;
    }
  }
  while (ev < events.length) {
    await write(events[ev]!.t, events[ev]!.data);
    ev++;
  }
  out.write(Buffer.concat(chunk));
  out.end();
  await once(out, 'finish');
  return packets;
}

export async function benchConcurrentCalls(n: number, seconds: number): Promise<CallsBenchRow> {
  const work = mkdtempSync(join(tmpdir(), `bench-calls-${n}-`));
  const file = join(work, 'calls.pcap');
  try {
    const packets = await generate(file, n, seconds);
    if (!existsSync(file) || statSync(file).size === 0) throw new Error('bench: capture not written');
    const counters = new Counters();
    mkdirSync(join(work, 'rec'));
    const index = CallIndex.open(join(work, 'index'));
    const pool = new MediaJobPool(1);
    const spool = new SpoolDirectory(join(work, 'spool'), counters, { lossless: true });
    spool.start();
    const recorder = new CallRecorder({ counters, users: new UsersDirectory(), spool, pool, index, recordingsDir: join(work, 'rec'), format: 'wav', channels: 2 });
    const pipeline = new Pipeline(counters, recorder);
    // The fixed costs belong to the base, not to the calls: the capture file open, the writer
    // thread started (one spool opened and closed), the media worker and the ring (resident from
    // the start) in place.
    const cap = await openCaptureFile(file, counters);
    const warm = spool.open({ id: 'warm-up', callId: 'warm-up', record: null });
    await warm.close({ id: 'warm-up', callId: 'warm-up', record: null });
    collectGarbage();
    const base = process.memoryUsage();
    let peak = 0;
    let peakRss = 0;
    let peakHeap = 0;
    let sampled = false;
    let sampleWall = 0;
    let sampleCpu = 0;
    // Mid-call, when every call is up and its batches are filling: live memory after a GC.
    const sampleAt = T0 + 1 + seconds / 2;
    // Steady state: the last call's INVITE is at 1.0 s, its RTP from 1.1 s; the first BYE at 0.1 s + seconds.
    const steadyFrom = T0 + 1.2;
    const steadyTo = T0 + 0.1 + seconds - 0.05;
    let pushed = 0;
    let steady0: { packets: number; cpu: number } | null = null;
    let steady1: { packets: number; cpu: number } | null = null;
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuSeconds();
    const t0 = process.hrtime.bigint();
    for await (const batch of cap.batches()) {
      pipeline.pushBatch(batch);
      pushed += batch.length;
      if (steady0 === null && pipeline.now >= steadyFrom) steady0 = { packets: pushed, cpu: mainThreadCpuSeconds() };
      if (steady1 === null && pipeline.now >= steadyTo) steady1 = { packets: pushed, cpu: mainThreadCpuSeconds() - sampleCpu };
      const active = recorder.registry.activeCalls;
      peak = Math.max(peak, active);
      if (!sampled && active === n && pipeline.now >= sampleAt) {
        sampled = true;
        // The sample's full GC is the bench's, not the recorder's: its time is left out.
        const g0 = process.hrtime.bigint();
        const gc0 = mainThreadCpuSeconds();
        collectGarbage();
        const m = process.memoryUsage();
        peakRss = m.rss;
        peakHeap = m.heapUsed;
        sampleWall = Number(process.hrtime.bigint() - g0) / 1e9;
        sampleCpu = mainThreadCpuSeconds() - gc0;
      }
    }
    if (!sampled) throw new Error(`bench: never ${n} calls active at once`);
    // Calls shorter than ~1.2 s have no window where all are up and none has ended: no figure.
    const steadyPackets = steady0 !== null && steady1 !== null ? steady1.packets - steady0.packets : 0;
    const steadyCpu = steady0 !== null && steady1 !== null ? steady1.cpu - steady0.cpu : 0;
    if (counters.get('spool.ring_full') > 0) throw new Error('bench: packets dropped by the spool');
    await cap.close();
    const t1 = process.hrtime.bigint();
    const captureCpuSeconds = mainThreadCpuSeconds() - main0 - sampleCpu;
    const cpu = process.cpuUsage(cpu0);
    const otherCpuSeconds = (cpu.user + cpu.system) / 1e6 - sampleCpu - captureCpuSeconds;
    pipeline.finish();
    const records = await recorder.finish(pipeline.now, 'capture-end');
    await spool.closeAll();
    const t2 = process.hrtime.bigint();
    await pool.close();
    await index.close();
    const withAudio = records.filter((r) => r.recording).length;
    if (withAudio !== n) throw new Error(`bench: ${withAudio} of ${n} calls recorded`);
    const processSeconds = Number(t1 - t0) / 1e9 - sampleWall;
    const ts = process.hrtime.bigint();
    const r = spawnSync('tshark', ['-r', file, '-q', '-z', 'rtp,streams'], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error('bench: tshark failed');
    const tsharkSeconds = Number(process.hrtime.bigint() - ts) / 1e9;
    const captureSeconds = 1 + seconds + 0.2;
    return {
      calls: n,
      packets,
      captureSeconds,
      processSeconds,
      packetsPerSec: packets / processSeconds,
      callsPerSec: n / processSeconds,
      realtime: captureSeconds / processSeconds,
      captureCpuSeconds,
      packetsPerCaptureCpuSec: packets / captureCpuSeconds,
      steadyPackets,
      // /proc's thread CPU counts 10 ms ticks: a shorter window (100 calls) would be mostly rounding.
      steadyPacketsPerCaptureCpuSec: steadyPackets > 0 && steadyCpu >= 0.2 ? steadyPackets / steadyCpu : Number.NaN,
      otherCpuSeconds,
      fastShare: (recorder.fastPath?.taken ?? 0) / pushed,
      peakActive: peak,
      baseRssMiB: base.rss / 1048576,
      rssPerCallKiB: Math.max(0, peakRss - base.rss) / 1024 / n,
      heapPerCallKiB: Math.max(0, peakHeap - base.heapUsed) / 1024 / n,
      endToEndSeconds: Number(t2 - t0) / 1e9,
      tsharkSeconds,
    };
  } finally {
    // BENCH_KEEP=1 keeps the capture and outputs for a closer look.
    if (!process.env['BENCH_KEEP']) rmSync(work, { recursive: true, force: true });
  }
}
