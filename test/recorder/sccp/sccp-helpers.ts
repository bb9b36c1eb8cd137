/** Runs generated or public captures through the whole recorder (pipeline, SCCP, registry, spool, media). */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openCaptureFile } from '../../../recorder/capture/file-source.js';
import { LinkType, type Frame } from '../../../recorder/capture/frame.js';
import type { CallRecord } from '../../../recorder/calls/call-record.js';
import type { CallRegistry } from '../../../recorder/calls/call-registry.js';
import { UsersDirectory, type UserEntry } from '../../../recorder/calls/users-directory.js';
import { CallRecorder } from '../../../recorder/call-recorder.js';
import { Counters } from '../../../recorder/core/counters.js';
import { MediaJobPool } from '../../../recorder/media/job-pool.js';
import { Pipeline } from '../../../recorder/pipeline.js';
import { SpoolDirectory } from '../../../recorder/spool/spool-directory.js';
import type { WriterFrame } from '../../support/capture-writer.js';
import { soxDecodeG711 } from '../../support/reference-decode.js';
import { readWav } from '../../support/wav.js';
import { tempDir } from '../../support/temp-dir.js';

export interface Run {
  records: CallRecord[];
  counters: Counters;
  recorder: CallRecorder;
  registry: () => CallRegistry;
}

export interface RunOptions {
  users?: UserEntry[];
  /** Render recordings (WAV) — slower; off for signaling-only checks. */
  record?: boolean;
  sccpPorts?: number[];
}

const toFrame = (f: WriterFrame): Frame => ({ linkType: LinkType.Ethernet, iface: 0, tsSec: f.tsSec, tsNsec: f.tsNsec, caplen: f.data.length, len: f.data.length, data: f.data });

/** Frames (generated) or capture files (public) through a CallRecorder; records sorted by start. */
export async function runRecorder(input: WriterFrame[] | string, o: RunOptions = {}): Promise<Run> {
  const counters = new Counters();
  const dir = tempDir('sccp-run-');
  mkdirSync(join(dir, 'rec'));
  const pool = o.record ? new MediaJobPool(1) : null;
  const recorder = new CallRecorder({
    counters,
    users: new UsersDirectory(o.users ?? []),
    spool: o.record ? new SpoolDirectory(join(dir, 'spool'), counters) : null,
    pool,
    recordingsDir: join(dir, 'rec'),
    format: 'wav',
    ...(o.sccpPorts ? { sccpPorts: o.sccpPorts } : {}),
  });
  const pipeline = new Pipeline(counters, recorder);
  try {
    if (typeof input === 'string') {
      const cap = await openCaptureFile(input, counters);
      for await (const batch of cap.batches()) for (const f of batch) pipeline.push(f);
      await cap.close();
    } else for (const f of input) pipeline.push(toFrame(f));
    pipeline.finish();
    const records = await recorder.finish(pipeline.now, 'capture-end');
    records.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.id < b.id ? -1 : 1));
    return { records, counters, recorder, registry: () => recorder.registry };
  } finally {
    await pool?.close();
  }
}

/** The channel holds the µ-law payloads' samples (as sox decodes them) in order from some offset. */
export function assertChannelHas(wavPath: string, channel: number, payloads: Buffer[]): void {
  const samples = readWav(wavPath).channel[channel]!;
  const ref = soxDecodeG711(Buffer.concat(payloads), 'mu-law');
  let anchor = -1;
  for (let i = 0; i + 160 <= samples.length && anchor < 0; i++) if (ref.subarray(0, 160).every((v, j) => samples[i + j] === v)) anchor = i;
  assert.ok(anchor >= 0, `channel ${channel}: first packet not found`);
  for (let i = 0; i < ref.length; i++) if (samples[anchor + i] !== ref[i]) assert.fail(`channel ${channel} sample ${i}: ${samples[anchor + i]} != ${ref[i]}`);
}
