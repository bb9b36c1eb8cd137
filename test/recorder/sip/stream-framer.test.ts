import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counters } from '../../../recorder/core/counters.js';
import type { SipMessage } from '../../../recorder/sip/message.js';
import { SipStreamFramer, sipTcpConsumer } from '../../../recorder/sip/stream-framer.js';
import type { TcpConnection, TcpDir } from '../../../recorder/tcp/stream-reassembler.js';
import { prng } from '../../support/random.js';

/** A SIP message with a body of `bodyLen` bytes and a correct Content-Length (spelled `clName`). */
function message(i: number, bodyLen: number, clName = 'Content-Length', eol = '\r\n'): Buffer {
  const body = 'b'.repeat(bodyLen).replace(/b{40}/g, (m) => m.slice(0, 39) + '\n');
  const head =
    i % 3 === 2
      ? [`SIP/2.0 200 OK`, `Via: SIP/2.0/TCP h;branch=z9hG4bK${i}`, `From: <sip:a@h>;tag=f${i}`, `To: <sip:b@h>;tag=t${i}`, `Call-ID: call-${i}`, `CSeq: ${i} INVITE`]
      : [`INVITE sip:b@h SIP/2.0`, `Via: SIP/2.0/TCP h;branch=z9hG4bK${i}`, `From: "N ${i}" <sip:a@h>;tag=f${i}`, `To: <sip:b@h>`, `Call-ID: call-${i}`, `CSeq: ${i} INVITE`];
  return Buffer.from([...head, `${clName}: ${bodyLen}`, '', ''].join(eol) + body, 'latin1');
}

/** 50 messages of different shapes: bodies 0..~600 bytes, compact and lower-case names, LF-only ones. */
function fiftyMessages(small = false): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < 50; i++) {
    const bodyLen = small ? (i * 7) % 23 : (i * 37) % 601;
    const name = i % 5 === 1 ? 'l' : i % 5 === 2 ? 'content-length' : i % 5 === 3 ? 'CONTENT-LENGTH  ' : 'Content-Length';
    out.push(message(i, i % 7 === 0 ? 0 : bodyLen, name, i % 4 === 3 ? '\n' : '\r\n'));
  }
  return out;
}

class Collector {
  readonly got: Buffer[] = [];
  /** Messages delivered straight from a pushed buffer. */
  zeroCopy = 0;
  current: Buffer | null = null;
  readonly counters = new Counters();
  readonly framer: SipStreamFramer;
  maxPending = 0;
  constructor(maxMessage?: number) {
    this.framer = new SipStreamFramer(
      (b, o, l) => {
        if (b === this.current) this.zeroCopy++;
        this.got.push(Buffer.from(b.subarray(o, o + l)));
      },
      this.counters,
      maxMessage,
    );
  }
  push(b: Buffer, off = 0, len = b.length - off): void {
    this.current = b;
    this.framer.push(b, off, len);
    this.current = null;
    this.maxPending = Math.max(this.maxPending, this.framer.pendingBytes);
  }
  /** Push `stream` in pieces cut at the given positions. */
  pushCuts(stream: Buffer, cuts: number[]): void {
    let at = 0;
    for (const c of [...cuts, stream.length]) {
      if (c > at) this.push(stream.subarray(at, c));
      at = Math.max(at, c);
    }
  }
}

const str = (bs: Buffer[]): string[] => bs.map((b) => b.toString('latin1'));

