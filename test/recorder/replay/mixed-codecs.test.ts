/**
 * End to end across codecs: a call with G.711 µ-law on the caller's side and G.722 on the
 * callee's, 5 % of packets lost and some reordered, replayed into a dual-channel Ogg Opus
 * recording. Each channel must carry its own party's speech (correlation with the source) and
 * not the other's, and the file must last as long as the call's media.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { encodeUlaw } from '../../../codecs/g711.js';
import { CallScenario, sdp } from '../../support/call-scenario.js';
import { writePcap } from '../../support/capture-writer.js';
import { readOgg } from '../../../codecs/ogg.js';
import { bestLag } from '../../support/ffprobe.js';
import { replaySummary } from '../../support/recording-compare.js';
import { prng } from '../../support/random.js';
import { speak } from '../../support/speech.js';
import { tmp } from '../spool/spool-helpers.js';

describe('mixed codecs end to end: G.711 caller, G.722 callee, loss and reordering → dual-channel Opus', () => {
  it('each channel correlates with its own party and not the other; duration is the call’s', () => {
    const dir = tmp('mixed');
    const RATE = 16000;
    const callerPcm = speak('Hello, this is the caller. I would like to check the balance of my account, please.', 8000, { voice: 'en-us' });
    const calleePcm16 = speak('Good morning, you are speaking with the support desk. How may I help you today?', RATE, { voice: 'en-gb' });
    // G.722 at 64 kbit/s by ffmpeg (a reference encoder nobody here wrote): 160 bytes per 20 ms.
    writeFileSync(join(dir, 'callee16.raw'), Buffer.from(calleePcm16.buffer, calleePcm16.byteOffset, calleePcm16.byteLength));
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 's16le', '-ar', '16000', '-ac', '1', '-i', join(dir, 'callee16.raw'), '-c:a', 'g722', '-f', 'g722', join(dir, 'callee.g722')]);
    const g722 = readFileSync(join(dir, 'callee.g722'));
    const ulaw = Buffer.from(Array.from(callerPcm, (v) => encodeUlaw(v)));

    const callerPackets = Math.floor(ulaw.length / 160);
    const calleePackets = Math.floor(g722.length / 160);
    const rnd = prng(2026);
    const lossy = (n: number): number[] => Array.from({ length: n }, (_, i) => i).filter((i) => i > 0 && rnd() < 0.05);
    const swaps = (n: number): [number, number][] =>
      Array.from({ length: Math.floor(n / 25) }, (_, k) => {
        const a = 5 + k * 25;
        return [a, a + 1] as [number, number];
      }).filter(([, b]) => b < n);
    const callerDrop = lossy(callerPackets);
    const calleeDrop = lossy(calleePackets);

    const sc = new CallScenario('mixed@test', { ip: '10.1.0.1', sipPort: 5060 }, { ip: '10.1.0.2', sipPort: 5060 });
    const offer = sdp({ ip: '10.1.0.1', port: 40000, pts: [0, 9] });
    const answer = sdp({ ip: '10.1.0.2', port: 50000, pts: [9, 0] });
    sc.sip(0, 'caller', sc.request('INVITE', 'caller', { body: offer, cseq: 1 }));
    sc.sip(0.2, 'callee', sc.response(200, 'OK', 'callee', 1, 'INVITE', { toTag: 'callee-tag', body: answer }));
    sc.sip(0.21, 'caller', sc.request('ACK', 'caller', { toTag: 'callee-tag', cseq: 1 }));
    sc.rtp({
      from: 'caller',
      srcIp: '10.1.0.1',
      srcPort: 40000,
      dstIp: '10.1.0.2',
      dstPort: 50000,
      ssrc: 0xc0ffee,
      pt: 0,
      at: 0.3,
      count: callerPackets,
      drop: callerDrop,
      swap: swaps(callerPackets),
      payload: (i) => ulaw.subarray(i * 160, i * 160 + 160),
    });
    sc.rtp({
      from: 'callee',
      srcIp: '10.1.0.2',
      srcPort: 50000,
      dstIp: '10.1.0.1',
      dstPort: 40000,
      ssrc: 0xbeef,
      pt: 9,
      at: 0.3,
      count: calleePackets,
      drop: calleeDrop,
      swap: swaps(calleePackets),
      payload: (i) => g722.subarray(i * 160, i * 160 + 160),
    });
    const end = 0.3 + Math.max(callerPackets, calleePackets) * 0.02 + 0.1;
    sc.sip(end, 'caller', sc.request('BYE', 'caller', { toTag: 'callee-tag', cseq: 2 }));
    sc.sip(end + 0.01, 'callee', sc.response(200, 'OK', 'callee', 2, 'BYE', { toTag: 'callee-tag' }));
    const pcap = join(dir, 'call.pcap');
    writePcap(pcap, sc.sorted(), { linkType: 1 });

    const r = spawnSync('bin/recorder', ['replay', pcap, '--out', join(dir, 'out'), '--format', 'opus', '--channels', 'dual', '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { calls: { recording: { path: string; format: string; channels: number; sampleRate: number; durationMs: number; notes: string[] } | null }[] };
    assert.equal(summary.calls.length, 1);
    const rec = summary.calls[0]!.recording!;
    assert.equal(rec.format, 'opus');
    assert.equal(rec.channels, 2);
    assert.equal(rec.sampleRate, RATE, 'the mix runs at the wideband party’s rate');
    // Media spans from the first packet to the end of the last one.
    const mediaMs = Math.max(callerPackets, calleePackets) * 20;
    assert.ok(Math.abs(rec.durationMs - mediaMs) <= 20, `duration ${rec.durationMs} ms vs media ${mediaMs} ms`);
    const probed = Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', rec.path], { encoding: 'utf8' }).trim());
    assert.ok(Math.abs(probed * 1000 - mediaMs) <= 20, `ffprobe ${probed} s vs media ${mediaMs} ms`);

    // Decode with ffmpeg (libopus) at the mix rate, and split the channels.
    const pcm = execFileSync('ffmpeg', ['-v', 'error', '-c:a', 'libopus', '-i', rec.path, '-f', 's16le', '-ar', String(RATE), '-ac', '2', '-'], { maxBuffer: 1 << 28 });
    const inter = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1);
    const left = Int16Array.from({ length: inter.length / 2 }, (_, i) => inter[2 * i]!);
    const right = Int16Array.from({ length: inter.length / 2 }, (_, i) => inter[2 * i + 1]!);
    // The sources on the recording's time line and rate: the caller upsampled by sox.
    writeFileSync(join(dir, 'caller8.raw'), Buffer.from(callerPcm.buffer, callerPcm.byteOffset, callerPcm.byteLength));
    const up = execFileSync('sox', ['-t', 'raw', '-r', '8000', '-e', 'signed-integer', '-b', '16', '-c', '1', join(dir, 'caller8.raw'), '-t', 'raw', '-r', String(RATE), '-'], { maxBuffer: 1 << 28 });
    const callerRef = new Int16Array(up.buffer, up.byteOffset, up.length >> 1).slice(0, callerPackets * 320);
    const calleeRef = calleePcm16.slice(0, calleePackets * 320);

    const lag = RATE / 100; // ±10 ms: codec delay
    const best = (x: Int16Array, y: Int16Array): { r: number; lag: number } => {
      const b = bestLag(x, y, lag);
      return { r: b.corr, lag: b.lag };
    };
    const ll = best(callerRef, left);
    const rr = best(calleeRef, right);
    const lr = best(calleeRef, left);
    const rl = best(callerRef, right);
    const report = `caller→left ${ll.r.toFixed(3)} (lag ${ll.lag}), callee→right ${rr.r.toFixed(3)} (lag ${rr.lag}), callee→left ${lr.r.toFixed(3)}, caller→right ${rl.r.toFixed(3)}; lost ${callerDrop.length}/${callerPackets} and ${calleeDrop.length}/${calleePackets}`;
    process.stdout.write(`# ${report}\n`);
    assert.ok(ll.r >= 0.8, report);
    assert.ok(rr.r >= 0.8, report);
    assert.ok(lr.r < 0.2 && rl.r < 0.2, report);
    assert.ok(callerDrop.length > 0 && calleeDrop.length > 0, 'the test must actually lose packets');
    assert.ok(
      rec.notes.some((n) => /caller .*packets lost/.test(n)),
      rec.notes.join('; '),
    );

    // The Opus mode follows the config: CELT-only packets by default, SILK with "voip" (RFC 6716
    // §3.1: TOC configurations 16–31 and 0–11; multistream packets start with stream 1's TOC).
    const modes = (path: string): number[] => {
      const r = readOgg(readFileSync(path));
      assert.ok(r.ok);
      return [...new Set(r.packets.slice(2).map((p) => (p.data[0]! >> 3 < 12 ? 0 : p.data[0]! >> 3 < 16 ? 1 : 2)))];
    };
    assert.deepEqual(modes(rec.path), [2], 'CELT only by default');
    const conf = join(dir, 'voip.json');
    writeFileSync(conf, JSON.stringify({ recording: { opusApplication: 'voip' } }));
    const voip = replaySummary([pcap], join(dir, 'out-voip'), conf, ['--format', 'opus']).calls[0]!.recording!;
    assert.deepEqual(modes(voip.path), [0], 'SILK only with recording.opusApplication "voip"');
    assert.equal(voip.durationMs, rec.durationMs);
  });
});
