/**
 * Generated Skinny captures for what the public ones lack: both header layouts (basic and
 * CallManager 7+ V20, IPv4 and IPv6), messages several per segment and split across segments,
 * dialing and DTMF, hold/resume with music on hold, transfer and conference (linked calls), the
 * users directory by device and line, and hostile input. Each runs through the whole recorder.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SkinnyScenario, sk, V20, V_BASIC, type SkinnyStation } from '../../support/skinny.js';
import { assertChannelHas, runRecorder } from './sccp-helpers.js';

const S = { OffHook: 1, OnHook: 2, RingOut: 3, RingIn: 4, Connected: 5, Hold: 8 } as const;
const KEY = { '2': 2, '0': 0, '5': 5 } as const;

interface Call2 {
  sc: SkinnyScenario;
  a: SkinnyStation;
  b: SkinnyStation;
  ip: { a: string; b: string };
}

/**
 * A calls B: A dials 2002 on line 1 (call reference 101), B rings (reference 202), answers;
 * both open channels and send 50 packets of µ-law each way; A presses 5 during the call.
 * `segments` cuts each send into segments of those sizes.
 */
function basicCall(version: number, o: { v6?: boolean; segments?: number[]; hangup?: boolean } = {}): Call2 {
  const sc = new SkinnyScenario(o.v6 ? { ip: '2001:db8::1', port: 2000 } : undefined);
  const ip = o.v6 ? { a: '2001:db8::a', b: '2001:db8::b' } : { a: '10.1.1.10', b: '10.1.1.20' };
  const a = sc.station(0, 'SEP0000000000AA', ip.a, 50000);
  const b = sc.station(0.01, 'SEP0000000000BB', ip.b, 50001);
  const seg = o.segments;
  sc.send(0.1, a, 'up', [sk.register(version, 'SEP0000000000AA', o.v6 ? '0.0.0.0' : ip.a)], seg);
  sc.send(0.11, a, 'down', [sk.registerAck(version), sk.lineStat(version, 1, '1001', 'Alice')], seg);
  sc.send(0.12, b, 'up', [sk.register(version, 'SEP0000000000BB', o.v6 ? '0.0.0.0' : ip.b)], seg);
  sc.send(0.13, b, 'down', [sk.registerAck(version), sk.lineStat(version, 1, '2002', 'Bob')], seg);
  // A goes off hook and dials.
  sc.send(1, a, 'up', [sk.offHook(version)], seg);
  sc.send(1.01, a, 'down', [sk.callState(version, S.OffHook, 1, 101)], seg);
  sc.send(1.2, a, 'up', [sk.keypad(version, KEY['2'], 1, 101)], seg);
  sc.send(1.3, a, 'up', [sk.keypad(version, KEY['0'], 1, 101), sk.keypad(version, KEY['0'], 1, 101)], seg);
  sc.send(1.4, a, 'up', [sk.keypad(version, KEY['2'], 1, 101)], seg);
  sc.send(1.5, a, 'down', [sk.dialedNumber(version, '2002', 1, 101), sk.callState(version, S.RingOut, 1, 101), sk.callInfo(version, { line: 1, callRef: 101, callType: 2, calling: '1001', callingName: 'Alice', called: '2002', calledName: 'Bob' })], seg);
  sc.send(1.51, b, 'down', [sk.callState(version, S.RingIn, 1, 202), sk.callInfo(version, { line: 1, callRef: 202, callType: 1, calling: '1001', callingName: 'Alice', called: '2002', calledName: 'Bob' })], seg);
  // B answers.
  sc.send(3, b, 'up', [sk.offHook(version, 1, 202)], seg);
  sc.send(3.01, b, 'down', [sk.callState(version, S.Connected, 1, 202), sk.openReceiveChannel(version, { conf: 202, passThru: 2001, callRef: 202 })], seg);
  sc.send(3.02, a, 'down', [sk.callState(version, S.Connected, 1, 101), sk.openReceiveChannel(version, { conf: 101, passThru: 1001, callRef: 101 })], seg);
  sc.send(3.05, a, 'up', [sk.openReceiveChannelAck(version, { ip: ip.a, port: 24000, passThru: 1001, callRef: 101 })], seg);
  sc.send(3.06, b, 'up', [sk.openReceiveChannelAck(version, { ip: ip.b, port: 26000, passThru: 2001, callRef: 202 })], seg);
  sc.send(3.07, b, 'down', [sk.startMediaTransmission(version, { conf: 202, passThru: 2001, ip: ip.a, port: 24000, callRef: 202 })], seg);
  sc.send(3.08, a, 'down', [sk.startMediaTransmission(version, { conf: 101, passThru: 1001, ip: ip.b, port: 26000, callRef: 101 })], seg);
  sc.rtp({ from: 'caller', srcIp: ip.a, srcPort: 24000, dstIp: ip.b, dstPort: 26000, ssrc: 0xa1, at: 3.1, count: 50 });
  sc.rtp({ from: 'callee', srcIp: ip.b, srcPort: 26000, dstIp: ip.a, dstPort: 24000, ssrc: 0xb1, at: 3.11, count: 50 });
  sc.send(3.5, a, 'up', [sk.keypad(version, KEY['5'], 1, 101)], seg);
  if (o.hangup !== false) {
    sc.send(4.2, a, 'up', [sk.onHook(version, 1, 101)], seg);
    sc.send(4.21, a, 'down', [sk.callState(version, S.OnHook, 1, 101)], seg);
    sc.send(4.22, b, 'down', [sk.callState(version, S.OnHook, 1, 202)], seg);
  }
  return { sc, a, b, ip };
}