describe('SipStreamFramer: Content-Length framing (RFC 3261 §18.3)', () => {
  const msgs = fiftyMessages();
  const stream = Buffer.concat(msgs);

  it('one push: 50 messages, all zero-copy', () => {
    const c = new Collector();
    c.push(stream);
    assert.deepEqual(str(c.got), str(msgs));
    assert.equal(c.zeroCopy, 50);
    assert.equal(c.framer.pendingBytes, 0);
    assert.deepEqual(c.counters.toJSON(), {});
  });

  it('inside a larger buffer at an offset', () => {
    const c = new Collector();
    const big = Buffer.concat([Buffer.from('xxxxx'), stream, Buffer.from('yyyyy')]);
    c.push(big, 5, stream.length);
    assert.deepEqual(str(c.got), str(msgs));
  });

  it('one byte per push', () => {
    const c = new Collector();
    for (let i = 0; i < stream.length; i++) c.push(stream.subarray(i, i + 1));
    assert.deepEqual(str(c.got), str(msgs));
    assert.deepEqual(c.counters.toJSON(), {});
  });

  it('cut in two at every byte position', () => {
    const small = fiftyMessages(true);
    const s = Buffer.concat(small);
    const want = str(small);
    for (let cut = 0; cut <= s.length; cut++) {
      const c = new Collector();
      c.pushCuts(s, [cut]);
      assert.deepEqual(str(c.got), want, `cut at ${cut}`);
      // Only the message the cut falls in is copied.
      assert.ok(c.zeroCopy >= 49, `cut at ${cut}: ${c.zeroCopy} zero-copy`);
    }
  });

  it('random cuts (200 streams, up to 40 cuts each)', () => {
    const rnd = prng(183);
    const want = str(msgs);
    for (let t = 0; t < 200; t++) {
      const cuts = Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => Math.floor(rnd() * stream.length)).sort((a, b) => a - b);
      const c = new Collector();
      c.pushCuts(stream, cuts);
      assert.deepEqual(str(c.got), want);
      assert.ok(c.maxPending <= 64 * 1024);
    }
  });

  it('CRLF keep-alives between messages are skipped (RFC 5626 §3.5.1)', () => {
    const c = new Collector();
    const parts = [Buffer.from('\r\n\r\n'), msgs[0]!, Buffer.from('\r\n\r\n'), Buffer.from('\r\n'), msgs[1]!, Buffer.from('\r\n'), msgs[2]!, Buffer.from('\n')];
    c.push(Buffer.concat(parts));
    assert.deepEqual(str(c.got), str(msgs.slice(0, 3)));
    assert.equal(c.counters.get('sip.tcp_keepalive'), 4);
    assert.equal(c.counters.get('sip.tcp_resync'), 0);
  });

  it('missing Content-Length means no body (counted); bad one too', () => {
    const c = new Collector();
    const noCl = Buffer.from('OPTIONS sip:x SIP/2.0\r\nCall-ID: a\r\n\r\n');
    const badCl = Buffer.from('OPTIONS sip:x SIP/2.0\r\nContent-Length: 12x\r\nCall-ID: b\r\n\r\n');
    c.push(Buffer.concat([noCl, badCl, msgs[1]!]));
    assert.deepEqual(str(c.got), str([noCl, badCl, msgs[1]!]));
    assert.deepEqual(c.counters.toJSON(), { 'sip.tcp_no_content_length': 1, 'sip.tcp_bad_content_length': 1 });
  });

  it('Content-Length with white space and folding', () => {
    const m = Buffer.from('MESSAGE sip:x SIP/2.0\r\nContent-Length :\r\n   3  \r\nCall-ID: a\r\n\r\nabc');
    const c = new Collector();
    c.push(Buffer.concat([m, msgs[0]!]));
    assert.deepEqual(str(c.got), str([m, msgs[0]!]));
    assert.deepEqual(c.counters.toJSON(), {});
  });

  it('headers that merely start like Content-Length are not it', () => {
    const m = Buffer.from('MESSAGE sip:x SIP/2.0\r\nContent-Lengthy: 99\r\nLocation: 5\r\nContent-Length: 2\r\n\r\nok');
    const c = new Collector();
    c.push(Buffer.concat([m, msgs[0]!]));
    assert.deepEqual(str(c.got), str([m, msgs[0]!]));
  });
});

