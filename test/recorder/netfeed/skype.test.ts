/**
 * Skype for Business / Lync calls through the call-event feed, in process: the feed sender of
 * agent/feed talks TCP to the recorder's feed listener; the media comes through the packet path
 * (as mirrored on the Mediation Server). Three users call out through ONE Mediation address and
 * are told apart by port only; their candidates arrive in every Lync form (RFC 5245 host/srflx/
 * relay, MS-ICE draft-6 only in the fallback part, a=x-candidate-ipv6). Also: IM transcripts,
 * endpoint addresses learned from signaling, disallowed addresses.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FeedClient } from '../../../agent/feed/feed-client.js';
import { LinkType } from '../../../recorder/capture/frame.js';
import type { CallRecord } from '../../../recorder/calls/call-record.js';
import { UsersDirectory } from '../../../recorder/calls/users-directory.js';
import { CallRecorder } from '../../../recorder/call-recorder.js';
import { Counters } from '../../../recorder/core/counters.js';
import { FeedServer } from '../../../recorder/netfeed/feed-server.js';
import { NetfeedTracker, type NetfeedOptions } from '../../../recorder/netfeed/netfeed-tracker.js';
import { Pipeline } from '../../../recorder/pipeline.js';
import { CallScenario } from '../../support/call-scenario.js';
import { lyncCall, lyncIm, type LyncParty } from './lync-messages.js';
import { tempDir } from '../../support/temp-dir.js';

const KEY = 'the-feed-key-0123456789';
const T0 = 1_700_000_000;
const MEDIATION = '10.0.0.5';
const FE = '10.0.0.3';

const users = [
  { name: 'alice', uris: ['sip:alice@contoso.com'] },
  { name: 'bob', uris: ['sip:bob@contoso.com'] },
  { name: 'carol', uris: ['sip:carol@contoso.com'] },
];

interface Feed {
  counters: Counters;
  recorder: CallRecorder;
  pipeline: Pipeline;
  tracker: NetfeedTracker;
  /** Sends SIP texts (from → to addresses) at capture time t and waits until the recorder has them. */
  send(t: number, msgs: [string, string, string][]): Promise<void>;
  finish(): Promise<CallRecord[]>;
}

