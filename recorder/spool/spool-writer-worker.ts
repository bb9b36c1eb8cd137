/**
 * Worker-thread entry of SpoolWriter: seals (CRCs) and writes the spools' batches, so that the
 * capture thread only copies packets into memory. Batches of one spool arrive and are written
 * in order, each at the file position the spool gave it. A failed write is cut off the file
 * again; later batches of that spool sent before it learned of the failure (same or older
 * epoch) are dropped, so the file never has a hole. File descriptors are per process, so the
 * main thread's open files are written from here.
 */
import { parentPort } from 'node:worker_threads';
import { sealAndWrite } from './batch-write.js';

/** One batch of one spool. */
export interface WriteRequest {
  id: number;
  /** The spool's serial number (file descriptors are reused; this is not). */
  sid: number;
  fd: number;
  pos: number;
  epoch: number;
  bufs: ArrayBuffer[];
  lens: number[];
  /** Where records start in bufs[0] (after the file header in a file's first batch). */
  sealFrom: number;
}

/**
 * The batches handed over in one event-loop turn of the capture thread, and the spools closed
 * since: one message each way per turn, however many calls flushed (a message costs ~15 µs).
 */
export interface WriterMessage {
  writes: WriteRequest[];
  forget: number[];
}

export interface WriteDone {
  id: number;
  ok: boolean;
  dropped: boolean;
  bytes: number;
  bufs: ArrayBuffer[];
}

export type WriterReply = { done: WriteDone[] } | { ready: true };

/** Per spool: the epoch of its last failed batch. */
const failed = new Map<number, number>();

function write(r: WriteRequest): { ok: boolean; dropped: boolean; bytes: number } {
  const f = failed.get(r.sid);
  if (f !== undefined && r.epoch <= f) return { ok: false, dropped: true, bytes: 0 };
  const res = sealAndWrite(
    r.fd,
    r.bufs.map((b, i) => new Uint8Array(b, 0, r.lens[i])),
    r.pos,
    r.sealFrom,
  );
  if (!res.ok) failed.set(r.sid, r.epoch);
  return { ...res, dropped: false };
}

const port = parentPort;
if (port !== null) {
  port.on('message', (m: WriterMessage) => {
    const done: WriteDone[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const r of m.writes) {
      done.push({ id: r.id, ...write(r), bufs: r.bufs });
      for (const b of r.bufs) transfer.push(b);
    }
    for (const sid of m.forget) failed.delete(sid);
    if (done.length > 0) port.postMessage({ done } satisfies WriterReply, transfer);
  });
  port.postMessage({ ready: true } satisfies WriterReply);
}
