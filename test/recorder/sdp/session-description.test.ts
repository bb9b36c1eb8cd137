import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Counters } from '../../../recorder/core/counters.js';
import { parseSdp, type MediaDescription, type SessionDescription } from '../../../recorder/sdp/session-description.js';
import { prng } from '../../support/random.js';
import { tshark } from '../../support/tshark.js';

const sdp = (...lines: string[]): string => lines.join('\r\n') + '\r\n';
const HEAD = ['v=0', 'o=- 1 2 IN IP4 192.0.2.1', 's=-', 't=0 0'];

function parsed(text: string | Buffer, limits?: Parameters<typeof parseSdp>[2]): { d: SessionDescription; c: Record<string, number> } {
  const counters = new Counters();
  const d = parseSdp(text, counters, limits);
  assert.ok(d, 'parseSdp returned null');
  return { d, c: counters.toJSON() };
}
const only = (text: string): MediaDescription => {
  const { d } = parsed(text);
  assert.equal(d.media.length, 1);
  return d.media[0]!;
};
const codecs = (m: MediaDescription): string[] => m.payloads.map((p) => `${p.pt} ${p.codec}/${p.clockRate}/${p.channels}${p.fmtp ? ' ' + p.fmtp : ''}`);

/** SDP bodies of a capture (single-segment SIP messages), by frame number, as tshark finds them. */
function capturedSdps(path: string): Map<number, string> {
  const out = tshark(['-r', path, '-Y', 'sdp', '-T', 'fields', '-e', 'frame.number', '-e', 'udp.payload', '-e', 'tcp.payload']);
  const m = new Map<number, string>();
  for (const line of out.trim().split('\n')) {
    const [n, u, t] = line.split('\t');
    const msg = Buffer.from((u || t || '').replace(/:/g, ''), 'hex').toString('utf8');
    m.set(Number(n), msg.slice(msg.indexOf('\r\n\r\n') + 4));
  }
  return m;
}

/** tshark's SDP fields for the same frames, to cross-check m= and c= and the rtpmaps. */
function tsharkSdpFields(path: string): Map<number, { media: string[]; ports: number[]; addrs: string[]; mime: string[]; rates: number[] }> {
  const out = tshark(['-r', path, '-Y', 'sdp', '-T', 'fields', '-e', 'frame.number', '-e', 'sdp.media.media', '-e', 'sdp.media.port', '-e', 'sdp.connection_info.address', '-e', 'sdp.mime.type', '-e', 'sdp.sample_rate']);
  const m = new Map<number, { media: string[]; ports: number[]; addrs: string[]; mime: string[]; rates: number[] }>();
  const list = (s: string | undefined): string[] => (s ? s.split(',') : []);
  for (const line of out.trim().split('\n')) {
    const [n, media, ports, addrs, mime, rates] = line.split('\t');
    m.set(Number(n), { media: list(media), ports: list(ports).map(Number), addrs: list(addrs), mime: list(mime), rates: list(rates).map(Number) });
  }
  return m;
}

/** The application/sdp part of a SIPREC multipart body (RFC 7866 §6.1). */
function sdpPart(body: string): string {
  const at = body.search(/content-type:\s*application\/sdp/i);
  assert.ok(at >= 0);
  const rest = body.slice(at);
  const start = rest.search(/\r?\n\r?\n/);
  const part = rest.slice(start).replace(/^\s+/, '');
  const end = part.search(/^--/m);
  return end >= 0 ? part.slice(0, end) : part;
}

