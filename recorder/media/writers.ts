/**
 * The recording formats a render can write (codecs/index.ts WRITERS), and their one-time
 * asynchronous set-up (WASM compile) per thread.
 */
import { WRITERS } from '../../codecs/index.js';
import type { RecordingFormat, WriterFactory } from '../../codecs/types.js';
import type { CallRecord } from '../calls/call-record.js';

const ready = new Set<WriterFactory>();

export function writerFor(format: RecordingFormat): WriterFactory | undefined {
  return WRITERS.find((w) => w.format === format);
}

/** The formats this build can write. */
export const recordingFormats = (): RecordingFormat[] => WRITERS.map((w) => w.format);

export async function prepareWriter(format: RecordingFormat): Promise<WriterFactory> {
  const f = writerFor(format);
  if (f === undefined) throw new Error(`recording format ${format} is not available`);
  if (!ready.has(f)) {
    await f.init?.();
    ready.add(f);
  }
  return f;
}

/** File name extension of a format's recordings. */
export const recordingExtension = (format: RecordingFormat): string => writerFor(format)?.extension ?? format;

/**
 * What a recording file says about its call (Vorbis-comment style names, as OpusTags and ID3
 * TXXX frames carry them): enough to identify a file that has left the index.
 */
export function recordingTags(rec: CallRecord): Record<string, string> {
  const party = (p: CallRecord['from']): string => [p.name, p.number || p.uri].filter((x) => x !== '').join(' ');
  const tags: Record<string, string> = {
    TITLE: `${party(rec.from) || 'unknown'} → ${party(rec.to) || 'unknown'}`,
    DATE: rec.start,
    CALL_ID: rec.callId,
    RECORDER_CALL: rec.id,
    DIRECTION: rec.direction,
  };
  if (rec.user !== null) tags.USER = rec.user;
  return tags;
}
