import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { LiveCapture, LiveCaptureError } from '../capture/live-source.js';
import { UsersDirectory } from '../calls/users-directory.js';
import { CallRecorder } from '../call-recorder.js';
import { Counters } from '../core/counters.js';
import { CallIndex } from '../index/call-index.js';
import { MediaJobPool } from '../media/job-pool.js';
import { recoverSpools } from '../media/recovery.js';
import { RECORDING_FORMATS, encoderOptions, isRecordingFormat, type InterfaceConfig, type RecorderConfig } from '../ops/config.js';
import { RecorderMetrics, startOpsServer, type CaptureTotals } from '../ops/metrics.js';
import { Pipeline } from '../pipeline.js';
import { SpoolDirectory } from '../spool/spool-directory.js';
import { SpoolWriter } from '../spool/spool-writer.js';
import type { CallRecord } from '../calls/call-record.js';
import { attachHepToRegistry, noteHepLoss } from '../hep/call-hooks.js';
import { HepInput } from '../hep/hep-input.js';
import { HepListener } from '../hep/hep-listener.js';
import { parseListen, type ListenAddress } from '../ops/listen-address.js';
import { fail, UsageError } from './errors.js';
import { applySiprecFlags, startSiprec } from '../siprec/siprec-run.js';
import type { SiprecServer } from '../siprec/siprec-server.js';
import { configPayloadMappings, loadCliConfig } from './load-config.js';
import { applyNetfeedFlags, silkMappings, startNetfeed, type NetfeedRun } from '../netfeed/netfeed-run.js';

export interface RunOptions {
  config?: string;
  /** HEP listener: `[udp:|tcp:]host:port` (both transports without a prefix). */
  hep?: string;
  iface?: string[];
  filter?: string;
  out?: string;
  format?: string;
  metrics?: string;
  /** SIPREC server: `host:port` (replaces siprec.listen; enables the server). */
  siprec?: string;
  /** SIPREC media ports `START-END` (replaces siprec.audioPorts). */
  audioPorts?: string;
  /** Lync/Skype call-event feed listener `host:port` and its shared key (replace netfeed.listen / netfeed.key). */
  netfeed?: string;
  netfeedKey?: string;
}

/** How often (wall time) the trackers are swept when traffic is quiet. */
const IDLE_SWEEP_MS = 1000;

const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);

function configFrom(opts: RunOptions): RecorderConfig {
  const config = loadCliConfig(opts.config);
  if (opts.iface?.length) {
    config.inputs.interfaces = opts.iface.map((name): InterfaceConfig => ({ name, filter: opts.filter ?? '', snaplen: 262144, bufferMiB: 32, promisc: true }));
  }
  if (opts.out) {
    config.storage = { dataDir: opts.out, spoolDir: `${opts.out}/spool`, recordingsDir: `${opts.out}/recordings`, indexDir: `${opts.out}/index`, keepSpools: config.storage.keepSpools, syncfs: config.storage.syncfs };
  }
  if (opts.format !== undefined) {
    if (!isRecordingFormat(opts.format)) throw new UsageError(`--format must be one of ${RECORDING_FORMATS.join(', ')}, got "${opts.format}"`);
    config.recording.format = opts.format;
  }
  if (opts.metrics !== undefined) config.metrics = opts.metrics === 'off' ? null : { listen: opts.metrics };
  if (opts.hep !== undefined) {
    const m = /^(?:(udp|tcp):)?(.+)$/i.exec(opts.hep.trim());
    const listen = m?.[2] ?? '';
    const r = parseListen(listen);
    if (typeof r === 'string') throw new UsageError(`--hep ${opts.hep}: ${r}`);
    const only = m?.[1]?.toLowerCase();
    config.inputs.hep = { listen, udp: only !== 'tcp', tcp: only !== 'udp', authKey: config.inputs.hep?.authKey ?? '' };
  }
  applySiprecFlags(config, opts);
  applyNetfeedFlags(config, opts);
  if (config.inputs.interfaces.length === 0 && !config.inputs.hep && !config.siprec && !config.netfeed)
    throw new UsageError('run: no input: give --iface IF, --hep HOST:PORT, --siprec HOST:PORT, or inputs.interfaces / inputs.hep / siprec in the config');
  return config;
}

/**
 * `recorder run`: the appliance. Live capture on the configured interfaces through the libpcap
 * addon, calls recorded as they end, metrics and health over HTTP. SIGTERM/SIGINT finalize every
 * open call (spool flushed, recording rendered, index written) before exiting; spools left by a
 * crash are rendered at start-up, marked incomplete.
 */