describe('parseSdp on SDP from real captures', () => {
  const files = ['fixtures/sngrep__aaa.pcap', 'fixtures/heplify__sip_ipv6_udp.pcap', 'fixtures/sipp-siprec__siprec_dual_channel_udp.pcap', 'fixtures/sngrep__ipip.pcap', 'fixtures/heplify__sip_ipv4_tcp.pcap'];
  for (const path of files) {
    it(`${path}: m= and c= and rtpmaps agree with tshark`, () => {
      const bodies = capturedSdps(path);
      const theirs = tsharkSdpFields(path);
      assert.ok(bodies.size > 0);
      for (const [frame, body] of bodies) {
        const { d, c } = parsed(body);
        const t = theirs.get(frame)!;
        assert.deepEqual(d.media.map((m) => m.type), t.media, `frame ${frame}`);
        assert.deepEqual(d.media.map((m) => m.port), t.ports, `frame ${frame}`);
        for (const m of d.media) assert.ok(t.addrs.map((a) => a.replace(/^fe80:0:0:0:/, 'fe80::')).includes(m.connection), `frame ${frame} ${m.connection}`);
        t.mime.forEach((mime, i) =>
          assert.ok(d.media.some((m) => m.payloads.some((p) => p.codec.toLowerCase() === mime.toLowerCase() && p.clockRate === t.rates[i])), `frame ${frame} ${mime}`),
        );
        assert.deepEqual(Object.keys(c).filter((k) => k !== 'sdp.unknown_payload'), [], `frame ${frame}`);
      }
    });
  }

  it('sngrep__aaa.pcap: an INVITE offer and a 183 answer', () => {
    const bodies = capturedSdps('fixtures/sngrep__aaa.pcap');
    const offer = parsed(bodies.get(223)!).d;
    assert.deepEqual(offer.origin, { username: 'SIPPS', sessionId: '105015165', version: '105015162', address: '192.168.1.2' });
    assert.deepEqual(codecs(offer.media[0]!), ['0 pcmu/8000/1', '8 pcma/8000/1', '97 iLBC/8000/1 mode=20', '2 G726-32/8000/1', '3 GSM/8000/1']);
    const answer = parsed(bodies.get(620)!).d.media[0]!;
    assert.deepEqual(
      [answer.connection, answer.port, answer.rtcpPort, answer.rtcpAddress, answer.ptime, answer.direction, answer.hold, answer.proto],
      ['212.242.33.36', 40392, 40393, '212.242.33.36', 20, 'sendrecv', false, 'RTP/AVP'],
    );
    assert.deepEqual(codecs(answer), ['8 PCMA/8000/1', '0 PCMU/8000/1']);
  });

  it('heplify__sip_ipv6_udp.pcap: c=IN IP6, written in RFC 5952 form', () => {
    const { d } = parsed(capturedSdps('fixtures/heplify__sip_ipv6_udp.pcap').get(1)!);
    assert.equal(d.connection, 'fe80::21a:a0ff:fe07:32e0');
    assert.equal(d.origin.address, 'fe80::21a:a0ff:fe07:32e0');
    assert.deepEqual([d.media[0]!.connection, d.media[0]!.rtcpAddress, d.media[0]!.port], ['fe80::21a:a0ff:fe07:32e0', 'fe80::21a:a0ff:fe07:32e0', 5008]);
  });

  it('sipp-siprec__siprec_dual_channel_udp.pcap: SRS answer with labels, recvonly, G.722 at 8000', () => {
    const { d } = parsed(capturedSdps('fixtures/sipp-siprec__siprec_dual_channel_udp.pcap').get(3)!);
    assert.deepEqual(
      d.audio.map((m) => [m.index, m.label, m.port, m.direction, m.hold, codecs(m)]),
      [
        [0, '1', 23832, 'recvonly', false, ['9 G722/8000/1']],
        [1, '2', 22716, 'recvonly', false, ['9 G722/8000/1']],
      ],
    );
  });

  it('sngrep__ipip.pcap: opus, session id beyond 2^53 kept exactly', () => {
    const { d } = parsed(capturedSdps('fixtures/sngrep__ipip.pcap').get(1)!);
    assert.equal(d.origin.sessionId, '8566248303013635582');
    assert.equal(d.origin.version, '8175253998610074627');
    assert.deepEqual(codecs(d.media[0]!).slice(0, 3), ['0 PCMU/8000/1', '111 OPUS/48000/2 useinbandfec=1;usedtx=1', '109 OPUS/16000/1 useinbandfec=1;usedtx=1']);
    assert.equal(d.media[0]!.payloads.length, 9);
  });

  it('heplify__sip_ipv4_tcp.pcap: static CN (PT 13) without an rtpmap comes from RFC 3551', () => {
    const { d } = parsed(capturedSdps('fixtures/heplify__sip_ipv4_tcp.pcap').get(3)!);
    assert.deepEqual(codecs(d.media[0]!), ['8 PCMA/8000/1', '13 CN/8000/1', '101 telephone-event/8000/1 0-15,16']);
  });
});

