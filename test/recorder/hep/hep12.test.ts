import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallRecorder } from '../../../recorder/call-recorder.js';
import { formatIpv4, formatIpv6, parseIpv4 } from '../../../recorder/core/address.js';
import { Counters } from '../../../recorder/core/counters.js';
import type { Packet } from '../../../recorder/core/packet.js';
import { Status } from '../../../recorder/core/status.js';
import { parseIpv6 } from '../../../recorder/calls/endpoint-key.js';
import { decodeHep12 } from '../../../recorder/hep/hep12.js';
import { HepFamily, HepPacket } from '../../../recorder/hep/hep3.js';
import { HepInput } from '../../../recorder/hep/hep-input.js';
import { Pipeline } from '../../../recorder/pipeline.js';
import { CallScenario, sdp } from '../../support/call-scenario.js';
import { prng } from '../../support/random.js';

interface V12 {
  version: 1 | 2;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto?: number;
  sec?: number;
  usec?: number;
  captId?: number;
  payload: Buffer;
}

/**
 * A HEPv1/v2 datagram as captagent and Kamailio's sipcapture send it: the 8-byte header (ports
 * big-endian), the addresses, Length = header + addresses, then for v2 the little-endian time header.
 */
function hep12(o: V12): Buffer {
  const v6 = o.src.includes(':');
  const addr = v6 ? Buffer.concat([parseIpv6(o.src)!, parseIpv6(o.dst)!]) : Buffer.alloc(8);
  if (!v6) {
    addr.writeUInt32BE(parseIpv4(o.src), 0);
    addr.writeUInt32BE(parseIpv4(o.dst), 4);
  }
  const h = Buffer.alloc(8);
  h[0] = o.version;
  h[1] = 8 + addr.length;
  h[2] = v6 ? 10 : 2;
  h[3] = o.proto ?? 17;
  h.writeUInt16BE(o.sport, 4);
  h.writeUInt16BE(o.dport, 6);
  const t = Buffer.alloc(o.version === 2 ? 10 : 0);
  if (o.version === 2) {
    t.writeUInt32LE(o.sec ?? 0, 0);
    t.writeUInt32LE(o.usec ?? 0, 4);
    t.writeUInt16LE(o.captId ?? 0, 8);
  }
  return Buffer.concat([h, addr, t, o.payload]);
}

const SIP = Buffer.from('OPTIONS sip:b@example.com SIP/2.0\r\nCall-ID: v2\r\nContent-Length: 0\r\n\r\n');

describe('decodeHep12 (HEPv1/v2)', () => {
  it('v2 over IPv4: addresses, ports, little-endian time and capture id, payload in place', () => {
    const buf = hep12({ version: 2, src: '10.1.2.3', dst: '192.0.2.9', sport: 5062, dport: 5060, sec: 1_700_000_123, usec: 456_789, captId: 2001, payload: SIP });
    const h = new HepPacket();
    assert.equal(decodeHep12(buf, 0, buf.length, 0, h), Status.Ok);
    assert.deepEqual(
      [h.family, formatIpv4(h.src4), formatIpv4(h.dst4), h.srcPort, h.dstPort, h.ipProto, h.tsSec, h.tsUsec, h.captureId, h.payloadOff, h.payloadLen, h.authKeyLen, h.seq],
      [HepFamily.IPv4, '10.1.2.3', '192.0.2.9', 5062, 5060, 17, 1_700_000_123, 456_789, 2001, 26, SIP.length, 0, -1],
    );
    assert.ok(h.payloadBuf === buf, 'zero-copy');
  });

  it('v2 over IPv6 and v1 (stamped with the arrival time)', () => {
    const h = new HepPacket();
    const v6 = hep12({ version: 2, src: '2001:db8::1', dst: '2001:db8::2', sport: 5060, dport: 5070, proto: 6, sec: 5, usec: 6, payload: SIP });
    assert.equal(decodeHep12(v6, 0, v6.length, 0, h), Status.Ok);
    assert.deepEqual([h.family, formatIpv6(h.src6, 0), formatIpv6(h.dst6, 0), h.ipProto, h.tsSec, h.tsUsec, h.payloadOff], [HepFamily.IPv6, '2001:db8::1', '2001:db8::2', 6, 5, 6, 50]);
    const v1 = hep12({ version: 1, src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, payload: SIP });
    assert.equal(decodeHep12(v1, 0, v1.length, 1_700_000_000.25, h), Status.Ok);
    assert.deepEqual([h.tsSec, h.tsUsec, h.captureId, h.payloadOff, h.payloadLen], [1_700_000_000, 250_000, 0, 16, SIP.length]);
  });

  it('hostile input: a status, never a throw; every prefix of a valid packet is Ok or Truncated', () => {
    const good = hep12({ version: 2, src: '10.1.2.3', dst: '192.0.2.9', sport: 5062, dport: 5060, sec: 1, payload: SIP });
    const h = new HepPacket();
    const bad = (mut: (b: Buffer) => void): Status => {
      const b = Buffer.from(good);
      mut(b);
      return decodeHep12(b, 0, b.length, 0, h);
    };
    assert.equal(bad((b) => (b[1] = 40)), Status.Malformed, 'Length of an IPv6 header on IPv4');
    assert.equal(bad((b) => (b[1] = 255)), Status.Malformed, 'Length far past the packet');
    assert.equal(bad((b) => (b[2] = 7)), Status.Malformed, 'unknown family');
    assert.equal(bad((b) => (b[0] = 4)), Status.Malformed, 'version');
    assert.equal(bad((b) => b.writeUInt32LE(1_000_000, 20)), Status.Malformed, 'microseconds out of range');
    for (let n = 0; n <= good.length; n++) {
      const st = decodeHep12(good, 0, n, 0, h);
      assert.ok(n < 26 ? st === Status.Truncated : st === Status.Ok, `prefix ${n}: ${st}`);
    }
    const rnd = prng(7);
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256)));
      if (b.length > 0) b[0] = 1 + Math.floor(rnd() * 2);
      decodeHep12(b, 0, b.length, 0, h);
    }
  });
});

