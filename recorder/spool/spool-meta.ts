/**
 * `<call dir>/meta.json`: the call's metadata and the spool's state, replaced atomically
 * (write `meta.json.tmp`, then rename over it: POSIX rename(2) is atomic, so a reader sees
 * the old or the new file, never a mix).
 *
 * States: `open` (being written; after a crash this means "recover me"), `closed` (finalized by
 * CallSpool.close, waiting for its render), `done` (rendered; `recording` says where),
 * `failed` (the render failed; kept for an operator, not retried at every start).
 */
import { readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordingInfo } from '../calls/call-record.js';
import { parseJsonObject } from './spool-format.js';

export const META_FILE = 'meta.json';
export const MEDIA_FILE = 'media.spool';
const META_TMP = 'meta.json.tmp';
const META_FORMAT = 'voip-recorder-spool';

export interface SpoolCallMeta {
  /** Recorder-assigned call id; also names the call's spool directory. */
  id: string;
  callId: string;
  /** The call record as known at the time (free JSON). */
  record: unknown;
}

export type SpoolState = 'open' | 'closed' | 'done' | 'failed';

export interface SpoolMetaFile {
  format: typeof META_FORMAT;
  version: 1;
  state: SpoolState;
  meta: SpoolCallMeta;
  /** Records the writer could not store (write errors, oversize payloads): missing from the recording. */
  lostRecords: number;
  /** True when the recording was made by start-up recovery rather than at call end. */
  recovered?: boolean;
  recording?: RecordingInfo;
  error?: string;
}

export const newMetaFile = (meta: SpoolCallMeta, state: SpoolState, lostRecords = 0): SpoolMetaFile => ({
  format: META_FORMAT,
  version: 1,
  state,
  meta,
  lostRecords,
});

/**
 * The text of a meta file whose `meta` is already JSON (`metaJson`): the writer thread gets the
 * capture thread's JSON and never parses it. Same bytes as JSON.stringify(newMetaFile(...)).
 */
export const metaFileText = (metaJson: string, state: SpoolState, lostRecords: number): string =>
  `{"format":"${META_FORMAT}","version":1,"state":"${state}","meta":${metaJson},"lostRecords":${lostRecords}}`;

/**
 * Replace off the calling thread (libuv's pool). Durable (default): fsync the data, rename,
 * fsync the directory entry; otherwise the page cache is enough (survives kill -9: updates of
 * an open call, whose final meta is written durably).
 */
export async function writeMeta(dir: string, m: SpoolMetaFile | string, durable = true): Promise<void> {
  const tmp = join(dir, META_TMP);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(typeof m === 'string' ? m : JSON.stringify(m));
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, META_FILE));
  if (durable) await fsyncDir(dir);
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Reads `meta.json`; null when it is missing or unreadable (a crash or power loss before the
 * first rename reached the disk: the media file alone still holds every stream and packet).
 */
export function readMeta(dir: string): SpoolMetaFile | null {
  let text: string;
  try {
    text = readFileSync(join(dir, META_FILE), 'utf8');
  } catch {
    return null;
  }
  const parsed = parseJsonObject(text);
  if (parsed === null) return null;
  const o = parsed as Partial<SpoolMetaFile>;
  if (o.format !== META_FORMAT || typeof o.meta !== 'object' || o.meta === null) return null;
  const state: SpoolState = o.state === 'closed' || o.state === 'done' || o.state === 'failed' ? o.state : 'open';
  const m: SpoolMetaFile = { ...newMetaFile(o.meta, state, typeof o.lostRecords === 'number' ? o.lostRecords : 0) };
  if (o.recovered === true) m.recovered = true;
  if (o.recording !== undefined) m.recording = o.recording;
  if (typeof o.error === 'string') m.error = o.error;
  return m;
}
