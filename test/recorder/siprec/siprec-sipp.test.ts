import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runSipp } from '../../support/sipp.js';
import type { CallRecord } from '../../../recorder/calls/call-record.js';
import { readWav } from '../../support/wav.js';
import { sendTone, sleep, startRig, type Rig } from './siprec-helpers.js';

const PCAP = new URL('../../../../fixtures/sipp__g711a.pcap', import.meta.url).pathname;

/** RMS of a channel between two sample positions. */
const rms = (x: Int16Array, from = 0, to = x.length): number => {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, to - from));
};

describe('SIPp as a real SRC', () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig({ audioPorts: { start: 43000, end: 43199 }, users: [{ name: 'bob', uris: ['sip:+15552002@example.com'] }] });
  });
  after(async () => {
    await rig.close();
  });

  it('INVITE + metadata, G.711 capture, hold and resume re-INVITEs, UPDATE, BYE: both parties on their channels', async () => {
    const t0 = Date.now();
    const sipp = runSipp({ scenario: 'siprec-dual.xml', vars: { PCAP_FILE: PCAP }, serverPort: rig.port, mediaPort: 46000, timeoutMs: 30_000 });
    // SIPp plays media to the first m-line only; the test plays Bob's (label 2) itself.
    let ports: readonly number[] = [];
    for (let i = 0; i < 200 && ports.length === 0; i++) {
      const id = rig.server.sessionIds()[0];
      const s = id === undefined ? undefined : rig.server.session(id);
      if (s?.state === 'active') ports = s.ports;
      else await sleep(10);
    }
    assert.equal(ports.length, 2, 'session answered');
    await sendTone(ports[1]!, { ssrc: 0xb0b, freq: 1000, count: 150, intervalMs: 20 });
    const r = await sipp;
    assert.equal(r.code, 0, `sipp failed: ${r.stdout}\n${r.stderr}\n${r.errors}`);
    const rec = await waitRecord(rig);
    const t1 = Date.now();
    assert.equal(rec.protocol, 'siprec');
    assert.equal(rec.endReason, 'bye');
    assert.deepEqual([rec.from.uri, rec.from.name], ['sip:+15551001@example.com', 'Alice Caller']);
    assert.deepEqual([rec.to.uri, rec.to.name], ['sip:+15552002@example.com', 'Bob Callee'], 'the partial UPDATE renamed Bob');
    assert.equal(rec.user, 'bob');
    assert.equal(rec.direction, 'inbound');
    // Times: the session lasted about as long as the scenario, inside the test's own window.
    const start = Date.parse(rec.start);
    const end = Date.parse(rec.end);
    assert.ok(start >= t0 - 1000 && end <= t1 + 1000 && end - start > 5500 && end - start < 12000, `${rec.start} → ${rec.end}`);
    assert.ok(rec.answer !== null && Date.parse(rec.answer) - start < 1000);
    assert.deepEqual(
      rec.siprec?.participants.map((p) => [p.name, p.party, p.send.join(), p.associateTime]),
      [
        ['Alice Caller', 'caller', '1', '2024-05-01T10:00:00Z'],
        ['Bob Callee', 'callee', '2', '2024-05-01T10:00:01Z'],
      ],
    );
    assert.equal(rec.siprec?.updates, 1);
    assert.equal(rec.siprec?.sessionId, 'sess-1');
    assert.ok(rec.notes.includes('hold by caller') && rec.notes.includes('resume by caller'), JSON.stringify(rec.notes));
    const caller = rec.streams.find((s) => s.party === 'caller');
    const callee = rec.streams.find((s) => s.party === 'callee');
    assert.equal(caller?.codec, 'PCMA');
    assert.ok((caller?.packets ?? 0) > 200, `SIPp's capture arrived (${caller?.packets} packets)`);
    assert.equal(caller?.lost, 0);
    assert.equal(callee?.packets, 150);
    assert.equal(callee?.lost, 0);
    assert.ok(rec.recording);
    assert.equal(rec.recording.channels, 2);
    const wav = readWav(rec.recording.path);
    const [left, right] = wav.channel;
    assert.ok(rms(left!) > 100, `caller audio on the left (rms ${rms(left!)})`);
    assert.ok(rms(right!) > 1000, 'callee tone on the right');
    assert.equal(rig.server.pool.inUse, 0);
  });

  it('a CUBE network-based recording INVITE (no SIPREC, no metadata) is refused with 488', async () => {
    const r = await runSipp({ scenario: 'cube-nbr-not-siprec.xml', serverPort: rig.port, mediaPort: 46100, timeoutMs: 10_000 });
    assert.equal(r.code, 0, `sipp failed: ${r.stdout}\n${r.errors}`);
    assert.ok(rig.counters.get('siprec.rejected_not_siprec') >= 1);
  });
});

async function waitRecord(rig: Rig): Promise<CallRecord> {
  for (let i = 0; i < 500; i++) {
    const r = rig.records.find((x) => x.protocol === 'siprec' && x.recording);
    if (r) return r;
    await sleep(10);
  }
  throw new Error(`no recording: ${JSON.stringify(rig.records)}`);
}
