/**
 * Prometheus metrics and the ops HTTP endpoint (`/metrics`, `/healthz`), so operators can alert
 * when calls go unrecorded (DESIGN.md "Who uses it").
 *
 * Nothing here runs per packet. Packet-rate totals (packets, bytes, drops, Counters) are read
 * from their owners at scrape time by collect() callbacks; call-rate events (a call ended, a
 * recording written, a media job's duration) are pushed through the metric objects.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Counters } from '../core/counters.js';
import { parseListen } from './listen-address.js';

/** Totals of one capture input (an interface, a file, the HEP listener), monotonic since start. */
export interface CaptureTotals {
  input: string;
  packets: number;
  bytes: number;
  /** Dropped by the kernel because the capture buffer was full (pcap ps_drop). */
  kernelDrops: number;
  /** Dropped by the interface or its driver (pcap ps_ifdrop). */
  ifDrops: number;
}

/** Where scrape-time values come from; each is optional so a part can run alone. */
export interface MetricsSources {
  /** `stage.reason` event counters, exported as recorder_malformed_total{reason}. */
  counters?: Counters;
  capture?: () => Iterable<CaptureTotals>;
  activeCalls?: () => number;
  unattachedStreams?: () => number;
  mediaQueueDepth?: () => number;
  mediaQueueLag?: () => number;
  /** Spool media batches written so far (one writev each): issue 8's writes per call per second. */
  spoolWrites?: () => number;
  /** SIPREC recording sessions in progress and media port pairs in use. */
  siprecSessions?: () => number;
  siprecPortsInUse?: () => number;
  /** Cisco SCCP stations (device connections) tracked. */
  sccpStations?: () => number;
  /** Front End feed connections open. */
  netfeedConnections?: () => number;
}

export interface MetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag, GC); on by default. */
  processMetrics?: boolean;
}

/** Media job durations: G.711 minutes render in well under a second, hour-long Opus in tens. */
const JOB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** The label for an end reason: its first word, so `rejected 486` and `rejected 603` stay one series. */
export function endReasonLabel(reason: string): string {
  return /^[a-z][a-z0-9_-]*/i.exec(reason.trim())?.[0].toLowerCase() ?? 'unknown';
}

export class RecorderMetrics {
  /** Our own registry, not prom-client's global one, so tests and embedders get independent sets. */
  readonly registry = new Registry();
  readonly activeCalls: Gauge;
  readonly callsTotal: Counter<'end_reason'>;
  readonly recordingsWritten: Counter;
  readonly unattachedStreams: Gauge;
  readonly mediaQueueDepth: Gauge;
  readonly mediaJobSeconds: Histogram;