describe('SipStreamFramer: resynchronisation', () => {
  const msgs = fiftyMessages(true);

  it('joined mid-message: skips to the next start line, counted once', () => {
    const c = new Collector();
    const tail = msgs[3]!.subarray(20);
    c.push(Buffer.concat([tail, msgs[4]!, msgs[5]!]));
    assert.deepEqual(str(c.got), str([msgs[4]!, msgs[5]!]));
    assert.equal(c.counters.get('sip.tcp_resync'), 1);
    assert.equal(c.counters.get('sip.tcp_discarded_bytes'), tail.length);
  });

  it('garbage between messages (even split across pushes) is skipped', () => {
    const garbage = Buffer.from('\x16\x03\x01 binary junk\r\nmore junk without end INVITE sip:x SIP/2.0 not at line start\r\nHTTP/1.1 200 OK\r\n\r\n');
    const s = Buffer.concat([msgs[0]!, garbage, msgs[1]!, garbage, msgs[2]!]);
    const want = str([msgs[0]!, msgs[1]!, msgs[2]!]);
    for (let cut = 0; cut <= s.length; cut++) {
      const c = new Collector();
      c.pushCuts(s, [cut]);
      assert.deepEqual(str(c.got), want, `cut at ${cut}`);
      assert.equal(c.counters.get('sip.tcp_resync'), 2);
    }
  });

  it('random bytes never throw and never hold more than maxMessage', () => {
    const rnd = prng(5626);
    const alphabet = Buffer.from('SIP/2.0 INVITE sip:x Content-Length: l: 0123456789\r\n\r\n\t\x00\xff');
    const c = new Collector(4096);
    // The direction carried SIP once, so junk after it is resynchronised, never given up on.
    c.push(msgs[5]!);
    for (let t = 0; t < 3000; t++) {
      const b = Buffer.alloc(Math.floor(rnd() * 300));
      for (let i = 0; i < b.length; i++) b[i] = rnd() < 0.5 ? Math.floor(rnd() * 256) : alphabet[Math.floor(rnd() * alphabet.length)]!;
      c.push(b);
      if (rnd() < 0.05) c.framer.gap();
    }
    assert.ok(c.maxPending <= 4096);
    // Still works: after a gap, a message is found.
    assert.equal(c.framer.ignored, false);
    c.framer.gap();
    c.got.length = 0;
    c.push(Buffer.concat([msgs[0]!, msgs[1]!]));
    assert.deepEqual(str(c.got), str([msgs[0]!, msgs[1]!]));
  });

  it('a direction with maxMessage bytes and no message is not SIP: given up, no longer scanned', () => {
    const c = new Collector(4096);
    const http = Buffer.from('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n' + 'x'.repeat(300) + '\r\n');
    for (let i = 0; i < 20; i++) c.push(http);
    assert.equal(c.framer.ignored, true);
    assert.equal(c.framer.pendingBytes, 0);
    assert.equal(c.counters.get('sip.tcp_not_sip'), 1);
    assert.equal(c.counters.get('sip.tcp_resync'), 1);
    const before = c.counters.get('sip.tcp_discarded_bytes');
    c.push(msgs[0]!);
    c.framer.gap();
    c.push(msgs[0]!);
    assert.deepEqual(c.got, []);
    assert.equal(c.counters.get('sip.tcp_discarded_bytes'), before);
  });

  it('gap(): the held partial message is dropped; a start line right after it is taken', () => {
    const c = new Collector();
    c.push(msgs[0]!.subarray(0, 30));
    assert.equal(c.framer.pendingBytes, 30);
    c.framer.gap();
    assert.equal(c.framer.pendingBytes, 0);
    c.push(Buffer.concat([msgs[1]!, msgs[2]!]));
    assert.deepEqual(str(c.got), str([msgs[1]!, msgs[2]!]));
    assert.equal(c.counters.get('sip.tcp_gap'), 1);
    assert.equal(c.counters.get('sip.tcp_resync'), 0);
    // A gap that leaves us mid-message: resync to the next start line.
    c.framer.gap();
    c.push(Buffer.concat([msgs[3]!.subarray(40), msgs[4]!]));
    assert.deepEqual(str(c.got), str([msgs[1]!, msgs[2]!, msgs[4]!]));
    assert.equal(c.counters.get('sip.tcp_resync'), 1);
  });

  it('gap() inside a body: the rest of that body is not taken for messages', () => {
    const c = new Collector();
    const m = message(1, 300);
    c.push(m.subarray(0, m.length - 250));
    c.framer.gap();
    c.push(m.subarray(m.length - 200));
    c.push(msgs[2]!);
    assert.deepEqual(str(c.got), str([msgs[2]!]));
  });
});

