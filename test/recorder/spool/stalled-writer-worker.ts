/**
 * A SpoolWriter worker that says it is ready and then never consumes the ring: lets a test
 * fill the ring (the writer "cannot keep up") and then kill it.
 */
import { parentPort } from 'node:worker_threads';

const port = parentPort;
if (port !== null) {
  port.on('message', () => undefined);
  port.postMessage({ ready: true });
}
