/**
 * The call-event feed's framing and authentication (recorder/netfeed/feed-frame.ts): frames
 * round-trip, a sender with the key gets in and its frames are delivered whatever the TCP
 * segmentation, and every kind of bad sender is refused, counted and disconnected.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseIpv4 } from '../../../recorder/core/address.js';
import { Counters } from '../../../recorder/core/counters.js';
import { Status } from '../../../recorder/core/status.js';
import { parseIpv6 } from '../../../recorder/calls/endpoint-key.js';
import { helloProof, sealFrame, sessionKey } from '../../../recorder/netfeed/feed-auth.js';
import { decodeFeedSip, encodeHello, encodeKeepAlive, encodeSip, FeedSip, FrameType } from '../../../recorder/netfeed/feed-frame.js';
import { FeedSession } from '../../../recorder/netfeed/feed-session.js';
import { prng } from '../../support/random.js';

const KEY = 'a-shared-key-of-some-length';
const ipBytes = (ip: string): Buffer | null => {
  const v4 = parseIpv4(ip);
  if (v4 < 0) return parseIpv6(ip);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v4, 0);
  return b;
};

const sip = (i: number): Buffer => Buffer.from(`OPTIONS sip:fe${i}@contoso.com SIP/2.0\r\nCall-ID: c${i}\r\nCSeq: ${i} OPTIONS\r\nContent-Length: 0\r\n\r\n`);

interface Harness {
  session: FeedSession;
  sent: Buffer[];
  closed: string[];
  got: { fe: string; seq: number; src: string; dst: string; text: string; dir: number; sec: number; nsec: number }[];
  counters: Counters;
  nonce: Buffer;
}

function harness(): Harness {
  const counters = new Counters();
  const nonce = randomBytes(16);
  const h: Harness = { session: null as unknown as FeedSession, sent: [], closed: [], got: [], counters, nonce };
  h.session = new FeedSession(KEY, nonce, counters, {
    send: (f) => h.sent.push(f),
    close: (r) => h.closed.push(r),
    onSip: (fe, f, buf) => h.got.push({ fe, seq: f.seq, src: `${f.srcIp}:${f.srcPort}`, dst: `${f.dstIp}:${f.dstPort}`, text: buf.toString('utf8', f.msgOff, f.msgOff + f.msgLen), dir: f.direction, sec: f.sec, nsec: f.nsec }),
  });
  h.session.start();
  return h;
}

/** The frames a well-behaved sender sends: HELLO, then n SIP frames. */
function senderFrames(nonce: Buffer, n: number, fe = 'fe01.contoso.com', key = KEY): Buffer[] {
  const s = sessionKey(key, nonce, fe);
  const out = [encodeHello(fe, helloProof(key, nonce, fe))];
  for (let i = 1; i <= n; i++) {
    const v6 = i % 2 === 0;
    out.push(sealFrame(s, encodeSip({ seq: i, sec: 1_700_000_000 + i, nsec: i * 1000, direction: i % 2, transport: 2, srcIp: v6 ? '2001:db8::5' : '10.0.1.11', srcPort: 5061, dstIp: v6 ? '2001:db8::3' : '10.0.0.3', dstPort: 5061 }, sip(i), ipBytes)));
  }
  return out;
}