describe('parseSdp on SIPREC offers (fixtures/siprec)', () => {
  const read = (name: string): SessionDescription => parsed(sdpPart(readFileSync(`fixtures/siprec/${name}`, 'utf8'))).d;
  const view = (d: SessionDescription): [string, number, string, string, boolean][] =>
    d.media.map((m) => [m.label, m.port, m.connection, m.direction, m.hold]);

  it('Oracle/Acme: large numeric labels, session-level c= only', () => {
    assert.deepEqual(view(read('drachtio__oracle-acme.txt')), [
      ['16777227', 20106, '192.168.50.140', 'sendonly', true],
      ['16777228', 20110, '192.168.50.140', 'sendonly', true],
    ]);
  });
  it('Oracle/Acme for Avaya: a static PT without its rtpmap', () => {
    const d = read('drachtio-pr30__oracle-acme-avaya-ucid.txt');
    assert.equal(d.origin.address, '10.89.88.243');
    assert.equal(d.connection, '10.89.88.244');
    assert.deepEqual(codecs(d.media[1]!), ['8 PCMA/8000/1', '101 telephone-event/8000/1']);
  });
  it('Sonus: media-level c= only, a=label before a=rtpmap', () => {
    const d = read('drachtio__sonus-ribbon.txt');
    assert.equal(d.connection, '');
    assert.deepEqual(view(d), [
      ['1', 48932, '172.16.169.132', 'sendonly', true],
      ['2', 48926, '172.16.169.132', 'sendonly', true],
    ]);
  });
  it('Cisco CUBE: inactive streams (recording starts on hold)', () => {
    const d = read('drachtio__cisco-cube-inactive-sdp.txt');
    assert.deepEqual(view(d), [
      ['1', 19254, '192.168.1.2', 'inactive', true],
      ['2', 19236, '192.168.1.2', 'inactive', true],
    ]);
    assert.deepEqual(codecs(d.media[0]!), ['0 PCMU/8000/1', '101 telephone-event/8000/1 0-16', '19 CN/8000/1']);
    assert.equal(d.media[0]!.ptime, 20);
    assert.deepEqual(view(read('drachtio__cisco-cube.txt')).map((v) => v[0]), ['1', '2']);
  });
  it('OpenSIPS: no c= and no t= at all', () => {
    const counters = new Counters();
    const d = parseSdp(sdpPart(readFileSync('fixtures/siprec/drachtio__opensips-connectel-1.txt', 'utf8')), counters)!;
    assert.deepEqual(view(d), [
      ['1', 35011, '', 'sendonly', true],
      ['2', 35012, '', 'sendonly', true],
    ]);
    assert.equal(counters.get('sdp.no_connection'), 2);
    assert.deepEqual(codecs(d.media[0]!), ['0 PCMU/8000/1', '8 PCMA/8000/1', '3 GSM/8000/1', '101 telephone-event/8000/1 0-16']);
  });
  it('SEMS: non-numeric labels, a=direction:both ignored', () => {
    assert.deepEqual(view(read('drachtio__sems-procomm.txt')), [
      ['a_leg', 12654, '89.185.131.7', 'sendonly', true],
      ['b_leg', 12686, '89.185.131.7', 'sendonly', true],
    ]);
  });
  it('Avaya SBCE and AudioCodes', () => {
    assert.deepEqual(read('drachtio__avaya-sbce.txt').media.map((m) => [m.label, m.ptime, m.connection]), [
      ['10', 20, '10.201.1.168'],
      ['20', 20, '10.201.1.168'],
    ]);
    const ac = read('telecats__audiocodes-1.txt');
    assert.deepEqual(codecs(ac.media[1]!), ['8 PCMA/8000/1', '101 telephone-event/8000/1 0-15,16']);
    assert.deepEqual(ac.media.map((m) => m.label), ['1', '2']);
  });
});

