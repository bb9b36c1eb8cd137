import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { haveSipp } from '../../support/sipp.js';
import { runSiprecLoad } from '../../support/sipp-load.js';

// The load figure (200 sessions × 60 s) runs as a benchmark (bench/siprec-load.ts):
// on this shared 2-core machine the suite runs a small version of the same driver.
describe('SIPREC load (small): SIPp opens concurrent sessions with RTP', { skip: !haveSipp() }, () => {
  it('20 sessions × 5 s: none lost, no packet lost, every port back in the pool', async () => {
    const r = await runSiprecLoad({ sessions: 20, seconds: 5, portBase: 44000 });
    assert.equal(r.sipp.code, 0, `${r.sipp.stdout}\n${r.sipp.errors}`);
    assert.equal(r.answered, 20);
    assert.equal(r.recorded, 20);
    assert.equal(r.withoutMedia, 0);
    assert.equal(r.peakSessions, 20, 'all at once');
    assert.equal(r.lost, 0, JSON.stringify(r.counters));
    assert.ok(r.packets >= r.expectedPackets * 0.95, `${r.packets} packets of ~${r.expectedPackets}`);
    assert.equal(r.portsInUseAfter, 0);
  });

  it('the same over TCP (one connection for every session): 5 sessions × 2 s', async () => {
    const r = await runSiprecLoad({ sessions: 5, seconds: 2, portBase: 44300, tcp: true });
    assert.equal(r.sipp.code, 0, `${r.sipp.stdout}\n${r.sipp.errors}`);
    assert.equal(r.recorded, 5);
    assert.equal(r.withoutMedia, 0);
    assert.equal(r.lost, 0);
    assert.equal(r.portsInUseAfter, 0);
  });
});
