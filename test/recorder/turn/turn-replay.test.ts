/**
 * TURN on the mirror port: `recorder replay` of a TURN-wrapped capture records what replaying the
 * same call captured unwrapped records, sample for sample, in every wrapping the agent unwraps; the
 * public TURN captures unwrap as many packets as tshark finds; bad TURN is counted, never thrown.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openCaptureFile } from '../../../recorder/capture/file-source.js';
import { CallRecorder } from '../../../recorder/call-recorder.js';
import type { CallRecord } from '../../../recorder/calls/call-record.js';
import { Counters } from '../../../recorder/core/counters.js';
import { RecorderMetrics } from '../../../recorder/ops/metrics.js';
import { Pipeline } from '../../../recorder/pipeline.js';
import { writePcap, type WriterFrame } from '../../support/capture-writer.js';
import * as B from '../../support/packets.js';
import { replaySummary, sameAudio, streamsView } from '../../support/recording-compare.js';
import { tsharkMedia, tsharkRelayPayloads } from '../../support/tshark-turn.js';
import { channelData, stunMessage, writeTurnCalls, type Wrapping } from '../../support/turn-call.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir('turn-replay-');
const config = (name: string, body: object): string => {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(body));
  return path;
};
const wavConfig = config('wav', { recording: { format: 'wav' } });

/** In-process: the recorder's pipeline and CallRecorder (no spool) over capture files. */
async function record(files: string[], serverPorts: number[]): Promise<{ recorder: CallRecorder; counters: Counters; calls: CallRecord[] }> {
  const counters = new Counters();
  const recorder = new CallRecorder({ counters, turn: { serverPorts } });
  const pipeline = new Pipeline(counters, recorder);
  for (const f of files) {
    const cap = await openCaptureFile(f, counters);
    for await (const batch of cap.batches()) for (const fr of batch) pipeline.push(fr);
    await cap.close();
  }
  pipeline.finish();
  const calls = await recorder.finish(pipeline.now, 'capture-end');
  return { recorder, counters, calls };
}

const WRAPPINGS: Wrapping[] = ['channel-udp', 'channel-tcp', 'indications', 'ms-turn', 'ms-turn-tcp', 'ms-turn-tls', 'ms-turn-mux', 'mid-call'];

describe('recorder replay: TURN-wrapped calls record as if captured unwrapped', () => {
  const files = writeTurnCalls(dir, WRAPPINGS, 'span', 11);

  it('every wrapping (ChannelData over UDP and TCP, indications, MS-TURN over UDP and TCP, mid-call): same streams, same samples', () => {
    const reference = replaySummary([...files.values()].map((f) => f.ref), join(dir, 'ref'), wavConfig).calls;
    const got = replaySummary([...files.values()].map((f) => f.wrapped), join(dir, 'wrapped'), wavConfig);
    assert.equal(reference.length, WRAPPINGS.length);
    assert.equal(got.calls.length, WRAPPINGS.length);
    assert.deepEqual(Object.keys(got.capture.malformed).filter((k) => k.startsWith('turn.') || k === 'pipeline.bug'), []);
    for (const ref of reference) {
      const c = got.calls.find((x) => x.callId === ref.callId);
      assert.ok(c, `${ref.callId} recorded`);
      assert.equal(c.endReason, 'bye');
      assert.equal(c.streams.length, 2, ref.callId);
      assert.deepEqual(streamsView(c), streamsView(ref), ref.callId);
      sameAudio(c, ref);
      // With the Allocate and ChannelBind seen, the streams run between the relay and the peer, as
      // captured on the relay's far side; mid-call, the TURN server stands in for the peer.
      if (!ref.callId.startsWith('mid-call')) {
        const ends = (x: CallRecord): unknown => x.streams.map((s) => `${s.ssrc} ${s.src} ${s.dst}`).sort();
        assert.deepEqual(ends(c), ends(ref), `${ref.callId}: relay ⇄ peer addresses`);
      }
    }
  });

  it('turn.serverPorts [] turns unwrapping off: the wrapped media matches no call', () => {
    const off = config('off', { recording: { format: 'wav' }, turn: { serverPorts: [] } });
    const got = replaySummary([files.get('channel-udp')!.wrapped], join(dir, 'off'), off).calls;
    assert.equal(got.length, 1);
    assert.equal(got[0]!.streams.length, 0);
  });

  it('mid-call: the relay candidate resolves every unwrapped packet (counted), in-process', async () => {
    const { counters, calls, recorder } = await record([files.get('mid-call')!.wrapped], [3478]);
    assert.equal(calls.length, 1);
    assert.equal(counters.get('turn.inferred_allocations'), 1);
    assert.equal(counters.get('turn.relay_resolved'), 100);
    assert.equal(counters.get('turn.relay_unresolved'), 0);
    assert.equal(recorder.turn!.unwrapper.stats.unresolved, 100);
    assert.deepEqual(calls[0]!.streams.map((s) => s.packets), [50, 50]);
  });
});

