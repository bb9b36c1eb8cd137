import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LinkType } from '../../../recorder/capture/frame.js';
import type { ReplaySummary } from '../../../recorder/cli/replay-command.js';
import { CallScenario, sdp } from '../../support/call-scenario.js';
import * as B from '../../support/packets.js';
import { writePcap } from '../../support/capture-writer.js';
import { soxDecodeG711 } from '../../support/reference-decode.js';
import { readWav } from '../../support/wav.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir('sip-scenarios-');

function replayScenario(name: string, sc: CallScenario, ...args: string[]): ReplaySummary {
  const file = join(dir, `${name}.pcap`);
  writePcap(file, sc.sorted(), { linkType: LinkType.Ethernet, nanosecond: true });
  const r = spawnSync('bin/recorder', ['replay', file, '--out', join(dir, name), '--format', 'wav', '--json', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as ReplaySummary;
}

const CALLER = { ip: '10.0.0.10', sipPort: 5060 };
const CALLEE = { ip: '10.0.0.20', sipPort: 5060 };

/** INVITE with SDP, 100, 180, 200 with SDP, ACK; returns the INVITE's CSeq. */
function setup(sc: CallScenario, t: number, callerSdp = sdp({ ip: CALLER.ip, port: 4000 }), calleeSdp = sdp({ ip: CALLEE.ip, port: 6000 })): number {
  sc.sip(t, 'caller', sc.request('INVITE', 'caller', { body: callerSdp, cseq: 1 }));
  sc.sip(t + 0.01, 'callee', sc.response(100, 'Trying', 'callee', 1, 'INVITE'));
  sc.sip(t + 0.1, 'callee', sc.response(180, 'Ringing', 'callee', 1, 'INVITE', { toTag: 'callee-tag' }));
  sc.sip(t + 0.5, 'callee', sc.response(200, 'OK', 'callee', 1, 'INVITE', { toTag: 'callee-tag', body: calleeSdp }));
  sc.sip(t + 0.51, 'caller', sc.request('ACK', 'caller', { toTag: 'callee-tag', cseq: 1, branch: 'z9hG4bK-ack' }));
  return 1;
}

function bye(sc: CallScenario, t: number): void {
  sc.sip(t, 'caller', sc.request('BYE', 'caller', { toTag: 'callee-tag', cseq: 10 }));
  sc.sip(t + 0.01, 'callee', sc.response(200, 'OK', 'callee', 10, 'BYE', { toTag: 'callee-tag' }));
}

/** Every packet sent on `ssrc` must be in the WAV channel at its RTP-timestamp place. */
function assertChannel(sc: CallScenario, ssrc: number, wavPath: string, channel: number, law: 'mu-law' | 'a-law' = 'mu-law'): void {
  const wav = readWav(wavPath);
  const samples = wav.channel[channel]!;
  const sent = sc.sent.get(ssrc)!;
  const probe = soxDecodeG711(sent[0]!.payload, law);
  let anchor = -1;
  for (let i = 0; i + probe.length <= samples.length && anchor < 0; i++) {
    let j = 0;
    while (j < probe.length && samples[i + j] === probe[j]) j++;
    if (j === probe.length) anchor = i;
  }
  assert.ok(anchor >= 0, `first packet of ${ssrc.toString(16)} not found in channel ${channel}`);
  for (const p of sent) {
    const d = soxDecodeG711(p.payload, law);
    const at = anchor + ((p.ts - sent[0]!.ts) | 0);
    for (let j = 0; j < d.length; j++) assert.equal(samples[at + j], d[j], `ssrc ${ssrc.toString(16)} seq ${p.seq} sample ${j}`);
  }
}

describe('recorder replay: generated SIP scenarios', () => {
  it('basic call: parties, answer, BYE, both directions recorded sample for sample', () => {
    const sc = new CallScenario('basic@test', CALLER, CALLEE);
    setup(sc, 0);
    sc.rtp({ from: 'caller', srcIp: CALLER.ip, srcPort: 4000, dstIp: CALLEE.ip, dstPort: 6000, ssrc: 0x1111, at: 0.6, count: 100 });
    sc.rtp({ from: 'callee', srcIp: CALLEE.ip, srcPort: 6000, dstIp: CALLER.ip, dstPort: 4000, ssrc: 0x2222, at: 0.61, count: 100 });
    bye(sc, 2.7);
    // The callee's phone sends 3 more packets after the BYE: trailing media, not unattached RTP.
    sc.rtp({ from: 'callee', srcIp: CALLEE.ip, srcPort: 6000, dstIp: CALLER.ip, dstPort: 4000, ssrc: 0x2223, at: 2.72, count: 3 });
    sc.sent.delete(0x2223);
    const s = replayScenario('basic', sc);
    assert.deepEqual(s.unattached, []);
    assert.equal(s.capture.malformed['rtp.after_call_end'], 3);
    assert.equal(s.calls.length, 1);
    const c = s.calls[0]!;
    assert.equal(c.callId, 'basic@test');
    assert.equal(c.from.number, '1001');
    assert.equal(c.from.name, 'Alice');
    assert.equal(c.to.number, '2002');
    assert.equal(c.endReason, 'bye');
    assert.equal(c.status, 200);
    assert.ok(c.answer);
    assert.equal(c.streams.length, 2);
    const caller = c.streams.find((x) => x.ssrc === 0x1111)!;
    assert.equal(caller.party, 'caller');
    assert.equal(caller.codec, 'PCMU');
    assert.equal(caller.packets, 100);
    assert.equal(c.streams.find((x) => x.ssrc === 0x2222)!.party, 'callee');
    assert.ok(c.recording);
    assert.equal(c.recording.channels, 2);
    assert.ok(Math.abs(c.recording.durationMs - 2000) <= 40, `duration ${c.recording.durationMs}`);
    assertChannel(sc, 0x1111, c.recording.path, 0);
    assertChannel(sc, 0x2222, c.recording.path, 1);
  });

  it('a capture that starts after the INVITE joins the call at the 200 OK; in-dialog messages without SDP open nothing', () => {
    const sc = new CallScenario('midcall@test', CALLER, CALLEE);
    setup(sc, 0);
    sc.rtp({ from: 'caller', srcIp: CALLER.ip, srcPort: 4000, dstIp: CALLEE.ip, dstPort: 6000, ssrc: 0x1111, at: 0.6, count: 100 });
    sc.rtp({ from: 'callee', srcIp: CALLEE.ip, srcPort: 6000, dstIp: CALLER.ip, dstPort: 4000, ssrc: 0x2222, at: 0.61, count: 100 });
    bye(sc, 2.7);
    // Another call of which only the BYE is seen: not a call.
    const other = new CallScenario('bye-only@test', CALLER, CALLEE);
    bye(other, 1);
    // The capture begins just before the 200 OK: INVITE, 100 and 180 are not in it.
    const t0 = sc.t0;
    const frames = [...sc.sorted().filter((f) => f.tsSec - t0 + f.tsNsec / 1e9 >= 0.4), ...other.sorted()];
    sc.frames.length = 0;
    sc.frames.push(...frames);
    const s = replayScenario('midcall', sc);
    assert.equal(s.calls.length, 1);
    const c = s.calls[0]!;
    assert.equal(c.callId, 'midcall@test');
    assert.equal(c.from.number, '1001', 'the 2xx’s From is the caller');
    assert.equal(c.endReason, 'bye');
    assert.ok(c.notes.some((n) => /joined mid-call at 200 to INVITE/.test(n)), c.notes.join('; '));
    assert.deepEqual(
      c.streams.map((x) => [x.ssrc, x.party, x.packets]).sort(),
      [
        [0x1111, 'caller', 100],
        [0x2222, 'callee', 100],
      ],
    );
    assert.ok(c.recording);
    assertChannel(sc, 0x1111, c.recording.path, 0);
    assertChannel(sc, 0x2222, c.recording.path, 1);
    assert.deepEqual(s.unattached, []);
  });

  it('lost and reordered RTP: counted, and the lost packet is silence at its place', () => {
    const sc = new CallScenario('loss@test', CALLER, CALLEE);
    setup(sc, 0);
    sc.rtp({ from: 'caller', srcIp: CALLER.ip, srcPort: 4000, dstIp: CALLEE.ip, dstPort: 6000, ssrc: 0x3333, at: 0.6, count: 50, drop: [10, 11], swap: [[20, 21]] });
    bye(sc, 2);
    const c = replayScenario('loss', sc).calls[0]!;
    const st = c.streams[0]!;
    assert.equal(st.packets, 48);
    assert.equal(st.lost, 2);
    assert.equal(st.outOfOrder, 1);
    assertChannel(sc, 0x3333, c.recording!.path, 0);
    // The two lost packets: 320 samples of silence right after packet 9.
    const wav = readWav(c.recording!.path);
    const first = soxDecodeG711(sc.sent.get(0x3333)![0]!.payload, 'mu-law');
    let anchor = 0;
    while (!first.every((v, j) => wav.channel[0]![anchor + j] === v)) anchor++;
    for (let j = 0; j < 320; j++) assert.equal(wav.channel[0]![anchor + 10 * 160 + j], 0);
  });

  it('hold and resume by re-INVITE: noted, the hold is silence, one recording', () => {
    const sc = new CallScenario('hold@test', CALLER, CALLEE);
    setup(sc, 0);
    sc.rtp({ from: 'caller', srcIp: CALLER.ip, srcPort: 4000, dstIp: CALLEE.ip, dstPort: 6000, ssrc: 0x4444, at: 0.6, count: 50 });
    sc.sip(1.7, 'caller', sc.request('INVITE', 'caller', { toTag: 'callee-tag', cseq: 2, body: sdp({ ip: CALLER.ip, port: 4000, direction: 'sendonly' }) }));
    sc.sip(1.71, 'callee', sc.response(200, 'OK', 'callee', 2, 'INVITE', { toTag: 'callee-tag', body: sdp({ ip: CALLEE.ip, port: 6000, direction: 'recvonly' }) }));
    sc.sip(5.7, 'caller', sc.request('INVITE', 'caller', { toTag: 'callee-tag', cseq: 3, body: sdp({ ip: CALLER.ip, port: 4000 }) }));
    sc.sip(5.71, 'callee', sc.response(200, 'OK', 'callee', 3, 'INVITE', { toTag: 'callee-tag', body: sdp({ ip: CALLEE.ip, port: 6000 }) }));
    sc.rtp({ from: 'caller', srcIp: CALLER.ip, srcPort: 4000, dstIp: CALLEE.ip, dstPort: 6000, ssrc: 0x4444, at: 5.8, count: 50, seq0: 1050, ts0: 50_000 + 50 * 160 });
    bye(sc, 7);
    const c = replayScenario('hold', sc).calls[0]!;
    assert.ok(c.notes.includes('hold by caller'), JSON.stringify(c.notes));
    assert.ok(c.notes.includes('resume by caller'), JSON.stringify(c.notes));
    assert.equal(c.streams.length, 1);
    // Media from 0.6 s to 6.8 s: the 4.2 s hold stays in the file (placed by capture time).
    assert.ok(Math.abs(c.recording!.durationMs - 6200) <= 60, `duration ${c.recording!.durationMs}`);
  });

  it('re-INVITE to new ports and codec: the new streams join the same call', () => {
    const sc = new CallScenario('move@test', CALLER, CALLEE);
    setup(sc, 0);
    sc.rtp({ from: 'caller', srcIp: CALLER.ip, srcPort: 4000, dstIp: CALLEE.ip, dstPort: 6000, ssrc: 0x5555, at: 0.6, count: 25 });
    sc.sip(1.2, 'callee', sc.request('INVITE', 'callee', { toTag: 'caller-tag', fromTag: 'callee-tag', cseq: 1, body: sdp({ ip: CALLEE.ip, port: 6100, pts: [8] }) }));
    sc.sip(1.21, 'caller', sc.response(200, 'OK', 'caller', 1, 'INVITE', { body: sdp({ ip: CALLER.ip, port: 4100, pts: [8] }) }));
    sc.rtp({ from: 'caller', srcIp: CALLER.ip, srcPort: 4100, dstIp: CALLEE.ip, dstPort: 6100, ssrc: 0x5556, pt: 8, at: 1.3, count: 25 });
    sc.rtp({ from: 'callee', srcIp: CALLEE.ip, srcPort: 6100, dstIp: CALLER.ip, dstPort: 4100, ssrc: 0x6666, pt: 8, at: 1.3, count: 25 });
    bye(sc, 2);
    const s = replayScenario('move', sc);
    assert.equal(s.calls.length, 1);
    const c = s.calls[0]!;
    assert.deepEqual(c.streams.map((x) => [x.ssrc, x.party, x.codec]).sort(), [[0x5555, 'caller', 'PCMU'], [0x5556, 'caller', 'PCMA'], [0x6666, 'callee', 'PCMA']].sort());
    assert.equal(s.unattached.length, 0);
    assertChannel(sc, 0x5556, c.recording!.path, 0, 'a-law');
    assertChannel(sc, 0x6666, c.recording!.path, 1, 'a-law');
  });

  it('early media from a 183 and forking: media before the answer is recorded', () => {
    const sc = new CallScenario('early@test', CALLER, CALLEE);
    sc.sip(0, 'caller', sc.request('INVITE', 'caller', { body: sdp({ ip: CALLER.ip, port: 4000 }), cseq: 1 }));
    sc.sip(0.1, 'callee', sc.response(183, 'Session Progress', 'callee', 1, 'INVITE', { toTag: 'fork-a', body: sdp({ ip: '10.0.0.30', port: 7000 }) }));
    sc.sip(0.2, 'callee', sc.response(183, 'Session Progress', 'callee', 1, 'INVITE', { toTag: 'fork-b', body: sdp({ ip: CALLEE.ip, port: 6000 }) }));
    sc.rtp({ from: 'callee', srcIp: '10.0.0.30', srcPort: 7000, dstIp: CALLER.ip, dstPort: 4000, ssrc: 0x7777, at: 0.3, count: 20 });
    sc.sip(1, 'callee', sc.response(200, 'OK', 'callee', 1, 'INVITE', { toTag: 'fork-b', body: sdp({ ip: CALLEE.ip, port: 6000 }) }));
    sc.sip(1.01, 'caller', sc.request('ACK', 'caller', { toTag: 'fork-b', cseq: 1 }));
    sc.rtp({ from: 'callee', srcIp: CALLEE.ip, srcPort: 6000, dstIp: CALLER.ip, dstPort: 4000, ssrc: 0x8888, at: 1.1, count: 20 });
    bye(sc, 2);
    const c = replayScenario('early', sc).calls[0]!;
    assert.ok(c.notes.includes('forked: several early dialogs'));
    assert.deepEqual(c.streams.map((x) => x.ssrc).sort(), [0x7777, 0x8888]);
    assert.ok(c.streams.every((x) => x.party === 'callee'));
    assertChannel(sc, 0x7777, c.recording!.path, 1);
  });

  it('SSRC change in one flow and a NATed caller: separate streams of the same party', () => {
    const sc = new CallScenario('nat@test', CALLER, CALLEE);
    // The caller advertises its private address; its RTP arrives from the NAT's public one.
    setup(sc, 0, sdp({ ip: '192.168.1.10', port: 4000 }));
    sc.rtp({ from: 'caller', srcIp: '203.0.113.5', srcPort: 61000, dstIp: CALLEE.ip, dstPort: 6000, ssrc: 0x9990, at: 0.6, count: 20 });
    sc.rtp({ from: 'caller', srcIp: '203.0.113.5', srcPort: 61000, dstIp: CALLEE.ip, dstPort: 6000, ssrc: 0x9991, at: 1.0, count: 20, seq0: 7, ts0: 99 });
    // The callee answers symmetric RTP to the learned public address.
    sc.rtp({ from: 'callee', srcIp: CALLEE.ip, srcPort: 6000, dstIp: '203.0.113.5', dstPort: 61000, ssrc: 0xaaaa, at: 0.6, count: 40 });
    bye(sc, 1.5);
    const c = replayScenario('nat', sc).calls[0]!;
    assert.deepEqual(c.streams.map((x) => [x.ssrc, x.party]).sort(), [[0x9990, 'caller'], [0x9991, 'caller'], [0xaaaa, 'callee']].sort());
    assert.ok(c.notes.some((n) => n.startsWith('SSRC change')));
    assertChannel(sc, 0x9991, c.recording!.path, 0);
    assertChannel(sc, 0xaaaa, c.recording!.path, 1);
  });

  it('a call that never gets a BYE ends by media timeout on capture time', () => {
    const sc = new CallScenario('nobye@test', CALLER, CALLEE);
    setup(sc, 0);
    sc.rtp({ from: 'caller', srcIp: CALLER.ip, srcPort: 4000, dstIp: CALLEE.ip, dstPort: 6000, ssrc: 0xbbbb, at: 0.6, count: 50 });
    // Unrelated traffic 10 minutes later moves capture time past the media timeout.
    sc.sip(600, 'caller', 'OPTIONS sip:x@y SIP/2.0\r\nCall-ID: other\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nVia: SIP/2.0/UDP 10.0.0.10;branch=z9hG4bKo\r\nContent-Length: 0\r\n\r\n');
    const c = replayScenario('nobye', sc).calls[0]!;
    assert.equal(c.endReason, 'timeout:media');
    // It ends at its last RTP packet (0.6 s + 49 × 20 ms), not when the timeout noticed it.
    assert.equal(Date.parse(c.end) - Date.parse(c.start), 1580, `${c.start} .. ${c.end}`);
  });

  it('malformed RTP on the call’s flow still counts as its activity', () => {
    const sc = new CallScenario('badrtp@test', CALLER, CALLEE);
    setup(sc, 0);
    sc.rtp({ from: 'caller', srcIp: CALLER.ip, srcPort: 4000, dstIp: CALLEE.ip, dstPort: 6000, ssrc: 0xcccc, at: 0.6, count: 50 });
    // Then five packets whose padding count exceeds the payload (RFC 3550 §5.1): counted malformed.
    for (let i = 0; i < 5; i++) {
      const rtp = B.rtp(50 + i, (50 + i) * 160, 0xcccc, 0);
      rtp[0] = 0xa0;
      rtp[rtp.length - 1] = 255;
      const ns = Math.round((2 + i * 0.02) * 1e9);
      sc.frames.push({ iface: 0, tsSec: sc.t0 + Math.floor(ns / 1e9), tsNsec: ns % 1e9, data: B.ethernet(B.ipv4(CALLER.ip, CALLEE.ip, 17, B.udp(4000, 6000, rtp))) });
    }
    sc.sip(600, 'caller', 'OPTIONS sip:x@y SIP/2.0\r\nCall-ID: other\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nVia: SIP/2.0/UDP 10.0.0.10;branch=z9hG4bKo\r\nContent-Length: 0\r\n\r\n');
    const c = replayScenario('badrtp', sc).calls[0]!;
    assert.equal(c.endReason, 'timeout:media');
    assert.equal(Date.parse(c.end) - Date.parse(c.start), 2080, `${c.start} .. ${c.end}`);
  });

  it('CANCEL and rejection: calls without media, with their outcome', () => {
    const sc = new CallScenario('cancel@test', CALLER, CALLEE);
    sc.sip(0, 'caller', sc.request('INVITE', 'caller', { body: sdp({ ip: CALLER.ip, port: 4000 }), cseq: 1 }));
    sc.sip(0.1, 'callee', sc.response(180, 'Ringing', 'callee', 1, 'INVITE', { toTag: 't' }));
    sc.sip(1, 'caller', sc.request('CANCEL', 'caller', { cseq: 1, branch: 'z9hG4bK-INVITE-1' }));
    sc.sip(1.01, 'callee', sc.response(487, 'Request Terminated', 'callee', 1, 'INVITE', { toTag: 't' }));
    const busy = new CallScenario('busy@test', CALLER, CALLEE);
    busy.sip(2, 'caller', busy.request('INVITE', 'caller', { body: sdp({ ip: CALLER.ip, port: 4002 }), cseq: 1 }));
    busy.sip(2.1, 'callee', busy.response(486, 'Busy Here', 'callee', 1, 'INVITE', { toTag: 'b' }));
    sc.frames.push(...busy.frames);
    const s = replayScenario('cancel', sc);
    const byId = new Map(s.calls.map((c) => [c.callId, c]));
    assert.equal(byId.get('cancel@test')!.endReason, 'cancel');
    assert.equal(byId.get('cancel@test')!.recording, null);
    assert.equal(byId.get('busy@test')!.endReason, 'rejected:486');
    assert.equal(byId.get('busy@test')!.status, 486);
  });

  it('SIP over TCP split across segments and an IP-fragmented INVITE', () => {
    const sc = new CallScenario('tcp@test', CALLER, CALLEE);
    sc.sipTcp(0, 'caller', sc.request('INVITE', 'caller', { body: sdp({ ip: CALLER.ip, port: 4000 }), cseq: 1 }), 97);
    sc.sipTcp(0.5, 'callee', sc.response(200, 'OK', 'callee', 1, 'INVITE', { toTag: 'callee-tag', body: sdp({ ip: CALLEE.ip, port: 6000 }) }) + sc.request('INFO', 'callee', { toTag: 'caller-tag', fromTag: 'callee-tag' }), 50);
    sc.rtp({ from: 'caller', srcIp: CALLER.ip, srcPort: 4000, dstIp: CALLEE.ip, dstPort: 6000, ssrc: 0xcccc, at: 0.6, count: 20 });
    bye(sc, 1.2);
    const frag = new CallScenario('frag@test', { ip: '10.1.0.10', sipPort: 5060 }, { ip: '10.1.0.20', sipPort: 5060 });
    const big = sdp({ ip: '10.1.0.10', port: 4000, extra: Array.from({ length: 40 }, (_, i) => `a=x-padding:${'z'.repeat(40)}${i}`) });
    frag.sipFragmented(3, 'caller', frag.request('INVITE', 'caller', { body: big, cseq: 1 }), 600);
    frag.sip(3.5, 'callee', frag.response(200, 'OK', 'callee', 1, 'INVITE', { toTag: 'callee-tag', body: sdp({ ip: '10.1.0.20', port: 6000 }) }));
    frag.rtp({ from: 'callee', srcIp: '10.1.0.20', srcPort: 6000, dstIp: '10.1.0.10', dstPort: 4000, ssrc: 0xdddd, at: 3.6, count: 10 });
    sc.frames.push(...frag.frames);
    const s = replayScenario('tcp', sc);
    const byId = new Map(s.calls.map((c) => [c.callId, c]));
    assert.equal(byId.get('tcp@test')!.streams[0]!.ssrc, 0xcccc);
    assert.equal(byId.get('tcp@test')!.endReason, 'bye');
    assert.equal(byId.get('frag@test')!.streams[0]!.party, 'callee');
  });

  it('RTP-only capture: unattached by default, recorded with --record-unattached and --pt', () => {
    const sc = new CallScenario('none', CALLER, CALLEE);
    sc.rtp({ from: 'caller', srcIp: '10.2.0.1', srcPort: 20000, dstIp: '10.2.0.2', dstPort: 30000, ssrc: 0xeeee, pt: 96, at: 0, count: 50 });
    sc.rtp({ from: 'callee', srcIp: '10.2.0.2', srcPort: 30000, dstIp: '10.2.0.1', dstPort: 20000, ssrc: 0xffff, pt: 8, at: 0.01, count: 50 });
    const plain = replayScenario('rtponly', sc);
    assert.equal(plain.calls.length, 0);
    assert.deepEqual(plain.unattached.map((u) => u.ssrc).sort(), [0xeeee, 0xffff]);
    const rec = replayScenario('rtponly-rec', sc, '--record-unattached', '--pt', '96=PCMU/8000');
    assert.equal(rec.calls.length, 1);
    const c = rec.calls[0]!;
    assert.equal(c.protocol, 'rtp');
    assert.deepEqual(c.streams.map((x) => x.codec).sort(), ['PCMA', 'PCMU']);
    assertChannel(sc, 0xeeee, c.recording!.path, 0);
    assertChannel(sc, 0xffff, c.recording!.path, 1, 'a-law');
  });
});
