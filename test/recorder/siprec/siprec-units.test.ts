import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Counters } from '../../../recorder/core/counters.js';
import { parseSdp } from '../../../recorder/sdp/session-description.js';
import { parseSipMessage } from '../../../recorder/sip/message.js';
import { buildAnswerSdp } from '../../../recorder/siprec/answer-sdp.js';
import { parsePortRange, PortPool } from '../../../recorder/siprec/port-pool.js';
import { recordingBody } from '../../../recorder/siprec/recording-body.js';
import { parseRsMetadata } from '../../../recorder/siprec/rs-metadata.js';
import { headerIdentities, sbcHeaders } from '../../../recorder/siprec/sbc-headers.js';
import { ServerTransactions, T1_MS, T2_MS, type ResponseRoute } from '../../../recorder/siprec/server-transactions.js';
import { mapSession, NO_TRUNKS } from '../../../recorder/siprec/session-mapper.js';
import { UasStreamFramer } from '../../../recorder/siprec/uas-stream-framer.js';
import { FIXTURES, fixtureBody, request } from './siprec-helpers.js';

const counters = (): Counters => new Counters();
const msgOf = (text: string) => {
  const b = Buffer.from(text);
  const m = parseSipMessage(b, 0, b.length, counters(), 1 << 20);
  assert.ok(m);
  return m;
};
const invite = (file: string, extra: { lfOnly?: boolean; headers?: string[] } = {}) => {
  const { body, contentType } = fixtureBody(join(FIXTURES, file));
  return msgOf(request({ callId: 'c1', body, contentType, clientPort: 5070, serverPort: 5060, ...extra }));
};
const FALLBACK = { caller: { uri: 'sip:from@x', number: 'from', name: '' }, callee: { uri: 'sip:to@x', number: 'to', name: '' } };

describe('port pool', () => {
  it('hands out even RTP ports (odd RTCP above), reuses freed ones last, reports exhaustion', () => {
    assert.deepEqual(parsePortRange('10001-10010'), { start: 10001, end: 10010 });
    assert.equal(typeof parsePortRange('10-20'), 'string');
    assert.equal(typeof parsePortRange('20000-20000'), 'string');
    const pool = new PortPool({ start: 10001, end: 10010 });
    assert.equal(pool.capacity, 4); // 10002, 10004, 10006, 10008 (10010 has no odd partner in range)
    const a = pool.allocateMany(3)!;
    assert.deepEqual(a, [10002, 10004, 10006]);
    assert.equal(pool.allocateMany(2), null, 'all or nothing');
    pool.release(10002);
    assert.equal(pool.allocate(), 10008, 'the never-used port before the freed one');
    assert.equal(pool.allocate(), 10002);
    assert.equal(pool.allocate(), -1);
    pool.discard(10004);
    assert.equal(pool.unusable, 1);
    assert.equal(pool.inUse, 3);
  });
});

describe('recording bodies', () => {
  it('finds SDP and metadata in any order, with per-part headers, LF-only', () => {
    for (const f of ['drachtio__cisco-cube.txt', 'ecgroup__broadworks-v4-origcall.txt', 'drachtio__sems-procomm.txt', 'drachtio__sonus-ribbon.txt']) {
      const b = recordingBody(invite(f, { lfOnly: true }));
      assert.match(b.sdp, /^v=0/, f);
      assert.match(b.metadata, /<\?xml/, f);
    }
    assert.deepEqual(recordingBody(invite('drachtio__cisco-cube.txt')).others, ['application/gtd']);
  });

  it('a mangled metadata type is recognised by disposition and content', () => {
    const b = recordingBody(invite('drachtio__broadworks-tags-stripped.txt'));
    assert.match(b.metadata, /^<recording_metadata/);
    assert.equal(b.metadataGuessed, true);
    assert.match(b.sdp, /o=BroadWorks/);
  });

  it('nested multipart', () => {
    const inner = ['--in', 'Content-Type: application/rs-metadata', '', '<recording xmlns="urn:ietf:params:xml:ns:recording:1"/>', '--in--'].join('\r\n');
    const outer = ['--out', 'Content-Type: application/sdp', '', 'v=0', 'm=audio 1 RTP/AVP 0', '--out', 'Content-Type: multipart/mixed;boundary=in', '', inner, '--out--'].join('\r\n');
    const b = recordingBody(msgOf(request({ callId: 'n', body: outer, contentType: 'multipart/mixed; boundary="out"', clientPort: 1, serverPort: 2 })));
    assert.match(b.sdp, /^v=0/);
    assert.match(b.metadata, /^<recording/);
  });

  it('plain SDP (the negative sample) has no metadata', () => {
    const sdp = readFileSync(join(FIXTURES, 'drachtio__negative-plain-sdp.txt'), 'utf8');
    const b = recordingBody(msgOf(request({ callId: 'p', body: sdp, clientPort: 1, serverPort: 2 })));
    assert.equal(b.metadata, '');
    assert.match(b.sdp, /a=label:1/);
  });
});

