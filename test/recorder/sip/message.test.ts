import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Counters } from '../../../recorder/core/counters.js';
import { parseSipMessage, type SipMessage } from '../../../recorder/sip/message.js';
import { prng } from '../../support/random.js';
import { tshark } from '../../support/tshark.js';

/** SIP text with CRLF line ends, as on the wire. */
const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

const parse = (b: Buffer, c = new Counters(), maxSize?: number): SipMessage | null => parseSipMessage(b, 0, b.length, c, maxSize);

/** A typical INVITE (RFC 3665 §3.1 style) with SDP. */
const SDP = 'v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
const INVITE = crlf(
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: "Alice Smith" <sip:+15551234@atlanta.example.com;user=phone>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.example.com>',
  'Content-Type: application/sdp',
  `Content-Length: ${SDP.length}`,
  '',
  SDP,
);

describe('parseSipMessage: start line and mandatory fields', () => {
  it('parses a typical INVITE', () => {
    const c = new Counters();
    const m = parse(INVITE, c)!;
    assert.ok(m);
    assert.equal(m.isRequest, true);
    assert.equal(m.method, 'INVITE');
    assert.equal(m.requestUri, 'sip:bob@biloxi.example.com');
    assert.equal(m.status, 0);
    assert.equal(m.callId, 'a84b4c76e66710@pc33.atlanta.example.com');
    assert.equal(m.cseq, 314159);
    assert.equal(m.cseqMethod, 'INVITE');
    assert.deepEqual(
      { ...m.from, params: { ...m.from.params } },
      {
        display: 'Alice Smith',
        uri: 'sip:+15551234@atlanta.example.com;user=phone',
        user: '+15551234',
        host: 'atlanta.example.com',
        tag: '1928301774',
        params: { tag: '1928301774' },
      },
    );
    assert.equal(m.to.display, 'Bob');
    assert.equal(m.to.tag, '');
    assert.equal(m.topViaBranch, 'z9hG4bKnashds8');
    assert.equal(m.contentType, 'application/sdp');
    assert.equal(m.body.toString(), SDP);
    assert.equal(m.headers.length, 9);
    assert.deepEqual(c.toJSON(), {});
  });

  const table: [name: string, text: Buffer, want: Partial<Record<keyof SipMessage, unknown>>, counters?: Record<string, number>][] = [
    ['response', crlf('SIP/2.0 180 Ringing', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'From: <sip:a@h>;tag=1', 'To: <sip:b@h>;tag=2', 'Call-ID: x', 'CSeq: 7 INVITE', '', ''), { isRequest: false, status: 180, reason: 'Ringing', method: 'INVITE', cseqMethod: 'INVITE', requestUri: '' }],
    ['response without reason phrase', crlf('SIP/2.0 200', 'From: <sip:a@h>;tag=1', 'To: <sip:b@h>', 'Call-ID: x', 'CSeq: 1 BYE', 'Via: SIP/2.0/UDP h', '', ''), { status: 200, reason: '', method: 'BYE' }],
    ['reason phrase with spaces and UTF-8', crlf('SIP/2.0 486 Occupé ici', 'From: <sip:a@h>', 'To: <sip:b@h>', 'Call-ID: x', 'CSeq: 1 INVITE', 'Via: SIP/2.0/UDP h', '', ''), { status: 486, reason: 'Occupé ici' }],
    ['extra spaces in the request line', crlf('OPTIONS   sip:x@y   SIP/2.0  ', 'From: <sip:a@h>', 'To: <sip:b@h>', 'Call-ID: x', 'CSeq: 1 OPTIONS', 'Via: SIP/2.0/UDP h', '', ''), { method: 'OPTIONS', requestUri: 'sip:x@y' }],
    ['CRLFs before the start line (§7.5)', Buffer.concat([Buffer.from('\r\n\r\n'), INVITE]), { method: 'INVITE', cseq: 314159 }],
    ['lower-case version', crlf('BYE sip:x@y sip/2.0', 'From: <sip:a@h>', 'To: <sip:b@h>', 'Call-ID: x', 'CSeq: 2 BYE', 'Via: SIP/2.0/UDP h', '', ''), { method: 'BYE' }],
    ['other version is kept, counted', crlf('BYE sip:x@y SIP/3.0', 'From: <sip:a@h>', 'To: <sip:b@h>', 'Call-ID: x', 'CSeq: 2 BYE', 'Via: SIP/2.0/UDP h', '', ''), { method: 'BYE' }, { 'sip.unsupported_version': 1 }],
    ['no Via: kept, counted', crlf('BYE sip:x@y SIP/2.0', 'From: <sip:a@h>', 'To: <sip:b@h>', 'Call-ID: x', 'CSeq: 2 BYE', '', ''), { topViaBranch: '' }, { 'sip.missing_via': 1 }],
    ['CSeq method mismatch: kept, counted', crlf('BYE sip:x@y SIP/2.0', 'From: <sip:a@h>', 'To: <sip:b@h>', 'Call-ID: x', 'CSeq: 2 INVITE', 'Via: SIP/2.0/UDP h', '', ''), { method: 'BYE', cseqMethod: 'INVITE' }, { 'sip.cseq_method_mismatch': 1 }],
    ['CSeq without method: request method used', crlf('BYE sip:x@y SIP/2.0', 'From: <sip:a@h>', 'To: <sip:b@h>', 'Call-ID: x', 'CSeq: 2', 'Via: SIP/2.0/UDP h', '', ''), { cseq: 2, cseqMethod: 'BYE' }, { 'sip.cseq_no_method': 1 }],
    ['CSeq with tabs and extra spaces', crlf('BYE sip:x@y SIP/2.0', 'From: <sip:a@h>', 'To: <sip:b@h>', 'Call-ID: x', 'CSeq:\t 42 \t BYE ', 'Via: SIP/2.0/UDP h', '', ''), { cseq: 42, cseqMethod: 'BYE' }],
    ['repeated Call-ID: first wins, counted', crlf('BYE sip:x@y SIP/2.0', 'Call-ID: first', 'From: <sip:a@h>', 'To: <sip:b@h>', 'i: second', 'CSeq: 2 BYE', 'Via: SIP/2.0/UDP h', '', ''), { callId: 'first' }, { 'sip.duplicate_header': 1 }],
    ['no empty line after headers', crlf('BYE sip:x@y SIP/2.0', 'From: <sip:a@h>', 'To: <sip:b@h>', 'Call-ID: x', 'CSeq: 2 BYE', 'Via: SIP/2.0/UDP h'), { callId: 'x', body: Buffer.alloc(0) }, { 'sip.no_empty_line': 1 }],
    ['a line that is not a header is skipped, counted', crlf('BYE sip:x@y SIP/2.0', 'From: <sip:a@h>', 'this is not a header', 'To: <sip:b@h>', 'Call-ID: x', 'CSeq: 2 BYE', 'Via: SIP/2.0/UDP h', '', ''), { callId: 'x' }, { 'sip.bad_header_line': 1 }],
    ['white space before the colon', crlf('BYE sip:x@y SIP/2.0', 'From : <sip:a@h>', 'To\t: <sip:b@h>', 'Call-ID  :x', 'CSeq: 2 BYE', 'Via: SIP/2.0/UDP h', '', ''), { callId: 'x' }],
  ];
  for (const [name, text, want, counters = {}] of table) {
    it(name, () => {
      const c = new Counters();
      const m = parse(text, c);
      assert.ok(m, `parsed (counters ${JSON.stringify(c.toJSON())})`);
      for (const [k, v] of Object.entries(want)) assert.deepEqual((m as unknown as Record<string, unknown>)[k], v, k);
      assert.deepEqual(c.toJSON(), counters);
    });
  }

  const rejected: [name: string, text: Buffer, counters: Record<string, number>][] = [
    ['no Call-ID', crlf('BYE sip:x@y SIP/2.0', 'From: <sip:a@h>', 'To: <sip:b@h>', 'CSeq: 2 BYE', '', ''), { 'sip.missing_call_id': 1 }],
    ['empty Call-ID', crlf('BYE sip:x@y SIP/2.0', 'Call-ID:   ', 'From: <sip:a@h>', 'To: <sip:b@h>', 'CSeq: 2 BYE', '', ''), { 'sip.missing_call_id': 1 }],
    ['no CSeq, From or To: each counted', crlf('BYE sip:x@y SIP/2.0', 'Call-ID: x', '', ''), { 'sip.missing_cseq': 1, 'sip.missing_from': 1, 'sip.missing_to': 1 }],
    ['CSeq without number', crlf('BYE sip:x@y SIP/2.0', 'Call-ID: x', 'From: <sip:a@h>', 'To: <sip:b@h>', 'CSeq: BYE', '', ''), { 'sip.bad_cseq': 1 }],
    ['CSeq number too long', crlf('BYE sip:x@y SIP/2.0', 'Call-ID: x', 'From: <sip:a@h>', 'To: <sip:b@h>', 'CSeq: 12345678901234567890 BYE', '', ''), { 'sip.bad_cseq': 1 }],
    ['HTTP request', crlf('GET / HTTP/1.1', 'Host: x', '', ''), { 'sip.bad_start_line': 1 }],
    ['HTTP response', crlf('HTTP/1.1 200 OK', '', ''), { 'sip.bad_start_line': 1 }],
    ['request line without version', crlf('INVITE sip:x@y', 'Call-ID: x', '', ''), { 'sip.bad_start_line': 1 }],
    ['request line without URI', crlf('INVITE SIP/2.0', 'Call-ID: x', '', ''), { 'sip.bad_start_line': 1 }],
    ['method is not a token', crlf('INV(TE sip:x SIP/2.0', '', ''), { 'sip.bad_start_line': 1 }],
    ['status code out of range', crlf('SIP/2.0 700 Nope', '', ''), { 'sip.bad_start_line': 1 }],
    ['status code not 3 digits', crlf('SIP/2.0 20 OK', '', ''), { 'sip.bad_start_line': 1 }],
    ['status code glued to text', crlf('SIP/2.0 200OK', '', ''), { 'sip.bad_start_line': 1 }],
    ['only CRLF (keep-alive)', Buffer.from('\r\n\r\n'), { 'sip.keepalive': 1 }],
    ['empty', Buffer.alloc(0), { 'sip.keepalive': 1 }],
  ];
  for (const [name, text, counters] of rejected) {
    it(`null: ${name}`, () => {
      const c = new Counters();
      assert.equal(parse(text, c), null);
      assert.deepEqual(c.toJSON(), counters);
    });
  }

  it('bounds outside the buffer are counted, not thrown', () => {
    const c = new Counters();
    assert.equal(parseSipMessage(INVITE, 10, INVITE.length, c), null);
    assert.equal(parseSipMessage(INVITE, -1, 5, c), null);
    assert.equal(parseSipMessage(INVITE, NaN, 5, c), null);
    assert.equal(c.get('sip.bad_bounds'), 3);
  });

  it('parses in place at an offset inside a larger buffer', () => {
    const big = Buffer.concat([Buffer.from('garbage before'), INVITE, Buffer.from('garbage after')]);
    const m = parseSipMessage(big, 14, INVITE.length, new Counters())!;
    assert.equal(m.callId, 'a84b4c76e66710@pc33.atlanta.example.com');
    assert.equal(m.body.toString(), SDP);
    // Zero-copy: the body is a view of the parsed buffer.
    assert.equal(m.body.buffer, big.buffer);
  });
});

