import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openCaptureFile } from '../../recorder/capture/file-source.js';
import type { Frame } from '../../recorder/capture/frame.js';
import { CallRecorder } from '../../recorder/call-recorder.js';
import { Counters } from '../../recorder/core/counters.js';
import { MediaJobPool } from '../../recorder/media/job-pool.js';
import { Pipeline } from '../../recorder/pipeline.js';
import { SpoolDirectory } from '../../recorder/spool/spool-directory.js';
import { prng } from '../support/random.js';
import { tempDir } from '../support/temp-dir.js';

async function framesOf(path: string): Promise<Frame[]> {
  const out: Frame[] = [];
  const cap = await openCaptureFile(path, new Counters());
  for await (const batch of cap.batches()) for (const f of batch) out.push({ ...f, data: Buffer.from(f.data) });
  await cap.close();
  return out;
}

/**
 * The whole recording path on real captures whose frames are damaged at random (bytes flipped,
 * frames cut short, SIP bodies garbled): nothing may throw out of the packet loop, no decoder bug
 * may be counted, and every call still ends with a record.
 */
describe('recording path under damaged input', () => {
  for (const file of ['fixtures/heplify__sip_ipv4_tcp.pcap', 'fixtures/lundgrel-sipp__sipp_uac_Media_DTMF_Speex.pcap', 'fixtures/sngrep__aaa.pcap']) {
    it(file, async () => {
      const original = await framesOf(file);
      for (const seed of [1, 2, 3]) {
        const rnd = prng(seed);
        const dir = tempDir('hostile-');
        mkdirSync(join(dir, 'rec'));
        const counters = new Counters();
        const pool = new MediaJobPool(1);
        const recorder = new CallRecorder({ counters, spool: new SpoolDirectory(join(dir, 'spool'), counters), pool, recordingsDir: join(dir, 'rec') });
        const pipeline = new Pipeline(counters, recorder);
        for (const f of original) {
          const data = Buffer.from(f.data);
          const r = rnd();
          if (r < 0.2) for (let k = 0; k < 1 + Math.floor(rnd() * 8); k++) data[Math.floor(rnd() * data.length)] = Math.floor(rnd() * 256);
          const caplen = r > 0.9 ? Math.floor(rnd() * data.length) : data.length;
          pipeline.push({ ...f, caplen, data: data.subarray(0, caplen) });
        }
        pipeline.finish();
        const records = await recorder.finish(pipeline.now, 'capture-end');
        await pool.close();
        assert.equal(counters.get('pipeline.bug'), 0, `seed ${seed}: ${JSON.stringify(counters.toJSON())}`);
        assert.equal(counters.get('media.job_failed'), 0, `seed ${seed}`);
        for (const rec of records) assert.ok(rec.endReason, `seed ${seed}: a call without an end reason`);
      }
    });
  }
});