describe('SipStreamFramer: bounded memory', () => {
  const msgs = fiftyMessages(true);

  it('a message over maxMessage is discarded, the next one found (any cut)', () => {
    const big = message(7, 5000);
    const s = Buffer.concat([msgs[0]!, big, msgs[1]!]);
    for (const step of [1, 7, 100, 1500, s.length]) {
      const c = new Collector(1024);
      for (let i = 0; i < s.length; i += step) c.push(s.subarray(i, i + step));
      assert.deepEqual(str(c.got), str([msgs[0]!, msgs[1]!]), `step ${step}`);
      assert.equal(c.counters.get('sip.tcp_too_large'), 1);
      assert.ok(c.maxPending <= 1024, `step ${step}: held ${c.maxPending}`);
    }
  });

  it('a bogus huge Content-Length does not swallow the stream', () => {
    const liar = Buffer.from('INVITE sip:x SIP/2.0\r\nCall-ID: liar\r\nContent-Length: 99999999999\r\n\r\n');
    const neg = Buffer.from('INVITE sip:x SIP/2.0\r\nCall-ID: neg\r\nContent-Length: -5\r\n\r\n');
    const c = new Collector();
    c.push(Buffer.concat([liar, msgs[0]!, neg, msgs[1]!]));
    assert.deepEqual(str(c.got), str([msgs[0]!, neg, msgs[1]!]));
    assert.equal(c.counters.get('sip.tcp_too_large'), 1);
    assert.equal(c.counters.get('sip.tcp_bad_content_length'), 1);
  });

  it('a header block that never ends, and a line that never ends, hold at most maxMessage', () => {
    for (const unit of ['X-Header: endless\r\n', 'x'.repeat(100)]) {
      const c = new Collector(2048);
      c.push(msgs[1]!);
      c.got.length = 0;
      c.push(Buffer.from('INVITE sip:x SIP/2.0\r\n'));
      for (let i = 0; i < 5000; i++) c.push(Buffer.from(unit));
      assert.ok(c.maxPending <= 2048, `held ${c.maxPending}`);
      assert.ok(c.counters.get('sip.tcp_too_large') + c.counters.get('sip.tcp_resync') >= 1);
      c.push(Buffer.from('\r\n'));
      c.push(msgs[0]!);
      assert.deepEqual(str(c.got), str([msgs[0]!]));
    }
  });

  it('10,000 headers in one message over the cap are discarded', () => {
    const lines = ['INVITE sip:x SIP/2.0', ...Array.from({ length: 10000 }, (_, i) => `X-${i}: v`), 'Content-Length: 0', '', ''];
    const c = new Collector();
    c.push(Buffer.concat([Buffer.from(lines.join('\r\n')), msgs[0]!]));
    assert.deepEqual(str(c.got), str([msgs[0]!]));
    assert.equal(c.counters.get('sip.tcp_too_large'), 1);
  });
});

describe('sipTcpConsumer', () => {
  const conn = (id: number): TcpConnection => ({
    id,
    clientAddr: '10.0.0.1',
    clientPort: 40000 + id,
    serverAddr: '10.0.0.2',
    serverPort: 5060,
    firstSeen: 0,
    lastSeen: 0,
    midStream: false,
    user: undefined,
  });

  it('frames and parses each direction of each connection separately', () => {
    const counters = new Counters();
    const got: [number, TcpDir, number, string, number][] = [];
    const consumer = sipTcpConsumer((m: SipMessage, c, dir, now) => got.push([c.id, dir, now, m.callId, m.cseq]), counters);
    const a = conn(1);
    const b = conn(2);
    const m0 = message(0, 10);
    const m1 = message(1, 20);
    const m2 = message(2, 0);
    // Interleave halves of messages across connections and directions.
    consumer.onData(a, 0, m0, 0, 30, 1);
    consumer.onData(b, 0, m1, 0, 50, 2);
    consumer.onData(a, 1, m2, 0, m2.length, 3);
    consumer.onData(a, 0, m0, 30, m0.length - 30, 4);
    consumer.onData(b, 0, m1, 50, m1.length - 50, 5);
    assert.deepEqual(got, [
      [1, 1, 3, 'call-2', 2],
      [1, 0, 4, 'call-0', 0],
      [2, 0, 5, 'call-1', 1],
    ]);
    // A gap drops what direction 0 of b holds; closing with bytes held counts them.
    consumer.onData(b, 0, m1, 0, 40, 6);
    consumer.onGap!(b, 0, 100, 7);
    consumer.onData(b, 0, m0, 0, m0.length, 8);
    assert.deepEqual(got.at(-1), [2, 0, 8, 'call-0', 0]);
    consumer.onData(b, 1, m1, 0, 60, 9);
    consumer.onClose!(b, 'fin', 10);
    assert.equal(b.user, undefined);
    assert.equal(counters.get('sip.tcp_unfinished'), 1);
    assert.equal(counters.get('sip.tcp_gap'), 1);
  });

  it('framed messages that are not valid SIP are counted by the parser', () => {
    const counters = new Counters();
    const got: string[] = [];
    const consumer = sipTcpConsumer((m) => got.push(m.callId), counters);
    const c = conn(3);
    const noCallId = Buffer.from('OPTIONS sip:x SIP/2.0\r\nFrom: <sip:a@h>\r\nTo: <sip:b@h>\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n');
    consumer.onData(c, 0, noCallId, 0, noCallId.length, 1);
    assert.deepEqual(got, []);
    assert.equal(counters.get('sip.missing_call_id'), 1);
  });
});
