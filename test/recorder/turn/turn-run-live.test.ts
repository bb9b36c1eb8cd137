/**
 * `recorder run` on a live interface records a TURN-relayed call directly: a call played on
 * loopback whose caller's media goes through a "TURN server" socket as ChannelData (Allocate and
 * ChannelBind included), with that socket's port in turn.serverPorts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CallRecord } from '../../../recorder/calls/call-record.js';
import { CallScenario, sdp } from '../../support/call-scenario.js';
import { exited, startLiveRecorder } from '../../support/live-recorder.js';
import { scrapeMetrics } from '../../support/metrics-scrape.js';
import * as B from '../../support/packets.js';
import { assertG711Audio } from '../../support/recording-compare.js';
import { addressValue, channelData, stunMessage } from '../../support/turn-call.js';
import { tempDir } from '../../support/temp-dir.js';

const LO = '127.0.0.1';
// Apart from run-live.test.ts's ports (30000-34999): test files run in parallel.
const base = 36000 + (process.pid % 500) * 10;
const P = { callerSip: base, calleeSip: base + 2, client: base + 4, server: base + 8 };
const RELAY = { ip: '192.0.2.44', port: 55044 };
const PEER = { ip: '198.51.100.44', port: 30044 };
const CHANNEL = 0x4001;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function socket(port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(port, LO, r));
  return s;
}

/** The call: SIP in the clear between two sockets, the caller's media through the TURN socket as ChannelData. */
async function playTurnCall(callId: string, packets: number): Promise<Map<number, Buffer[]>> {
  const sc = new CallScenario(callId, { ip: LO, sipPort: P.callerSip }, { ip: LO, sipPort: P.calleeSip });
  const s = { callerSip: await socket(P.callerSip), calleeSip: await socket(P.calleeSip), client: await socket(P.client), server: await socket(P.server) };
  const send = (sock: dgram.Socket, port: number, data: string | Buffer): Promise<void> => new Promise((r) => sock.send(data, port, LO, () => r()));
  const offer = sdp({
    ip: LO,
    port: P.client,
    pts: [0],
    extra: [`a=candidate:1 1 UDP 2130706431 ${LO} ${P.client} typ host`, `a=candidate:2 1 UDP 16777215 ${RELAY.ip} ${RELAY.port} typ relay raddr ${LO} rport ${P.client}`],
  });
  await send(s.callerSip, P.calleeSip, sc.request('INVITE', 'caller', { body: offer, cseq: 1 }));
  await send(s.calleeSip, P.callerSip, sc.response(200, 'OK', 'callee', 1, 'INVITE', { toTag: 'callee-tag', body: sdp({ ip: PEER.ip, port: PEER.port, pts: [0] }) }));
  await send(s.callerSip, P.calleeSip, sc.request('ACK', 'caller', { toTag: 'callee-tag', cseq: 1, branch: 'z9hG4bK-ack' }));
  // RFC 8656: Allocate success (XOR-RELAYED-ADDRESS), ChannelBind request and its success response.
  await send(s.server, P.client, stunMessage(0x0103, Buffer.alloc(12, 1), [[0x0016, addressValue(RELAY, true)]]));
  const tx = Buffer.alloc(12, 2);
  await send(s.client, P.server, stunMessage(0x0009, tx, [[0x000c, Buffer.from([CHANNEL >> 8, CHANNEL & 255, 0, 0])], [0x0012, addressValue(PEER, true)]]));
  await send(s.server, P.client, stunMessage(0x0109, tx, []));
  const sent = new Map<number, Buffer[]>([[0x1234, []], [0x5678, []]]);
  for (let i = 0; i < packets; i++) {
    for (const [ssrc, from, to] of [[0x1234, s.client, P.server], [0x5678, s.server, P.client]] as const) {
      const payload = Buffer.alloc(160);
      for (let j = 0; j < 160; j++) payload[j] = (i * 7 + j * 13 + ssrc) & 0xff;
      sent.get(ssrc)!.push(payload);
      await send(from, to, channelData(CHANNEL, Buffer.concat([B.rtp(1000 + i, 8000 + i * 160, ssrc, 0, 0), payload]), false));
    }
    await sleep(20);
  }
  await send(s.callerSip, P.calleeSip, sc.request('BYE', 'caller', { toTag: 'callee-tag', cseq: 2 }));
  await send(s.calleeSip, P.callerSip, sc.response(200, 'OK', 'callee', 2, 'BYE', { toTag: 'callee-tag' }));
  for (const x of Object.values(s)) x.close();
  return sent;
}

describe('recorder run (live on lo): TURN on the mirror port', { timeout: 60_000 }, () => {
  it('records a ChannelData-relayed call between the relay and the peer, audio sample for sample', async () => {
    const out = tempDir('turn-run-');
    const config = join(out, 'config.json');
    writeFileSync(config, JSON.stringify({ turn: { serverPorts: [P.server] } }));
    const rec = startLiveRecorder(['--iface', 'lo', '--filter', `udp and portrange ${base}-${base + 9}`, '--out', out, '--format', 'wav', '--metrics', `${LO}:0`, '--config', config]);
    const port = await rec.ready;
    const sent = await playTurnCall('turn-live@test', 50);
    let metrics = '';
    for (let i = 0; i < 100 && !/recorder_calls_total\{end_reason="bye"\} 1/.test(metrics); i++) {
      await sleep(100);
      metrics = await scrapeMetrics(LO, port);
    }
    assert.match(metrics, /recorder_calls_total\{end_reason="bye"\} 1/);
    assert.match(metrics, /recorder_malformed_total\{reason="turn.bindings"\} 1/);
    rec.child.kill('SIGTERM');
    assert.equal(await exited(rec.child), 0, rec.log());
    const r = spawnSync('bin/recorder', ['calls', '--index', join(out, 'index'), '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [c] = JSON.parse(r.stdout) as CallRecord[];
    assert.ok(c);
    assert.equal(c.callId, 'turn-live@test');
    assert.equal(c.endReason, 'bye');
    const streams = c.streams.map((st) => [st.ssrc, st.party, st.src, st.dst, st.packets, st.lost]).sort((a, b) => Number(a[0]) - Number(b[0]));
    const relay = `${RELAY.ip}:${RELAY.port}`;
    const peer = `${PEER.ip}:${PEER.port}`;
    assert.deepEqual(streams, [
      [0x1234, 'caller', relay, peer, 50, 0],
      [0x5678, 'callee', peer, relay, 50, 0],
    ]);
    assertG711Audio(c.recording!.path, 0, sent.get(0x1234)!);
    assertG711Audio(c.recording!.path, 1, sent.get(0x5678)!);
  });
});