describe('answer SDP', () => {
  it('one m-line per offered one, recvonly, labels, port 0 for what we refuse', () => {
    const offer = parseSdp(
      ['v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=label:1', 'a=sendonly', 'm=video 4002 RTP/AVP 96', 'a=label:v', 'm=audio 4004 RTP/SAVP 8', 'a=label:2', 'm=audio 4006 RTP/AVP 8', 'a=label:3', 'a=inactive', ''].join('\r\n'),
      counters(),
    )!;
    const sdp = buildAnswerSdp(offer, [{ port: 30000 }, { port: 0 }, { port: 0 }, { port: 30002 }], { address: '192.0.2.1', sessionId: '7', version: 2 });
    assert.match(sdp, /^o=- 7 2 IN IP4 192\.0\.2\.1$/m);
    const m = sdp.split(/\r\n(?=m=)/).slice(1);
    assert.equal(m.length, 4);
    assert.match(m[0]!, /^m=audio 30000 RTP\/AVP 0 101\r\na=rtpmap:0 PCMU\/8000\r\na=rtpmap:101 telephone-event\/8000\r\na=fmtp:101 0-15\r\na=label:1\r\na=recvonly/);
    assert.match(m[1]!, /^m=video 0 /);
    assert.match(m[2]!, /^m=audio 0 RTP\/SAVP 8/);
    assert.match(m[3]!, /a=inactive/);
  });
});

describe('session mapping', () => {
  const sdpOf = (f: string) => parseSdp(recordingBody(invite(f)).sdp, counters())!;
  const mdOf = (f: string) => {
    const r = parseRsMetadata(recordingBody(invite(f)).metadata);
    assert.ok(r.ok);
    return r.metadata;
  };

  it('labels → streams → participants: each participant on its own channel', () => {
    const map = mapSession(mdOf('drachtio__sonus-ribbon.txt'), sdpOf('drachtio__sonus-ribbon.txt').media, NO_TRUNKS, FALLBACK);
    // Label 1 is sent by the second participant: the first m-line's sender is the caller.
    assert.equal(map.caller.uri, '2249888012@172.16.195.72');
    assert.equal(map.callee.name, 'Extension 8500');
    assert.deepEqual(map.streams.map((s) => [s.label, s.party]), [
      ['1', 'caller'],
      ['2', 'callee'],
    ]);
    assert.equal(map.mixed, false);
  });

  it('vendor roles win (Acme callingParty), then m-line order for streams without metadata (OpenSIPS)', () => {
    const acme = mapSession(mdOf('drachtio__oracle-acme.txt'), sdpOf('drachtio__oracle-acme.txt').media, NO_TRUNKS, FALLBACK);
    assert.equal(acme.caller.uri, 'sip:9000@192.168.50.102');
    assert.deepEqual(acme.streams.map((s) => s.party), ['caller', 'callee']);
    const oss = mapSession(mdOf('drachtio__opensips-connectel-1.txt'), sdpOf('drachtio__opensips-connectel-1.txt').media, NO_TRUNKS, FALLBACK);
    assert.equal(oss.caller.uri, 'sip:0771121212@52.57.92.239');
    assert.deepEqual(oss.streams.map((s) => s.party), ['caller', 'callee']);
  });

  it('one m-line, or one stream sent by both, records mono; no metadata falls back to the SIP identities', () => {
    const intrado = mapSession(mdOf('drachtio-pr55__intrado-viper-full-invite.txt'), sdpOf('drachtio-pr55__intrado-viper-full-invite.txt').media, NO_TRUNKS, FALLBACK);
    assert.equal(intrado.mixed, true);
    const none = mapSession(null, sdpOf('drachtio__cisco-cube.txt').media, NO_TRUNKS, FALLBACK);
    assert.equal(none.caller.uri, 'sip:from@x');
    assert.deepEqual(none.streams.map((s) => s.party), ['caller', 'callee']);
  });

  it('trunk ranges decide direction and who called', () => {
    const trunks = { inbound: [/^\+972\d+@/], outbound: [] };
    const map = mapSession(mdOf('drachtio__cisco-cube-inactive-sdp.txt'), sdpOf('drachtio__cisco-cube-inactive-sdp.txt').media, trunks, FALLBACK);
    assert.equal(map.caller.uri, 'sip:+972546136443@192.168.10.140');
    assert.equal(map.direction, 'inbound');
    const out = mapSession(mdOf('drachtio__cisco-cube.txt'), sdpOf('drachtio__cisco-cube.txt').media, { inbound: [], outbound: [/^7300@/] }, FALLBACK);
    assert.equal(out.direction, 'outbound');
  });

  it('SBC headers become identities of each side', () => {
    const m = msgOf(
      request({
        callId: 'h',
        clientPort: 1,
        serverPort: 2,
        headers: ['OriginatingFrom: <sip:+15551234@pstn>', 'OriginatingTo: <sip:1001@pbx>', 'Diversion: <sip:1002@pbx>;reason=no-answer', 'Remote-Party-ID: "Bob" <sip:2002@pbx>;party=called', 'Recorded-IP-Group-Name: Trunk-A', 'X-Custom: 1'],
      }),
    );
    const h = sbcHeaders(m);
    assert.deepEqual(Object.keys(h).sort(), ['diversion', 'originatingfrom', 'originatingto', 'recorded-ip-group-name', 'remote-party-id', 'x-custom']);
    const ids = headerIdentities(h, { uri: 'sip:src@x', number: 'src', name: '' });
    assert.deepEqual(ids.caller.map((p) => p.uri), ['sip:+15551234@pstn', 'sip:src@x']);
    assert.deepEqual(ids.callee.map((p) => p.uri), ['sip:1001@pbx', 'sip:2002@pbx', 'sip:1002@pbx']);
  });
});