  constructor(sources: MetricsSources = {}, opts: MetricsOptions = {}) {
    const registers = [this.registry];
    const capture = sources.capture;
    // Counters owned elsewhere: reset, then set to the owner's total at each scrape.
    const fromCapture = (field: 'packets' | 'bytes' | 'kernelDrops' | 'ifDrops') =>
      function (this: Counter<'input'>): void {
        this.reset();
        if (!capture) return;
        for (const t of capture()) this.inc({ input: t.input }, t[field]);
      };
    new Counter({ name: 'recorder_packets_total', help: 'Frames captured, per input', labelNames: ['input'], registers, collect: fromCapture('packets') });
    new Counter({ name: 'recorder_bytes_total', help: 'Bytes captured (wire length), per input', labelNames: ['input'], registers, collect: fromCapture('bytes') });
    new Counter({
      name: 'recorder_capture_kernel_drops_total',
      help: 'Frames the kernel dropped because the capture buffer was full (raise bufferMiB)',
      labelNames: ['input'],
      registers,
      collect: fromCapture('kernelDrops'),
    });
    new Counter({
      name: 'recorder_capture_if_drops_total',
      help: 'Frames the interface or driver dropped',
      labelNames: ['input'],
      registers,
      collect: fromCapture('ifDrops'),
    });
    const spoolWrites = sources.spoolWrites;
    if (spoolWrites) {
      new Counter({
        name: 'recorder_spool_writes_total',
        help: 'Spool media batches written (one writev each)',
        registers,
        collect(this: Counter) {
          this.reset();
          this.inc(spoolWrites());
        },
      });
    }
    const counters = sources.counters;
    new Counter({
      name: 'recorder_malformed_total',
      help: 'Bad, truncated, unsupported or evicted input, by stage.reason',
      labelNames: ['reason'],
      registers,
      collect(this: Counter<'reason'>) {
        this.reset();
        if (counters) for (const [reason, n] of counters.entries()) this.inc({ reason }, n);
      },
    });

    // A gauge whose owner can report it at scrape time; without a source, code sets it.
    const gauge = (name: string, help: string, read: (() => number) | undefined): Gauge =>
      new Gauge({
        name,
        help,
        registers,
        collect: read
          ? function (this: Gauge) {
              this.set(read());
            }
          : undefined,
      });
    this.activeCalls = gauge('recorder_active_calls', 'Calls in progress', sources.activeCalls);
    this.unattachedStreams = gauge('recorder_unattached_streams', 'RTP streams that match no call', sources.unattachedStreams);
    this.mediaQueueDepth = gauge('recorder_media_queue_depth', 'Media jobs (decode, mix, encode) waiting or running', sources.mediaQueueDepth);
    gauge('recorder_media_queue_lag_seconds', 'Seconds the oldest waiting media job has waited (0: none waits)', sources.mediaQueueLag ?? (() => 0));
    if (sources.siprecSessions) gauge('recorder_siprec_sessions', 'SIPREC recording sessions in progress', sources.siprecSessions);
    if (sources.sccpStations) gauge('recorder_sccp_stations', 'Cisco SCCP stations (device connections) tracked', sources.sccpStations);
    if (sources.netfeedConnections) gauge('recorder_netfeed_connections', 'Front End call-event feed connections open', sources.netfeedConnections);
    if (sources.siprecPortsInUse) gauge('recorder_siprec_ports_in_use', 'SIPREC media port pairs (RTP+RTCP) allocated', sources.siprecPortsInUse);

    this.callsTotal = new Counter({ name: 'recorder_calls_total', help: 'Calls ended, by end reason', labelNames: ['end_reason'], registers });
    this.recordingsWritten = new Counter({ name: 'recorder_recordings_written_total', help: 'Recording files written', registers });
    this.mediaJobSeconds = new Histogram({ name: 'recorder_media_job_seconds', help: 'Time to render one recording', buckets: JOB_BUCKETS, registers });

    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** A call ended (one per call; the reason's first word is the label). */
  callEnded(reason: string): void {
    this.callsTotal.inc({ end_reason: endReasonLabel(reason) });
  }
}

export interface HealthReport {
  ok: boolean;
  detail: Record<string, unknown>;
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serve GET /metrics (Prometheus text format) and GET /healthz (200 with JSON when healthy, 503
 * otherwise) on `listen` (`host:port`; port 0 picks a free one). Other paths are 404.
 */
export async function startOpsServer(listen: string, registry: Registry, health: () => HealthReport): Promise<OpsServer> {
  const addr = parseListen(listen);
  if (typeof addr === 'string') throw new Error(`ops server: ${listen}: ${addr}`);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz') return reply(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return reply(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    const head = req.method === 'HEAD';
    if (path === '/metrics') {
      const text = await registry.metrics();
      return reply(res, 200, registry.contentType, head ? undefined : text);
    }
    let report: HealthReport;
    try {
      report = health();
    } catch (err) {
      // A health check that throws is itself a failure worth reporting, not a crashed endpoint.
      report = { ok: false, detail: { error: err instanceof Error ? err.message : String(err) } };
    }
    const json = `${JSON.stringify({ ...report.detail, ok: report.ok })}\n`;
    return reply(res, report.ok ? 200 : 503, 'application/json', head ? undefined : json);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, 'text/plain; charset=utf-8', `error: ${err instanceof Error ? err.message : String(err)}\n`);
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(new Error(`ops server: cannot listen on ${listen}: ${err.message}`));
    server.once('error', onError);
    server.listen(addr.port, addr.host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Scrapers keep connections alive; without this close() would wait for them to time out.
        server.closeAllConnections();
      }),
  };
}

function reply(res: ServerResponse, status: number, type: string, body: string | undefined): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}
