/**
 * Worker-thread entry of SpoolWriter: consumes the spool ring (spool-consumer.ts does the work)
 * and reports back once per pass. It sleeps on the ring's doorbell with Atomics.waitAsync, so
 * its own event loop keeps running (fsync answers, the durable meta writes of closing calls):
 * the capture thread rings for control messages and for every eighth of the ring filled, and
 * the worker wakes every POLL_MS anyway, so records reach the page cache within a flush
 * interval plus a few milliseconds without a wake-up per packet.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { parentPort } from 'node:worker_threads';
import { FsyncBatcher } from './fsync-batcher.js';
import { SpoolConsumer, type SpoolReport } from './spool-consumer.js';
import { C_BELL, RingConsumer, type RingMemory } from './spool-ring.js';

/** The first message: the ring's shared memory. */
export interface WriterInit {
  ring: RingMemory;
}

export type WriterReply = SpoolReport | { ready: true };

/** Longest sleep without a doorbell (measured: 10 ms costs < 1 % of a core idle). */
const POLL_MS = 10;

/** Counter deltas alone go back at most this often (a message costs the capture thread ~15 µs). */
const REPORT_MS = 50;

type WaitAsync = (a: Int32Array, i: number, v: number, timeout: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

async function run(init: WriterInit, post: (r: SpoolReport) => void): Promise<void> {
  const ring = new RingConsumer(init.ring);
  const syncer = new FsyncBatcher();
  const consumer = new SpoolConsumer(ring, { sync: (fd, dirs, via) => syncer.sync(fd, dirs, via), report: post, reportMs: REPORT_MS });
  for (;;) {
    // The doorbell is read before the pass: a ring during the pass makes the wait return at once.
    const bell = Atomics.load(ring.ctrl, C_BELL);
    consumer.pump();
    const w = waitAsync(ring.ctrl, C_BELL, bell, POLL_MS);
    if (w.async) await w.value;
    else await yieldToLoop();
  }
}

const port = parentPort;
if (port !== null) {
  let started = false;
  // A listener stays registered: it keeps this thread alive while it sleeps in waitAsync.
  port.on('message', (m: WriterInit) => {
    if (started) return;
    started = true;
    void run(m, (r) => port.postMessage(r satisfies WriterReply));
  });
  port.postMessage({ ready: true } satisfies WriterReply);
}
