/**
 * `<call dir>/meta.json`: the call's metadata and the spool's state, replaced atomically
 * (write `meta.json.tmp`, then rename over it: POSIX rename(2) is atomic, so a reader sees
 * the old or the new file, never a mix).
 *
 * States: `open` (being written; after a crash this means "recover me"), `closed` (finalized by
 * CallSpool.close, waiting for its render), `done` (rendered; `recording` says where),
 * `failed` (the render failed; kept for an operator, not retried at every start).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
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

/** Synchronous replace without fsync: for the capture thread (page cache survives kill -9). */
export function writeMetaSync(dir: string, m: SpoolMetaFile, durable = false): void {
  const tmp = join(dir, META_TMP);
  const fd = openSync(tmp, 'w');
  try {
    const data = Buffer.from(JSON.stringify(m));
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, META_FILE));
  if (durable) fsyncDirSync(dir);
}

/** Durable replace off the calling thread: fsync the data, rename, fsync the directory entry. */
export async function writeMeta(dir: string, m: SpoolMetaFile): Promise<void> {
  const tmp = join(dir, META_TMP);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(m));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, META_FILE));
  await fsyncDir(dir);
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
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