describe('parseSipMessage: headers', () => {
  it('compact forms (RFC 3261 §7.3.3 and extensions) are stored in long form', () => {
    const m = parse(
      crlf(
        'REFER sip:x@y SIP/2.0',
        'v: SIP/2.0/TCP h;branch=z9hG4bKc',
        'f: <sip:a@h>;tag=1',
        't: <sip:b@h>',
        'i: compact-id',
        'CSeq: 1 REFER',
        'm: <sip:a@h>',
        'k: replaces',
        's: hello',
        'r: <sip:c@h>',
        'b: <sip:a@h>',
        'o: refer',
        'u: refer',
        'x: 1800',
        'y: abc',
        'a: *;audio',
        'j: *;video',
        'd: proxy',
        'e: gzip',
        'c: text/plain',
        'l: 0',
        '',
        '',
      ),
    )!;
    assert.deepEqual(
      m.headers.map((h) => h.name),
      [
        'via', 'from', 'to', 'call-id', 'cseq', 'contact', 'supported', 'subject', 'refer-to', 'referred-by', 'event',
        'allow-events', 'session-expires', 'identity', 'accept-contact', 'reject-contact', 'request-disposition',
        'content-encoding', 'content-type', 'content-length',
      ],
    );
    assert.equal(m.callId, 'compact-id');
    assert.equal(m.topViaBranch, 'z9hG4bKc');
    assert.equal(m.contentType, 'text/plain');
    assert.equal(m.header('Refer-To'), '<sip:c@h>');
    assert.equal(m.header('r'), '<sip:c@h>');
    assert.equal(m.header('R'), '<sip:c@h>');
  });

  it('header() and headerAll() take any case and the compact form', () => {
    const m = parse(INVITE)!;
    for (const n of ['call-id', 'CALL-ID', 'Call-Id', 'i', 'I']) assert.equal(m.header(n), 'a84b4c76e66710@pc33.atlanta.example.com', n);
    assert.equal(m.header('x-nothing'), undefined);
    assert.deepEqual(m.headerAll('x-nothing'), []);
    assert.deepEqual(m.headerAll('v'), ['SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8']);
  });

  it('several Via values in one header and in several headers (§7.3.1)', () => {
    const m = parse(
      crlf(
        'SIP/2.0 200 OK',
        'Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa;received=192.0.2.1, SIP/2.0/TCP b.example.com;branch=z9hG4bKb',
        'v: SIP/2.0/UDP c.example.com;branch=z9hG4bKc ,SIP/2.0/UDP d.example.com;branch="z9hG4bKd,quoted"',
        'From: <sip:a@h>;tag=1',
        'To: <sip:b@h>;tag=2',
        'Call-ID: x',
        'CSeq: 1 INVITE',
        '',
        '',
      ),
    )!;
    assert.equal(m.topViaBranch, 'z9hG4bKa');
    assert.deepEqual(m.headerAll('Via'), [
      'SIP/2.0/UDP a.example.com;branch=z9hG4bKa;received=192.0.2.1',
      'SIP/2.0/TCP b.example.com;branch=z9hG4bKb',
      'SIP/2.0/UDP c.example.com;branch=z9hG4bKc',
      'SIP/2.0/UDP d.example.com;branch="z9hG4bKd,quoted"',
    ]);
    assert.equal(m.header('via'), 'SIP/2.0/UDP a.example.com;branch=z9hG4bKa;received=192.0.2.1, SIP/2.0/TCP b.example.com;branch=z9hG4bKb');
  });

  it('list splitting respects quotes and <>, and only for list headers', () => {
    const m = parse(
      crlf(
        'INVITE sip:x@y SIP/2.0',
        'Contact: "Doe, John" <sip:jd@h;x=a,b>;expires=60, <sip:other@h>,sip:bare@h',
        'Route: <sip:p1@h;lr>,<sip:p2@h;lr>',
        'Record-Route: <sip:p3@h;lr>',
        'Record-Route: <sip:p4@h;lr>, <sip:p5@h;lr>',
        'Allow: INVITE, ACK,CANCEL ,, BYE',
        'Supported: timer, replaces',
        'Require: 100rel',
        'Date: Sat, 13 Nov 2010 23:29:00 GMT',
        'Subject: a, b',
        'Authorization: Digest username="a", realm="b", nonce="c"',
        'From: <sip:a@h>;tag=1',
        'To: <sip:b@h>',
        'Call-ID: x',
        'CSeq: 1 INVITE',
        'Via: SIP/2.0/UDP h',
        '',
        '',
      ),
    )!;
    assert.deepEqual(m.headerAll('contact'), ['"Doe, John" <sip:jd@h;x=a,b>;expires=60', '<sip:other@h>', 'sip:bare@h']);
    assert.deepEqual(m.headerAll('m'), m.headerAll('Contact'));
    assert.deepEqual(m.headerAll('route'), ['<sip:p1@h;lr>', '<sip:p2@h;lr>']);
    assert.deepEqual(m.headerAll('record-route'), ['<sip:p3@h;lr>', '<sip:p4@h;lr>', '<sip:p5@h;lr>']);
    assert.deepEqual(m.headerAll('allow'), ['INVITE', 'ACK', 'CANCEL', 'BYE']);
    assert.deepEqual(m.headerAll('k'), ['timer', 'replaces']);
    assert.deepEqual(m.headerAll('require'), ['100rel']);
    // Not lists: commas are data.
    assert.deepEqual(m.headerAll('date'), ['Sat, 13 Nov 2010 23:29:00 GMT']);
    assert.deepEqual(m.headerAll('subject'), ['a, b']);
    assert.deepEqual(m.headerAll('authorization'), ['Digest username="a", realm="b", nonce="c"']);
  });

  it('folded header lines (§7.3.1) join with one space', () => {
    const m = parse(
      crlf(
        'INVITE sip:x@y SIP/2.0',
        'Subject: I know you\'re there,',
        '         pick up the phone',
        '\t and talk to me!',
        'From:',
        '  "Alice" <sip:alice@h>',
        '  ;tag=42',
        'To: <sip:b@h>',
        'Call-ID: x',
        'CSeq:',
        ' 5',
        ' INVITE',
        'Via: SIP/2.0/UDP h;',
        ' branch=z9hG4bKfold',
        '',
        '',
      ),
    )!;
    assert.equal(m.header('subject'), "I know you're there, pick up the phone and talk to me!");
    assert.equal(m.from.display, 'Alice');
    assert.equal(m.from.tag, '42');
    assert.equal(m.cseq, 5);
    assert.equal(m.cseqMethod, 'INVITE');
    assert.equal(m.topViaBranch, 'z9hG4bKfold');
  });

  it('LF-only and mixed line ends', () => {
    const lf = Buffer.from(INVITE.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    const m = parse(lf)!;
    assert.equal(m.callId, 'a84b4c76e66710@pc33.atlanta.example.com');
    assert.equal(m.body.toString(), SDP.replace(/\r\n/g, '\n').slice(0, SDP.length));
    const mixed = Buffer.from('BYE sip:x@y SIP/2.0\nFrom: <sip:a@h>\r\nTo: <sip:b@h>\nCall-ID: mixed\r\nCSeq: 1 BYE\nVia: SIP/2.0/UDP h\r\n\nbody', 'latin1');
    const m2 = parse(mixed)!;
    assert.equal(m2.callId, 'mixed');
    assert.equal(m2.body.toString(), 'body');
  });

  it('UTF-8 display names, and ISO-8859-1 ones kept readable (counted)', () => {
    const m = parse(crlf('INVITE sip:x@y SIP/2.0', 'From: "Jürgen Groß 日本 🎧" <sip:j@h>;tag=1', 'To: Zoë <sip:z@h>', 'Call-ID: x', 'CSeq: 1 INVITE', 'Via: SIP/2.0/UDP h', '', ''))!;
    assert.equal(m.from.display, 'Jürgen Groß 日本 🎧');
    assert.equal(m.to.display, 'Zoë');
    const c = new Counters();
    const latin1 = Buffer.from('INVITE sip:x@y SIP/2.0\r\nFrom: "J\xfcrgen" <sip:j@h>;tag=1\r\nTo: <sip:z@h>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nVia: SIP/2.0/UDP h\r\n\r\n', 'latin1');
    assert.equal(parse(latin1, c)!.from.display, 'Jürgen');
    assert.equal(c.get('sip.header_not_utf8'), 1);
  });

  it('a value ending in a UTF-8 character whose last byte is 0xA0 keeps it (no String.trim)', () => {
    const m = parse(crlf('INVITE sip:x@y SIP/2.0', 'Subject: voilà', 'From: <sip:j@h>;tag=1', 'To: <sip:z@h>', 'Call-ID: x', 'CSeq: 1 INVITE', 'Via: SIP/2.0/UDP h', '', ''))!;
    assert.equal(m.header('subject'), 'voilà');
  });

  it('Content-Type: media type lower-cased, parameters kept in contentTypeFull', () => {
    const m = parse(crlf('INVITE sip:x@y SIP/2.0', 'Content-Type: Multipart/Mixed ;boundary="unique boundary"', 'From: <sip:j@h>;tag=1', 'To: <sip:z@h>', 'Call-ID: x', 'CSeq: 1 INVITE', 'Via: SIP/2.0/UDP h', '', ''))!;
    assert.equal(m.contentType, 'multipart/mixed');
    assert.equal(m.contentTypeFull, 'Multipart/Mixed ;boundary="unique boundary"');
  });
});

describe('parseSipMessage: Content-Length on UDP (§18.3, §20.14)', () => {
  const msg = (cl: string | null, body: string): Buffer =>
    crlf('MESSAGE sip:x@y SIP/2.0', 'From: <sip:j@h>;tag=1', 'To: <sip:z@h>', 'Call-ID: x', 'CSeq: 1 MESSAGE', 'Via: SIP/2.0/UDP h', ...(cl === null ? [] : [`Content-Length: ${cl}`]), '', body);
  const table: [name: string, cl: string | null, body: string, want: string, counters: Record<string, number>][] = [
    ['exact', '5', 'hello', 'hello', {}],
    ['absent: rest of the datagram', null, 'hello', 'hello', {}],
    ['zero with no body', '0', '', '', {}],
    ['shorter than the data: extra bytes ignored', '3', 'hello', 'hel', { 'sip.body_extra': 1 }],
    ['longer than the data: truncated body kept', '10', 'hello', 'hello', { 'sip.body_truncated': 1 }],
    ['huge', '99999999999999999999', 'hello', 'hello', { 'sip.body_truncated': 1 }],
    ['negative', '-5', 'hello', 'hello', { 'sip.bad_content_length': 1 }],
    ['not a number', 'abc', 'hello', 'hello', { 'sip.bad_content_length': 1 }],
    ['number with junk', '5x', 'hello', 'hello', { 'sip.bad_content_length': 1 }],
    ['empty', '', 'hello', 'hello', { 'sip.bad_content_length': 1 }],
    ['white space around', '  5  ', 'hello', 'hello', {}],
  ];
  for (const [name, cl, body, want, counters] of table) {
    it(name, () => {
      const c = new Counters();
      const m = parse(msg(cl, body), c)!;
      assert.ok(m);
      assert.equal(m.body.toString(), want);
      assert.deepEqual(c.toJSON(), counters);
    });
  }
});

describe('parseSipMessage: caps and hostile input', () => {
  const base = ['INVITE sip:x@y SIP/2.0', 'From: <sip:j@h>;tag=1', 'To: <sip:z@h>', 'Call-ID: x', 'CSeq: 1 INVITE', 'Via: SIP/2.0/UDP h'];

  it('a message over maxSize is dropped', () => {
    const c = new Counters();
    const big = crlf(...base, `X-Pad: ${'a'.repeat(70000)}`, '', '');
    assert.equal(parse(big, c), null);
    assert.equal(c.get('sip.too_large'), 1);
    assert.ok(parse(big, new Counters(), 1 << 20));
    assert.equal(parse(INVITE, c, 100), null);
    assert.equal(c.get('sip.too_large'), 2);
  });

  it('10,000 headers: dropped at the cap, in bounded time', () => {
    const c = new Counters();
    const lines = [...base];
    for (let i = 0; i < 10000; i++) lines.push(`X-H${i}: ${i}`);
    const b = crlf(...lines, '', '');
    const t0 = process.hrtime.bigint();
    assert.equal(parse(b, c, 1 << 20), null);
    assert.ok(Number(process.hrtime.bigint() - t0) < 200e6);
    assert.deepEqual(c.toJSON(), { 'sip.too_many_headers': 1 });
    // Exactly at the cap is fine.
    const ok = crlf(...base, ...Array.from({ length: 256 - 5 }, (_, i) => `X-H${i}: ${i}`), '', '');
    assert.ok(parse(ok, new Counters(), 1 << 20));
  });

  it('a 1 MB header line: the header is skipped, counted; the message survives', () => {
    const c = new Counters();
    const b = crlf(...base, `X-Huge: ${'x'.repeat(1 << 20)}`, 'X-After: yes', '', '');
    const m = parseSipMessage(b, 0, b.length, c, 4 << 20);
    assert.ok(m);
    assert.equal(m.header('x-huge'), undefined);
    assert.equal(m.header('x-after'), 'yes');
    assert.deepEqual(c.toJSON(), { 'sip.header_too_long': 1 });
    // A mandatory header that is too long makes the message untrackable.
    const c2 = new Counters();
    const b2 = crlf('INVITE sip:x@y SIP/2.0', 'From: <sip:j@h>;tag=1', 'To: <sip:z@h>', `Call-ID: ${'x'.repeat(20000)}`, 'CSeq: 1 INVITE', '', '');
    assert.equal(parse(b2, c2), null);
    assert.deepEqual(c2.toJSON(), { 'sip.header_too_long': 1, 'sip.missing_call_id': 1 });
    // Folding does not get around the cap.
    const c3 = new Counters();
    const folded = crlf(...base, 'X-Fold: a', ...Array.from({ length: 3000 }, () => ' continuation-line'), '', '');
    assert.ok(parse(folded, c3));
    assert.deepEqual(c3.toJSON(), { 'sip.header_too_long': 1 });
  });

  it('many lines without a colon are counted once per message, in linear time', () => {
    const c = new Counters();
    const b = crlf(...base, ...Array.from({ length: 20000 }, () => 'nocolon'), '', '');
    const t0 = process.hrtime.bigint();
    assert.ok(parse(b, c, 1 << 20));
    assert.ok(Number(process.hrtime.bigint() - t0) < 200e6);
    assert.deepEqual(c.toJSON(), { 'sip.bad_header_line': 20000 });
  });

  it('every cut of a valid message parses or returns null, never throws', () => {
    for (const text of [INVITE, Buffer.from(INVITE.toString('latin1').replace(/\r\n/g, '\n'), 'latin1')]) {
      const c = new Counters();
      for (let n = 0; n <= text.length; n++) {
        const m = parseSipMessage(text, 0, n, c);
        if (m !== null) {
          // Once the mandatory headers are in, their values are the full ones or a prefix.
          assert.ok('a84b4c76e66710@pc33.atlanta.example.com'.startsWith(m.callId));
          assert.ok(m.body.length <= SDP.length);
        }
      }
      // The full message is whole and the decoder still works after all the failures.
      assert.equal(parseSipMessage(text, 0, text.length, c)!.cseq, 314159);
    }
  });

  it('random bytes and random mutations never throw', () => {
    const rnd = prng(3261);
    const c = new Counters();
    for (let t = 0; t < 3000; t++) {
      const b = Buffer.alloc(Math.floor(rnd() * 600));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
      parseSipMessage(b, 0, b.length, c);
    }
    // SIP-ish alphabet: more paths reached than with uniform bytes.
    const alphabet = Buffer.from('SIP/2.0 INVITE sip:@;<>"\\,=:\r\n\t tag branch Call-ID CSeq From To Via l c i f t v 0123456789\x80\xc3\xa9\xff');
    for (let t = 0; t < 3000; t++) {
      const b = Buffer.alloc(Math.floor(rnd() * 400));
      for (let i = 0; i < b.length; i++) b[i] = alphabet[Math.floor(rnd() * alphabet.length)]!;
      parseSipMessage(b, 0, b.length, c);
    }
    for (let t = 0; t < 3000; t++) {
      const b = Buffer.from(INVITE);
      const flips = 1 + Math.floor(rnd() * 8);
      for (let k = 0; k < flips; k++) b[Math.floor(rnd() * b.length)] = alphabet[Math.floor(rnd() * alphabet.length)]!;
      const m = parseSipMessage(b, 0, b.length, c);
      if (m !== null) assert.equal(typeof m.callId, 'string');
    }
    assert.equal(parse(INVITE)!.callId, 'a84b4c76e66710@pc33.atlanta.example.com');
  });
});

describe('parseSipMessage against tshark (sngrep__aaa.pcap, every SIP datagram)', () => {
  it('Call-ID, CSeq, method/status, From/To user, host, tag and display, branch, body', () => {
    const file = 'fixtures/sngrep__aaa.pcap';
    const fields = [
      'udp.payload', 'sip.Call-ID', 'sip.CSeq.seq', 'sip.CSeq.method', 'sip.Method', 'sip.Status-Code',
      'sip.from.display.info', 'sip.from.user', 'sip.from.host', 'sip.from.tag',
      'sip.to.display.info', 'sip.to.user', 'sip.to.host', 'sip.to.tag', 'sip.Via.branch', 'sip.Content-Type', 'sip.Content-Length',
    ];
    const rows = tshark(['-r', file, '-Y', 'sip && udp', '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])])
      .trim()
      .split('\n');
    assert.equal(rows.length, 81);
    const c = new Counters();
    for (const row of rows) {
      const [hex, callId, seq, cseqMethod, method, status, fd, fu, fh, ft, td, tu, th, tt, branch, ctype, clen] = row.split('|');
      const b = Buffer.from(hex!.replace(/:/g, ''), 'hex');
      const m = parseSipMessage(b, 0, b.length, c);
      assert.ok(m, callId);
      const unq = (s: string): string => s.replace(/^"(.*)"$/, '$1');
      assert.deepEqual(
        [m.callId, m.cseq, m.cseqMethod, m.isRequest ? m.method : '', m.isRequest ? '' : String(m.status)],
        [callId, Number(seq), cseqMethod, method, status],
      );
      assert.deepEqual([m.from.display, m.from.user, m.from.host, m.from.tag], [unq(fd!), fu, fh, ft]);
      assert.deepEqual([m.to.display, m.to.user, m.to.host, m.to.tag], [unq(td!), tu, th, tt]);
      assert.equal(m.topViaBranch, branch);
      assert.equal(m.contentTypeFull, ctype);
      assert.equal(m.body.length, Number(clen || 0));
    }
    assert.deepEqual(c.toJSON(), {});
  });
});

describe('parseSipMessage: SIPREC INVITE from a real SRC (drachtio-pr55__intrado-viper-full-invite.txt)', () => {
  it('LF-only, Content-Length for the CRLF body: truncated body kept, headers read', () => {
    const b = readFileSync('fixtures/siprec/drachtio-pr55__intrado-viper-full-invite.txt');
    const c = new Counters();
    const m = parseSipMessage(b, 0, b.length, c)!;
    assert.ok(m);
    assert.equal(m.method, 'INVITE');
    assert.equal(m.callId, '6c953981285cde0446619ca30087d35a@10.106.2.10:5060');
    assert.equal(m.cseq, 102);
    assert.equal(m.from.display, 'NOCALLERID');
    assert.equal(m.from.user, 'NOCALLERID');
    assert.equal(m.from.tag, 'as13e1f4e1');
    assert.equal(m.to.user, '');
    assert.equal(m.to.host, '20.107.248.114');
    assert.equal(m.contentType, 'multipart/mixed');
    assert.equal(m.contentTypeFull, 'multipart/mixed;boundary=Itro-wXyZ-bdry');
    assert.deepEqual(m.headerAll('accept'), ['application/rs-metadata', 'application/rs-metadata-request']);
    assert.deepEqual(m.headerAll('allow'), ['INVITE', 'ACK', 'CANCEL', 'OPTIONS', 'BYE', 'UPDATE']);
    assert.equal(m.header('x-call-direction'), 'incoming');
    assert.equal(m.body.length, b.length - b.indexOf('\n\n') - 2);
    assert.deepEqual(c.toJSON(), { 'sip.body_truncated': 1 });
    // As on the wire (CRLF), Content-Length is exact.
    const wire = Buffer.from(b.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
    const c2 = new Counters();
    assert.equal(parseSipMessage(wire, 0, wire.length, c2)!.body.length, 1862);
    assert.deepEqual(c2.toJSON(), {});
  });
});