describe('parseSdp attributes', () => {
  it('candidates: RFC 8839 host/srflx/relay with raddr/rport, and MS-ICE draft-6 lines', () => {
    const { d, c } = parsed(
      sdp(
        ...HEAD,
        'c=IN IP4 10.0.0.1',
        'm=audio 50000 RTP/SAVPF 111',
        'a=rtpmap:111 opus/48000/2',
        'a=candidate:1 1 UDP 2130706431 10.0.0.1 50000 typ host',
        'a=candidate:2 1 udp 1694498815 203.0.113.7 61000 typ srflx raddr 10.0.0.1 rport 50000 generation 0',
        'a=candidate:3 1 UDP 16777215 198.51.100.9 3478 typ relay raddr 203.0.113.7 rport 61000',
        'a=candidate:4 1 TCP 1518280447 2001:db8:0:0::5 9 typ host tcptype active',
        'a=candidate:7ZGdahbpw2hx 1 Ev6ML8Hz9qdNiwZKnmoLXw UDP 0.830 192.0.2.10 13346',
        'a=candidate:7ZGdahbpw2hx 2 Ev6ML8Hz9qdNiwZKnmoLXw TCP-PASS 0.190 192.0.2.10 13347',
        'a=candidate:garbage',
        'a=candidate:5 1 UDP 1 10.0.0.1 70000 typ host',
      ),
    );
    const m = d.media[0]!;
    assert.deepEqual(m.candidates, [
      { foundation: '1', component: 1, transport: 'UDP', priority: 2130706431, ip: '10.0.0.1', port: 50000, type: 'host' },
      { foundation: '2', component: 1, transport: 'udp', priority: 1694498815, ip: '203.0.113.7', port: 61000, type: 'srflx', raddr: '10.0.0.1', rport: 50000 },
      { foundation: '3', component: 1, transport: 'UDP', priority: 16777215, ip: '198.51.100.9', port: 3478, type: 'relay', raddr: '203.0.113.7', rport: 61000 },
      { foundation: '4', component: 1, transport: 'TCP', priority: 1518280447, ip: '2001:db8::5', port: 9, type: 'host' },
      { foundation: '7ZGdahbpw2hx', component: 1, transport: 'UDP', priority: 830, ip: '192.0.2.10', port: 13346, type: '' },
      { foundation: '7ZGdahbpw2hx', component: 2, transport: 'TCP-PASS', priority: 190, ip: '192.0.2.10', port: 13347, type: '' },
    ]);
    assert.deepEqual([c['sdp.ms_ice_candidate'], c['sdp.bad_candidate']], [2, 2]);
    assert.equal(m.crypto, true); // SAVPF profile
  });

  it('candidates are capped per m= line', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `a=candidate:${i} 1 UDP ${i} 10.0.0.1 ${1000 + i} typ host`);
    const { d, c } = parsed(sdp(...HEAD, 'c=IN IP4 10.0.0.1', 'm=audio 1000 RTP/AVP 0', ...lines), { maxCandidates: 10 });
    assert.equal(d.media[0]!.candidates.length, 10);
    assert.equal(c['sdp.too_many_candidates'], 90);
  });

  it('hold variants', () => {
    const dir = (session: string[], media: string[], c = 'c=IN IP4 10.0.0.1', m = 'm=audio 4000 RTP/AVP 0'): [string, boolean] => {
      const x = only(sdp(...HEAD, ...session, c, m, ...media));
      return [x.direction, x.hold];
    };
    assert.deepEqual(dir([], []), ['sendrecv', false]);
    assert.deepEqual(dir([], ['a=sendonly']), ['sendonly', true]);
    assert.deepEqual(dir([], ['a=inactive']), ['inactive', true]);
    assert.deepEqual(dir([], ['a=recvonly']), ['recvonly', false]);
    assert.deepEqual(dir(['a=sendonly'], []), ['sendonly', true]); // session level inherited
    assert.deepEqual(dir(['a=sendonly'], ['a=sendrecv']), ['sendrecv', false]); // media level wins
    assert.deepEqual(dir([], [], 'c=IN IP4 0.0.0.0'), ['sendrecv', true]); // RFC 2543 hold
    assert.deepEqual(dir([], [], 'c=IN IP6 ::'), ['sendrecv', true]);
    assert.deepEqual(dir([], [], 'c=IN IP4 10.0.0.1', 'm=audio 0 RTP/AVP 0'), ['sendrecv', true]); // port 0
  });

  it('rtcp: port+1, a=rtcp with and without an address, rtcp-mux', () => {
    const r = (...a: string[]): unknown[] => {
      const m = only(sdp(...HEAD, 'c=IN IP4 10.0.0.1', 'm=audio 4000 RTP/AVP 0', ...a));
      return [m.rtcpPort, m.rtcpAddress, m.rtcpMux];
    };
    assert.deepEqual(r(), [4001, '10.0.0.1', false]);
    assert.deepEqual(r('a=rtcp:5555'), [5555, '10.0.0.1', false]);
    assert.deepEqual(r('a=rtcp:53020 IN IP4 126.16.64.4'), [53020, '126.16.64.4', false]);
    assert.deepEqual(r('a=rtcp:53020 IN IP6 2001:DB8:0:0:0:0:0:1'), [53020, '2001:db8::1', false]);
    assert.deepEqual(r('a=rtcp-mux', 'a=rtcp:4000'), [4000, '10.0.0.1', true]);
    assert.deepEqual(r('a=rtcp-mux'), [4001, '10.0.0.1', true]);
    const counters = new Counters();
    parseSdp(sdp(...HEAD, 'c=IN IP4 10.0.0.1', 'm=audio 4000 RTP/AVP 0', 'a=rtcp:x'), counters);
    assert.equal(counters.get('sdp.bad_rtcp'), 1);
  });

  it('session-level vs media-level c=, multicast suffixes, IPv6', () => {
    const { d } = parsed(
      sdp(...HEAD, 'c=IN IP4 224.2.1.1/127/3', 'm=audio 4000 RTP/AVP 0', 'm=audio 4002 RTP/AVP 0', 'c=IN IP4 10.9.9.9', 'm=video 4004 RTP/AVP 31', 'c=IN IP6 FF15::101/3'),
    );
    assert.equal(d.connection, '224.2.1.1');
    assert.deepEqual(d.media.map((m) => m.connection), ['224.2.1.1', '10.9.9.9', 'ff15::101']);
    assert.deepEqual(d.audio.map((m) => m.index), [0, 1]);
    assert.deepEqual(codecs(d.media[2]!), ['31 H261/90000/0']);
  });

  it('m= forms: port/count, non-RTP protocols, rejected streams', () => {
    const { d } = parsed(
      sdp(...HEAD, 'c=IN IP4 10.0.0.1', 'm=audio 49170/2 RTP/AVP 0', 'm=image 0 udptl t38', 'm=application 9 TCP/MRCPv2 1', 'm=image 4006 udptl t38', 'a=T38FaxVersion:0'),
    );
    assert.deepEqual(
      d.media.map((m) => [m.type, m.port, m.portCount, m.proto, m.payloads.length, m.hold, m.rtcpPort]),
      [
        ['audio', 49170, 2, 'RTP/AVP', 1, false, 49171],
        ['image', 0, 1, 'udptl', 0, true, 0],
        ['application', 9, 1, 'TCP/MRCPv2', 0, false, 10],
        ['image', 4006, 1, 'udptl', 0, false, 4007],
      ],
    );
  });

  it('payload formats: rtpmap, channels, fmtp, duplicates, unknown dynamic, bad PTs', () => {
    const counters = new Counters();
    const d = parseSdp(
      sdp(
        ...HEAD,
        'c=IN IP4 10.0.0.1',
        'm=audio 4000 RTP/AVP 96 0 97 98 200 x 18 9',
        'a=rtpmap:96 L16/16000/2',
        'a=rtpmap:96 PCMU/8000',
        'a=fmtp:18 annexb=no',
        'a=rtpmap:98 speex',
        'a=rtpmap:9 G722/8000',
        'a=ptime:30',
        'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:32',
        'a=mid:audio',
      ),
      counters,
    )!;
    const m = d.media[0]!;
    assert.deepEqual(codecs(m), ['96 L16/16000/2', '0 PCMU/8000/1', '97 /0/1', '98 speex/0/1', '18 G729/8000/1 annexb=no', '9 G722/8000/1']);
    assert.deepEqual([m.ptime, m.crypto, m.mid], [30, true, 'audio']);
    assert.deepEqual([counters.get('sdp.unknown_payload'), counters.get('sdp.bad_payload_type'), counters.get('sdp.bad_rtpmap')], [1, 2, 1]);
  });

  it('session-level ptime and direction as fallbacks; label and mid default to empty', () => {
    const m = only(sdp(...HEAD, 'a=ptime:20.0', 'a=inactive', 'c=IN IP4 10.0.0.1', 'm=audio 4000 RTP/AVP 8'));
    assert.deepEqual([m.ptime, m.direction, m.label, m.mid, m.crypto, m.candidates.length], [20, 'inactive', '', '', false, 0]);
  });
});

