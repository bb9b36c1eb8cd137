/**
 * The forwarding agent: capture (live through the libpcap addon with a BPF built from the config,
 * or capture files) → the recorder's packet path (frames, IP, UDP, TCP reassembly, demux) →
 * Forwarder (interest, TURN unwrap) → destinations (HEP3 over UDP or TCP).
 */
import { isIP } from 'node:net';
import { frameTime } from '../recorder/capture/frame.js';
import { CaptureFileError, openCaptureFile } from '../recorder/capture/file-source.js';
import { LiveCapture, LiveCaptureError } from '../recorder/capture/live-source.js';
import { Counters } from '../recorder/core/counters.js';
import { startOpsServer, type OpsServer } from '../recorder/ops/metrics.js';
import { Pipeline } from '../recorder/pipeline.js';
import { buildBpf } from './capture/bpf.js';
import { AddressSet, Interest } from './capture/interest.js';
import type { AgentConfig } from './config.js';
import { Forwarder } from './forwarder.js';
import { agentRegistry, statusLine, type AgentTotals } from './ops/agent-metrics.js';
import type { Destination } from './output/destination.js';
import { DestinationSet } from './output/destination-set.js';
import { TcpDestination } from './output/tcp-destination.js';
import { UdpDestination } from './output/udp-destination.js';

export class AgentError extends Error {
  override readonly name = 'AgentError';
}

export interface AgentSource {
  iface?: string;
  read?: string[];
  /** --read: replay at this multiple of capture speed; 0 = as fast as possible. */
  speed: number;
  /** --read: seconds to wait at the end for buffered packets to be delivered. */
  drainSec: number;
}

const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
/** --speed: packets due within this many milliseconds go out together. */
const PACE_STEP_MS = 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Agent {
  readonly counters = new Counters();
  readonly forwarder: Forwarder;
  readonly output: DestinationSet;
  readonly pipeline: Pipeline;
  seen = 0;
  private capture: LiveCapture | null = null;
  private server: OpsServer | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  readonly totals: AgentTotals;

  constructor(readonly config: AgentConfig) {
    const destinations: Destination[] = config.destinations.map((d) => {
      const spec = { name: `${d.transport}:${d.host.includes(':') ? `[${d.host}]` : d.host}:${d.port}`, transport: d.transport, host: d.host, port: d.port, ips: new AddressSet(d.ips) };
      return d.transport === 'tcp'
        ? new TcpDestination(spec, {
            memoryBytes: config.buffer.memoryMiB * 1024 * 1024,
            diskDir: config.buffer.diskDir,
            diskBytes: config.buffer.diskMiB * 1024 * 1024,
            reconnectMs: config.tcp.reconnectMs,
            ack: config.tcp.ack,
          })
        : new UdpDestination(spec);
    });
    this.output = new DestinationSet(destinations, config.mode);
    const demuxPorts = { sip: new Set(config.sip.ports) };
    this.forwarder = new Forwarder(this.counters, this.output, {
      interest: new Interest(config.filter),
      agentId: config.agentId,
      authKey: config.authKey,
      turnServerPorts: config.turn.serverPorts,
      demuxPorts,
    });
    this.pipeline = new Pipeline(this.counters, this.forwarder, { demuxPorts });
    this.totals = {
      seen: () => this.seen,
      stats: this.forwarder.stats,
      counters: this.counters,
      destinations,
      kernelDrops: () => (this.capture ? this.capture.stats().dropped : 0),
    };
  }

  async startOps(): Promise<void> {
    if (this.config.statusIntervalSec > 0) {
      this.statusTimer = setInterval(() => log(statusLine(this.totals)), this.config.statusIntervalSec * 1000);
      this.statusTimer.unref();
    }
    if (this.config.metrics) {
      this.server = await startOpsServer(this.config.metrics.listen, agentRegistry(this.totals), () => ({
        ok: this.output.destinations.some((d) => d.up),
        detail: { seen: this.seen, forwarded: this.forwarder.stats.forwarded },
      }));
      log(`metrics on ${this.config.metrics.listen.replace(/:\d+$/, '')}:${this.server.port}/metrics`);
    }
  }

  /** Replays capture files; resolves with true when everything forwarded was delivered. */
  async readFiles(files: readonly string[], speed: number, drainSec: number): Promise<boolean> {
    // Give TCP destinations a moment to connect, so a short file is not all buffered first.
    const until = Date.now() + 2000;
    while (Date.now() < until && this.output.destinations.some((d) => !d.up)) await sleep(10);
    for (const file of files) {
      let cap;
      try {
        cap = await openCaptureFile(file, this.counters);
      } catch (err) {
        if (err instanceof CaptureFileError) throw new AgentError(err.message);
        throw err;
      }
      let t0 = -1;
      const wall0 = Date.now();
      try {
        for await (const batch of cap.batches()) {
          for (const f of batch) {
            if (speed > 0) {
              const t = frameTime(f);
              if (t0 < 0) t0 = t;
              const due = wall0 + ((t - t0) * 1000) / speed;
              // Wake in steps like live capture's kernel blocks (the addon's default 100 ms timeout):
              // a timer per packet would cost more than forwarding it.
              const wait = due - Date.now();
              if (wait > PACE_STEP_MS) await sleep(wait);
            }
            this.seen++;
            this.pipeline.push(f);
          }
          // Let sockets flush and acks arrive between batches.
          await new Promise((r) => setImmediate(r));
        }
      } finally {
        await cap.close();
      }
    }
    this.pipeline.finish();
    return this.output.drain(drainSec * 1000);
  }

  /** Live capture until stop() resolves. */
  startLive(iface: string): void {
    const c = this.config.capture;
    // Never capture our own HEP output (a destination on this host's capture path).
    const own = this.config.destinations.filter((d) => isIP(d.host) !== 0).map((d) => `(dst host ${d.host} and dst port ${d.port})`);
    const filter = own.length ? `(${buildBpf(this.config.filter)}) and not (${own.join(' or ')})` : buildBpf(this.config.filter);
    try {
      this.capture = LiveCapture.open(
        { iface, filter, snaplen: c.snaplen, bufferSize: c.bufferMiB * 1024 * 1024, promisc: c.promisc },
        (frames) => {
          for (const f of frames) {
            this.seen++;
            this.pipeline.push(f);
          }
        },
        (err) => log(`agent: capture on ${iface} stopped: ${err.message}`),
      );
    } catch (err) {
      if (err instanceof LiveCaptureError) throw new AgentError(`${iface}: ${err.message}`);
      throw err;
    }
    log(`agent: capturing on ${iface} (${filter}), forwarding to ${this.output.destinations.map((d) => d.spec.name).join(', ')} (${this.config.mode})`);
  }

  /** Quiet links still expire TURN state: sweep on the wall clock when no packet moved capture time. */
  idleSweep(): NodeJS.Timeout {
    let last = this.pipeline.now;
    let wall = Date.now();
    return setInterval(() => {
      if (this.pipeline.now !== last) {
        last = this.pipeline.now;
        wall = Date.now();
      } else if (last > 0) this.pipeline.sweep(last + (Date.now() - wall) / 1000);
    }, 1000);
  }

  async stop(drainSec: number): Promise<boolean> {
    this.capture?.close();
    this.pipeline.finish();
    const ok = await this.output.drain(drainSec * 1000);
    log(statusLine(this.totals));
    if (this.statusTimer) clearInterval(this.statusTimer);
    await this.output.close();
    await this.server?.close();
    return ok;
  }
}
