/**
 * agent --read → HEPv3 over loopback (UDP and TCP) → recorder run --hep, compared with recorder
 * replay of the same calls captured unwrapped: same streams, same audio sample for sample.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CallRecord } from '../../recorder/calls/call-record.js';
import { encodeHep3, HepPacket } from '../../recorder/hep/hep3.js';
import { writePcap, type WriterFrame } from '../support/capture-writer.js';
import { indexedCalls, runAgent, sleep, startRecorder, stopRecorder, until } from '../support/hep-processes.js';
import * as B from '../support/packets.js';
import { freePort } from '../support/live-recorder.js';
import { turnCall, writeTurnCalls, type Wrapping } from '../support/turn-call.js';
import { replayCalls, sameAudio, streamsView } from '../support/recording-compare.js';
import { tempDir } from '../support/temp-dir.js';

const dir = tempDir('agent-e2e-');
const KEY = 's3cret-key';
const recorderConfig = join(dir, 'recorder.json');
writeFileSync(recorderConfig, JSON.stringify({ recording: { format: 'wav' }, inputs: { hep: { listen: '127.0.0.1:0', authKey: KEY } } }));
const agentConfig = join(dir, 'agent.json');
writeFileSync(agentConfig, JSON.stringify({ agentId: 77, authKey: KEY, statusIntervalSec: 0 }));

const replay = (files: string[], out: string): CallRecord[] => replayCalls(files, out, recorderConfig);

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}

const metric = (text: string, name: string): number => Number(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

const streams = streamsView;

describe('agent → HEP → recorder run (loopback)', { timeout: 120_000 }, () => {
  it('each TURN wrapping, over UDP and TCP, records what replaying the unwrapped capture records; hostile HEP is counted', async () => {
    const udpSet: Wrapping[] = ['channel-udp', 'indications', 'ms-turn', 'ms-turn-mux'];
    const tcpSet: Wrapping[] = ['channel-tcp', 'ms-turn-tcp', 'ms-turn-tls', 'mid-call'];
    const files = writeTurnCalls(dir, [...udpSet, ...tcpSet], 'e2e', 1);
    const reference = replay([...files.values()].map((f) => f.ref), join(dir, 'replayed'));
    assert.equal(reference.length, udpSet.length + tcpSet.length);

    const out = join(dir, 'run');
    const rec = await startRecorder(out, '127.0.0.1:0', ['--config', recorderConfig]);
    try {
      const a = await runAgent(['--read', ...udpSet.map((w) => files.get(w)!.wrapped), '--to', `udp:127.0.0.1:${rec.udpPort}`, '--config', agentConfig]);
      assert.equal(a.status, 0, a.stderr);
      const b = await runAgent(['--read', ...tcpSet.map((w) => files.get(w)!.wrapped), '--to', `tcp:127.0.0.1:${rec.tcpPort}`, '--config', agentConfig]);
      assert.equal(b.status, 0, b.stderr);

      // Hostile HEP, each kind once over UDP; then garbage and a lying length over TCP.
      const good = new HepPacket();
      good.payloadBuf = Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n');
      good.payloadLen = good.payloadBuf.length;
      const enc = (p: HepPacket): Buffer => {
        const buf = Buffer.alloc(4096);
        return buf.subarray(0, encodeHep3(p, buf));
      };
      const wrongKey = enc(Object.assign(new HepPacket(), { payloadBuf: good.payloadBuf, payloadLen: good.payloadLen, authKeyBuf: Buffer.from('nope'), authKeyLen: 4 }));
      const zeroChunk = Buffer.from('4845503300100000000100000000000000000000', 'hex').subarray(0, 16); // chunk length 0
      const pastEnd = Buffer.from('484550330010000000010100ff0000000000', 'hex').subarray(0, 16); // chunk runs past the total
      const tooShort = Buffer.from('484550330003', 'hex'); // total length below the header
      const huge = Buffer.from('4845503300ff0000', 'hex'); // declares 255 bytes, has 8
      const sock = createSocket('udp4');
      for (const d of [wrongKey, zeroChunk, pastEnd, tooShort, huge, Buffer.from('random bytes, not HEP')]) await new Promise<void>((r) => sock.send(d, rec.udpPort, '127.0.0.1', () => r()));
      sock.close();
      await new Promise<void>((resolve) => {
        const c = connect(rec.tcpPort, '127.0.0.1', () => {
          c.write(Buffer.concat([Buffer.from('garbage garbage '), zeroChunk, Buffer.from('4845503300ff', 'hex')]));
          setTimeout(() => c.destroy(), 200);
        });
        c.on('close', () => resolve());
      });

      const done = await until(() => indexedCalls(out).filter((c) => c.recording).length === udpSet.length + tcpSet.length, 20_000);
      const m = await scrape(rec.metricsPort);
      assert.ok(done, `${udpSet.length + tcpSet.length} calls recorded: ${rec.log()}`);
      assert.equal(metric(m, 'recorder_malformed_total{reason="hep.auth_failed"}'), 1);
      // UDP: zero-length chunk, chunk past the end, short total, random bytes; TCP: the zero-length chunk again.
      assert.equal(metric(m, 'recorder_malformed_total{reason="hep.malformed"}'), 4 + 1);
      assert.equal(metric(m, 'recorder_malformed_total{reason="hep.truncated"}'), 1);
      assert.equal(metric(m, 'recorder_malformed_total{reason="hep.tcp_resync"}'), 1);
      assert.equal(metric(m, 'recorder_malformed_total{reason="hep.turn_resolved"}'), 100);
      assert.equal(metric(m, 'recorder_capture_kernel_drops_total{input="hep"}'), 0);
    } finally {
      await stopRecorder(rec);
    }
    const recorded = indexedCalls(out);
    for (const ref of reference) {
      const got = recorded.find((c) => c.callId === ref.callId);
      assert.ok(got, `${ref.callId} recorded`);
      assert.deepEqual(streams(got), streams(ref), ref.callId);
      assert.equal(got.endReason, 'bye');
      assert.deepEqual(got.notes.filter((n) => n.startsWith('capture dropped')), []);
      sameAudio(got, ref);
      if (!ref.callId.startsWith('mid-call')) {
        const ends = (c: CallRecord): unknown => c.streams.map((s) => `${s.ssrc} ${s.src} ${s.dst}`).sort();
        assert.deepEqual(ends(got), ends(ref), `${ref.callId}: relay ⇄ peer addresses`);
      }
    }
  });

  it('recorder killed (-9) and restarted during TCP forwarding: every packet is acknowledged, the call after the restart is whole', async () => {
    const port = await freePort();
    const a = turnCall({ callId: 'before-kill@e2e', wrapping: 'channel-tcp', slot: 20, t0: 1_700_100_000, packets: 40, seed: 5 });
    const bCall = turnCall({ callId: 'after-restart@e2e', wrapping: 'channel-udp', slot: 21, t0: 1_700_100_003, packets: 60, seed: 6 });
    // Background RTP at 50 packets/s all along, so packets are in flight when the recorder dies.
    const background: WriterFrame[] = [];
    for (let i = 0; i < 250; i++) {
      const ns = i * 20_000_000;
      background.push({ tsSec: 1_700_100_000 + Math.floor(ns / 1e9), tsNsec: ns % 1e9, data: B.ethernet(B.ipv4('10.7.0.1', '10.7.0.2', 17, B.udp(42000, 42002, B.rtp(i, i * 160, 0xbbbb, 0)))) });
    }
    const all = [...a.wrapped, ...bCall.wrapped, ...background].sort((x, y) => x.tsSec - y.tsSec || x.tsNsec - y.tsNsec);
    const file = join(dir, 'restart.pcap');
    writePcap(file, all, { linkType: 1 });
    const refB = join(dir, 'restart-ref.pcap');
    writePcap(refB, bCall.unwrapped, { linkType: 1 });
    const [reference] = replay([refB], join(dir, 'restart-replayed'));

    const out1 = join(dir, 'restart-1');
    const out2 = join(dir, 'restart-2');
    const r1 = await startRecorder(out1, `127.0.0.1:${port}`, ['--config', recorderConfig]);
    const agent = runAgent(['--read', file, '--speed', '1', '--to', `tcp:127.0.0.1:${port}`, '--config', agentConfig, '--status', '0'], 60_000);
    await sleep(1700);
    r1.child.kill('SIGKILL');
    await sleep(1800); // call B starts at 3 s: its INVITE and first seconds wait in the agent's buffer
    const r2 = await startRecorder(out2, `127.0.0.1:${port}`, ['--config', recorderConfig]);
    let res;
    try {
      res = await agent;
      await until(() => indexedCalls(out2).some((c) => c.callId === 'after-restart@e2e' && c.recording), 10_000);
    } finally {
      await stopRecorder(r2);
    }
    assert.equal(res.status, 0, res.stderr);
    const status = /forwarded=(\d+).*sent=(\d+) acked=(\d+) queued=(\d+) overflow=(\d+) reconnects=(\d+)/.exec(res.stderr);
    assert.ok(status, res.stderr);
    const [, forwarded, , acked, queued, overflow, reconnects] = status.map(Number);
    assert.equal(acked, forwarded, 'every forwarded packet was acknowledged by a recorder');
    assert.equal(queued, 0);
    assert.equal(overflow, 0);
    assert.ok(reconnects! >= 1);
    const b = indexedCalls(out2).find((c) => c.callId === 'after-restart@e2e');
    assert.ok(b && reference);
    assert.deepEqual(streams(b), streams(reference));
    assert.deepEqual(b.notes.filter((n) => n.startsWith('capture dropped')), []);
    sameAudio(b, reference);
  });
});