describe('parseSdp robustness', () => {
  it('bounds the number of m= lines (1,000 given, 64 kept)', () => {
    const lines = Array.from({ length: 1000 }, (_, i) => [`m=audio ${2000 + 2 * i} RTP/AVP 0`, `a=label:${i}`]).flat();
    const { d, c } = parsed(sdp(...HEAD, 'c=IN IP4 10.0.0.1', ...lines));
    assert.equal(d.media.length, 64);
    assert.equal(d.media[63]!.label, '63');
    assert.equal(c['sdp.too_many_media'], 936);
    const few = parsed(sdp(...HEAD, 'c=IN IP4 10.0.0.1', ...lines), { maxMedia: 2 });
    assert.equal(few.d.media.length, 2);
  });

  it('bounds the bytes parsed', () => {
    const text = sdp(...HEAD, 'c=IN IP4 10.0.0.1', 'm=audio 4000 RTP/AVP 0', ...Array.from({ length: 5000 }, (_, i) => `a=x-filler:${i}`), 'm=audio 4002 RTP/AVP 0');
    for (const input of [text, Buffer.from(text)]) {
      const { d, c } = parsed(input, { maxBytes: 4096 });
      assert.equal(d.media.length, 1);
      assert.equal(c['sdp.too_large'], 1);
    }
  });

  it('LF-only, indented and odd lines; a bad m= keeps its index', () => {
    const counters = new Counters();
    const d = parseSdp('v=0\n  o=- 1 1 IN IP4 10.0.0.1\nc=IN IP4 10.0.0.1\nthis is not sdp\nM=audio 1 RTP/AVP 0\nm=audio x RTP/AVP 0\nm=audio 4000 RTP/AVP 0\nc=IN  IP4\n', counters)!;
    assert.deepEqual(d.media.map((m) => [m.index, m.type, m.port, m.connection]), [
      [0, 'audio', 0, '10.0.0.1'],
      [1, 'audio', 4000, '10.0.0.1'],
    ]);
    assert.deepEqual([counters.get('sdp.bad_line'), counters.get('sdp.bad_media_line'), counters.get('sdp.bad_connection')], [2, 1, 1]);
    assert.equal(d.origin.address, '10.0.0.1');
  });

  it('null for what is not SDP; oddities counted', () => {
    const counters = new Counters();
    assert.equal(parseSdp('', counters), null);
    assert.equal(parseSdp('hello world\r\n', counters), null);
    assert.equal(parseSdp(Buffer.from('<xml/>'), counters), null);
    assert.equal(counters.get('sdp.not_sdp'), 3);
    const d = parseSdp('m=audio 4000 RTP/AVP 0\r\n', counters)!;
    assert.equal(d.media.length, 1);
    assert.deepEqual([counters.get('sdp.no_version'), counters.get('sdp.no_origin'), counters.get('sdp.no_connection')], [1, 1, 1]);
    parseSdp('v=0\r\no=only three\r\n', counters);
    assert.equal(counters.get('sdp.bad_origin'), 1);
  });

  it('a throw inside the parse is counted as sdp.parse_error, never raised', () => {
    const counters = new Counters();
    const evil = {
      length: 10,
      toString(): string {
        throw new Error('boom');
      },
    } as unknown as Buffer;
    assert.equal(parseSdp(evil, counters), null);
    assert.equal(counters.get('sdp.parse_error'), 1);
  });

  it('never throws on random bytes or mutated SDP, and stays fast on long lines', () => {
    const rnd = prng(8866);
    const base = Buffer.from(capturedOffer());
    const counters = new Counters();
    for (let i = 0; i < 3000; i++) {
      let b: Buffer;
      if (i % 2 === 0) {
        b = Buffer.from(Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)));
      } else {
        b = Buffer.from(base);
        for (let k = 0; k < 1 + Math.floor(rnd() * 8); k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      }
      parseSdp(b, counters);
    }
    assert.equal(counters.get('sdp.parse_error'), 0);
    const t0 = process.hrtime.bigint();
    for (const prefix of ['a=candidate:', 'a=rtpmap:', 'a=fmtp:1 ', 'a=rid:', 'a=imageattr:', 'a=ssrc-group:', 'a=simulcast: ', 'm=', 'c=IN IP4 ']) {
      parseSdp(sdp(...HEAD, 'm=audio 1 RTP/AVP 0', prefix + ' 1'.repeat(30000)), counters);
      parseSdp(sdp(...HEAD, 'm=audio 1 RTP/AVP 0', prefix + 'a'.repeat(60000)), counters);
    }
    assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 2000);
  });
});

function capturedOffer(): string {
  return sdp(...HEAD, 'c=IN IP4 10.0.0.1', 'm=audio 4000 RTP/AVP 0 8 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=candidate:1 1 UDP 2130706431 10.0.0.1 4000 typ host', 'a=rtcp:4001 IN IP4 10.0.0.1', 'a=sendrecv', 'a=label:1');
}
