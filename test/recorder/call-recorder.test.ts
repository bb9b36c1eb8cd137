import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LinkType, type Frame } from '../../recorder/capture/frame.js';
import { CallRecorder } from '../../recorder/call-recorder.js';
import { UsersDirectory } from '../../recorder/calls/users-directory.js';
import { Counters } from '../../recorder/core/counters.js';
import { CallIndex } from '../../recorder/index/call-index.js';
import { MediaJobPool } from '../../recorder/media/job-pool.js';
import { Pipeline } from '../../recorder/pipeline.js';
import { SpoolDirectory } from '../../recorder/spool/spool-directory.js';
import { CallScenario, sdp } from '../support/call-scenario.js';
import { tempDir } from '../support/temp-dir.js';

function basicCall(id: string): CallScenario {
  const a = { ip: '10.0.0.10', sipPort: 5060 };
  const b = { ip: '10.0.0.20', sipPort: 5060 };
  const sc = new CallScenario(id, a, b);
  sc.sip(0, 'caller', sc.request('INVITE', 'caller', { body: sdp({ ip: a.ip, port: 4000 }), cseq: 1 }));
  sc.sip(0.5, 'callee', sc.response(200, 'OK', 'callee', 1, 'INVITE', { toTag: 'callee-tag', body: sdp({ ip: b.ip, port: 6000 }) }));
  sc.rtp({ from: 'caller', srcIp: a.ip, srcPort: 4000, dstIp: b.ip, dstPort: 6000, ssrc: 1, at: 0.6, count: 50 });
  sc.sip(2, 'caller', sc.request('BYE', 'caller', { toTag: 'callee-tag', cseq: 2 }));
  return sc;
}

const frames = (sc: CallScenario): Frame[] => sc.sorted().map((f) => ({ linkType: LinkType.Ethernet, iface: 0, tsSec: f.tsSec, tsNsec: f.tsNsec, caplen: f.data.length, len: f.data.length, data: f.data }));

describe('CallRecorder', () => {
  it('capture drops during a call make its recording incomplete, with a note', async () => {
    const dir = tempDir('call-recorder-');
    mkdirSync(join(dir, 'rec'));
    const counters = new Counters();
    let drops = 0;
    const pool = new MediaJobPool(1);
    const recorder = new CallRecorder({
      counters,
      users: new UsersDirectory([{ name: 'alice', numbers: ['1001'] }]),
      spool: new SpoolDirectory(join(dir, 'spool'), counters),
      pool,
      recordingsDir: join(dir, 'rec'),
      captureDrops: () => drops,
    });
    const pipeline = new Pipeline(counters, recorder);
    const list = frames(basicCall('drops@test'));
    list.forEach((f, i) => {
      if (i === 20) drops += 7; // the kernel dropped 7 packets mid-call
      pipeline.push(f);
    });
    pipeline.finish();
    const [rec] = await recorder.finish(pipeline.now, 'capture-end');
    await pool.close();
    assert.ok(rec?.recording);
    assert.equal(rec.user, 'alice');
    assert.equal(rec.direction, 'outbound');
    assert.ok(rec.notes.includes('capture dropped 7 packets during the call'), JSON.stringify(rec.notes));
    assert.equal(rec.recording.complete, false);
  });

  it('a call without drops is complete', async () => {
    const dir = tempDir('call-recorder-');
    mkdirSync(join(dir, 'rec'));
    const counters = new Counters();
    const pool = new MediaJobPool(1);
    const recorder = new CallRecorder({ counters, spool: new SpoolDirectory(join(dir, 'spool'), counters), pool, recordingsDir: join(dir, 'rec'), captureDrops: () => 3 });
    const pipeline = new Pipeline(counters, recorder);
    for (const f of frames(basicCall('clean@test'))) pipeline.push(f);
    const [rec] = await recorder.finish(pipeline.now, 'capture-end');
    await pool.close();
    assert.equal(rec?.recording?.complete, true, JSON.stringify(rec?.recording?.notes));
    assert.equal(rec.direction, 'unknown');
  });

  it('a call’s spool goes once its recording is written and indexed; storage.keepSpools keeps it', async () => {
    for (const keepSpools of [false, true]) {
      const dir = tempDir('call-recorder-');
      mkdirSync(join(dir, 'rec'));
      const counters = new Counters();
      const pool = new MediaJobPool(1);
      const index = CallIndex.open(join(dir, 'index'));
      const recorder = new CallRecorder({ counters, spool: new SpoolDirectory(join(dir, 'spool'), counters), pool, index, recordingsDir: join(dir, 'rec'), keepSpools });
      const pipeline = new Pipeline(counters, recorder);
      for (const f of frames(basicCall(`spool-${keepSpools}@test`))) pipeline.push(f);
      const [rec] = await recorder.finish(pipeline.now, 'capture-end');
      await pool.close();
      assert.ok(rec?.recording && existsSync(rec.recording.path), 'the recording is written');
      await index.flushed();
      assert.equal(index.get(rec.id)?.recording?.path, rec.recording.path, "and indexed");
      await index.close();
      assert.deepEqual(readdirSync(join(dir, 'spool')).length, keepSpools ? 1 : 0, `keepSpools ${keepSpools}`);
      assert.equal(counters.get('spool.removed'), keepSpools ? 0 : 1);
    }
  });
});
