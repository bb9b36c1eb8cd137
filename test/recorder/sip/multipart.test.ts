import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Counters } from '../../../recorder/core/counters.js';
import { parseSipMessage } from '../../../recorder/sip/message.js';
import { findBodyPart, splitMultipart, type BodyPart } from '../../../recorder/sip/multipart.js';
import { prng } from '../../support/random.js';

const fixture = (name: string): Buffer => readFileSync(`fixtures/siprec/${name}`);
const crlf = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'latin1');
const summary = (parts: BodyPart[]): [string, number][] => parts.map((p) => [p.contentType, p.body.length]);

describe('splitMultipart on SIPREC bodies from real SRCs (fixtures/siprec)', () => {
  const table: [file: string, boundary: string, types: string[], counters: Record<string, number>][] = [
    // Three parts (SDP, metadata, ISUP GTD), no close delimiter.
    ['drachtio__cisco-cube.txt', 'uniqueBoundary', ['application/sdp', 'application/rs-metadata+xml', 'application/gtd'], { 'sip.multipart_unterminated': 1 }],
    // Close delimiter followed by a space (transport padding).
    ['drachtio__oracle-acme.txt', 'unique-boundary-1', ['application/sdp', 'application/rs-metadata+xml'], {}],
    ['drachtio__sonus-ribbon.txt', 'sonus-content-delim', ['application/sdp', 'application/rs-metadata+xml'], { 'sip.multipart_unterminated': 1 }],
    ['drachtio__sems-procomm.txt', '2CD2A2E9', ['application/sdp', 'application/rs-metadata'], { 'sip.multipart_unterminated': 1 }],
    ['telecats__audiocodes-1.txt', 'boundary_ac1607', ['application/sdp', 'application/rs-metadata'], {}],
    // Metadata before SDP.
    ['ecgroup__broadworks-v4-origcall.txt', 'UniqueBroadWorksBoundary', ['application/rs-metadata+xml', 'application/sdp'], {}],
    // Mangled: `Content-Type:application/ +xml` (the stray space is dropped) and bogus part Content-Length.
    ['drachtio__broadworks-tags-stripped.txt', 'UniqueBroadWorksBoundary', ['application/+xml', 'application/sdp'], {}],
  ];
  for (const [file, boundary, types, counters] of table) {
    for (const eol of ['LF as stored', 'CRLF as on the wire']) {
      it(`${file} (${eol})`, () => {
        const raw = fixture(file);
        const body = eol === 'LF as stored' ? raw : crlf(raw.toString('latin1'));
        const c = new Counters();
        const parts = splitMultipart(`multipart/mixed;boundary=${boundary}`, body, c);
        assert.deepEqual(
          parts.map((p) => p.contentType),
          types,
        );
        assert.deepEqual(c.toJSON(), counters);
        const sdp = parts.find((p) => p.contentType === 'application/sdp')!;
        assert.ok(sdp.body.toString('latin1').startsWith('v=0'));
        // The CRLF before a delimiter belongs to it (RFC 2046 §5.1.1): bodies do not end in "--".
        for (const p of parts) assert.ok(!p.body.toString('latin1').includes(`--${boundary}`));
        // Views into the body: no copies.
        for (const p of parts) assert.equal(p.body.buffer, body.buffer);
      });
    }
  }

  it('part headers are kept, names lower-case (Content-Disposition before Content-Type)', () => {
    const parts = splitMultipart('multipart/mixed;boundary=uniqueBoundary', fixture('drachtio__cisco-cube.txt'));
    assert.deepEqual(parts[0]!.headers, [
      { name: 'content-disposition', value: 'session;handling=required' },
      { name: 'content-type', value: 'application/sdp' },
    ]);
    assert.equal(parts[0]!.contentTypeFull, 'application/sdp');
    assert.ok(parts[0]!.body.toString().endsWith('a=label:2\n'));
    assert.ok(parts[1]!.body.toString().startsWith('<?xml'));
    assert.ok(parts[1]!.body.toString().endsWith('</recording>\n'));
  });

  it('the complete Intrado INVITE: findBodyPart gets SDP and metadata', () => {
    const b = fixture('drachtio-pr55__intrado-viper-full-invite.txt');
    const c = new Counters();
    const m = parseSipMessage(b, 0, b.length, c)!;
    const sdp = findBodyPart(m, 'application/sdp', c)!;
    assert.ok(sdp.body.toString().startsWith('v=0\n'));
    assert.ok(sdp.body.toString().endsWith('a=label:1\n'));
    const meta = findBodyPart(m, 'Application/RS-Metadata', c)!;
    assert.ok(meta.body.toString().includes('<recording'));
    assert.equal(findBodyPart(m, 'application/rs-metadata+xml', c), undefined);
    assert.deepEqual(c.toJSON(), { 'sip.body_truncated': 1 });
  });
});

