import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CallRecord } from '../../../recorder/calls/call-record.js';
import { readWav } from '../../support/wav.js';
import { answerPorts, FIXTURES, fixtureBody, loopbackSdp, request, sendTone, SipClient, sleep, startRig, type Rig } from './siprec-helpers.js';

/** Energy of one frequency in a signal (Goertzel), normalised by length. */
function tonePower(x: Int16Array, freq: number, rate: number): number {
  const k = (2 * Math.cos((2 * Math.PI * freq) / rate));
  let s1 = 0;
  let s2 = 0;
  for (const v of x) {
    const s0 = v + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (x.length * x.length);
}

describe('SIPREC server over UDP', () => {
  let rig: Rig;
  let sip: SipClient;
  before(async () => {
    rig = await startRig({ audioPorts: { start: 41000, end: 41199 } });
    sip = await SipClient.open(rig.port);
  });
  after(async () => {
    sip.close();
    await rig.close();
  });

  it('records a CUBE session: 100, 200 with recvonly labels, both parties on their channels, BYE', async () => {
    const { body, contentType } = fixtureBody(join(FIXTURES, 'drachtio__cisco-cube.txt'));
    const callId = 'cube-1@test';
    sip.send(request({ callId, body: loopbackSdp(body), contentType, clientPort: sip.localPort, serverPort: rig.port, headers: ['Require: siprec'] }));
    await sip.status(100);
    const ok = await sip.status(200);
    const sdp = ok.body.toString();
    assert.match(sdp, /a=recvonly/);
    assert.match(sdp, /a=label:1/);
    assert.match(sdp, /a=label:2/);
    const ports = answerPorts(ok);
    assert.equal(ports.length, 2);
    for (const p of ports) assert.equal(p % 2, 0, 'RTP ports are even');
    sip.send(request({ method: 'ACK', callId, toTag: ok.to.tag, clientPort: sip.localPort, serverPort: rig.port }));
    // Label 1 is participant 7301's sent audio (participantstreamassoc), label 2 is 7300's.
    await Promise.all([sendTone(ports[0]!, { ssrc: 0x1111, freq: 440, count: 100 }), sendTone(ports[1]!, { ssrc: 0x2222, freq: 1000, count: 100 })]);
    await sleep(50);
    sip.send(request({ method: 'BYE', callId, cseq: 2, toTag: ok.to.tag, clientPort: sip.localPort, serverPort: rig.port }));
    await sip.status(200, 'BYE');
    const rec = await waitRecord(rig, callId);
    assert.equal(rec.protocol, 'siprec');
    assert.equal(rec.endReason, 'bye');
    assert.equal(rec.from.uri, 'sip:7301@35.162.237.204');
    assert.equal(rec.to.uri, 'sip:7300@35.162.237.204');
    assert.equal(rec.to.name, '7300');
    assert.equal(rec.streams.length, 2);
    const byParty = Object.fromEntries(rec.streams.map((s) => [s.party, s]));
    assert.equal(byParty['caller']?.ssrc, 0x1111);
    assert.equal(byParty['callee']?.ssrc, 0x2222);
    assert.equal(byParty['caller']?.packets, 100);
    assert.equal(byParty['caller']?.lost, 0);
    assert.equal(rec.siprec?.metadataComplete, true);
    assert.equal(rec.siprec?.sessionId, 'kQNhKFdEEeeJ9tD/VsPGWA==');
    assert.deepEqual(
      rec.siprec?.participants.map((p) => [p.aor, p.party, p.send.join(), p.recv.join(), p.associateTime]),
      [
        ['sip:7301@35.162.237.204', 'caller', '1', '2', '2017-06-23T12:16:06.040Z'],
        ['sip:7300@35.162.237.204', 'callee', '2', '1', '2017-06-23T12:16:06.040Z'],
      ],
    );
    assert.ok(rec.recording);
    assert.equal(rec.recording.channels, 2);
    const wav = readWav(rec.recording.path);
    const [left, right] = wav.channel;
    assert.ok(tonePower(left!, 440, wav.sampleRate) > 10 * tonePower(left!, 1000, wav.sampleRate), 'caller tone on the left');
    assert.ok(tonePower(right!, 1000, wav.sampleRate) > 10 * tonePower(right!, 440, wav.sampleRate), 'callee tone on the right');
    assert.equal(rig.server.pool.inUse, 0, 'ports returned to the pool');
  });

  it('a single mixed stream renders mono', async () => {
    const full = readFileSync(join(FIXTURES, 'drachtio-pr55__intrado-viper-full-invite.txt'), 'utf8');
    const body = loopbackSdp(full.slice(full.indexOf('\n\n') + 2));
    const callId = 'mono-1@test';
    sip.send(request({ callId, body, contentType: 'multipart/mixed;boundary=Itro-wXyZ-bdry', clientPort: sip.localPort, serverPort: rig.port, lfOnly: true }));
    const ok = await sip.status(200);
    sip.send(request({ method: 'ACK', callId, toTag: ok.to.tag, clientPort: sip.localPort, serverPort: rig.port }));
    await sendTone(answerPorts(ok)[0]!, { ssrc: 0x3333, freq: 600, count: 50 });
    sip.send(request({ method: 'BYE', callId, cseq: 2, toTag: ok.to.tag, clientPort: sip.localPort, serverPort: rig.port }));
    const rec = await waitRecord(rig, callId);
    assert.equal(rec.recording?.channels, 1);
    assert.equal(rec.streams[0]?.party, 'caller');
  });
});

async function waitRecord(rig: Rig, callId: string, timeoutMs = 5000): Promise<CallRecord> {
  const t0 = Date.now();
  for (;;) {
    const r = rig.records.find((x) => x.callId === callId);
    if (r && (r.recording || r.streams.length === 0)) return r;
    if (Date.now() - t0 > timeoutMs) throw new Error(`no record for ${callId}: ${JSON.stringify(rig.records)} ${JSON.stringify(rig.counters.toJSON())}`);
    await sleep(20);
  }
}
