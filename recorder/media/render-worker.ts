/**
 * Worker-thread entry of MediaJobPool: one render at a time, requests and replies by message.
 * Compiled to dist/recorder/media/render-worker.js beside job-pool.js, which starts it by a URL
 * relative to its own module.
 */
import { parentPort } from 'node:worker_threads';
import { renderRecording, type RenderOptions } from './render.js';
import type { RecordingInfo } from '../calls/call-record.js';

export interface RenderRequest {
  id: number;
  spoolDir: string;
  opts: RenderOptions;
}

export type RenderReply =
  | { id: number; ok: true; info: RecordingInfo; ms: number }
  | { id: number; ok: false; error: string; stack?: string }
  /** Sent once the module graph has loaded: the pool respawns only workers that got this far. */
  | { ready: true };

const port = parentPort;
if (port !== null) {
  port.on('message', (req: RenderRequest) => {
    const t = performance.now();
    renderRecording(req.spoolDir, req.opts).then(
      (info) => port.postMessage({ id: req.id, ok: true, info, ms: performance.now() - t } satisfies RenderReply),
      (e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        const reply: RenderReply = { id: req.id, ok: false, error: err.message };
        if (err.stack !== undefined) reply.stack = err.stack;
        port.postMessage(reply);
      },
    );
  });
  port.postMessage({ ready: true } satisfies RenderReply);
}
