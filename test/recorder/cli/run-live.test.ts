import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CallRecord } from '../../../recorder/calls/call-record.js';
import { CallScenario, sdp } from '../../support/call-scenario.js';
import * as B from '../../support/packets.js';
import { assertG711Audio as assertAudio } from '../../support/recording-compare.js';
import { scrapeMetrics } from '../../support/metrics-scrape.js';
import { exited, startLiveRecorder, type LiveRecorder } from '../../support/live-recorder.js';
import { tempDir } from '../../support/temp-dir.js';

const LO = '127.0.0.1';
const base = 30000 + (process.pid % 500) * 10;
const PORTS = { callerSip: base, calleeSip: base + 2, callerRtp: base + 4, calleeRtp: base + 6 };

const startRecorder = (out: string): LiveRecorder =>
  startLiveRecorder(['--iface', 'lo', '--filter', `udp and portrange ${base}-${base + 9}`, '--out', out, '--format', 'wav', '--metrics', `${LO}:0`]);

async function socket(port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(port, LO, r));
  return s;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Plays a call on loopback: SIP between two sockets, then RTP both ways at 20 ms. */
async function playCall(callId: string, packets: number, bye: boolean): Promise<{ sent: Map<number, Buffer[]> }> {
  const sc = new CallScenario(callId, { ip: LO, sipPort: PORTS.callerSip }, { ip: LO, sipPort: PORTS.calleeSip });
  const s = { callerSip: await socket(PORTS.callerSip), calleeSip: await socket(PORTS.calleeSip), callerRtp: await socket(PORTS.callerRtp), calleeRtp: await socket(PORTS.calleeRtp) };
  const send = (sock: dgram.Socket, port: number, text: string | Buffer): Promise<void> => new Promise((r) => sock.send(text, port, LO, () => r()));
  await send(s.callerSip, PORTS.calleeSip, sc.request('INVITE', 'caller', { body: sdp({ ip: LO, port: PORTS.callerRtp }), cseq: 1 }));
  await send(s.calleeSip, PORTS.callerSip, sc.response(200, 'OK', 'callee', 1, 'INVITE', { toTag: 'callee-tag', body: sdp({ ip: LO, port: PORTS.calleeRtp }) }));
  await send(s.callerSip, PORTS.calleeSip, sc.request('ACK', 'caller', { toTag: 'callee-tag', cseq: 1, branch: 'z9hG4bK-ack' }));
  const sent = new Map<number, Buffer[]>([[0x1234, []], [0x5678, []]]);
  for (let i = 0; i < packets; i++) {
    for (const [ssrc, from, to] of [[0x1234, s.callerRtp, PORTS.calleeRtp], [0x5678, s.calleeRtp, PORTS.callerRtp]] as const) {
      const payload = Buffer.alloc(160);
      for (let j = 0; j < 160; j++) payload[j] = (i * 7 + j * 13 + ssrc) & 0xff;
      sent.get(ssrc)!.push(payload);
      await send(from, to, Buffer.concat([B.rtp(1000 + i, 8000 + i * 160, ssrc, 0, 0), payload]));
    }
    await sleep(20);
  }
  if (bye) {
    await send(s.callerSip, PORTS.calleeSip, sc.request('BYE', 'caller', { toTag: 'callee-tag', cseq: 2 }));
    await send(s.calleeSip, PORTS.callerSip, sc.response(200, 'OK', 'callee', 2, 'BYE', { toTag: 'callee-tag' }));
  }
  for (const x of Object.values(s)) x.close();
  return { sent };
}