export async function runCommand(opts: RunOptions): Promise<void> {
  const config = configFrom(opts);
  // Handlers first: a SIGTERM during start-up (recovery, opening captures) must still finalize.
  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  const st = config.storage;
  for (const d of [st.spoolDir, st.recordingsDir, st.indexDir]) mkdirSync(d, { recursive: true });
  const counters = new Counters();
  const index = CallIndex.open(st.indexDir);
  let metricsRef: RecorderMetrics | null = null;
  const pool = new MediaJobPool(config.media.workers, { onJobDone: (t) => metricsRef?.mediaJobSeconds.observe(t.latencyMs / 1000) });
  const channels = config.recording.channels === 'mono' ? 1 : 2;

  // A crash (kill -9, power loss) leaves spools open: they become recordings marked incomplete.
  const recovered = await recoverSpools(st.spoolDir, st.recordingsDir, pool, {
    channels,
    format: config.recording.format,
    encoder: encoderOptions(config.recording),
  });
  for (const r of recovered) {
    const rec = r.meta.record as CallRecord | null;
    if (rec && typeof rec === 'object' && 'id' in rec) {
      rec.recording = r.recording;
      if (r.recovered) rec.endReason ||= 'recovered';
      index.put(rec);
    }
    log(`recovered spool ${r.dir}: ${r.recording ? r.recording.path : `failed: ${r.error ?? '?'}`}`);
  }
  // Recovered spools whose recording is indexed go, as a finished call's do (storage.keepSpools).
  if (!config.storage.keepSpools && recovered.some((r) => r.recording !== null)) {
    await index.flushed();
    for (const r of recovered) if (r.recording !== null) await rm(r.dir, { recursive: true, force: true }).catch(() => counters.inc('spool.remove_failed'));
  }

  const overrides = configPayloadMappings(config);
  for (const m of silkMappings(config.netfeed)) if (!overrides.has(m.pt)) overrides.set(m.pt, m);
  const spool = new SpoolDirectory(st.spoolDir, counters, { syncfs: st.syncfs });
  spool.start();
  let metrics: RecorderMetrics | null = null;
  const captures: { name: string; cap: LiveCapture; packets: number; bytes: number }[] = [];
  const demuxPorts = { sip: new Set(config.sip.ports) };
  const recorder = new CallRecorder({
    counters,
    users: new UsersDirectory(config.users),
    timeouts: config.timeouts,
    spool,
    pool,
    index,
    recordingsDir: st.recordingsDir,
    format: config.recording.format,
    keepSpools: config.storage.keepSpools,
    encoder: encoderOptions(config.recording),
    channels,
    recordUnattached: config.recording.recordUnattached,
    payloadOverrides: overrides,
    ...(config.sccp ? { sccpPorts: config.sccp.ports } : {}),
    turn: { serverPorts: config.turn.serverPorts },
    demuxPorts,
    captureDrops: () => captures.reduce((n, c) => n + c.cap.stats().dropped + c.cap.stats().ifDropped, 0),
    onRecord: (rec) => {
      metrics?.callEnded(rec.endReason);
      if (rec.recording) metrics?.recordingsWritten.inc();
      log(`call ${rec.callId || rec.id} ${rec.endReason}: ${rec.recording ? rec.recording.path : 'no media'}`);
    },
  });
  const pipeline = new Pipeline(counters, recorder, { demuxPorts });
  let hep: { input: HepInput; listener: HepListener } | null = null;
  if (config.inputs.hep) {
    const hc = config.inputs.hep;
    // One relay-candidate table for TURN flags from agents and for the recorder's own TURN unwrap.
    const input = new HepInput({ counters, authKey: hc.authKey, inject: (p) => pipeline.inject(p), ...(recorder.relays ? { relays: recorder.relays } : {}) });
    if (recorder.relays) noteHepLoss(recorder.registry, input.loss);
    else attachHepToRegistry(recorder.registry, input.relays, input.loss);
    const addr = parseListen(hc.listen) as ListenAddress;
    try {
      const listener = await HepListener.start(input, counters, { host: addr.host, port: addr.port, udp: hc.udp, tcp: hc.tcp });
      hep = { input, listener };
    } catch (err) {
      await pool.close();
      await index.close();
      fail(`recorder: ${err instanceof Error ? err.message : String(err)}`);
    }
    const ports = [hep.listener.udpPort ? `udp:${hep.listener.udpPort}` : '', hep.listener.tcpPort ? `tcp:${hep.listener.tcpPort}` : ''].filter(Boolean).join(' ');
    log(`HEP listener on ${addr.host} ${ports}${hc.authKey ? ' (auth key required)' : ''}`);
  }
  let siprec: SiprecServer | null = null;
  if (config.siprec) {
    try {
      siprec = await startSiprec(config.siprec, recorder, pipeline, counters, log);
    } catch (err) {
      await hep?.listener.close();
      await pool.close();
      await index.close();
      fail(`recorder: siprec: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let netfeed: NetfeedRun | null = null;
  if (config.netfeed) {
    try {
      netfeed = await startNetfeed(config.netfeed, recorder, counters, st.recordingsDir, log);
    } catch (err) {
      await hep?.listener.close();
      await siprec?.stop();
      await pool.close();
      await index.close();
      fail(`recorder: netfeed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  for (const i of config.inputs.interfaces) {
    const entry = { name: i.name, cap: null as unknown as LiveCapture, packets: 0, bytes: 0 };
    try {
      entry.cap = LiveCapture.open(
        { iface: i.name, filter: i.filter || undefined, snaplen: i.snaplen, bufferSize: i.bufferMiB * 1024 * 1024, promisc: i.promisc },
        (frames) => {
          for (const f of frames) {
            entry.packets++;
            entry.bytes += f.len;
          }
          pipeline.pushBatch(frames);
        },
        (err) => log(`capture ${i.name} stopped: ${err.message}`),
      );
    } catch (err) {
      for (const c of captures) c.cap.close();
      await pool.close();
      await index.close();
      if (err instanceof LiveCaptureError) fail(`recorder: ${i.name}: ${err.message}`);
      throw err;
    }
    captures.push(entry);
    log(`capturing on ${i.name}${i.filter ? ` (${i.filter})` : ''}, ${entry.cap.precision}second timestamps`);
  }

  const totals = (): CaptureTotals[] => {
    const t = captures.map((c) => {
      const s = c.cap.stats();
      return { input: c.name, packets: c.packets, bytes: c.bytes, kernelDrops: s.dropped, ifDrops: s.ifDropped };
    });
    // HEP: "kernel drops" are the packets the senders' sequence numbers say never arrived.
    if (hep) t.push({ input: 'hep', packets: hep.input.packets, bytes: hep.input.bytes, kernelDrops: hep.input.loss.totalLost, ifDrops: 0 });
    return t;
  };
  metrics = new RecorderMetrics({
    counters,
    capture: totals,
    activeCalls: () => recorder.registry.activeCalls,
    unattachedStreams: () => recorder.registry.unattachedStreams().length,
    mediaQueueDepth: () => pool.queueDepth + pool.running,
    mediaQueueLag: () => pool.lagSeconds,
    spoolWrites: () => SpoolWriter.shared().stats.batches,
    siprecSessions: siprec ? () => siprec.activeSessions : undefined,
    siprecPortsInUse: siprec ? () => siprec.pool.inUse : undefined,
    sccpStations: () => recorder.sccp.stationCount,
    netfeedConnections: netfeed ? () => netfeed.server.connections : undefined,
  });
  metricsRef = metrics;
  const server = config.metrics
    ? await startOpsServer(config.metrics.listen, metrics.registry, () => ({ ok: captures.length > 0 || hep !== null || siprec !== null || netfeed !== null, detail: { captures: totals(), activeCalls: recorder.registry.activeCalls } }))
    : null;
  if (server) log(`metrics on ${config.metrics!.listen.replace(/:\d+$/, '')}:${server.port}/metrics`);

  // Quiet links must still time calls out: advance capture time by the wall clock between packets.
  let lastWall = Date.now();
  let lastCapture = 0;
  const idle = setInterval(() => {
    const now = Date.now();
    if (pipeline.now !== lastCapture) {
      lastCapture = pipeline.now;
      lastWall = now;
    } else if (lastCapture > 0) pipeline.sweep(lastCapture + (now - lastWall) / 1000);
    // SIPREC signaling (or feed messages) without any media yet: their timeouts run on the wall clock.
    else if (siprec || netfeed) pipeline.sweep(now / 1000);
  }, IDLE_SWEEP_MS);

  await stopRequested;
  log('stopping: finalizing open calls');
  clearInterval(idle);
  for (const c of captures) c.cap.close();
  await hep?.listener.close();
  await siprec?.stop();
  await netfeed?.stop();
  pipeline.finish();
  const wallNow = lastCapture > 0 ? lastCapture + (Date.now() - lastWall) / 1000 : pipeline.now;
  await recorder.finish(Math.max(pipeline.now, wallNow), 'shutdown');
  await spool.closeAll();
  await pool.close();
  await index.close();
  await server?.close();
  log('stopped');
}
