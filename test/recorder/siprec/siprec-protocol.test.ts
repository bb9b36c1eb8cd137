import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CallRecord } from '../../../recorder/calls/call-record.js';
import type { SipMessage } from '../../../recorder/sip/message.js';
import { answerPorts, FIXTURES, fixtureBody, loopbackSdp, request, sendTone, SipClient, sleep, startRig, type RequestOptions, type Rig } from './siprec-helpers.js';

async function record(rig: Rig, callId: string, timeoutMs = 5000): Promise<CallRecord> {
  const t0 = Date.now();
  for (;;) {
    const r = rig.records.find((x) => x.callId === callId);
    if (r) return r;
    if (Date.now() - t0 > timeoutMs) throw new Error(`no record for ${callId}: ${JSON.stringify(rig.counters.toJSON())}`);
    await sleep(10);
  }
}

/** INVITE (fixture body), 200, ACK; returns the 200. */
async function setup(rig: Rig, sip: SipClient, callId: string, file: string, extra: Partial<RequestOptions> = {}): Promise<SipMessage> {
  const { body, contentType } = fixtureBody(join(FIXTURES, file));
  const base = { callId, clientPort: sip.localPort, serverPort: rig.port, transport: sip.transport };
  sip.send(request({ ...base, body: loopbackSdp(body), contentType, headers: ['Require: siprec'], ...extra }));
  const ok = await sip.wait((m) => m.callId === callId && m.status === 200 && m.cseqMethod === 'INVITE');
  sip.send(request({ ...base, method: 'ACK', toTag: ok.to.tag, cseq: extra.cseq ?? 1 }));
  return ok;
}

function bye(rig: Rig, sip: SipClient, callId: string, toTag: string, cseq = 9): Promise<SipMessage> {
  sip.send(request({ method: 'BYE', callId, cseq, toTag, clientPort: sip.localPort, serverPort: rig.port, transport: sip.transport }));
  return sip.wait((m) => m.callId === callId && m.cseqMethod === 'BYE');
}