function calls(out: string): CallRecord[] {
  const r = spawnSync('bin/recorder', ['calls', '--index', join(out, 'index'), '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as CallRecord[];
}

const scrape = (port: number): Promise<string> => scrapeMetrics(LO, port);

describe('recorder run (live on lo, through the libpcap addon)', { timeout: 90_000 }, () => {
  it('records a call played on loopback, as replaying tcpdump\'s capture of it does; metrics count it; SIGTERM exits cleanly', async () => {
    const out = tempDir('run-live-');
    const rec = startRecorder(out);
    const port = await rec.ready;
    // tcpdump (a capture tool nobody here wrote) records the same traffic for the replay comparison.
    const pcap = join(out, 'tcpdump.pcap');
    const dump = spawn('tcpdump', ['-i', 'lo', '--immediate-mode', '-w', pcap, '-U', 'udp', 'and', 'portrange', `${base}-${base + 9}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve) => {
      let err = '';
      dump.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/listening on/.test(err)) resolve();
      });
      setTimeout(resolve, 5000).unref();
    });
    const { sent } = await playCall('live-1@test', 50, true);
    // The call counts once its recording is rendered: poll rather than guess how long that takes.
    let metrics = '';
    for (let i = 0; i < 100 && !/recorder_calls_total\{end_reason="bye"\} 1/.test(metrics); i++) {
      await sleep(100);
      metrics = await scrape(port);
    }
    assert.match(metrics, /recorder_calls_total\{end_reason="bye"\} 1/);
    assert.match(metrics, /recorder_packets_total\{input="lo"\} \d+/);
    rec.child.kill('SIGTERM');
    assert.equal(await exited(rec.child), 0, rec.log());
    const [c] = calls(out);
    assert.ok(c);
    assert.equal(c.callId, 'live-1@test');
    assert.equal(c.endReason, 'bye');
    const streams = c.streams.map((s) => [s.ssrc, s.party, s.packets, s.lost]).sort((a, b) => Number(a[0]) - Number(b[0]));
    assert.deepEqual(streams, [[0x1234, 'caller', 50, 0], [0x5678, 'callee', 50, 0]]);
    assertAudio(c.recording!.path, 0, sent.get(0x1234)!);
    assertAudio(c.recording!.path, 1, sent.get(0x5678)!);

    dump.kill('SIGINT');
    await exited(dump);
    const r = spawnSync('bin/recorder', ['replay', pcap, '--out', join(out, 'replayed'), '--format', 'wav', '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const replayed = (JSON.parse(r.stdout) as { calls: CallRecord[] }).calls;
    assert.equal(replayed.length, 1);
    const same = (x: CallRecord): unknown => ({
      callId: x.callId,
      from: x.from,
      to: x.to,
      endReason: x.endReason,
      status: x.status,
      streams: x.streams.map((st) => [st.ssrc, st.src, st.dst, st.party, st.codec, st.packets, st.lost]).sort((a, b) => Number(a[0]) - Number(b[0])),
      channels: x.recording?.channels,
    });
    assert.deepEqual(same(replayed[0]!), same(c));
    assertAudio(replayed[0]!.recording!.path, 0, sent.get(0x1234)!);
  });

  it('SIGTERM mid-call finalizes the open call; kill -9 mid-call is recovered at the next start', async () => {
    const out = tempDir('run-crash-');
    // 1. SIGTERM with a call in progress: the call ends as "shutdown", its audio is kept.
    let rec = startRecorder(out);
    await rec.ready;
    const first = await playCall('term@test', 30, false);
    await sleep(300);
    rec.child.kill('SIGTERM');
    assert.equal(await exited(rec.child), 0, rec.log());
    let all = calls(out);
    const term = all.find((c) => c.callId === 'term@test')!;
    assert.equal(term.endReason, 'shutdown');
    assertAudio(term.recording!.path, 0, first.sent.get(0x1234)!);

    // 2. kill -9 mid-call: the spool is on disk (flushed about every second)…
    rec = startRecorder(out);
    await rec.ready;
    const second = await playCall('crash@test', 100, false);
    await sleep(2500);
    rec.child.kill('SIGKILL');
    await exited(rec.child);
    // …and the next start turns it into a recording marked incomplete.
    rec = startRecorder(out);
    await rec.ready;
    rec.child.kill('SIGTERM');
    assert.equal(await exited(rec.child), 0, rec.log());
    all = calls(out);
    const crash = all.find((c) => c.callId === 'crash@test');
    assert.ok(crash, JSON.stringify(all.map((c) => c.callId)));
    assert.equal(crash.recording!.complete, false);
    assert.ok(crash.recording!.notes.includes('recovered after crash'));
    assertAudio(crash.recording!.path, 0, second.sent.get(0x1234)!);
    assertAudio(crash.recording!.path, 1, second.sent.get(0x5678)!);
  });
});
