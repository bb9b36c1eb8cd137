import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CaptureFileError, openCaptureFile } from '../capture/file-source.js';
import type { CallRecord } from '../calls/call-record.js';
import { UsersDirectory } from '../calls/users-directory.js';
import { CallRecorder } from '../call-recorder.js';
import { Counters } from '../core/counters.js';
import { CallIndex } from '../index/call-index.js';
import { MediaJobPool } from '../media/job-pool.js';
import { Pipeline } from '../pipeline.js';
import { parsePayloadMapping } from '../rtp/payload-types.js';
import { SpoolDirectory } from '../spool/spool-directory.js';
import { fail, UsageError } from './errors.js';
import { RECORDING_FORMATS, encoderOptions, isRecordingFormat } from '../ops/config.js';
import { configPayloadMappings, loadCliConfig } from './load-config.js';
import { Progress } from './progress.js';

export interface ReplayOptions {
  config?: string;
  out?: string;
  format?: string;
  channels?: string;
  recordUnattached?: boolean;
  pt?: string[];
  json?: boolean;
}

export interface ReplaySummary {
  capture: { files: string[]; packets: number; bytes: number; malformed: Record<string, number> };
  calls: CallRecord[];
  unattached: { ssrc: number; src: string; dst: string; packets: number; payloadType: number; codec: string }[];
  output: { recordings: string; index: string };
}

/** Counters that describe bad or unusual input rather than plain tallies. */
const PROBLEM = /after_call_end|snaplen|truncated|malformed|unsupported|bug|overlap|duplicate|evicted|timeout|too_big|too_many|too_large|gap|overflow|bad_|missing|resync|parse_error|table_full|failed/;

/** `recorder replay`: record the calls found in captures, as the live recorder would. */
export async function replayCommand(files: string[], opts: ReplayOptions): Promise<void> {
  const config = loadCliConfig(opts.config);
  const format = opts.format ?? config.recording.format;
  if (!isRecordingFormat(format)) throw new UsageError(`--format must be one of ${RECORDING_FORMATS.join(', ')}, got "${format}"`);
  const channelsText = opts.channels ?? config.recording.channels;
  if (channelsText !== 'mono' && channelsText !== 'dual') throw new UsageError(`--channels must be mono or dual, got "${channelsText}"`);
  const overrides = configPayloadMappings(config);
  for (const spec of opts.pt ?? []) {
    try {
      const m = parsePayloadMapping(spec);
      overrides.set(m.pt, m);
    } catch (err) {
      throw new UsageError(`--pt ${spec}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const out = resolve(opts.out ?? config.storage.dataDir);
  const dirs = {
    spool: opts.out ? join(out, 'spool') : config.storage.spoolDir,
    recordings: opts.out ? join(out, 'recordings') : config.storage.recordingsDir,
    index: opts.out ? join(out, 'index') : config.storage.indexDir,
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });

  const counters = new Counters();
  const demuxPorts = { sip: new Set(config.sip.ports) };
  const index = CallIndex.open(dirs.index);
  const pool = new MediaJobPool(config.media.workers);
  const recorder = new CallRecorder({
    counters,
    users: new UsersDirectory(config.users),
    timeouts: config.timeouts,
    // A file can wait for the disk: no packet is dropped for a full spool ring.
    spool: new SpoolDirectory(dirs.spool, counters, { lossless: true, syncfs: config.storage.syncfs }),
    pool,
    index,
    recordingsDir: dirs.recordings,
    format,
    keepSpools: config.storage.keepSpools,
    encoder: encoderOptions(config.recording),
    channels: channelsText === 'mono' ? 1 : 2,
    recordUnattached: opts.recordUnattached ?? config.recording.recordUnattached,
    payloadOverrides: overrides,
    ...(config.sccp ? { sccpPorts: config.sccp.ports } : {}),
    turn: { serverPorts: config.turn.serverPorts },
    demuxPorts,
  });
  const pipeline = new Pipeline(counters, recorder, { demuxPorts });
  const progress = new Progress();
  try {
    for (const path of files) {
      let cap;
      try {
        cap = await openCaptureFile(path, counters);
      } catch (err) {
        if (err instanceof CaptureFileError) fail(`recorder: ${err.message}`);
        throw err;
      }
      try {
        for await (const batch of cap.batches()) {
          pipeline.pushBatch(batch);
          progress.update(path, cap.bytesRead, cap.size, pipeline.decoder.layers.frames);
        }
      } finally {
        await cap.close();
      }
    }
    pipeline.finish();
    progress.clear();
    const calls = await recorder.finish(pipeline.now, 'capture-end');
    calls.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.id < b.id ? -1 : 1));
    const malformed: Record<string, number> = {};
    for (const [k, v] of counters.entries()) if (PROBLEM.test(k)) malformed[k] = v;
    const L = pipeline.decoder.layers;
    const summary: ReplaySummary = {
      capture: { files, packets: L.frames, bytes: L.bytes, malformed },
      calls,
      unattached: recorder.registry.unattachedStreams(),
      output: { recordings: dirs.recordings, index: dirs.index },
    };
    process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
  } finally {
    await pool.close();
    await index.close();
  }
}

function formatSummary(s: ReplaySummary): string {
  const out: string[] = [];
  out.push(`Replayed ${s.capture.files.join(', ')}: ${s.capture.packets} packets`);
  const bad = Object.entries(s.capture.malformed);
  if (bad.length) out.push(`Malformed / unusual: ${bad.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  out.push(`${s.calls.length} call(s):`);
  for (const c of s.calls) {
    const who = `${c.from.number || c.from.uri} → ${c.to.number || c.to.uri}`;
    const rec = c.recording ? `${c.recording.path} (${(c.recording.durationMs / 1000).toFixed(1)} s, ${c.recording.channels} ch${c.recording.complete ? '' : ', incomplete'})` : 'no media';
    out.push(`  ${c.start}  ${c.direction.padEnd(8)} ${who}  ${c.endReason}  ${c.streams.length} stream(s)  ${rec}`);
  }
  if (s.unattached.length) out.push(`${s.unattached.length} RTP stream(s) matched no call (use --record-unattached to record them)`);
  out.push(`Recordings: ${s.output.recordings}`);
  out.push(`Index: ${s.output.index} (search with: recorder calls --index ${s.output.index})`);
  return `${out.join('\n')}\n`;
}