describe('splitMultipart: RFC 2046 §5.1 cases', () => {
  const table: [name: string, ct: string, body: string, parts: [string, string][], counters?: Record<string, number>][] = [
    [
      'preamble and epilogue ignored, CRLF',
      'multipart/mixed; boundary=b1',
      'This is the preamble.\r\n--b1\r\nContent-Type: text/plain\r\n\r\none\r\n--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n--b1--\r\nepilogue\r\n',
      [['text/plain', 'one'], ['application/sdp', 'v=0\r\n']],
    ],
    [
      'quoted boundary with a space and a colon',
      'multipart/mixed; boundary="gc0p4Jq0M:2Yt08j 34c0p"',
      '--gc0p4Jq0M:2Yt08j 34c0p\r\nContent-type: text/plain\r\n\r\nx\r\n--gc0p4Jq0M:2Yt08j 34c0p--',
      [['text/plain', 'x']],
    ],
    [
      'a part without headers is text/plain',
      'multipart/mixed;boundary=b',
      '--b\r\n\r\nno headers\r\n--b\n\nlf only\n--b--',
      [['text/plain', 'no headers'], ['text/plain', 'lf only']],
    ],
    [
      'padding after delimiters; boundary text inside a line or longer is not a delimiter',
      'multipart/mixed;boundary=b',
      '--b  \t\r\nContent-Type: text/plain\r\n\r\nsee --b here\r\n--bb not one\r\n--b \r\nContent-Type: text/html\r\n\r\n<p>\r\n--b-- \r\n',
      [['text/plain', 'see --b here\r\n--bb not one'], ['text/html', '<p>']],
    ],
    [
      'empty part body',
      'multipart/mixed;boundary=b',
      '--b\r\nContent-Type: application/sdp\r\n\r\n\r\n--b--',
      [['application/sdp', '']],
    ],
    [
      'headers with no empty line: empty body',
      'multipart/mixed;boundary=b',
      '--b\r\nContent-Type: application/sdp\r\n--b--',
      [['application/sdp', '']],
    ],
    [
      'neither headers nor empty line: all body, counted',
      'multipart/mixed;boundary=b',
      '--b\r\nv=0\r\no=x\r\n--b--',
      [['text/plain', 'v=0\r\no=x']],
      { 'sip.bad_header_line': 2, 'sip.multipart_bad_part': 1 },
    ],
    [
      'nested multipart/alternative: leaves in document order',
      'multipart/mixed;boundary=outer',
      '--outer\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\nContent-Type: text/plain\r\n\r\nA\r\n--inner\r\nContent-Type: text/html\r\n\r\nB\r\n--inner--\r\n--outer\r\nContent-Type: application/rs-metadata+xml\r\n\r\n<x/>\r\n--outer--\r\n',
      [['application/sdp', 'v=0'], ['text/plain', 'A'], ['text/html', 'B'], ['application/rs-metadata+xml', '<x/>']],
    ],
    ['no boundary parameter', 'multipart/mixed', '--b\r\n\r\nx\r\n--b--', [], { 'sip.multipart_no_boundary': 1 }],
    ['empty boundary parameter', 'multipart/mixed; boundary=""', '--\r\n\r\nx\r\n----', [], { 'sip.multipart_no_boundary': 1 }],
    ['no delimiter in the body', 'multipart/mixed;boundary=b', 'just text', [], { 'sip.multipart_no_delimiter': 1 }],
    ['delimiter at the very end', 'multipart/mixed;boundary=b', 'x\r\n--b', [], { 'sip.multipart_unterminated': 1 }],
    ['unterminated last part', 'multipart/mixed;boundary=b', '--b\r\nContent-Type: text/plain\r\n\r\ncut here', [['text/plain', 'cut here']], { 'sip.multipart_unterminated': 1 }],
  ];
  for (const [name, ct, body, want, counters = {}] of table) {
    it(name, () => {
      const c = new Counters();
      const parts = splitMultipart(ct, Buffer.from(body, 'latin1'), c);
      assert.deepEqual(
        parts.map((p) => [p.contentType, p.body.toString('latin1')]),
        want,
      );
      assert.deepEqual(c.toJSON(), counters);
    });
  }
});

