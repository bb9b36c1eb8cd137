/**
 * The Skype for Business scenario end to end, as separate processes on loopback:
 *
 *   agent feed --from-capture (the Front End's SIP) ──TCP feed──┐
 *                                                               ├─► recorder run --netfeed --hep
 *   agent --read (Edge: TURN-wrapped media; Mediation: plain) ─HEP─┘
 *
 * Three users call out through ONE Mediation Server address and are told apart by port: alice
 * (internal, plain RTP), bob (internal, IPv6, a=x-candidate-ipv6 only) and carol (external: her
 * media reaches the Mediation Server through the Edge relay, wrapped in TURN ChannelData, and
 * her relay candidate is only in the MS-ICE draft-6 fallback part of her offer). Each call must
 * be recorded to the right user, with its audio. Plus the sender's exit codes.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CallScenario } from '../../support/call-scenario.js';
import { writePcap, type WriterFrame } from '../../support/capture-writer.js';
import { indexedCalls, runAgent, startRecorder, stopRecorder, until } from '../../support/hep-processes.js';
import * as B from '../../support/packets.js';
import { addressValue, channelData, stunMessage, type Addr } from '../../support/turn-call.js';
import { lyncCall, type LyncParty } from '../../recorder/netfeed/lync-messages.js';
import { freePort } from '../../support/live-recorder.js';
import { assertChannelHas } from '../../recorder/sccp/sccp-helpers.js';
import { tempDir } from '../../support/temp-dir.js';

const KEY = 'e2e-feed-key-0123456789';
const FE = '10.0.0.3';
const MEDIATION = '10.0.0.5';
const EDGE = '203.0.113.10';
// Capture times near the wall clock: with no media yet, the recorder sweeps feed calls on it.
const T0 = Math.floor(Date.now() / 1000) - 30;

const dir = tempDir('feed-e2e-');

const at = (t: number, data: Buffer): WriterFrame => {
  const ns = Math.round(t * 1e9);
  return { tsSec: T0 + Math.floor(ns / 1e9), tsNsec: ns % 1e9, data };
};
const udp = (a: Addr, b: Addr, payload: Buffer): Buffer =>
  a.ip.includes(':') ? B.ethernet(B.ipv6(a.ip, b.ip, 17, B.udp(a.port, b.port, payload)), 0x86dd) : B.ethernet(B.ipv4(a.ip, b.ip, 17, B.udp(a.port, b.port, payload)));

const party = (uri: string, name: string, candidates: LyncParty['candidates'], extra: Partial<LyncParty> = {}): LyncParty => ({ uri, name, candidates, ...extra });
const med = (port: number, extra: Partial<LyncParty> = {}): LyncParty => party('sip:mediation@contoso.com', 'Mediation', [[MEDIATION, port, 'host']], extra);

const calls = [
  { id: 'e2e-alice', client: '10.0.1.11', c: lyncCall('e2e-alice', party('sip:alice@contoso.com', 'Alice', [['10.0.1.11', 50010, 'host']]), med(60000), { calledNumber: '+15551230001' }) },
  { id: 'e2e-bob', client: '10.0.1.22', c: lyncCall('e2e-bob', party('sip:bob@contoso.com', 'Bob', [['10.0.1.22', 50020, 'host']], { ipv6: ['2001:db8:1::22', 50022] }), med(60010, { ipv6: ['2001:db8::5', 60012] }), { calledNumber: '+15551230002' }) },
  {
    id: 'e2e-carol',
    client: '198.51.100.20',
    c: lyncCall('e2e-carol', party('sip:carol@contoso.com', 'Carol', [['192.168.7.5', 50030, 'host']]), med(60020), {
      calledNumber: '+15551230003',
      fallback: party('sip:carol@contoso.com', 'Carol', [['192.168.7.5', 50030, 'host'], [EDGE, 51030, 'relay']]),
    }),
  },
];

/** The Front End's SIP (client ⇄ FE ⇄ Mediation) over UDP 5060, as a capture for `agent feed`. */
function sipCapture(file: string, t: number, pick: (c: (typeof calls)[number]['c']) => [from: 'client' | 'med', text: string][]): void {
  const frames: WriterFrame[] = [];
  calls.forEach((call, k) => {
    pick(call.c).forEach(([from, text], i) => {
      const peer = from === 'client' ? call.client : MEDIATION;
      const base = t + k * 0.05 + i * 0.002;
      frames.push(at(base, udp({ ip: peer, port: 5060 }, { ip: FE, port: 5060 }, Buffer.from(text))));
      frames.push(at(base + 0.0005, udp({ ip: FE, port: 5060 }, { ip: from === 'client' ? MEDIATION : call.client, port: 5060 }, Buffer.from(text))));
    });
  });
  writePcap(file, frames, { linkType: 1 });
}

