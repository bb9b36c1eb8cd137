/**
 * Child process of the crash-recovery test: spools a two-party G.711 call until it is killed.
 * Usage: node crash-child.js <spool root> <call id>. Prints `flushed <packets per stream>` each
 * time a batch has reached the file (after write(2) returned), so the parent knows a lower
 * bound of what is on disk when it sends SIGKILL.
 */
import { Counters } from '../../../recorder/core/counters.js';
import { SpoolDirectory } from '../../../recorder/spool/spool-directory.js';

export const childCode = (stream: number, i: number, k: number): number => ((i * 7 + k * 13 + stream * 31) % 126) + 1;

const [root, id] = process.argv.slice(2);
// Without arguments do nothing: `node --test dist/test/` also runs every file under test/.
if (root !== undefined && id !== undefined) run(root, id);

function run(root: string, id: string): void {
  const dir = new SpoolDirectory(root, new Counters());
  dir.start(20); // the real wall-clock flusher runs too
  const spool = dir.open({ id, callId: `${id}@crash`, record: { id, note: 'before the crash' } });
  const streams = [
    spool.addStream({ ssrc: 1, party: 'caller', channel: 0, src: '10.0.0.1:4000', dst: '10.0.0.2:5000', payloads: [{ pt: 0, codec: 'PCMU', clockRate: 8000, channels: 1 }] }),
    spool.addStream({ ssrc: 2, party: 'callee', channel: 1, src: '10.0.0.2:5000', dst: '10.0.0.1:4000', payloads: [{ pt: 0, codec: 'PCMU', clockRate: 8000, channels: 1 }] }),
  ];
  const T0 = 1_790_000_000;
  const payload = Buffer.alloc(160);
  let i = 0;

  function burst(): void {
    for (let n = 0; n < 25; n++, i++) {
      const ns = (i % 50) * 20_000_000;
      const sec = T0 + Math.floor(i / 50);
      for (const s of streams) {
        for (let k = 0; k < 160; k++) payload[k] = childCode(s, i, k);
        spool.append(s, (100 + i) & 0xffff, (s === 0 ? 7000 : 900_000) + i * 160, i === 0, 0, sec, ns, payload, 0, 160);
      }
    }
    spool.flush();
    const done = i;
    // "flushed" only once the writer thread has written the batch.
    void spool.whenWritten().then(() => {
      process.stdout.write(`flushed ${done}\n`);
      // Pace the call a little, so the kill lands at a random point of a batch or between batches.
      setTimeout(burst, 2);
    });
  }
  burst();
}