describe('call-event feed: frames and sessions', () => {
  it('a SIP frame round-trips (IPv4 and IPv6), and every prefix of it is Truncated', () => {
    const f = encodeSip({ seq: 7, sec: 1_700_000_123, nsec: 999_999_999, direction: 1, transport: 1, srcIp: '2001:db8::1', srcPort: 1, dstIp: '192.0.2.9', dstPort: 65535 }, sip(7), ipBytes);
    const out = new FeedSip();
    assert.equal(decodeFeedSip(f, 0, f.length, out), Status.Ok);
    assert.deepEqual([out.seq, out.sec, out.nsec, out.direction, out.transport, out.srcIp, out.srcPort, out.dstIp, out.dstPort], [7, 1_700_000_123, 999_999_999, 1, 1, '2001:db8::1', 1, '192.0.2.9', 65535]);
    assert.equal(f.toString('utf8', out.msgOff, out.msgOff + out.msgLen), sip(7).toString());
    const msgStart = out.msgOff;
    for (let n = 0; n < msgStart + 16; n++) assert.equal(decodeFeedSip(f, 0, n, new FeedSip()), Status.Truncated, `prefix ${n}`);
    const bad = Buffer.from(f);
    bad[19] = 5;
    assert.equal(decodeFeedSip(bad, 0, bad.length, new FeedSip()), Status.Malformed);
  });

  it('a sender with the key is accepted; frames arrive whatever the segmentation', () => {
    const probe = harness();
    const stream = Buffer.concat(senderFrames(probe.nonce, 6));
    const rnd = prng(5);
    for (let round = 0; round < 100; round++) {
      const h = harness();
      const all = Buffer.concat(senderFrames(h.nonce, 6));
      assert.equal(all.length, stream.length);
      for (let off = 0; off < all.length; ) {
        const n = round === 0 ? 1 : Math.min(all.length - off, 1 + Math.floor(rnd() * 200));
        h.session.push(Buffer.from(all.subarray(off, off + n)));
        off += n;
      }
      assert.deepEqual(h.closed, []);
      assert.equal(h.sent.length, 2);
      assert.equal(h.sent[0]![4], FrameType.Challenge);
      assert.equal(h.sent[1]![4], FrameType.Accept);
      assert.deepEqual(h.got.map((g) => g.seq), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(h.got[0], { fe: 'fe01.contoso.com', seq: 1, src: '10.0.1.11:5061', dst: '10.0.0.3:5061', text: sip(1).toString(), dir: 1, sec: 1_700_000_001, nsec: 1000 });
      assert.equal(h.got[1]!.src, '2001:db8::5:5061');
    }
  });

  it('keep-alives count in the sequence', () => {
    const h = harness();
    const s = sessionKey(KEY, h.nonce, 'fe');
    h.session.push(Buffer.concat([encodeHello('fe', helloProof(KEY, h.nonce, 'fe')), sealFrame(s, encodeKeepAlive(1)), sealFrame(s, encodeSip({ seq: 2, sec: 1, nsec: 0, direction: 0, transport: 0, srcIp: '10.0.0.1', srcPort: 1, dstIp: '10.0.0.2', dstPort: 2 }, sip(2), ipBytes))]));
    assert.deepEqual([h.closed, h.got.length, h.counters.get('netfeed.keepalives')], [[], 1, 1]);
  });

  const refused: [string, (h: Harness) => Buffer, string, string][] = [
    ['wrong key', (h) => Buffer.concat(senderFrames(h.nonce, 1, 'fe', 'another-key-entirely')), 'netfeed.auth_failed', 'authentication failed'],
    ['proof for another nonce (replayed HELLO)', () => Buffer.concat(senderFrames(randomBytes(16), 1)), 'netfeed.auth_failed', 'authentication failed'],
    ['SIP before HELLO', (h) => senderFrames(h.nonce, 1)[1]!, 'netfeed.unauthenticated', 'expected HELLO'],
    ['bad mac', (h) => {
      const f = senderFrames(h.nonce, 1);
      f[1]![40] = f[1]![40]! ^ 1;
      return Buffer.concat(f);
    }, 'netfeed.bad_mac', 'bad mac'],
    ['a frame dropped (sequence gap)', (h) => {
      const f = senderFrames(h.nonce, 3);
      return Buffer.concat([f[0]!, f[1]!, f[3]!]);
    }, 'netfeed.bad_sequence', 'sequence 3, expected 2'],
    ['a frame replayed', (h) => {
      const f = senderFrames(h.nonce, 2);
      return Buffer.concat([f[0]!, f[1]!, f[1]!]);
    }, 'netfeed.bad_sequence', 'sequence 1, expected 2'],
    ['huge length', (h) => Buffer.concat([senderFrames(h.nonce, 0)[0]!, Buffer.from([0x7f, 0xff, 0xff, 0xff, 5])]), 'netfeed.too_large', 'frame length out of range'],
    ['not a feed at all', () => Buffer.from('GET / HTTP/1.1\r\nHost: recorder\r\n\r\n'), 'netfeed.too_large', 'frame length out of range'],
  ];
  for (const [name, bytes, counter, reason] of refused) {
    it(`refused and disconnected: ${name}`, () => {
      const h = harness();
      h.session.push(bytes(h));
      assert.equal(h.counters.get(counter), 1, JSON.stringify(h.counters.toJSON()));
      assert.deepEqual(h.closed, [reason]);
      assert.equal(h.sent.at(-1)![4], FrameType.Reject);
      assert.ok(h.got.length <= 1);
      // Nothing more is read from a closed session.
      h.session.push(Buffer.concat(senderFrames(h.nonce, 2)));
      assert.ok(h.got.length <= 1);
    });
  }

  it('random bytes never throw', () => {
    const rnd = prng(9);
    for (let i = 0; i < 2000; i++) {
      const h = harness();
      const b = Buffer.alloc(Math.floor(rnd() * 300));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      if (i % 2 && b.length >= 4) b.writeUInt32BE(Math.min(b.length, 200), 0);
      h.session.push(b);
      const out = new FeedSip();
      const s = decodeFeedSip(b, 0, b.length, out);
      assert.ok(s >= Status.Ok && s <= Status.Unsupported);
    }
  });
});