describe('SIPREC server: protocol', () => {
  let rig: Rig;
  let sip: SipClient;
  before(async () => {
    rig = await startRig({
      audioPorts: { start: 42000, end: 42099 },
      render: false,
      answerDelayMs: 0,
      trunks: { inbound: [/^\+972/], outbound: [] },
      equateDuplicateSessions: true,
      users: [{ name: 'agent7', numbers: ['5551234'] }],
    });
    sip = await SipClient.open(rig.port);
  });
  after(async () => {
    sip.close();
    await rig.close();
  });

  it('OPTIONS keep-alive gets 200 with Allow, Accept and Supported: siprec', async () => {
    sip.send(request({ method: 'OPTIONS', callId: 'opt@t', clientPort: sip.localPort, serverPort: rig.port }));
    const r = await sip.wait((m) => m.callId === 'opt@t');
    assert.equal(r.status, 200);
    assert.match(r.header('supported') ?? '', /siprec/);
    assert.match(r.header('allow') ?? '', /UPDATE/);
    assert.match(r.header('accept') ?? '', /rs-metadata/);
  });

  it('retransmitted INVITE gets the same answer; 200 is retransmitted until the ACK', async () => {
    const { body, contentType } = fixtureBody(join(FIXTURES, 'drachtio__oracle-acme.txt'));
    const req = request({ callId: 'rtx@t', body: loopbackSdp(body), contentType, clientPort: sip.localPort, serverPort: rig.port, branch: 'z9hG4bK-rtx' });
    sip.send(req);
    const ok1 = await sip.wait((m) => m.callId === 'rtx@t' && m.status === 200);
    sip.send(req);
    const ok2 = await sip.wait((m) => m.callId === 'rtx@t' && m.status === 200);
    assert.equal(ok2.to.tag, ok1.to.tag);
    assert.deepEqual(answerPorts(ok2), answerPorts(ok1));
    // No ACK yet: the 200 comes again after T1.
    const ok3 = await sip.wait((m) => m.callId === 'rtx@t' && m.status === 200, 1500);
    assert.equal(ok3.to.tag, ok1.to.tag);
    sip.send(request({ method: 'ACK', callId: 'rtx@t', toTag: ok1.to.tag, clientPort: sip.localPort, serverPort: rig.port }));
    await sleep(1200);
    sip.received.length = 0;
    await sleep(1200);
    assert.equal(sip.received.filter((m) => m.callId === 'rtx@t').length, 0, 'no retransmission after the ACK');
    assert.equal((await bye(rig, sip, 'rtx@t', ok1.to.tag)).status, 200);
  });

  it('CANCEL before the answer: 200 for the CANCEL, 487 for the INVITE, ports back in the pool', async () => {
    const slow = await startRig({ audioPorts: { start: 42200, end: 42209 }, render: false, answerDelayMs: 300 });
    const c = await SipClient.open(slow.port);
    const { body, contentType } = fixtureBody(join(FIXTURES, 'drachtio__cisco-cube.txt'));
    c.send(request({ callId: 'cancel@t', body: loopbackSdp(body), contentType, clientPort: c.localPort, serverPort: slow.port, branch: 'z9hG4bK-cx' }));
    await c.status(100);
    c.send(request({ method: 'CANCEL', callId: 'cancel@t', clientPort: c.localPort, serverPort: slow.port, branch: 'z9hG4bK-cx' }));
    assert.equal((await c.wait((m) => m.cseqMethod === 'CANCEL')).status, 200);
    assert.equal((await c.wait((m) => m.cseqMethod === 'INVITE' && m.status >= 200)).status, 487);
    await sleep(400);
    assert.equal(slow.server.pool.inUse, 0);
    assert.equal(slow.server.activeSessions, 0);
    c.close();
    await slow.close();
  });

  it('INFO is answered politely; unknown requests get 481/405/501', async () => {
    const ok = await setup(rig, sip, 'info@t', 'drachtio__cisco-cube.txt');
    const base = { callId: 'info@t', toTag: ok.to.tag, clientPort: sip.localPort, serverPort: rig.port };
    sip.send(request({ ...base, method: 'INFO', cseq: 2 }));
    assert.equal((await sip.wait((m) => m.cseqMethod === 'INFO')).status, 200);
    sip.send(request({ ...base, method: 'REFER', cseq: 3 }));
    assert.equal((await sip.wait((m) => m.cseqMethod === 'REFER')).status, 405);
    sip.send(request({ ...base, method: 'FROB', cseq: 4 }));
    assert.equal((await sip.wait((m) => m.cseqMethod === 'FROB')).status, 501);
    sip.send(request({ method: 'BYE', callId: 'nobody@t', toTag: 'x', clientPort: sip.localPort, serverPort: rig.port }));
    assert.equal((await sip.wait((m) => m.callId === 'nobody@t')).status, 481);
    await bye(rig, sip, 'info@t', ok.to.tag);
  });

  it('an INVITE that is not SIPREC is rejected with 488; Require with an unknown option gets 420', async () => {
    const sdp = readFileSync(join(FIXTURES, 'drachtio__negative-plain-sdp.txt'), 'utf8');
    sip.send(request({ callId: 'plain@t', body: sdp, clientPort: sip.localPort, serverPort: rig.port }).replace(';+sip.src', ''));
    const r = await sip.wait((m) => m.callId === 'plain@t' && m.status >= 200);
    assert.equal(r.status, 488);
    sip.send(request({ callId: 'ack488@t', method: 'ACK', clientPort: sip.localPort, serverPort: rig.port }));
    sip.send(request({ callId: 'req@t', body: sdp, clientPort: sip.localPort, serverPort: rig.port, headers: ['Require: siprec, frobnication'] }));
    const r2 = await sip.wait((m) => m.callId === 'req@t' && m.status >= 200);
    assert.equal(r2.status, 420);
    assert.equal(r2.header('unsupported'), 'frobnication');
  });

  it('re-INVITE to hold (a=inactive), then c=0.0.0.0, then resume: noted, ports kept', async () => {
    const ok = await setup(rig, sip, 'hold@t', 'drachtio__cisco-cube.txt');
    const ports = answerPorts(ok);
    const { body, contentType } = fixtureBody(join(FIXTURES, 'drachtio__cisco-cube.txt'));
    const reinvite = async (b: string, cseq: number): Promise<SipMessage> => {
      sip.send(request({ callId: 'hold@t', cseq, toTag: ok.to.tag, body: b, contentType, clientPort: sip.localPort, serverPort: rig.port }));
      const r = await sip.wait((m) => m.callId === 'hold@t' && m.cseq === cseq && m.status === 200);
      sip.send(request({ method: 'ACK', callId: 'hold@t', cseq, toTag: ok.to.tag, clientPort: sip.localPort, serverPort: rig.port }));
      return r;
    };
    const held = await reinvite(loopbackSdp(body).replace(/a=sendonly/g, 'a=inactive'), 2);
    assert.deepEqual(answerPorts(held), ports);
    assert.match(held.body.toString(), /a=inactive/);
    assert.match(held.body.toString(), /^o=- \d+ 2 /m, 'SDP version goes up');
    await reinvite(loopbackSdp(body), 3);
    await reinvite(body.replace(/c=IN IP4 .*/g, 'c=IN IP4 0.0.0.0'), 4);
    await bye(rig, sip, 'hold@t', ok.to.tag);
    const rec = await record(rig, 'hold@t');
    assert.ok(rec.notes.includes('hold by caller'), JSON.stringify(rec.notes));
    assert.ok(rec.notes.includes('resume by caller'));
  });

  it('UPDATE with metadata replaces the Avaya placeholder participant; a partial update adds one', async () => {
    const ok = await setup(rig, sip, 'upd@t', 'drachtio__avaya-sbce.txt');
    const complete = `<?xml version="1.0"?><recording xmlns="urn:ietf:params:xml:ns:recording:1"><dataMode>complete</dataMode>
<session session_id="00FA0800705D4C5DCAAC41"></session>
<participant participant_id="9a2de728ba0bc348db1e"><nameID aor="sip:9878942259@212.188.68.145"></nameID></participant>
<participantstreamassoc participant_id="9a2de728ba0bc348db1e"><send>e6988909e02ca808ec0a</send></participantstreamassoc>
<participant participant_id="real"><nameID aor="sip:7204541001@10.64.110.32"><name>Agent Seven</name></nameID></participant>
<participantsessionassoc participant_id="real" session_id="00FA0800705D4C5DCAAC41"><associate-time>2019-11-12T15:57:39</associate-time></participantsessionassoc>
<participantstreamassoc participant_id="real"><send>261ddd3615629f108092</send></participantstreamassoc>
<stream stream_id="e6988909e02ca808ec0a" session_id="00FA0800705D4C5DCAAC41"><label>10</label></stream>
<stream stream_id="261ddd3615629f108092" session_id="00FA0800705D4C5DCAAC41"><label>20</label></stream></recording>`;
    const base = { callId: 'upd@t', toTag: ok.to.tag, clientPort: sip.localPort, serverPort: rig.port, contentType: 'application/rs-metadata', headers: ['Content-Disposition: recording-session'] };
    sip.send(request({ ...base, method: 'UPDATE', cseq: 2, body: complete }));
    const u = await sip.wait((m) => m.callId === 'upd@t' && m.cseqMethod === 'UPDATE');
    assert.equal(u.status, 200);
    assert.equal(u.body.length, 0, 'no SDP in the answer to a metadata-only UPDATE');
    const partial = `<recording xmlns="urn:ietf:params:xml:ns:recording:1"><dataMode>partial</dataMode>
<participant participant_id="third"><nameID aor="sip:3000@pbx"/></participant>
<participantsessionassoc participant_id="real" session_id="00FA0800705D4C5DCAAC41"><disassociate-time>2019-11-12T15:58:00</disassociate-time></participantsessionassoc></recording>`;
    sip.send(request({ ...base, method: 'UPDATE', cseq: 3, body: partial }));
    assert.equal((await sip.wait((m) => m.callId === 'upd@t' && m.cseq === 3)).status, 200);
    await bye(rig, sip, 'upd@t', ok.to.tag);
    const rec = await record(rig, 'upd@t');
    assert.equal(rec.to.uri, 'sip:7204541001@10.64.110.32');
    assert.equal(rec.to.name, 'Agent Seven');
    assert.equal(rec.siprec?.updates, 2);
    const p = rec.siprec?.participants ?? [];
    assert.deepEqual(p.map((x) => x.aor), ['sip:9878942259@212.188.68.145', 'sip:7204541001@10.64.110.32', 'sip:3000@pbx']);
    assert.equal(p[1]?.associateTime, '2019-11-12T15:57:39');
    assert.equal(p[1]?.disassociateTime, '2019-11-12T15:58:00');
    assert.deepEqual(p[1]?.send, ['20']);
  });

  it('malformed metadata (a raw &) never loses the call: media recorded, metadata marked partial', async () => {
    const { body, contentType } = fixtureBody(join(FIXTURES, 'drachtio__cisco-cube.txt'));
    const bad = body.replace('<name xml:lang="en">7300</name>', '<name xml:lang="en">Sales & Support</name>');
    const ok = await setup(rig, sip, 'amp@t', 'drachtio__cisco-cube.txt', { body: loopbackSdp(bad), contentType });
    await sendTone(answerPorts(ok)[0]!, { ssrc: 5, freq: 500, count: 20 });
    await bye(rig, sip, 'amp@t', ok.to.tag);
    const rec = await record(rig, 'amp@t');
    assert.equal(rec.streams[0]?.packets, 20);
    assert.equal(rec.siprec?.metadataComplete, false);
    assert.match(rec.siprec?.problems[0] ?? '', /not well-formed/);
    assert.equal(rec.to.name, 'Sales & Support');
    // Tags stripped entirely (BroadWorks): the call is still taken, with no metadata parties.
    const ok2 = await setup(rig, sip, 'strip@t', 'drachtio__broadworks-tags-stripped.txt', {
      body: loopbackSdp(fixtureBody(join(FIXTURES, 'drachtio__broadworks-tags-stripped.txt')).body.replace(/X\.X\.X\.X/g, '127.0.0.1')),
      contentType: 'multipart/mixed;boundary=UniqueBroadWorksBoundary',
    });
    await bye(rig, sip, 'strip@t', ok2.to.tag);
    const rec2 = await record(rig, 'strip@t');
    assert.equal(rec2.siprec?.metadataComplete, false);
    assert.equal(rec2.siprec?.schema, 'broadworks');
  });

  it('a single mixed stream (Intrado: one participant sends and receives it) records mono', async () => {
    const full = readFileSync(join(FIXTURES, 'drachtio-pr55__intrado-viper-full-invite.txt'), 'utf8');
    const body = full.slice(full.indexOf('\n\n') + 2);
    const ok = await setup(rig, sip, 'mono@t', 'drachtio__cisco-cube.txt', { body: loopbackSdp(body), contentType: 'multipart/mixed;boundary=Itro-wXyZ-bdry', lfOnly: true });
    assert.equal(answerPorts(ok).length, 1);
    await bye(rig, sip, 'mono@t', ok.to.tag);
    const call = rig.records.find((r) => r.callId === 'mono@t');
    assert.ok(call);
    assert.equal(call.from.uri, '4058327108@10.105.190.136:5060');
    assert.equal(call.siprec?.participants[0]?.party, 'caller');
  });

  it('trunk ranges give the direction; SBC headers match the user', async () => {
    const ok = await setup(rig, sip, 'trunk@t', 'drachtio__cisco-cube-inactive-sdp.txt', { headers: ['Require: siprec', 'OriginatingTo: <sip:5551234@pbx>', 'Recorded-IP-Group-Name: PSTN'] });
    await bye(rig, sip, 'trunk@t', ok.to.tag);
    const rec = await record(rig, 'trunk@t');
    assert.equal(rec.direction, 'inbound');
    assert.equal(rec.from.uri, 'sip:+972546136443@192.168.10.140');
    assert.equal(rec.user, 'agent7');
    assert.deepEqual(rec.siprec?.sbcHeaders['recorded-ip-group-name'], ['PSTN']);
  });

  it('equateDuplicateSessions: a second session with the same participants is answered, not recorded twice', async () => {
    const a = await setup(rig, sip, 'dupA@t', 'drachtio__sonus-ribbon.txt');
    const b = await setup(rig, sip, 'dupB@t', 'drachtio__sonus-ribbon.txt');
    assert.equal(rig.server.session('dupB@t')?.duplicateOf, 'dupA@t');
    await sendTone(answerPorts(b)[0]!, { ssrc: 9, freq: 300, count: 5 });
    assert.ok(rig.counters.get('siprec.media_muted') >= 5);
    await bye(rig, sip, 'dupA@t', a.to.tag);
    const recA = await record(rig, 'dupA@t');
    assert.deepEqual(recA.siprec?.duplicates, ['dupB@t']);
    // The duplicate takes over once the first one ends.
    await sendTone(answerPorts(b)[0]!, { ssrc: 9, freq: 300, count: 5 });
    await bye(rig, sip, 'dupB@t', b.to.tag);
    const recB = await record(rig, 'dupB@t');
    assert.equal(recB.streams[0]?.packets, 5);
  });

  it('over TCP: the same session, and a 10 MB message is answered 413 without being buffered', async () => {
    const t = await SipClient.open(rig.server.ports.tcp, 'TCP');
    const ok = await setup(rig, t, 'tcp@t', 'drachtio__cisco-cube.txt');
    assert.equal(answerPorts(ok).length, 2);
    const huge = `<recording xmlns="urn:ietf:params:xml:ns:recording:1">${'x'.repeat(10 * 1024 * 1024)}</recording>`;
    const heapBefore = process.memoryUsage().heapUsed;
    t.send(request({ method: 'UPDATE', callId: 'tcp@t', cseq: 2, toTag: ok.to.tag, body: huge, contentType: 'application/rs-metadata+xml', clientPort: t.localPort, serverPort: rig.port, transport: 'TCP' }));
    const r = await t.wait((m) => m.callId === 'tcp@t' && m.cseqMethod === 'UPDATE', 5000);
    assert.equal(r.status, 413);
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 * 1024 * 1024);
    // The connection still works.
    assert.equal((await bye(rig, t, 'tcp@t', ok.to.tag)).status, 200);
    t.close();
  });
});