async function feed(opts: Partial<NetfeedOptions> = {}): Promise<Feed> {
  const counters = new Counters();
  const recorder = new CallRecorder({ counters, users: new UsersDirectory(users) });
  const pipeline = new Pipeline(counters, recorder);
  const tracker = new NetfeedTracker(recorder.registry, counters, { disallowedIps: [MEDIATION, FE], ...opts });
  const server = await FeedServer.start({ listen: '127.0.0.1:0', key: KEY }, counters, (fe, f, buf) => tracker.onFeedSip(fe, f, buf));
  const client = await FeedClient.open({ host: '127.0.0.1', port: server.port, key: KEY, frontEnd: 'fe01.contoso.com' });
  let expected = 0;
  return {
    counters,
    recorder,
    pipeline,
    tracker,
    async send(t, msgs) {
      for (const [i, [src, dst, text]] of msgs.entries()) {
        const ns = Math.round((t + i * 0.001) * 1e9);
        await client.sendSip({ sec: T0 + Math.floor(ns / 1e9), nsec: ns % 1e9, direction: dst === FE ? 0 : 1, transport: 2, srcIp: src, srcPort: 5061, dstIp: dst, dstPort: 5061 }, Buffer.from(text));
      }
      expected += msgs.length;
      for (let i = 0; i < 200 && counters.get('netfeed.messages') < expected; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(counters.get('netfeed.messages'), expected);
    },
    async finish() {
      await client.close();
      await server.close();
      pipeline.finish();
      const recs = await recorder.finish(pipeline.now, 'capture-end');
      return recs.sort((a, b) => (a.start < b.start ? -1 : 1));
    },
  };
}

const party = (uri: string, name: string, candidates: LyncParty['candidates'], extra: Partial<LyncParty> = {}): LyncParty => ({ uri, name, candidates, ...extra });

describe('Skype for Business / Lync calls through the feed', () => {
  it('three users behind one Mediation address, told apart by port, each call recorded to the right user', async () => {
    // Draft-6 candidates carry no type: the configured Edge address says they are relayed.
    const f = await feed({ edgeIps: ['203.0.113.10'] });
    const alice = party('sip:alice@contoso.com', 'Alice', [['10.0.1.11', 50010, 'host'], ['198.51.100.20', 50010, 'srflx'], ['203.0.113.10', 51000, 'relay']], { ssrc: [1000, 1000] });
    const bob = party('sip:bob@contoso.com', 'Bob', [['10.0.1.22', 50020, 'host']], { ipv6: ['2001:db8:1::22', 50022] });
    const carolIce2 = party('sip:carol@contoso.com', 'Carol', [['192.168.7.5', 50030, 'host']]);
    const carolDraft6 = party('sip:carol@contoso.com', 'Carol', [['192.168.7.5', 50030, 'host'], ['203.0.113.10', 51030, 'relay']]);
    const med = (port: number): LyncParty => party('sip:mediation@contoso.com', 'Mediation', [[MEDIATION, port, 'host']]);
    const ca = lyncCall('call-alice', alice, med(60000), { calledNumber: '+15551230001' });
    const cb = lyncCall('call-bob', bob, { ...med(60010), ipv6: ['2001:db8::5', 60012] }, { calledNumber: '+15551230002' });
    // Carol's relay candidate only in the draft-6 fallback part of her offer.
    const cc = lyncCall('call-carol', carolIce2, med(60020), { calledNumber: '+15551230003', fallback: carolDraft6 });
    assert.ok(!cc.invite.includes('51030 typ') && cc.invite.includes('203.0.113.10 51030'));
    for (const [t, c, client] of [[0, ca, '10.0.1.11'], [0.2, cb, '10.0.1.22'], [0.4, cc, '192.168.7.5']] as const) {
      await f.send(t, [
        [client, FE, c.invite],
        [FE, MEDIATION, c.invite],
        [MEDIATION, FE, c.ringing],
        [MEDIATION, FE, c.ok],
        [FE, client, c.ok],
        [client, FE, c.ack],
      ]);
    }
    // Candidates only the Lync forms carry are expectations too: the draft-6 fallback part's relay
    // candidate, a=x-candidate-ipv6 of either side; a video m-line's are not.
    const at = (ip: string, port: number): [string, string] | null => {
      const e = f.recorder.registry.expecting(ip, port);
      return e ? [e.call.callId, e.party] : null;
    };
    assert.deepEqual(at('203.0.113.10', 51030), ['call-carol', 'caller']);
    assert.deepEqual(at('203.0.113.10', 51031), ['call-carol', 'caller']);
    assert.deepEqual(at('2001:db8:1::22', 50022), ['call-bob', 'caller']);
    assert.deepEqual(at('2001:db8::5', 60012), ['call-bob', 'callee']);
    assert.deepEqual(at('203.0.113.10', 51000), ['call-alice', 'caller']);
    assert.deepEqual(at(MEDIATION, 60000), ['call-alice', 'callee']);
    assert.deepEqual(at(MEDIATION, 60010), ['call-bob', 'callee']);
    assert.equal(at('10.0.1.11', 50110), null);
    // Media as mirrored at the Mediation Server: three flows to the same address, by port.
    const sc = new CallScenario('media', { ip: MEDIATION, sipPort: 5060 }, { ip: MEDIATION, sipPort: 5060 }, T0);
    sc.rtp({ from: 'caller', srcIp: '10.0.1.11', srcPort: 50010, dstIp: MEDIATION, dstPort: 60000, ssrc: 0xa1, at: 1, count: 30 });
    sc.rtp({ from: 'callee', srcIp: MEDIATION, srcPort: 60000, dstIp: '10.0.1.11', dstPort: 50010, ssrc: 0xa2, at: 1.01, count: 30 });
    sc.rtp({ from: 'caller', srcIp: '2001:db8:1::22', srcPort: 50022, dstIp: '2001:db8::5', dstPort: 60012, ssrc: 0xb1, at: 1, count: 30 });
    sc.rtp({ from: 'callee', srcIp: '2001:db8::5', srcPort: 60012, dstIp: '2001:db8:1::22', dstPort: 50022, ssrc: 0xb2, at: 1.01, count: 30 });
    sc.rtp({ from: 'caller', srcIp: '203.0.113.10', srcPort: 51030, dstIp: MEDIATION, dstPort: 60020, ssrc: 0xc1, at: 1, count: 30 });
    sc.rtp({ from: 'callee', srcIp: MEDIATION, srcPort: 60020, dstIp: '203.0.113.10', dstPort: 51030, ssrc: 0xc2, at: 1.01, count: 30 });
    for (const fr of sc.sorted()) f.pipeline.push({ linkType: LinkType.Ethernet, iface: 0, tsSec: fr.tsSec, tsNsec: fr.tsNsec, caplen: fr.data.length, len: fr.data.length, data: fr.data });
    for (const [t, c, client] of [[3, ca, '10.0.1.11'], [3.1, cb, '10.0.1.22'], [3.2, cc, '192.168.7.5']] as const) await f.send(t, [[client, FE, c.bye], [MEDIATION, FE, c.byeOk]]);
    const recs = await f.finish();
    assert.equal(recs.length, 3);
    const byCall = new Map(recs.map((r) => [r.callId, r]));
    for (const [callId, user, ssrcs] of [['call-alice', 'alice', [0xa1, 0xa2]], ['call-bob', 'bob', [0xb1, 0xb2]], ['call-carol', 'carol', [0xc1, 0xc2]]] as const) {
      const r = byCall.get(callId)!;
      assert.equal(r.protocol, 'netfeed');
      assert.equal(r.user, user);
      assert.equal(r.direction, 'outbound');
      assert.equal(r.endReason, 'bye');
      assert.deepEqual(r.streams.map((s) => [s.ssrc, s.party]).sort(), [[ssrcs[0], 'caller'], [ssrcs[1], 'callee']], callId);
      assert.equal(r.netfeed?.frontEnd, 'fe01.contoso.com');
      assert.ok((r.netfeed?.candidates ?? 0) >= 2, `${callId}: ${r.netfeed?.candidates}`);
    }
    assert.deepEqual(byCall.get('call-alice')!.netfeed?.ssrcRanges, { caller: ['1000-1000'] });
    assert.ok(byCall.get('call-carol')!.notes.some((n) => n.includes('relayed at 203.0.113.10:51030')));
    assert.deepEqual(f.recorder.registry.unattachedStreams(), []);
    assert.ok(f.counters.get('netfeed.x_candidate') >= 2);
    assert.equal(f.counters.get('netfeed.endpoint_learned'), 3);
  });

  it('hostile messages inside authenticated frames are counted, never fatal', async () => {
    const f = await feed();
    const many = party('sip:alice@contoso.com', 'Alice', Array.from({ length: 100 }, (_, i): [string, number, 'host'] => [`10.9.${i >> 8}.${i & 255}`, 20000 + 2 * i, 'host']));
    const c = lyncCall('hostile-1', many, party('sip:m@contoso.com', 'M', [[MEDIATION, 60000, 'host']]));
    const garbage = Buffer.alloc(3000, 0xfe).toString('latin1');
    const badSdp = c.ok.replace(/a=rtpmap:104[^\r]*/, 'a=x-candidate-ipv6:1 1 UDP 1 not-an-address 70000 typ host\r\na=x-ssrc-range:5-2');
    await f.send(0, [['10.0.1.11', FE, garbage], ['10.0.1.11', FE, c.invite], [MEDIATION, FE, badSdp], ['10.0.1.11', FE, 'INVITE sip:x SIP/2.0\r\nContent-Length: 99999\r\n\r\n']]);
    const recs = await f.finish();
    assert.equal(recs.length, 1);
    assert.ok(f.counters.get('netfeed.sip_unparsed') >= 1);
    assert.ok(f.counters.get('sdp.too_many_candidates') > 0);
    assert.equal(f.counters.get('netfeed.bad_ssrc_range'), 1, JSON.stringify(f.counters.toJSON()));
    assert.equal(f.counters.get('netfeed.bad_candidate'), 1);
    assert.equal(f.counters.get('netfeed.bug'), 0);
  });

  it('an IM session becomes a transcript; a page-mode message its own session', async () => {
    const dir = tempDir('netfeed-im-');
    const f = await feed({ transcriptDir: dir });
    const im = lyncIm('im-1', { uri: 'sip:alice@contoso.com', name: 'Alice' }, { uri: 'sip:bob@contoso.com', name: 'Bob' }, [['a', 'Hi Bob, lunch?'], ['b', 'Sure — 12:30 ✓']]);
    // Every message seen twice by the Front End (in from the sender, out to the receiver).
    await f.send(0, im.flatMap((m): [string, string, string][] => [['10.0.1.11', FE, m], [FE, '10.0.1.22', m]]));
    await f.send(5, [['10.0.1.22', FE, ['MESSAGE sip:carol@contoso.com SIP/2.0', 'Via: SIP/2.0/TLS 10.0.1.22:5061;branch=z9hG4bK-page', 'From: "Bob" <sip:bob@contoso.com>;tag=pg1', 'To: <sip:carol@contoso.com>', 'Call-ID: page-1', 'CSeq: 1 MESSAGE', 'Content-Type: text/html', 'Content-Length: 27', '', '<b>Call me</b> &amp; thanks'].join('\r\n')]]);
    const recs = await f.finish();
    const session = recs.find((r) => r.callId === 'im-1')!;
    assert.equal(session.endReason, 'bye');
    assert.deepEqual(session.netfeed?.chat?.transcript.map((m) => [m.from, m.text]), [['Alice <sip:alice@contoso.com>', 'Hi Bob, lunch?'], ['Bob <sip:bob@contoso.com>', 'Sure — 12:30 ✓']]);
    assert.equal(session.netfeed?.chat?.messages, 2);
    const file = readFileSync(session.netfeed.chat.path, 'utf8');
    assert.match(file, /Z Alice <sip:alice@contoso\.com>: Hi Bob, lunch\?\n.*Z Bob <sip:bob@contoso\.com>: Sure — 12:30 ✓\n$/);
    assert.equal(f.counters.get('netfeed.im_duplicate'), 2);
    const page = recs.find((r) => r.callId === 'page-1')!;
    assert.deepEqual(page.netfeed?.chat?.transcript.map((m) => m.text), ['Call me & thanks']);
    assert.equal(page.user, 'bob');
  });

  it('a user\'s endpoint address is learned from signaling and replaced when it changes; disallowed addresses never are', async () => {
    const f = await feed();
    const register = (n: number): string => ['REGISTER sip:contoso.com SIP/2.0', `Via: SIP/2.0/TLS x;branch=z9hG4bK-reg${n}`, 'From: <sip:alice@contoso.com>;tag=r' + n, 'To: <sip:alice@contoso.com>', `Call-ID: reg-${n}`, `CSeq: ${n} REGISTER`, 'Content-Length: 0', '', ''].join('\r\n');
    // A phone-number identity matches no user: only the learned address can.
    const anon = (callId: string, ip: string, port: number): ReturnType<typeof lyncCall> => lyncCall(callId, party('sip:+15550100@contoso.com', 'Desk phone', [[ip, port, 'host']]), party('sip:mediation@contoso.com', 'M', [[MEDIATION, port + 1000, 'host']]), { calledNumber: '+15551230009' });
    await f.send(0, [['10.0.1.11', FE, register(1)], [MEDIATION, FE, register(2)]]);
    const c1 = anon('learn-1', '10.0.1.11', 50100);
    await f.send(1, [['10.0.1.11', FE, c1.invite], [MEDIATION, FE, c1.ok], ['10.0.1.11', FE, c1.bye]]);
    await f.send(2, [['10.0.1.77', FE, register(3)]]);
    const c2 = anon('learn-2', '10.0.1.11', 50200);
    const c3 = anon('learn-3', '10.0.1.77', 50300);
    for (const c of [c2, c3]) await f.send(3, [['10.0.1.77', FE, c.invite], [MEDIATION, FE, c.ok], ['10.0.1.77', FE, c.bye]]);
    const recs = await f.finish();
    const user = (id: string): string | null | undefined => recs.find((r) => r.callId === id)?.user;
    assert.deepEqual([user('learn-1'), user('learn-2'), user('learn-3')], ['alice', null, 'alice']);
    assert.equal(f.counters.get('netfeed.endpoint_disallowed'), 1);
  });
});
