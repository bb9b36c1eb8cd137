import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counters } from '../../../recorder/core/counters.js';
import { paramValue, parseParams, newParams, mediaType } from '../../../recorder/sip/header-params.js';
import { parseNameAddr, pctDecode, uriUserHost } from '../../../recorder/sip/name-addr.js';
import { splitList } from '../../../recorder/sip/syntax.js';
import { prng } from '../../support/random.js';

type Want = { display: string; uri: string; user: string; host: string; tag: string; params: Record<string, string> };

describe('parseNameAddr (RFC 3261 §20.10, §25.1)', () => {
  const table: [value: string, want: Want, counters?: Record<string, number>][] = [
    [
      '"Alice Smith" <sip:+15551234@host;user=phone>;tag=abc',
      { display: 'Alice Smith', uri: 'sip:+15551234@host;user=phone', user: '+15551234', host: 'host', tag: 'abc', params: { tag: 'abc' } },
    ],
    ['Bob <sip:bob@host>', { display: 'Bob', uri: 'sip:bob@host', user: 'bob', host: 'host', tag: '', params: {} }],
    ['Bob Jr <sip:bob@host>', { display: 'Bob Jr', uri: 'sip:bob@host', user: 'bob', host: 'host', tag: '', params: {} }],
    ['<sip:bob@host>', { display: '', uri: 'sip:bob@host', user: 'bob', host: 'host', tag: '', params: {} }],
    // §20.10: parameters after a bare URI belong to the header.
    ['sip:x@y;tag=1', { display: '', uri: 'sip:x@y', user: 'x', host: 'y', tag: '1', params: { tag: '1' } }],
    ['sip:x@y ; tag = 1 ; lr', { display: '', uri: 'sip:x@y', user: 'x', host: 'y', tag: '1', params: { tag: '1', lr: '' } }],
    ['<tel:+15551234567;phone-context=+1>;tag=t', { display: '', uri: 'tel:+15551234567;phone-context=+1', user: '+15551234567', host: '', tag: 't', params: { tag: 't' } }],
    ['tel:+15551234567;tag=t', { display: '', uri: 'tel:+15551234567', user: '+15551234567', host: '', tag: 't', params: { tag: 't' } }],
    ['"Say \\"hi\\" \\\\ bye" <sip:q@h>', { display: 'Say "hi" \\ bye', uri: 'sip:q@h', user: 'q', host: 'h', tag: '', params: {} }],
    ['"Jürgen 日本" <sips:j@EXAMPLE.com:5061;transport=tls>;TAG=Xy', { display: 'Jürgen 日本', uri: 'sips:j@EXAMPLE.com:5061;transport=tls', user: 'j', host: 'example.com', tag: 'Xy', params: { tag: 'Xy' } }],
    ['"" <sip:e@h>', { display: '', uri: 'sip:e@h', user: 'e', host: 'h', tag: '', params: {} }],
    ['"a;b<c>" <sip:e@h>;x="q;u\\"o";tag=2', { display: 'a;b<c>', uri: 'sip:e@h', user: 'e', host: 'h', tag: '2', params: { x: 'q;u"o', tag: '2' } }],
    ['<sip:+1-212-555-1212:1234@gateway.com;user=phone>', { display: '', uri: 'sip:+1-212-555-1212:1234@gateway.com;user=phone', user: '+1-212-555-1212', host: 'gateway.com', tag: '', params: {} }],
    ['<sip:+15551234;npdi;rn=+15550000@h;user=phone>', { display: '', uri: 'sip:+15551234;npdi;rn=+15550000@h;user=phone', user: '+15551234', host: 'h', tag: '', params: {} }],
    ['<sip:%2B1555%20x@h>', { display: '', uri: 'sip:%2B1555%20x@h', user: '+1555 x', host: 'h', tag: '', params: {} }],
    ['<sip:alice@[2001:db8::1]:5060>', { display: '', uri: 'sip:alice@[2001:db8::1]:5060', user: 'alice', host: '[2001:db8::1]', tag: '', params: {} }],
    ['<sip:192.0.2.1:5060;transport=tcp>', { display: '', uri: 'sip:192.0.2.1:5060;transport=tcp', user: '', host: '192.0.2.1', tag: '', params: {} }],
    ['<sip:a@h?Replaces=x%40y>', { display: '', uri: 'sip:a@h?Replaces=x%40y', user: 'a', host: 'h', tag: '', params: {} }],
    ['<sip:h?Replaces=x@y>', { display: '', uri: 'sip:h?Replaces=x@y', user: '', host: 'h', tag: '', params: {} }],
    ['<urn:service:sos>', { display: '', uri: 'urn:service:sos', user: '', host: '', tag: '', params: {} }],
    ['Anonymous <sip:anonymous@anonymous.invalid>;tag=9fxced76sl', { display: 'Anonymous', uri: 'sip:anonymous@anonymous.invalid', user: 'anonymous', host: 'anonymous.invalid', tag: '9fxced76sl', params: { tag: '9fxced76sl' } }],
    ['*', { display: '', uri: '*', user: '', host: '', tag: '', params: {} }],
    ['<alice@host:5060>', { display: '', uri: 'alice@host:5060', user: 'alice', host: 'host', tag: '', params: {} }],
    ['', { display: '', uri: '', user: '', host: '', tag: '', params: {} }],
    // Tolerated, counted.
    ['"Alice" <sip:a@h', { display: 'Alice', uri: 'sip:a@h', user: 'a', host: 'h', tag: '', params: {} }, { 'sip.bad_name_addr': 1 }],
    ['"Alice sip:a@h', { display: 'Alice sip:a@h', uri: '', user: '', host: '', tag: '', params: {} }, { 'sip.bad_name_addr': 1 }],
    ['"Alice" sip:a@h;tag=3', { display: 'Alice', uri: 'sip:a@h', user: 'a', host: 'h', tag: '3', params: { tag: '3' } }, { 'sip.bad_name_addr': 1 }],
  ];
  for (const [value, want, counters = {}] of table) {
    it(JSON.stringify(value), () => {
      const c = new Counters();
      const got = parseNameAddr(value, c);
      assert.deepEqual({ ...got, params: { ...got.params } }, want);
      assert.deepEqual(c.toJSON(), counters);
    });
  }

  it('params inherit nothing: wire names cannot reach Object.prototype', () => {
    const p = parseNameAddr('<sip:a@h>;tag=1').params;
    assert.equal(p['constructor'], undefined);
    assert.equal(typeof p['toString'], 'undefined');
    assert.equal('hasOwnProperty' in p, false);
    const q = parseNameAddr('<sip:a@h>;__proto__=x;constructor=y').params;
    assert.deepEqual(Object.keys(q), ['__proto__', 'constructor']);
    assert.equal(q['__proto__'], 'x');
    assert.equal(q['constructor'], 'y');
    assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(q)), null);
  });

  it('random input never throws', () => {
    const rnd = prng(20);
    const alphabet = '"\\<>;=,:@ sip:tel:%2Btag\t[]?éx';
    for (let t = 0; t < 5000; t++) {
      let s = '';
      const n = Math.floor(rnd() * 60);
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      const r = parseNameAddr(s, new Counters());
      assert.equal(typeof r.tag, 'string');
    }
  });
});