const sent = new Map<number, Buffer[]>();

/** Media: plain RTP for alice and bob (mirrored), carol's through the Edge's TURN relay. */
function mediaCaptures(mirrored: string, edge: string): void {
  const sc = new CallScenario('media', { ip: MEDIATION, sipPort: 5060 }, { ip: MEDIATION, sipPort: 5060 }, T0, 3);
  sc.rtp({ from: 'caller', srcIp: '10.0.1.11', srcPort: 50010, dstIp: MEDIATION, dstPort: 60000, ssrc: 0xa1, at: 1, count: 40 });
  sc.rtp({ from: 'callee', srcIp: MEDIATION, srcPort: 60000, dstIp: '10.0.1.11', dstPort: 50010, ssrc: 0xa2, at: 1.005, count: 40 });
  sc.rtp({ from: 'caller', srcIp: '2001:db8:1::22', srcPort: 50022, dstIp: '2001:db8::5', dstPort: 60012, ssrc: 0xb1, at: 1, count: 40 });
  sc.rtp({ from: 'callee', srcIp: '2001:db8::5', srcPort: 60012, dstIp: '2001:db8:1::22', dstPort: 50022, ssrc: 0xb2, at: 1.005, count: 40 });
  writePcap(mirrored, sc.sorted(), { linkType: 1 });
  for (const [ssrc, list] of sc.sent) sent.set(ssrc, list.map((p) => p.payload));

  // carol's client C (her srflx address) ⇄ Edge TURN server S, relay R = the Edge's public address ⇄ peer P = Mediation.
  const C: Addr = { ip: '198.51.100.20', port: 50030 };
  const S: Addr = { ip: EDGE, port: 3478 };
  const R: Addr = { ip: EDGE, port: 51030 };
  const P: Addr = { ip: MEDIATION, port: 60020 };
  const tx = (n: number): Buffer => Buffer.alloc(12, n);
  const CH = 0x4001;
  const frames: WriterFrame[] = [
    at(0.9, udp(S, C, stunMessage(0x0103, tx(1), [[0x0016, addressValue(R, true)], [0x0020, addressValue(C, true)]]))),
    at(0.91, udp(C, S, stunMessage(0x0009, tx(2), [[0x000c, Buffer.from([CH >> 8, CH & 255, 0, 0])], [0x0012, addressValue(P, true)]]))),
    at(0.92, udp(S, C, stunMessage(0x0109, tx(2), []))),
  ];
  const c1: Buffer[] = [];
  const c2: Buffer[] = [];
  for (let i = 0; i < 40; i++) {
    for (const [fromCarol, ssrc, list] of [[true, 0xc1, c1], [false, 0xc2, c2]] as const) {
      const payload = Buffer.alloc(160);
      for (let j = 0; j < 160; j++) payload[j] = (i * 31 + j * 7 + ssrc) & 0xff;
      list.push(payload);
      const rtp = Buffer.concat([B.rtp(500 + i, 16000 + i * 160, ssrc, 0, 0), payload]);
      frames.push(at(1 + i * 0.02 + (fromCarol ? 0 : 0.005), fromCarol ? udp(C, S, channelData(CH, rtp, false)) : udp(S, C, channelData(CH, rtp, false))));
    }
  }
  sent.set(0xc1, c1);
  sent.set(0xc2, c2);
  writePcap(edge, frames.sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec), { linkType: 1 });
}