describe('SIPREC server: hostile input', () => {
  it('1,000 m-lines get 488; an INVITE flood beyond the pool gets 503 + Retry-After; nothing crashes', async () => {
    const rig = await startRig({ audioPorts: { start: 42400, end: 42419 }, render: false });
    const sip = await SipClient.open(rig.port);
    const mlines = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0'];
    for (let i = 0; i < 1000; i++) mlines.push(`m=audio ${10000 + 2 * i} RTP/AVP 0`, `a=label:${i}`);
    sip.send(request({ callId: 'mlines@t', body: mlines.join('\r\n'), clientPort: sip.localPort, serverPort: rig.port, headers: ['Require: siprec'] }));
    assert.equal((await sip.wait((m) => m.callId === 'mlines@t' && m.status >= 200)).status, 488);

    // 10 port pairs: 5 two-stream sessions fit, 45 more must be refused cleanly.
    const { body, contentType } = fixtureBody(join(FIXTURES, 'drachtio__cisco-cube.txt'));
    for (let i = 0; i < 50; i++) sip.send(request({ callId: `flood${i}@t`, body: loopbackSdp(body), contentType, clientPort: sip.localPort, serverPort: rig.port, headers: ['Require: siprec'] }));
    const finals = await Promise.all(Array.from({ length: 50 }, (_, i) => sip.wait((m) => m.callId === `flood${i}@t` && m.status >= 200, 5000)));
    const ok = finals.filter((m) => m.status === 200);
    const busy = finals.filter((m) => m.status === 503);
    assert.equal(ok.length, 5);
    assert.equal(busy.length, 45);
    assert.equal(busy[0]?.header('retry-after'), '30');
    assert.equal(rig.counters.get('siprec.rejected_pool_exhausted'), 45);
    for (const m of busy) sip.send(request({ method: 'ACK', callId: m.callId, toTag: m.to.tag, clientPort: sip.localPort, serverPort: rig.port }));
    for (const m of ok) await bye(rig, sip, m.callId, m.to.tag);
    assert.equal(rig.server.pool.inUse, 0);
    // Garbage on the SIP port is counted, not fatal.
    sip.send(Buffer.from([0, 1, 2, 3, 0xff]));
    sip.send('INVITE garbage\r\n\r\n');
    await sleep(50);
    assert.ok(rig.counters.get('siprec.bad_message') >= 2);
    sip.close();
    await rig.close();
  });
});