describe('SCCP calls (generated captures)', () => {
  it('basic header: one call from both phones, numbers, DTMF, user by device and line, both parties recorded', async () => {
    const { sc } = basicCall(V_BASIC);
    const run = await runRecorder(sc.sorted(), { record: process.env.SCCP_NO_AUDIO !== '1', users: [{ name: 'alice', devices: ['SEP0000000000AA/1'] }] });
    assert.equal(run.records.length, 1, JSON.stringify(run.records.map((r) => r.callId)));
    const c = run.records[0]!;
    assert.equal(c.protocol, 'sccp');
    assert.deepEqual([c.from.number, c.from.name, c.to.number, c.to.name], ['1001', 'Alice', '2002', 'Bob']);
    assert.equal(c.from.uri, 'sccp:SEP0000000000AA/1');
    assert.equal(c.to.uri, 'sccp:SEP0000000000BB/1');
    assert.equal(c.user, 'alice');
    assert.equal(c.direction, 'outbound');
    assert.equal(c.endReason, 'onhook');
    assert.equal(c.answer, new Date((1_700_000_003.01) * 1000).toISOString());
    assert.deepEqual(c.dtmf.map((d) => [d.digit, d.party]), [['5', 'caller']]);
    assert.deepEqual(c.sccp?.devices.map((d) => [d.device, d.party, d.callRef, d.lineNumber]), [['SEP0000000000AA', 'caller', 101, '1001'], ['SEP0000000000BB', 'callee', 202, '2002']]);
    const streams = c.streams.map((s) => [s.ssrc, s.party, s.packets, s.codec]).sort((x, y) => Number(x[0]) - Number(y[0]));
    assert.deepEqual(streams, [[0xa1, 'caller', 50, 'PCMU'], [0xb1, 'callee', 50, 'PCMU']]);
    if (process.env.SCCP_NO_AUDIO === '1') return;
    assert.equal(c.recording?.channels, 2);
    assertChannelHas(c.recording.path, 0, sc.media.sent.get(0xa1)!.map((p) => p.payload));
    assertChannelHas(c.recording.path, 1, sc.media.sent.get(0xb1)!.map((p) => p.payload));
    assert.equal(run.registry().unattachedStreams().length, 0);
  });

  it('V20 header (CallManager 7+), IPv6, several messages per segment and each split across segments', async () => {
    for (const segments of [[5], [13, 40, 7], [1000]]) {
      const { sc } = basicCall(V20, { v6: true, segments });
      const run = await runRecorder(sc.sorted());
      assert.equal(run.records.length, 1, `segments ${segments.join(',')}`);
      const c = run.records[0]!;
      assert.deepEqual([c.from.number, c.to.number, c.to.name, c.direction], ['1001', '2002', 'Bob', 'internal']);
      assert.deepEqual(c.streams.map((s) => [s.src, s.party]).sort(), [['[2001:db8::a]:24000', 'caller'], ['[2001:db8::b]:26000', 'callee']]);
      assert.equal(run.counters.get('sccp.messages'), 30);
      assert.equal(run.counters.get('sccp.resync'), 0);
    }
  });

  it('RFC 2833 events in RTP are DTMF, by the payload type StartMediaTransmission gives', async () => {
    const { sc, ip } = basicCall(V20);
    // Digit 7 from phone A at payload type 101, three packets of one event (RFC 4733 §2.3), end bit on the last.
    const event = (i: number): Buffer => Buffer.from([7, i === 2 ? 0x8a : 0x0a, (160 * (i + 1)) >> 8, (160 * (i + 1)) & 255]);
    sc.rtp({ from: 'caller', srcIp: ip.a, srcPort: 24000, dstIp: ip.b, dstPort: 26000, ssrc: 0xa1, pt: 101, at: 3.7, count: 3, seq0: 1050, ts0: 90_000, tsStep: 0, payload: event });
    const run = await runRecorder(sc.sorted());
    const c = run.records[0]!;
    assert.deepEqual(c.dtmf.map((d) => [d.digit, d.party]), [['5', 'caller'], ['7', 'caller']]);
    assert.equal(c.dtmf[1]!.durationMs, 60);
  });

  it('a call nobody answers is recorded when it ends, with its outcome', async () => {
    const sc = new SkinnyScenario();
    const a = sc.station(0, 'SEP0000000000AA', '10.1.1.10', 50000);
    sc.send(1, a, 'down', [sk.callState(V20, S.OffHook, 1, 7), sk.callState(V20, S.RingOut, 1, 7), sk.callInfo(V20, { line: 1, callRef: 7, callType: 2, calling: '1001', called: '3003' })]);
    sc.send(9, a, 'down', [sk.callState(V20, S.OnHook, 1, 7)]);
    // A phone that only went off hook and back makes no call.
    sc.send(12, a, 'down', [sk.callState(V20, S.OffHook, 1, 8), sk.callState(V20, S.OnHook, 1, 8)]);
    const run = await runRecorder(sc.sorted());
    assert.equal(run.records.length, 1);
    assert.deepEqual([run.records[0]!.to.number, run.records[0]!.endReason, run.records[0]!.answer, run.records[0]!.direction], ['3003', 'cancel', null, 'outbound']);
    assert.equal(run.counters.get('sccp.abandoned_offhook'), 1);
  });

  it('hold and resume: noted, music on hold joins the held phone, the call goes on with new ports', async () => {
    const { sc, a, b, ip } = basicCall(V20, { hangup: false });
    sc.send(5, a, 'down', [sk.callState(V20, S.Hold, 1, 101), sk.stopMediaTransmission(V20, { conf: 101, passThru: 1001, callRef: 101 }), sk.closeReceiveChannel(V20, { conf: 101, passThru: 1001, callRef: 101 })]);
    sc.send(5.01, b, 'down', [sk.stopMediaTransmission(V20, { conf: 202, passThru: 2001, callRef: 202 }), sk.closeReceiveChannel(V20, { conf: 202, passThru: 2001, callRef: 202 }), sk.openReceiveChannel(V20, { conf: 202, passThru: 2002, callRef: 202 })]);
    sc.send(5.02, b, 'up', [sk.openReceiveChannelAck(V20, { ip: ip.b, port: 26002, passThru: 2002, callRef: 202 })]);
    sc.rtp({ from: 'caller', srcIp: '10.1.9.9', srcPort: 16384, dstIp: ip.b, dstPort: 26002, ssrc: 0x30, at: 5.1, count: 20 });
    sc.send(7, a, 'down', [sk.callState(V20, S.Connected, 1, 101), sk.openReceiveChannel(V20, { conf: 101, passThru: 1003, callRef: 101 })]);
    sc.send(7.01, a, 'up', [sk.openReceiveChannelAck(V20, { ip: ip.a, port: 24004, passThru: 1003, callRef: 101 })]);
    sc.send(7.02, b, 'down', [sk.startMediaTransmission(V20, { conf: 202, passThru: 2002, ip: ip.a, port: 24004, callRef: 202 })]);
    sc.send(7.03, a, 'down', [sk.startMediaTransmission(V20, { conf: 101, passThru: 1003, ip: ip.b, port: 26002, callRef: 101 })]);
    sc.rtp({ from: 'caller', srcIp: ip.a, srcPort: 24004, dstIp: ip.b, dstPort: 26002, ssrc: 0xa2, at: 7.1, count: 20 });
    sc.rtp({ from: 'callee', srcIp: ip.b, srcPort: 26002, dstIp: ip.a, dstPort: 24004, ssrc: 0xb2, at: 7.1, count: 20 });
    sc.send(8, a, 'down', [sk.callState(V20, S.OnHook, 1, 101)]);
    sc.send(8, b, 'down', [sk.callState(V20, S.OnHook, 1, 202)]);
    const run = await runRecorder(sc.sorted());
    assert.equal(run.records.length, 1);
    const c = run.records[0]!;
    assert.ok(c.notes.includes('hold by caller') && c.notes.includes('resume by caller'), JSON.stringify(c.notes));
    const streams = c.streams.map((s) => [s.ssrc, s.party, s.packets]).sort((x, y) => Number(x[0]) - Number(y[0]));
    assert.deepEqual(streams, [[0x30, 'caller', 20], [0xa1, 'caller', 50], [0xa2, 'caller', 20], [0xb1, 'callee', 50], [0xb2, 'callee', 20]]);
    assert.equal(c.endReason, 'onhook');
  });

  it('transfer: the consultation call is linked to the first, and the transferred party continues with the target', async () => {
    const { sc, a, b, ip } = basicCall(V20, { hangup: false });
    const c3 = sc.station(0.02, 'SEP0000000000CC', '10.1.1.30', 50002);
    sc.send(5, a, 'up', [sk.softKey(V20, 4, 1, 101)]);
    sc.send(5.01, a, 'down', [sk.callState(V20, S.Hold, 1, 101), sk.callState(V20, S.OffHook, 1, 102)]);
    sc.send(5.5, a, 'down', [sk.callState(V20, S.RingOut, 1, 102), sk.callInfo(V20, { line: 1, callRef: 102, callType: 2, calling: '1001', called: '3003', calledName: 'Carol' })]);
    sc.send(5.51, c3, 'down', [sk.callState(V20, S.RingIn, 1, 303), sk.callInfo(V20, { line: 1, callRef: 303, callType: 1, calling: '1001', called: '3003', calledName: 'Carol' })]);
    sc.send(6, c3, 'down', [sk.callState(V20, S.Connected, 1, 303)]);
    sc.send(6, a, 'down', [sk.callState(V20, S.Connected, 1, 102)]);
    sc.send(6.01, a, 'up', [sk.openReceiveChannelAck(V20, { ip: ip.a, port: 24002, passThru: 1002, callRef: 102 })]);
    sc.send(6.02, c3, 'up', [sk.openReceiveChannelAck(V20, { ip: '10.1.1.30', port: 28000, passThru: 3001, callRef: 303 })]);
    sc.send(6.03, c3, 'down', [sk.startMediaTransmission(V20, { conf: 303, passThru: 3001, ip: ip.a, port: 24002, callRef: 303 })]);
    sc.send(6.04, a, 'down', [sk.startMediaTransmission(V20, { conf: 102, passThru: 1002, ip: '10.1.1.30', port: 28000, callRef: 102 })]);
    sc.rtp({ from: 'caller', srcIp: ip.a, srcPort: 24002, dstIp: '10.1.1.30', dstPort: 28000, ssrc: 0xa3, at: 6.1, count: 10 });
    sc.rtp({ from: 'callee', srcIp: '10.1.1.30', srcPort: 28000, dstIp: ip.a, dstPort: 24002, ssrc: 0xc3, at: 6.1, count: 10 });
    // Transfer pressed again: A leaves both calls; B now talks to C.
    sc.send(7, a, 'up', [sk.softKey(V20, 4, 1, 102)]);
    sc.send(7.01, a, 'down', [sk.callState(V20, S.OnHook, 1, 102), sk.callState(V20, S.OnHook, 1, 101)]);
    sc.send(7.02, b, 'down', [sk.startMediaTransmission(V20, { conf: 202, passThru: 2003, ip: '10.1.1.30', port: 28000, callRef: 202 })]);
    sc.send(7.03, c3, 'down', [sk.startMediaTransmission(V20, { conf: 303, passThru: 3002, ip: ip.b, port: 26000, callRef: 303 })]);
    sc.rtp({ from: 'caller', srcIp: ip.b, srcPort: 26000, dstIp: '10.1.1.30', dstPort: 28000, ssrc: 0xb4, at: 7.1, count: 10 });
    sc.rtp({ from: 'callee', srcIp: '10.1.1.30', srcPort: 28000, dstIp: ip.b, dstPort: 26000, ssrc: 0xc4, at: 7.1, count: 10 });
    sc.send(8, b, 'down', [sk.callState(V20, S.OnHook, 1, 202)]);
    sc.send(8, c3, 'down', [sk.callState(V20, S.OnHook, 1, 303)]);
    const run = await runRecorder(sc.sorted());
    assert.equal(run.records.length, 2, JSON.stringify(run.records.map((r) => [r.callId, r.endReason])));
    const [first, second] = run.records as [(typeof run.records)[0], (typeof run.records)[0]];
    assert.deepEqual([first.to.number, second.to.number, second.to.name], ['2002', '3003', 'Carol']);
    assert.ok(first.linked?.some((l) => l.id === second.id && l.relation === 'transfer'), JSON.stringify(first.linked));
    assert.ok(second.linked?.some((l) => l.id === first.id));
    assert.ok(first.notes.some((n) => n.startsWith('transfer completed')), JSON.stringify(first.notes));
    // The first call holds A–B; the consultation call goes on as B–C after the transfer.
    assert.deepEqual(first.streams.map((s) => s.ssrc).sort(), [0xa1, 0xb1]);
    assert.deepEqual(second.streams.map((s) => s.ssrc).sort(), [0xa3, 0xb4, 0xc3, 0xc4]);
    assert.equal(run.registry().unattachedStreams().length, 0);
  });

  it('conference: the consultation is linked, each phone ends up talking to the bridge in a call of its own', async () => {
    const { sc, a, b, ip } = basicCall(V20, { hangup: false });
    const c3 = sc.station(0.02, 'SEP0000000000CC', '10.1.1.30', 50002);
    const bridge = '10.1.9.50';
    sc.send(5, a, 'up', [sk.softKey(V20, 13, 1, 101)]);
    sc.send(5.01, a, 'down', [sk.callState(V20, S.Hold, 1, 101), sk.callState(V20, S.OffHook, 1, 102), sk.callState(V20, S.RingOut, 1, 102)]);
    sc.send(5.5, c3, 'down', [sk.callState(V20, S.RingIn, 1, 303), sk.callInfo(V20, { line: 1, callRef: 303, callType: 1, calling: '1001', called: '3003' })]);
    sc.send(6, c3, 'down', [sk.callState(V20, S.Connected, 1, 303)]);
    sc.send(6, a, 'down', [sk.callState(V20, S.Connected, 1, 102)]);
    sc.send(6.01, a, 'up', [sk.openReceiveChannelAck(V20, { ip: ip.a, port: 24002, passThru: 1002, callRef: 102 })]);
    sc.send(6.02, c3, 'up', [sk.openReceiveChannelAck(V20, { ip: '10.1.1.30', port: 28000, passThru: 3001, callRef: 303 })]);
    sc.send(6.03, c3, 'down', [sk.startMediaTransmission(V20, { conf: 303, passThru: 3001, ip: ip.a, port: 24002, callRef: 303 })]);
    sc.send(6.04, a, 'down', [sk.startMediaTransmission(V20, { conf: 102, passThru: 1002, ip: '10.1.1.30', port: 28000, callRef: 102 })]);
    // Confrn again: the consultation leg ends, every phone is connected to the bridge.
    sc.send(7, a, 'up', [sk.softKey(V20, 13, 1, 102)]);
    sc.send(7.01, a, 'down', [sk.callState(V20, S.OnHook, 1, 102), sk.callState(V20, S.Connected, 1, 101)]);
    sc.send(7.02, a, 'down', [sk.startMediaTransmission(V20, { conf: 101, passThru: 1004, ip: bridge, port: 30000, callRef: 101 })]);
    sc.send(7.03, b, 'down', [sk.startMediaTransmission(V20, { conf: 202, passThru: 2004, ip: bridge, port: 30002, callRef: 202 })]);
    sc.send(7.04, c3, 'down', [sk.startMediaTransmission(V20, { conf: 303, passThru: 3004, ip: bridge, port: 30004, callRef: 303 })]);
    for (const [src, port, dst, ssrc] of [[ip.a, 24000, 30000, 0xa5], [ip.b, 26000, 30002, 0xb5], ['10.1.1.30', 28000, 30004, 0xc5]] as const) {
      sc.rtp({ from: 'caller', srcIp: src, srcPort: port, dstIp: bridge, dstPort: dst, ssrc, at: 7.1, count: 10 });
      sc.rtp({ from: 'callee', srcIp: bridge, srcPort: dst, dstIp: src, dstPort: port, ssrc: ssrc + 0x100, at: 7.1, count: 10 });
    }
    for (const [st, ref] of [[a, 101], [b, 202], [c3, 303]] as const) sc.send(9, st, 'down', [sk.callState(V20, S.OnHook, 1, ref)]);
    const run = await runRecorder(sc.sorted());
    const byStreams = (ssrc: number) => run.records.find((r) => r.streams.some((s) => s.ssrc === ssrc));
    const original = byStreams(0xa1)!;
    const consult = run.records.find((r) => r.to.number === '3003')!;
    assert.ok(consult.linked?.some((l) => l.id === original.id && l.relation === 'conference'), JSON.stringify(consult.linked));
    // Each phone's bridge streams (both ways) are in one call, with the phone as one party.
    for (const ssrc of [0xa5, 0xb5, 0xc5]) {
      const call = byStreams(ssrc);
      assert.ok(call, `stream 0x${ssrc.toString(16)} recorded`);
      assert.equal(byStreams(ssrc + 0x100)?.id, call.id);
      const phone = call.streams.find((s) => s.ssrc === ssrc)!;
      const fromBridge = call.streams.find((s) => s.ssrc === ssrc + 0x100)!;
      assert.notEqual(phone.party, fromBridge.party);
    }
    // A left the A–B call for the bridge: its own call is chained to the original.
    const aBridge = byStreams(0xa5)!;
    assert.ok(aBridge.linked?.some((l) => l.id === original.id), JSON.stringify(aBridge.linked));
    assert.equal(run.registry().unattachedStreams().length, 0);
  });

  it('another CallManager port is configurable', async () => {
    const sc = new SkinnyScenario({ ip: '10.1.0.1', port: 2443 });
    const a = sc.station(0, 'SEP0000000000AA', '10.1.1.10', 50000);
    sc.send(1, a, 'down', [sk.callState(V20, S.RingIn, 1, 9), sk.callInfo(V20, { line: 1, callRef: 9, callType: 1, calling: '555', called: '1001' }), sk.callState(V20, S.OnHook, 1, 9)]);
    assert.equal((await runRecorder(sc.sorted())).records.length, 0);
    const run = await runRecorder(sc.sorted(), { sccpPorts: [2443] });
    assert.deepEqual(run.records.map((r) => [r.from.number, r.direction, r.endReason]), [['555', 'inbound', 'cancel']]);
  });

  it('hostile input: unknown ids, short bodies, huge lengths and garbage are counted; the next call is still recorded', async () => {
    const { sc, a } = basicCall(V20);
    const junk = [
      sk.raw(V20, 0x7777, Buffer.alloc(8)),
      sk.raw(V20, 0x0111, Buffer.alloc(3)),
      sk.raw(V20, 0x014a, Buffer.alloc(10)),
      Buffer.from([0xff, 0xff, 0xff, 0x7f, 0x14, 0, 0, 0, 0x11, 1, 0, 0]),
      Buffer.from('\x00\x01\x02garbage that is not skinny at all\r\n'),
      sk.raw(V20, 0x0022, Buffer.alloc(2)),
    ];
    sc.send(0.5, a, 'down', junk);
    sc.send(0.6, a, 'up', [sk.keepAlive(V20)]);
    const run = await runRecorder(sc.sorted());
    assert.equal(run.records.length, 1);
    assert.deepEqual([run.records[0]!.from.number, run.records[0]!.streams.length], ['1001', 2]);
    assert.equal(run.counters.get('sccp.unsupported_message_id'), 1);
    assert.equal(run.counters.get('sccp.truncated'), 3);
    assert.equal(run.counters.get('sccp.too_large'), 1);
    assert.ok(run.counters.get('sccp.resync') >= 1);
    assert.equal(run.counters.get('pipeline.bug'), 0);
  });
});
