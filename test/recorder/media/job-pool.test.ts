import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { MediaJobPool, RenderJobError, type JobTiming } from '../../../recorder/media/job-pool.js';
import { renderRecording } from '../../../recorder/media/render.js';
import { g711Stream, streamInfo, tmp, writeSpool } from '../spool/spool-helpers.js';

describe('MediaJobPool (worker threads, from dist/)', () => {
  it('the worker entry is compiled JS beside the pool', () => {
    const here = fileURLToPath(new URL('../../../recorder/media/render-worker.js', import.meta.url));
    assert.ok(here.includes(`${join('dist', 'recorder', 'media')}`), here);
    assert.ok(existsSync(here));
  });

  it('renders Opus and MP3 in a worker, and the process survives the worker ending (no native encoder there)', async () => {
    const root = tmp('pool-lossy');
    const dir = await writeSpool(root, 'lossy', [{ info: streamInfo(1, 'caller', 0), packets: g711Stream({ count: 100 }) }]);
    // A child process, so that a crash at worker teardown (SIGSEGV) shows as its exit status.
    const script = `
      import { MediaJobPool } from ${JSON.stringify(new URL('../../../recorder/media/job-pool.js', import.meta.url).href)};
      const pool = new MediaJobPool(1);
      for (const f of ['opus', 'mp3']) {
        const r = await pool.render(${JSON.stringify(dir)}, { outPath: ${JSON.stringify(root)} + '/out.' + f, format: f, channels: 2 });
        if (r.format !== f || r.durationMs !== 2000) throw new Error(JSON.stringify(r));
      }
      await pool.close();
      console.log('ok');`;
    const file = join(root, 'child.mjs');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8' });
    assert.equal(r.signal, null, `child died of ${r.signal}`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'ok');
  });

  it('renders queued jobs in workers, with the same result as a direct render; records latency', async () => {
    const root = tmp('pool');
    const dirs = await Promise.all(
      [0, 1, 2].map((i) =>
        writeSpool(root, `call${i}`, [
          { info: streamInfo(1, 'caller', 0), packets: g711Stream({ count: 200 + i * 10 }) },
          { info: streamInfo(2, 'callee', 1), packets: g711Stream({ count: 150, startCap: 0.2 }) },
        ]),
      ),
    );
    const timings: JobTiming[] = [];
    const pool = new MediaJobPool(1, { onJobDone: (t) => timings.push(t) });
    const jobs = dirs.map((d, i) => pool.render(d, { outPath: join(root, `p${i}.wav`), format: 'wav', channels: 2 }));
    assert.equal(pool.queueDepth, 2, 'one job runs, two wait');
    assert.equal(pool.running, 1);
    await new Promise((r) => setTimeout(r, 30));
    const waiting: number = pool.queueDepth;
    const lag = pool.lagSeconds;
    assert.ok(waiting === 0 || lag >= 0.025, `lag ${lag} s with ${waiting} waiting: the oldest has waited at least as long as we slept`);
    const results = await Promise.all(jobs);
    assert.equal(pool.queueDepth, 0);
    assert.equal(pool.lagSeconds, 0, 'no job waits: no lag');
    for (let i = 0; i < dirs.length; i++) {
      const direct = await renderRecording(dirs[i]!, { outPath: join(root, `d${i}.wav`), format: 'wav', channels: 2 });
      assert.equal(results[i]!.sha256, direct.sha256);
      assert.equal(results[i]!.durationMs, direct.durationMs);
    }
    assert.equal(pool.stats.completed, 3);
    assert.equal(timings.length, 3);
    assert.ok(timings.every((t) => t.ok && t.latencyMs > 0 && t.waitMs >= 0 && t.waitMs <= t.latencyMs));
    assert.ok(timings[2]!.waitMs > 0, 'the third job waited for the single worker');
    await pool.close();
  });

  it('a failing job rejects with RenderJobError and the pool keeps working', async () => {
    const root = tmp('pool-err');
    const pool = new MediaJobPool(1);
    await assert.rejects(pool.render(join(root, 'missing'), { outPath: join(root, 'x.wav'), format: 'wav', channels: 1 }), RenderJobError);
    const dir = await writeSpool(root, 'ok', [{ info: streamInfo(1, 'caller', 0), packets: g711Stream({ count: 10 }) }]);
    const info = await pool.render(dir, { outPath: join(root, 'ok.wav'), format: 'wav', channels: 1 });
    assert.equal(info.durationMs, 200);
    assert.equal(pool.stats.failed, 1);
    await pool.close();
    await assert.rejects(pool.render(dir, { outPath: join(root, 'late.wav'), format: 'wav', channels: 1 }), /closed/);
  });

  it('a worker that cannot load fails its jobs instead of respawning forever', async () => {
    const pool = new MediaJobPool(1, { workerUrl: new URL('./no-such-worker.js', import.meta.url) });
    await assert.rejects(pool.render('/nonexistent', { outPath: '/tmp/never.wav', format: 'wav', channels: 1 }), RenderJobError);
    assert.equal(pool.stats.workerRestarts, 0);
    await pool.close();
  });
});
