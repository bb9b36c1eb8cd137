import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Counters } from '../../../recorder/core/counters.js';
import { ULAW_TO_LINEAR } from '../../../codecs/g711.js';
import { MediaJobPool } from '../../../recorder/media/job-pool.js';
import { RECOVERED_NOTE, recoverSpools } from '../../../recorder/media/recovery.js';
import { renderRecording } from '../../../recorder/media/render.js';
import { SpoolDirectory, listSpools } from '../../../recorder/spool/spool-directory.js';
import { readMeta } from '../../../recorder/spool/spool-meta.js';
import { readSpool } from '../../../recorder/spool/spool-reader.js';
import { g711Stream, streamInfo, tmp, writeSpool } from '../spool/spool-helpers.js';
import { channel, readWav } from './media-helpers.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));

/** Runs the child until it reports `minPackets` per stream on disk, then SIGKILLs it. */
async function spoolAndKill(root: string, id: string, minPackets: number): Promise<{ signal: string | null; reported: number }> {
  const child = spawn(process.execPath, [CHILD, root, id], { stdio: ['ignore', 'pipe', 'inherit'] });
  let reported = 0;
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<string | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  for await (const line of lines) {
    const m = /^flushed (\d+)$/.exec(line);
    if (m !== null) reported = Number(m[1]);
    if (reported >= minPackets) {
      child.kill('SIGKILL');
      break;
    }
  }
  return { signal: await exited, reported };
}

describe('crash recovery', () => {
  it('a spool killed with SIGKILL mid-call is rendered once, marked incomplete, with exactly what was spooled', async () => {
    const root = tmp('crash');
    const out = tmp('crash-out');
    const { signal, reported } = await spoolAndKill(root, 'crashed-call', 300);
    assert.equal(signal, 'SIGKILL');

    const dirs = new SpoolDirectory(root, new Counters()).pending();
    assert.equal(dirs.length, 1);
    const spooled = readSpool(dirs[0]!);
    assert.equal(spooled.finalized, false);
    assert.deepEqual(spooled.meta.record, { id: 'crashed-call', note: 'before the crash' });
    const counts = spooled.streams.map((s) => s.packets.length);
    assert.ok(counts.every((n) => n >= reported), `on disk ${counts.join('/')}, reported ${reported}`);

    const pool = new MediaJobPool(1);
    try {
      const results = await recoverSpools(root, out, pool, { format: 'wav' });
      assert.equal(results.length, 1);
      const r = results[0]!;
      assert.equal(r.recovered, true);
      assert.equal(r.meta.callId, 'crashed-call@crash');
      const rec = r.recording!;
      assert.equal(rec.complete, false);
      assert.equal(rec.notes[0], RECOVERED_NOTE);
      assert.ok(rec.notes.includes('spool not finalized'));

      // The recording holds exactly the spooled payloads, each party on its channel.
      const wav = readWav(rec.path);
      const length = Math.max(...counts) * 160;
      assert.equal(wav.samples.length / 2, length);
      spooled.streams.forEach((s, c) => {
        const expected = new Int16Array(length);
        let at = 0;
        for (const p of s.packets) for (const code of p.payload) expected[at++] = ULAW_TO_LINEAR[code]!;
        assert.deepEqual(channel(wav.samples, 2, c), expected, `channel ${c}`);
      });

      // Marked done: a second start renders nothing.
      assert.deepEqual(
        listSpools(root).map((e) => e.state),
        ['done'],
      );
      const meta = readMeta(dirs[0]!)!;
      assert.equal(meta.recovered, true);
      assert.equal(meta.recording?.sha256, rec.sha256);
      assert.deepEqual(await recoverSpools(root, out, pool, { format: 'wav' }), []);
    } finally {
      await pool.close();
    }
  });

  it('a finalized spool whose render never happened is rendered as a normal, complete recording', async () => {
    const root = tmp('late');
    const out = tmp('late-out');
    await writeSpool(root, 'closed-call', [{ info: streamInfo(1, 'caller', 0), packets: g711Stream({ count: 20 }) }]);
    const results = await recoverSpools(root, out, { render: renderRecording }, { format: 'wav' });
    assert.equal(results.length, 1);
    assert.equal(results[0]!.recovered, false);
    assert.equal(results[0]!.recording!.complete, true);
    assert.equal(results[0]!.recording!.path, join(out, 'closed-call.wav'));
    assert.deepEqual(
      listSpools(root).map((e) => e.state),
      ['done'],
    );
  });

  it('a spool that cannot be rendered is marked failed and not retried', async () => {
    const root = tmp('fail');
    await writeSpool(root, 'bad', [{ info: streamInfo(1, 'caller', 0), packets: g711Stream({ count: 5 }) }], { finalize: false });
    const results = await recoverSpools(root, tmp('fail-out'), {
      render: () => Promise.reject(new Error('disk on fire')),
    });
    assert.equal(results[0]!.error, 'disk on fire');
    assert.equal(results[0]!.recording, null);
    assert.deepEqual(
      listSpools(root).map((e) => e.state),
      ['failed'],
    );
    assert.deepEqual(await recoverSpools(root, tmp('fail-out2'), { render: renderRecording }), []);
  });
});
