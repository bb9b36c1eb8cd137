/**
 * Start-up recovery: a spool left `open` is a call the recorder was writing when it died
 * (kill -9, power loss, OOM). Its records up to the crash are on disk; render them into a
 * recording marked incomplete, then mark the spool `done` so the next start does not render it
 * again. A spool left `closed` (finalized, but the render never finished) is rendered as a
 * normal recording. Run it before opening new spools: every `open` spool is taken for a crash
 * leftover (two recorders must not share a spool root).
 */
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CallRecord, RecordingInfo } from '../calls/call-record.js';
import { listSpools, markFailed, markRendered } from '../spool/spool-directory.js';
import { readSpoolHeader } from '../spool/spool-reader.js';
import type { SpoolCallMeta } from '../spool/spool-meta.js';
import type { RenderOptions } from './render.js';
import type { EncoderOptions, RecordingFormat } from '../../codecs/types.js';
import type { WavEncoding } from '../../codecs/wav-writer.js';
import { recordingExtension, recordingTags } from './writers.js';

export const RECOVERED_NOTE = 'recovered after crash';

export interface RecoveredCall {
  dir: string;
  /** The call's metadata as last spooled (its `record` is the call record to index). */
  meta: SpoolCallMeta;
  /** Null when the render failed (see `error`; the spool is marked `failed`). */
  recording: RecordingInfo | null;
  /** True for a spool the crash left open; false for a finalized one rendered late. */
  recovered: boolean;
  error?: string;
}

export interface RecoveryOptions {
  channels?: 1 | 2;
  /** Default opus. */
  format?: RecordingFormat;
  encoder?: EncoderOptions;
  encoding?: WavEncoding;
}

/** Anything that renders: the MediaJobPool, or renderRecording itself in tests and tools. */
export interface Renderer {
  render(spoolDir: string, opts: RenderOptions): Promise<RecordingInfo>;
}

export async function recoverSpools(root: string, outDir: string, pool: Renderer, opts: RecoveryOptions = {}): Promise<RecoveredCall[]> {
  const todo = listSpools(root).filter((e) => e.state === 'open' || e.state === 'closed');
  if (todo.length === 0) return [];
  mkdirSync(outDir, { recursive: true });
  return Promise.all(
    todo.map(async ({ dir, state }): Promise<RecoveredCall> => {
      const recovered = state === 'open';
      const meta = readSpoolHeader(dir).meta;
      const format = opts.format ?? 'opus';
      const render: RenderOptions = { outPath: join(outDir, `${basename(dir)}.${recordingExtension(format)}`), format, channels: opts.channels ?? 2 };
      if (opts.encoding !== undefined) render.encoding = opts.encoding;
      if (opts.encoder !== undefined) render.encoder = opts.encoder;
      try {
        // The record as the spool last saw it (a crash may have left it before the call's end).
        const rec0 = meta.record as Partial<CallRecord> | null;
        if (rec0 !== null && typeof rec0 === 'object' && typeof rec0.from === 'object' && typeof rec0.to === 'object') render.tags = recordingTags(rec0 as CallRecord);
        const rec = await pool.render(dir, render);
        if (recovered) {
          rec.complete = false;
          rec.notes = [RECOVERED_NOTE, ...rec.notes];
        }
        await markRendered(dir, rec, recovered);
        return { dir, meta, recording: rec, recovered };
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        await markFailed(dir, error);
        return { dir, meta, recording: null, recovered, error };
      }
    }),
  );
}