describe('TURN unwrap is bounded to the TURN server ports; bad TURN is counted', () => {
  const at = (i: number, src: string, sp: number, dst: string, dp: number, payload: Buffer): WriterFrame => ({
    tsSec: 1_700_000_000 + i,
    tsNsec: 0,
    data: B.ethernet(B.ipv4(src, dst, 17, B.udp(sp, dp, payload))),
  });
  it('ChannelData-like and STUN-like bytes elsewhere are left alone; lying lengths on 3478 are turn.truncated / turn.malformed', async () => {
    const rtp = Buffer.concat([B.rtp(1, 160, 0x42, 0, 0), Buffer.alloc(160, 0xff)]);
    const frames = [
      // Not TURN ports: untouched (no turn.* counter), whatever the first byte says.
      at(0, '10.1.0.1', 40000, '10.1.0.2', 40002, channelData(0x4001, rtp, false)),
      at(1, '10.1.0.1', 40000, '10.1.0.2', 40002, rtp),
      // TURN port 3478: ChannelData claiming more than it has; STUN shorter than its length; a Send
      // indication without XOR-PEER-ADDRESS; an attribute running past the message; 3 bytes.
      at(2, '10.1.0.1', 40000, '10.1.0.9', 3478, channelData(0x4001, rtp, false).subarray(0, 100)),
      at(3, '10.1.0.1', 40000, '10.1.0.9', 3478, stunMessage(0x0016, Buffer.alloc(12, 1), [[0x0013, rtp]]).subarray(0, 60)),
      at(4, '10.1.0.1', 40000, '10.1.0.9', 3478, stunMessage(0x0016, Buffer.alloc(12, 3), [[0x0013, rtp]])),
      at(5, '10.1.0.1', 40000, '10.1.0.9', 3478, Buffer.concat([Buffer.from('0016000c2112a442', 'hex'), Buffer.alloc(12, 2), Buffer.from('00130010', 'hex'), Buffer.alloc(8)])),
      at(6, '10.1.0.1', 40000, '10.1.0.9', 3478, Buffer.alloc(3)),
    ];
    const file = join(dir, 'hostile.pcap');
    writePcap(file, frames, { linkType: 1 });
    const { counters } = await record([file], [3478]);
    const turn = Object.fromEntries([...counters.entries()].filter(([k]) => k.startsWith('turn.')));
    assert.deepEqual(turn, { 'turn.truncated': 3, 'turn.malformed': 2 });
    assert.equal(counters.get('pipeline.bug'), 0);
    // Exposed like every other counter: recorder_malformed_total{reason}.
    const metrics = new RecorderMetrics({ counters, capture: () => [] });
    const text = await metrics.registry.metrics();
    assert.match(text, /recorder_malformed_total\{reason="turn.truncated"\} 3/);
    assert.match(text, /recorder_malformed_total\{reason="turn.malformed"\} 2/);
  });
});

describe('public TURN captures through the recorder, against tshark', () => {
  const fixtures: [string, number[]][] = [
    ['fixtures/nDPI__stun.pcap', [3478, 40003]],
    ['fixtures/nDPI__stun_dtls_rtp_unidir.pcapng', [57730, 5853]],
  ];
  for (const [file, ports] of fixtures) {
    it(`${file}: every relay message tshark dissects is unwrapped; delivered packets are what tshark calls RTP/RTCP`, async () => {
      const relayed = tsharkRelayPayloads(file);
      const kinds = tsharkMedia(relayed.map((x) => x.data), join(dir, file.replace(/\W/g, '_')));
      const media = kinds.filter((k) => k !== '').length;
      assert.ok(media > 0);
      const { recorder, counters } = await record([file], ports);
      const stats = recorder.turn!.unwrapper.stats;
      assert.equal(stats.relayMessages, relayed.length);
      assert.equal(stats.unwrapped, media);
      assert.equal(counters.get('turn.inner_not_media'), relayed.length - media);
      assert.equal(counters.get('pipeline.bug'), 0);
    });
  }

  it('both replay with `recorder replay` without errors', () => {
    const c = config('fixtures', { recording: { format: 'wav' }, turn: { serverPorts: [3478, 40003, 57730, 5853] } });
    const s = replaySummary(fixtures.map(([f]) => f), join(dir, 'fixtures-out'), c);
    assert.ok(s.capture.packets > 0);
    assert.equal(s.capture.malformed['pipeline.bug'], undefined);
  });
});