describe('HepInput with HEPv1/v2', () => {
  it('feeds v1/v2 into the same path as HEP3; bad ones are counted hep.v2_*', () => {
    const counters = new Counters();
    const got: string[] = [];
    const input = new HepInput({
      counters,
      authKey: '',
      inject: (p: Packet) => got.push(`${formatIpv4(p.src4)}:${p.srcPort} ${formatIpv4(p.dst4)}:${p.dstPort} ${p.frame!.tsSec}.${p.frame!.tsNsec} ${p.ipProto} ${p.payloadLen}`),
    });
    const v2 = hep12({ version: 2, src: '10.1.2.3', dst: '192.0.2.9', sport: 5062, dport: 5060, sec: 1_700_000_123, usec: 456_789, payload: SIP });
    const v1 = hep12({ version: 1, src: '10.1.2.3', dst: '192.0.2.9', sport: 5062, dport: 5060, payload: SIP });
    assert.equal(input.onPacket(v2, 0, v2.length, '127.0.0.1'), -1);
    input.onPacket(v1, 0, v1.length, '127.0.0.1', 1_700_000_200.5);
    const lying = Buffer.from(v2);
    lying[1] = 200;
    input.onPacket(lying, 0, lying.length, '127.0.0.1');
    input.onPacket(v2, 0, 20, '127.0.0.1');
    input.onPacket(Buffer.from([2]), 0, 1, '127.0.0.1');
    assert.deepEqual(got, [`10.1.2.3:5062 192.0.2.9:5060 1700000123.456789000 17 ${SIP.length}`, `10.1.2.3:5062 192.0.2.9:5060 1700000200.500000000 17 ${SIP.length}`]);
    assert.deepEqual(Object.fromEntries([...counters.entries()]), { 'hep.v2_packets': 2, 'hep.v2_malformed': 1, 'hep.v2_truncated': 2 });
    // With a key required, v1/v2 (which cannot carry one) are refused like keyless HEP3.
    const keyed = new HepInput({ counters, authKey: 'k', inject: () => assert.fail('injected') });
    keyed.onPacket(v2, 0, v2.length, '127.0.0.1');
    assert.equal(counters.get('hep.auth_failed'), 1);
  });

  it('a SIP call sent as HEPv2 becomes a call at the time the v2 headers say', async () => {
    const a = { ip: '10.0.0.10', sipPort: 5060 };
    const b = { ip: '10.0.0.20', sipPort: 5060 };
    const sc = new CallScenario('v2-call@hep', a, b);
    const counters = new Counters();
    const recorder = new CallRecorder({ counters });
    const pipeline = new Pipeline(counters, recorder);
    const input = new HepInput({ counters, authKey: '', inject: (p) => pipeline.inject(p) });
    const msgs: [number, 'caller' | 'callee', string][] = [
      [0, 'caller', sc.request('INVITE', 'caller', { body: sdp({ ip: a.ip, port: 4000 }), cseq: 1 })],
      [0.5, 'callee', sc.response(200, 'OK', 'callee', 1, 'INVITE', { toTag: 'callee-tag', body: sdp({ ip: b.ip, port: 6000 }) })],
      [3, 'caller', sc.request('BYE', 'caller', { toTag: 'callee-tag', cseq: 2 })],
    ];
    for (const [t, from, text] of msgs) {
      const [s, d] = from === 'caller' ? [a, b] : [b, a];
      const buf = hep12({ version: 2, src: s.ip, dst: d.ip, sport: 5060, dport: 5060, sec: 1_700_000_000 + Math.floor(t), usec: Math.round((t % 1) * 1e6), payload: Buffer.from(text) });
      input.onPacket(buf, 0, buf.length, '127.0.0.1');
    }
    const [rec] = await recorder.finish(pipeline.now, 'end');
    assert.ok(rec);
    assert.equal(rec.callId, 'v2-call@hep');
    assert.equal(rec.endReason, 'bye');
    assert.ok(rec.start.startsWith('2023-11-14T22:13:20'), rec.start);
  });
});