describe('SIPREC server: nonSiprec = record', () => {
  it('a plain INVITE is answered and recorded, its metadata marked missing', async () => {
    const rig = await startRig({ audioPorts: { start: 42500, end: 42519 }, render: false, nonSiprec: 'record' });
    const sip = await SipClient.open(rig.port);
    const sdp = loopbackSdp(readFileSync(join(FIXTURES, 'drachtio__negative-plain-sdp.txt'), 'utf8'));
    sip.send(request({ callId: 'nbr@t', body: sdp, clientPort: sip.localPort, serverPort: rig.port, headers: ['From: <sip:2164485925@example.org>;tag=x'] }).replace(';+sip.src', ''));
    const ok = await sip.wait((m) => m.callId === 'nbr@t' && m.status >= 200);
    assert.equal(ok.status, 200);
    sip.send(request({ method: 'ACK', callId: 'nbr@t', toTag: ok.to.tag, clientPort: sip.localPort, serverPort: rig.port }));
    await sendTone(answerPorts(ok)[0]!, { ssrc: 3, freq: 700, count: 10 });
    await bye(rig, sip, 'nbr@t', ok.to.tag);
    const rec = await record(rig, 'nbr@t');
    assert.equal(rec.streams[0]?.packets, 10);
    assert.equal(rec.siprec?.metadataComplete, false);
    assert.deepEqual(rec.siprec?.problems, ['not a SIPREC session (recorded per config)']);
    assert.equal(rig.counters.get('siprec.non_siprec_recorded'), 1);
    sip.close();
    await rig.close();
  });
});