describe('uriUserHost and pctDecode', () => {
  const table: [uri: string, user: string, host: string][] = [
    ['sip:alice@atlanta.com', 'alice', 'atlanta.com'],
    ['SIP:Alice@Atlanta.COM', 'Alice', 'atlanta.com'],
    ['sips:bob@h:5061', 'bob', 'h'],
    ['sip:alice:secret@h;transport=tcp', 'alice', 'h'],
    ['sip:h', '', 'h'],
    ['tel:+358-555-1234567;postd=pp22', '+358-555-1234567', ''],
    ['mailto:a@b', 'a', 'b'],
    ['urn:uuid:f81d4fae', '', ''],
  ];
  for (const [uri, user, host] of table) {
    it(uri, () => assert.deepEqual(uriUserHost(uri), { user, host }));
  }
  it('pctDecode keeps malformed or non-UTF-8 escapes as sent', () => {
    assert.equal(pctDecode('a%2'), 'a%2');
    assert.equal(pctDecode('%zz'), '%zz');
    assert.equal(pctDecode('%FF'), '%FF');
    assert.equal(pctDecode('%C3%A9t%C3%A9'), 'été');
    assert.equal(pctDecode('日本%20x'), '日本 x');
  });
});

describe('header parameters and lists', () => {
  it('paramValue finds a parameter without building a record', () => {
    const v = 'SIP/2.0/UDP h:5060 ; received=1.2.3.4;BRANCH = z9hG4bK77 ;rport';
    assert.equal(paramValue(v, 0, v.length, 'branch'), 'z9hG4bK77');
    assert.equal(paramValue(v, 0, v.length, 'rport'), '');
    assert.equal(paramValue(v, 0, v.length, 'maddr'), undefined);
    const ct = 'multipart/mixed; boundary="a;b=c"';
    assert.equal(paramValue(ct, 0, ct.length, 'boundary'), 'a;b=c');
  });
  it('parseParams: first occurrence wins, names lower-cased', () => {
    const p = newParams();
    const v = ';Tag=1;tag=2;EXPIRES=60;q="0.5"';
    assert.equal(parseParams(v, 0, v.length, p), 3);
    assert.deepEqual({ ...p }, { tag: '1', expires: '60', q: '0.5' });
  });
  it('mediaType', () => {
    assert.equal(mediaType('Application/SDP'), 'application/sdp');
    assert.equal(mediaType(' multipart/mixed ; boundary=x'), 'multipart/mixed');
    assert.equal(mediaType('application / sdp'), 'application/sdp');
  });
  it('splitList respects quotes, escapes and <>', () => {
    const out: string[] = [];
    splitList('"a,\\"b" <sip:x@h;p=1,2>, c , ,d', out);
    assert.deepEqual(out, ['"a,\\"b" <sip:x@h;p=1,2>', 'c', 'd']);
    const out2: string[] = [];
    splitList('"unterminated, quote', out2);
    assert.deepEqual(out2, ['"unterminated, quote']);
  });
});