describe('server transactions (RFC 3261 §17.2)', () => {
  const route = (): ResponseRoute & { sent: string[] } => {
    const sent: string[] = [];
    return { reliable: false, sent, send: (d: Buffer) => sent.push(d.toString('latin1', 0, 12)) };
  };

  it('a non-2xx INVITE response is retransmitted (T1 doubling to T2) until the ACK', () => {
    const txns = new ServerTransactions(counters());
    const m = msgOf(request({ callId: 'x', clientPort: 1, serverPort: 2 }));
    const r = route();
    const t = txns.create(m, r)!;
    txns.respond(t, 486, Buffer.from('SIP/2.0 486 Busy'), 0);
    let now = 0;
    for (const step of [T1_MS, 2 * T1_MS, 4 * T1_MS, T2_MS, T2_MS]) {
      now += step;
      txns.tick(now);
    }
    assert.equal(r.sent.length, 6);
    const ack = msgOf(request({ method: 'ACK', callId: 'x', clientPort: 1, serverPort: 2, branch: m.topViaBranch }));
    assert.equal(txns.find(ServerTransactions.key(ack, 'ACK')), t);
    txns.acknowledge(t, now);
    txns.tick(now + T2_MS);
    assert.equal(r.sent.length, 6);
    txns.tick(now + 6000);
    assert.equal(txns.size, 0, 'Timer I ended it');
  });

  it('a 2xx never acknowledged gives up after 64·T1 and says so', () => {
    const c = counters();
    const txns = new ServerTransactions(c);
    const t = txns.create(msgOf(request({ callId: 'y', clientPort: 1, serverPort: 2 })), route())!;
    let gaveUp = false;
    txns.respond(t, 200, Buffer.from('SIP/2.0 200 OK'), 0);
    t.onNoAck = () => (gaveUp = true);
    for (let now = 0; now <= 64 * T1_MS; now += 100) txns.tick(now);
    assert.equal(gaveUp, true);
    assert.equal(c.get('siprec.ack_timeout'), 1);
  });

  it('non-INVITE: the final response answers retransmissions, then Timer J ends it', () => {
    const txns = new ServerTransactions(counters());
    const r = route();
    const m = msgOf(request({ method: 'OPTIONS', callId: 'z', clientPort: 1, serverPort: 2 }));
    const t = txns.create(m, r)!;
    txns.respond(t, 200, Buffer.from('SIP/2.0 200 OK'), 0);
    txns.retransmission(txns.find(ServerTransactions.key(m))!);
    assert.equal(r.sent.length, 2);
    txns.tick(64 * T1_MS);
    assert.equal(txns.size, 0);
  });
});

describe('UAS stream framer', () => {
  it('frames by Content-Length across chunks, answers pings, skips oversized bodies unbuffered', () => {
    const got: string[] = [];
    let tooLarge = 0;
    let pings = 0;
    const f = new UasStreamFramer({ onMessage: (b) => got.push(b.toString()), onTooLarge: () => tooLarge++, onPing: () => pings++, onFatal: () => assert.fail('fatal') }, 1000);
    const msg = 'OPTIONS sip:a SIP/2.0\r\nContent-Length: 4\r\n\r\nbody';
    for (const ch of msg) f.push(Buffer.from(ch));
    f.push(Buffer.from('\r\n\r\n'));
    f.push(Buffer.from(`INVITE sip:a SIP/2.0\r\nContent-Length: 5000\r\n\r\n${'x'.repeat(2000)}`));
    assert.equal(f.buffered, 0, 'an oversized body is never held');
    f.push(Buffer.from(`${'x'.repeat(3000)}${msg}`));
    assert.deepEqual(got, [msg, msg]);
    assert.equal(tooLarge, 1);
    assert.equal(pings, 1);
  });
});
