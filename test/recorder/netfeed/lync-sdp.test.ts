/**
 * Lync SDP beyond the shared SDP model, and the config keys of SCCP and the feed: one-line errors
 * naming the key, defaults, and the `--netfeed` flags.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counters } from '../../../recorder/core/counters.js';
import { applyNetfeedFlags, silkMappings } from '../../../recorder/netfeed/netfeed-run.js';
import { lyncMedia } from '../../../recorder/netfeed/lync-sdp.js';
import { messageText } from '../../../recorder/netfeed/netfeed-tracker.js';
import { defaultConfig, parseConfig } from '../../../recorder/ops/config.js';
import { parseXCandidate } from '../../../recorder/sdp/candidate.js';
import { parseSipMessage } from '../../../recorder/sip/message.js';
import { messageSdp } from '../../../recorder/sip/message-sdp.js';
import { lyncOffer, lyncSdp } from './lync-messages.js';

const sipWith = (contentType: string, body: string): ReturnType<typeof parseSipMessage> => {
  const b = Buffer.from(`INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  return parseSipMessage(b, 0, b.length, new Counters());
};

describe('Lync SDP', () => {
  it('x-candidate-ipv6 and x-candidate lines, RFC and draft-6 forms', () => {
    assert.deepEqual(parseXCandidate('x-candidate-ipv6:3 1 UDP 2130706430 2001:db8::22 50022 typ host'), { foundation: '3', component: 1, transport: 'UDP', priority: 2130706430, ip: '2001:db8::22', port: 50022, type: 'host' });
    assert.equal(parseXCandidate('x-candidate-ipv6:3 2 TCP-PASS 174455039 2001:DB8::9 443 typ relay raddr 2001:db8::22 rport 50022')?.raddr, '2001:db8::22');
    assert.deepEqual(parseXCandidate('x-candidate:Ab/cD 1 PWD UDP 0.830 10.1.1.1 5000')?.port, 5000);
    for (const bad of ['x-candidate-info:1 wlan', 'candidate:1 1 UDP 1 10.0.0.1 1 typ host', 'x-candidate-ipv6:1 1 UDP 1 ::1 99999 typ host', 'x-candidate-ipv6:garbage']) assert.equal(parseXCandidate(bad), null, bad);
  });

  it('parses the first SDP part once for the feed and the dialog code (a bad one is counted once)', () => {
    const good = lyncSdp({ uri: 'sip:a@x', name: 'A', candidates: [['10.0.1.11', 50010, 'host']], ipv6: ['2001:db8::11', 50012], ssrc: [1, 2] });
    const body = `--b\r\nContent-Type: application/sdp\r\n\r\nthis is not SDP\r\n--b\r\nContent-Type: application/sdp\r\n\r\n${good}\r\n--b--\r\n`;
    const msg = sipWith('multipart/alternative;boundary="b"', body)!;
    const counters = new Counters();
    const m = lyncMedia(msg, counters)!;
    assert.ok(m.extra.length > 0, 'the second part is read');
    assert.equal(messageSdp(msg, counters), null, 'what the dialog code gets: the first part, bad');
    assert.equal(counters.get('sdp.not_sdp'), 1, JSON.stringify([...counters.entries()]));
    const plain = sipWith('application/sdp', good)!;
    const first = messageSdp(plain, counters);
    assert.ok(first !== null && messageSdp(plain, counters) === first, 'one parse per message');
  });

  it('collects every audio address of every part, and only what the first part\'s model lacks as extra', () => {
    const p = { uri: 'sip:a@x', name: 'A', candidates: [['10.0.1.11', 50010, 'host'], ['203.0.113.10', 51000, 'relay']] as [string, number, 'host' | 'relay'][], ipv6: ['2001:db8::11', 50012] as [string, number], ssrc: [4096, 4196] as [number, number] };
    const fallback = { ...p, candidates: [...p.candidates, ['198.51.100.4', 40000, 'srflx']] as [string, number, 'host' | 'relay' | 'srflx'][] };
    const offer = lyncOffer(p, fallback);
    const counters = new Counters();
    const m = lyncMedia(sipWith(offer.type, offer.body)!, counters)!;
    const addrs = (list: { ip: string; port: number }[]): string[] => [...new Set(list.map((a) => `${a.ip}:${a.port}`))].sort();
    // The first part's m=/c= and RFC candidates are registered by the dialog code; here: the
    // a=x-candidate-ipv6 and the draft-6 part's candidates (RTP and RTCP components).
    assert.deepEqual(addrs(m.extra), ['10.0.1.11:50010', '10.0.1.11:50011', '198.51.100.4:40000', '198.51.100.4:40001', '2001:db8::11:50012', '203.0.113.10:51000', '203.0.113.10:51001']);
    assert.ok(!addrs(m.all).some((a) => a.endsWith(':50110')), 'video m-line left out');
    assert.deepEqual(m.ssrcRanges, ['4096-4196']);
    assert.equal(m.im, false);
    assert.equal(counters.get('netfeed.x_candidate'), 1);
  });

  it('bad x-candidate and x-ssrc-range lines are counted, never fatal', () => {
    const body = lyncSdp({ uri: 'sip:a@x', name: 'A', candidates: [['10.0.0.1', 4000, 'host']] }) + 'a=x-candidate-ipv6:what ever\r\na=x-ssrc-range:9-1\r\na=x-ssrc-range:99999999999-1\r\n';
    const counters = new Counters();
    const m = lyncMedia(sipWith('application/sdp', body)!, counters)!;
    assert.deepEqual([counters.get('netfeed.bad_candidate'), counters.get('netfeed.bad_ssrc_range'), m.ssrcRanges.length], [1, 2, 0]);
    assert.equal(lyncMedia(sipWith('text/plain', 'hello')!, counters), null);
  });

  it('IM text: text/plain, text/html without tags, typing notifications are not messages', () => {
    assert.equal(messageText(sipWith('text/plain; charset=UTF-8', ' hi there \r\n')!), 'hi there');
    assert.equal(messageText(sipWith('text/html', '<p>a &lt;b&gt; &amp; c</p>')!), 'a <b> & c');
    assert.equal(messageText(sipWith('application/im-iscomposing+xml', '<isComposing/>')!), null);
  });
});

describe('config: sccp, netfeed, users.devices', () => {
  it('defaults: no feed, SCCP on 2000', () => {
    const c = defaultConfig();
    assert.equal(c.netfeed, undefined);
    assert.equal(c.sccp, undefined);
  });

  it('reads every key', () => {
    const c = parseConfig(
      JSON.stringify({
        sccp: { ports: [2000, 2443] },
        users: [{ name: 'alice', devices: ['SEP001122334455', 'SEP00AABBCCDDEE/2'] }],
        netfeed: { key: 'k'.repeat(16), mode: 'atEdge', disallowedIps: ['10.0.0.3'], edgeIps: ['203.0.113.10'], relayGateways: ['2001:DB8::1'], silkPayloadTypes: { '103': 8000, '104': 16000 }, learnEndpoints: false },
      }),
      'c.json',
    );
    assert.deepEqual(c.sccp, { ports: [2000, 2443] });
    assert.deepEqual(c.users[0]?.devices, ['SEP001122334455', 'SEP00AABBCCDDEE/2']);
    assert.deepEqual(c.netfeed, { listen: '0.0.0.0:8008', key: 'k'.repeat(16), mode: 'atEdge', disallowedIps: ['10.0.0.3'], edgeIps: ['203.0.113.10'], relayGateways: ['2001:db8::1'], silkPayloadTypes: { '103': 8000, '104': 16000 }, learnEndpoints: false });
    assert.deepEqual(silkMappings(c.netfeed), [{ pt: 103, codec: 'SILK', clockRate: 8000, channels: 1 }, { pt: 104, codec: 'SILK', clockRate: 16000, channels: 1 }]);
  });

  const errors: [string, object, string][] = [
    ['feed without key', { netfeed: {} }, 'c.json: netfeed: missing "key" (the shared key of the Front Ends\' feed senders)'],
    ['short key', { netfeed: { key: 'short' } }, 'c.json: netfeed.key: must be at least 16 characters, got 5'],
    ['bad mode', { netfeed: { key: 'k'.repeat(16), mode: 'edge' } }, 'c.json: netfeed.mode: expected one of mirroring, atEdge, endpoint, got "edge"'],
    ['bad IP', { netfeed: { key: 'k'.repeat(16), edgeIps: ['edge.contoso.com'] } }, 'c.json: netfeed.edgeIps[0]: expected an IPv4 or IPv6 address, got "edge.contoso.com"'],
    ['static SILK type', { netfeed: { key: 'k'.repeat(16), silkPayloadTypes: { '8': 8000 } } }, 'c.json: netfeed.silkPayloadTypes["8"]: expected a dynamic payload type 96-127 as the key, got "8"'],
    ['SILK rate', { netfeed: { key: 'k'.repeat(16), silkPayloadTypes: { '103': 44100 } } }, 'c.json: netfeed.silkPayloadTypes["103"]: expected a SILK clock rate: 8000, 12000, 16000 or 24000, got 44100'],
    ['unknown feed key', { netfeed: { key: 'k'.repeat(16), modes: 'x' } }, 'c.json: netfeed: unknown key "modes" (did you mean "mode"?)'],
    ['sccp port', { sccp: { ports: [0] } }, 'c.json: sccp.ports[0]: expected a port number 1-65535, got 0'],
    ['device name', { users: [{ name: 'a', devices: ['SEP 0011'] }] }, 'c.json: users[0].devices[0]: expected an SCCP device name like "SEP001122334455" or "SEP001122334455/2", got "SEP 0011"'],
    ['device claimed twice', { users: [{ name: 'a', devices: ['SEP0011'] }, { name: 'b', devices: ['sep0011'] }] }, 'c.json: users[1].devices[0]: sep0011 already belongs to user "a"'],
  ];
  for (const [name, raw, message] of errors) {
    it(`one line: ${name}`, () => {
      assert.throws(() => parseConfig(JSON.stringify(raw), 'c.json'), { message });
    });
  }

  it('--netfeed and --netfeed-key enable the listener without a config file', () => {
    const c = defaultConfig();
    applyNetfeedFlags(c, { netfeed: '127.0.0.1:9008', netfeedKey: 'x'.repeat(20) });
    assert.deepEqual([c.netfeed?.listen, c.netfeed?.mode, c.netfeed?.key.length], ['127.0.0.1:9008', 'mirroring', 20]);
    assert.throws(() => applyNetfeedFlags(defaultConfig(), { netfeed: '127.0.0.1:9008', netfeedKey: 'short' }), /at least 16 characters/);
    assert.throws(() => applyNetfeedFlags(defaultConfig(), { netfeedKey: 'x'.repeat(20) }), /needs --netfeed/);
    assert.throws(() => applyNetfeedFlags(defaultConfig(), { netfeed: 'nowhere', netfeedKey: 'x'.repeat(20) }), /--netfeed nowhere/);
  });
});