describe('agent feed → recorder run --netfeed, media through agent --read (TURN unwrapped) → HEP', { timeout: 90_000 }, () => {
  it('three users behind one Mediation address, one through the Edge relay: each call recorded to the right user with its audio', async () => {
    const setup = join(dir, 'setup.pcap');
    const teardown = join(dir, 'teardown.pcap');
    const mirrored = join(dir, 'mirrored.pcap');
    const edge = join(dir, 'edge.pcap');
    sipCapture(setup, 0, (c) => [['client', c.invite], ['med', c.ringing], ['med', c.ok], ['client', c.ack]]);
    sipCapture(teardown, 5, (c) => [['client', c.bye], ['med', c.byeOk]]);
    mediaCaptures(mirrored, edge);
    const config = join(dir, 'recorder.json');
    writeFileSync(
      config,
      JSON.stringify({
        recording: { format: 'wav' },
        users: [{ name: 'alice', uris: ['sip:alice@contoso.com'] }, { name: 'bob', uris: ['sip:bob@contoso.com'] }, { name: 'carol', uris: ['sip:carol@contoso.com'] }],
        netfeed: { listen: '127.0.0.1:0', key: KEY, mode: 'atEdge', disallowedIps: [FE, MEDIATION], edgeIps: [EDGE] },
      }),
    );
    const agentConfig = join(dir, 'agent.json');
    writeFileSync(agentConfig, JSON.stringify({ statusIntervalSec: 0 }));
    const out = join(dir, 'run');
    const rec = await startRecorder(out, 'udp:127.0.0.1:0', ['--config', config]);
    try {
      const feedPort = Number(/netfeed listener on [^:]+:(\d+)/.exec(rec.log())?.[1]);
      assert.ok(feedPort > 0, rec.log());
      const feed = (file: string, key = KEY): Promise<{ status: number | null; stderr: string }> => runAgent(['feed', '--from-capture', file, '--to', `127.0.0.1:${feedPort}`, '--key', key, '--front-end', 'fe01.contoso.com', '--front-end-ip', FE]);
      const a = await feed(setup);
      assert.equal(a.status, 0, a.stderr);
      assert.match(a.stderr, /24 SIP message\(s\) sent as "fe01\.contoso\.com"/);
      // A sender with the wrong key is refused.
      const bad = await feed(setup, 'not-the-right-key-at-all');
      assert.equal(bad.status, 3, bad.stderr);
      assert.match(bad.stderr, /refused: authentication failed/);
      const m = await runAgent(['--read', mirrored, edge, '--to', `udp:127.0.0.1:${rec.udpPort}`, '--config', agentConfig, '--drain', '2']);
      assert.equal(m.status, 0, m.stderr);
      await new Promise((r) => setTimeout(r, 300));
      const b = await feed(teardown);
      assert.equal(b.status, 0, b.stderr);
      assert.ok(await until(() => indexedCalls(out).filter((c) => c.recording).length === 3, 20_000), rec.log());
    } finally {
      await stopRecorder(rec);
    }
    const recorded = indexedCalls(out);
    for (const [id, user, ssrcs] of [['e2e-alice', 'alice', [0xa1, 0xa2]], ['e2e-bob', 'bob', [0xb1, 0xb2]], ['e2e-carol', 'carol', [0xc1, 0xc2]]] as const) {
      const c = recorded.find((r) => r.callId === id);
      assert.ok(c, `${id} recorded`);
      assert.deepEqual([c.protocol, c.user, c.direction, c.endReason], ['netfeed', user, 'outbound', 'bye'], id);
      assert.deepEqual(c.streams.map((s) => [s.ssrc, s.party, s.packets]).sort(), [[ssrcs[0], 'caller', 40], [ssrcs[1], 'callee', 40]], id);
      assert.equal(c.netfeed?.frontEnd, 'fe01.contoso.com');
      assertChannelHas(c.recording!.path, 0, sent.get(ssrcs[0])!);
      assertChannelHas(c.recording!.path, 1, sent.get(ssrcs[1])!);
    }
    // carol's media is the relay's side of the TURN allocation: Edge relay ⇄ Mediation.
    const carol = recorded.find((r) => r.callId === 'e2e-carol')!;
    assert.deepEqual(carol.streams.map((s) => `${s.src} ${s.dst}`).sort(), [`${EDGE}:51030 ${MEDIATION}:60020`, `${MEDIATION}:60020 ${EDGE}:51030`].sort());
  });

  it('agent feed: usage errors exit 2, an unreachable recorder 3', async () => {
    const noKey = await runAgent(['feed', '--from-capture', 'x.pcap', '--to', '127.0.0.1:1']);
    assert.equal(noKey.status, 2);
    assert.match(noKey.stderr, /give --key/);
    const noTo = await runAgent(['feed', '--from-capture', 'x.pcap', '--key', KEY]);
    assert.equal(noTo.status, 2);
    const port = await freePort();
    const down = await runAgent(['feed', '--from-capture', 'x.pcap', '--to', `127.0.0.1:${port}`, '--key', KEY]);
    assert.equal(down.status, 3);
    assert.match(down.stderr, /ECONNREFUSED/);
  });
});
