import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSiprecLoad } from '../../support/sipp-load.js';

// The load test: 200 concurrent sessions of 60 s from SIPp, with RTP (bench/siprec-load.ts
// drives larger runs with the same code).
describe('SIPREC load: SIPp opens concurrent sessions with RTP', () => {
  it('200 sessions × 60 s: none lost, no packet lost, every port back in the pool', { timeout: 240_000 }, async () => {
    const r = await runSiprecLoad({ sessions: 200, seconds: 60, portBase: 44000 });
    assert.equal(r.sipp.code, 0, `${r.sipp.stdout}\n${r.sipp.errors}`);
    assert.equal(r.answered, 200);
    assert.equal(r.recorded, 200);
    assert.equal(r.withoutMedia, 0);
    assert.equal(r.peakSessions, 200, 'all at once');
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