describe('splitMultipart: hostile input is bounded and counted', () => {
  it('deeply nested multipart stops at maxDepth', () => {
    // 50 levels, each a multipart part holding the next.
    let body = 'Content-Type: text/plain\r\n\r\nleaf';
    for (let d = 49; d >= 0; d--) body = `Content-Type: multipart/mixed;boundary=b${d}\r\n\r\n--b${d}\r\n${body}\r\n--b${d}--`;
    const top = body.slice(body.indexOf('\r\n\r\n') + 4);
    const c = new Counters();
    const parts = splitMultipart('multipart/mixed;boundary=b0', Buffer.from(top), c);
    assert.equal(parts.length, 1);
    assert.equal(parts[0]!.contentType, 'multipart/mixed');
    assert.deepEqual(c.toJSON(), { 'sip.multipart_too_deep': 1 });
  });

  it('100,000 parts stop at maxParts', () => {
    const body = '--b\r\n\r\nx\r\n'.repeat(100000) + '--b--';
    const c = new Counters();
    const t0 = process.hrtime.bigint();
    const parts = splitMultipart('multipart/mixed;boundary=b', Buffer.from(body), c);
    assert.ok(Number(process.hrtime.bigint() - t0) < 200e6);
    assert.equal(parts.length, 32);
    assert.deepEqual(c.toJSON(), { 'sip.multipart_too_many_parts': 1 });
  });

  it('a part with too many headers is skipped', () => {
    const hdrs = Array.from({ length: 100 }, (_, i) => `X-${i}: y`).join('\r\n');
    const c = new Counters();
    const parts = splitMultipart('multipart/mixed;boundary=b', Buffer.from(`--b\r\n${hdrs}\r\n\r\nbody\r\n--b\r\nContent-Type: text/plain\r\n\r\nok\r\n--b--`), c);
    assert.deepEqual(summary(parts), [['text/plain', 2]]);
    assert.deepEqual(c.toJSON(), { 'sip.multipart_bad_part': 1 });
  });

  it('an absurd boundary parameter is refused', () => {
    const c = new Counters();
    assert.deepEqual(splitMultipart(`multipart/mixed;boundary=${'x'.repeat(1000)}`, Buffer.from('--x'), c), []);
    assert.deepEqual(c.toJSON(), { 'sip.multipart_no_boundary': 1 });
  });

  it('every cut and random mutations of a SIPREC body never throw', () => {
    const body = crlf(fixture('drachtio__oracle-acme.txt').toString('latin1'));
    const c = new Counters();
    for (let n = 0; n <= body.length; n++) {
      for (const p of splitMultipart('multipart/mixed;boundary=unique-boundary-1', body.subarray(0, n), c)) assert.ok(p.body.length <= n);
    }
    const rnd = prng(2046);
    const alphabet = Buffer.from('-\r\n:;=" unique-boundary-1 Content-Type multipart/mixed;boundary=x\x00\xff');
    for (let t = 0; t < 2000; t++) {
      const b = Buffer.from(body);
      for (let k = 0; k < 6; k++) b[Math.floor(rnd() * b.length)] = alphabet[Math.floor(rnd() * alphabet.length)]!;
      splitMultipart('multipart/mixed;boundary=unique-boundary-1', b, c);
    }
    assert.equal(splitMultipart('multipart/mixed;boundary=unique-boundary-1', body).length, 2);
  });
});

describe('findBodyPart', () => {
  const msg = (ct: string | null, body: string): Buffer =>
    Buffer.from(
      ['INVITE sip:x@y SIP/2.0', 'From: <sip:a@h>;tag=1', 'To: <sip:b@h>', 'Call-ID: c', 'CSeq: 1 INVITE', 'Via: SIP/2.0/UDP h', ...(ct === null ? [] : [`Content-Type: ${ct}`]), 'Content-Disposition: session', '', body].join('\r\n'),
    );
  const find = (b: Buffer, type: string, c = new Counters()): BodyPart | undefined => findBodyPart(parseSipMessage(b, 0, b.length, c)!, type, c);

  it('a plain body of that type, with the message Content-* headers', () => {
    const p = find(msg('application/SDP', 'v=0\r\n'), 'application/sdp')!;
    assert.equal(p.body.toString(), 'v=0\r\n');
    assert.deepEqual(p.headers.map((h) => h.name), ['content-type', 'content-disposition']);
  });
  it('another type, or no body', () => {
    assert.equal(find(msg('text/plain', 'v=0\r\n'), 'application/sdp'), undefined);
    assert.equal(find(msg('application/sdp', ''), 'application/sdp'), undefined);
  });
  it('SDP without Content-Type (seen from gateways) is taken, counted', () => {
    const c = new Counters();
    assert.ok(find(msg(null, 'v=0\r\no=x\r\n'), 'application/sdp', c));
    assert.deepEqual(c.toJSON(), { 'sip.sdp_without_content_type': 1 });
    assert.equal(find(msg(null, 'hello'), 'application/sdp'), undefined);
  });
  it('works without counters (two arguments)', () => {
    const b = msg('multipart/mixed;boundary=z', '--z\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--z');
    const m = parseSipMessage(b, 0, b.length, new Counters())!;
    assert.equal(findBodyPart(m, 'application/sdp')!.body.toString(), 'v=0');
  });
});
