import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatIpv4, parseIpv4 } from '../../../recorder/core/address.js';
import { Status } from '../../../recorder/core/status.js';
import { decodeHep3, encodeHep3, HepFamily, HepPacket, HepProtoType, hep3Size, OUR_VENDOR_ID, OurChunk } from '../../../recorder/hep/hep3.js';
import { writePcap } from '../../support/capture-writer.js';
import { ethernet, ipv4, udp } from '../../support/packets.js';
import { prng } from '../../support/random.js';
import { tshark } from '../../support/tshark.js';
import { tempDir } from '../../support/temp-dir.js';

const SIP = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n');

function sample(): HepPacket {
  const p = new HepPacket();
  p.family = HepFamily.IPv4;
  p.ipProto = 17;
  p.src4 = parseIpv4('10.0.0.1');
  p.dst4 = parseIpv4('192.168.1.2');
  p.srcPort = 5060;
  p.dstPort = 5080;
  p.tsSec = 1700000000;
  p.tsUsec = 123456;
  p.protoType = HepProtoType.SIP;
  p.captureId = 2001;
  p.payloadBuf = SIP;
  p.payloadOff = 0;
  p.payloadLen = SIP.length;
  return p;
}

/** Independent chunk walk (HEP3 spec: 6-byte header, chunks of vendor/type/length incl. 6). */
function chunks(b: Buffer): Map<string, Buffer> {
  assert.equal(b.toString('latin1', 0, 4), 'HEP3');
  assert.equal(b.readUInt16BE(4), b.length);
  const m = new Map<string, Buffer>();
  for (let p = 6; p < b.length; ) {
    const len = b.readUInt16BE(p + 4);
    m.set(`${b.readUInt16BE(p)}/${b.readUInt16BE(p + 2)}`, b.subarray(p + 6, p + len));
    p += len;
  }
  return m;
}

const view = (p: HepPacket): Record<string, unknown> => ({
  family: p.family,
  ipProto: p.ipProto,
  src: p.family === HepFamily.IPv6 ? p.src6.toString('hex') : p.src4,
  dst: p.family === HepFamily.IPv6 ? p.dst6.toString('hex') : p.dst4,
  srcPort: p.srcPort,
  dstPort: p.dstPort,
  tsSec: p.tsSec,
  tsUsec: p.tsUsec,
  protoType: p.protoType,
  captureId: p.captureId,
  payload: p.payloadBuf.toString('hex', p.payloadOff, p.payloadOff + p.payloadLen),
  auth: p.authKeyBuf.toString('hex', p.authKeyOff, p.authKeyOff + p.authKeyLen),
  corr: p.correlationBuf.toString('hex', p.correlationOff, p.correlationOff + p.correlationLen),
  seq: p.seq,
});

describe('HEPv3 encode/decode', () => {
  it('writes the generic chunks the spec defines', () => {
    const p = sample();
    p.seq = 7;
    const out = Buffer.alloc(2000);
    const n = encodeHep3(p, out);
    assert.equal(n, hep3Size(p));
    const c = chunks(out.subarray(0, n));
    assert.deepEqual(c.get('0/1'), Buffer.from([2]));
    assert.deepEqual(c.get('0/2'), Buffer.from([17]));
    assert.deepEqual(c.get('0/3'), Buffer.from([10, 0, 0, 1]));
    assert.deepEqual(c.get('0/4'), Buffer.from([192, 168, 1, 2]));
    assert.equal(c.get('0/7')?.readUInt16BE(0), 5060);
    assert.equal(c.get('0/8')?.readUInt16BE(0), 5080);
    assert.equal(c.get('0/9')?.readUInt32BE(0), 1700000000);
    assert.equal(c.get('0/10')?.readUInt32BE(0), 123456);
    assert.deepEqual(c.get('0/11'), Buffer.from([1]));
    assert.equal(c.get('0/12')?.readUInt32BE(0), 2001);
    assert.deepEqual(c.get('0/15'), SIP);
    assert.equal(c.get(`${OUR_VENDOR_ID}/${OurChunk.Sequence}`)?.readUInt32BE(0), 7);
    // Our chunk types stay clear of the generic ones, for decoders that ignore the vendor id.
    for (const t of Object.values(OurChunk)) assert.ok(t > 0xff && !c.has(`0/${t}`));
  });

  it('round-trips random packets (IPv4 and IPv6, optional chunks)', () => {
    const rnd = prng(3);
    const r32 = (): number => Math.floor(rnd() * 0x100000000);
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
    const out = Buffer.alloc(70000);
    for (let k = 0; k < 500; k++) {
      const p = new HepPacket();
      p.family = rnd() < 0.5 ? HepFamily.IPv4 : HepFamily.IPv6;
      p.ipProto = rnd() < 0.5 ? 17 : 6;
      if (p.family === HepFamily.IPv4) {
        p.src4 = r32();
        p.dst4 = r32();
      } else {
        bytes(16).copy(p.src6);
        bytes(16).copy(p.dst6);
      }
      p.srcPort = r32() & 0xffff;
      p.dstPort = r32() & 0xffff;
      p.tsSec = r32();
      p.tsUsec = Math.floor(rnd() * 1e6);
      p.protoType = [1, 4, 5][k % 3]!;
      p.captureId = r32();
      const pl = Buffer.concat([Buffer.alloc(3), bytes(Math.floor(rnd() * 1500))]);
      p.payloadBuf = pl;
      p.payloadOff = 3;
      p.payloadLen = pl.length - 3;
      if (rnd() < 0.5) {
        p.authKeyBuf = Buffer.from('secret');
        p.authKeyLen = 6;
      }
      if (rnd() < 0.5) {
        p.correlationBuf = Buffer.from('call-id-123@host');
        p.correlationLen = p.correlationBuf.length;
      }
      if (rnd() < 0.5) p.seq = r32();
      const n = encodeHep3(p, out);
      assert.ok(n > 0);
      const q = new HepPacket();
      assert.equal(decodeHep3(out, 0, n, q), Status.Ok);
      assert.deepEqual(view(q), view(p));
      assert.equal(q.unknownChunks, 0);
    }
  });

  it('refuses to encode into a short buffer or past 64 KiB, without throwing', () => {
    const p = sample();
    assert.equal(encodeHep3(p, Buffer.alloc(hep3Size(p) - 1)), -1);
    const big = Buffer.alloc(70000);
    p.payloadBuf = big;
    p.payloadLen = big.length;
    assert.equal(hep3Size(p), -1);
    assert.equal(encodeHep3(p, Buffer.alloc(80000)), -1);
  });

  it('vectors: bad magic, short lengths, unknown chunks skipped, compressed payload unsupported', () => {
    const q = new HepPacket();
    const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
    const cases: [string, Status][] = [
      ['48455033 0006', Status.Ok],
      ['48455032 0006', Status.Malformed],
      ['48455033 0005', Status.Malformed],
      ['48455033 0010 0000 0001 0007 02', Status.Truncated],
      ['48455033 000d 0000 0001 0007 02', Status.Ok],
      ['48455033 000e 0000 0001 0008 0200', Status.Malformed],
      ['48455033 000c 0000 0001 0005', Status.Malformed],
      ['48455033 000d 1234 0001 0007 02', Status.Ok],
      ['48455033 000d 0000 0010 0007 02', Status.Unsupported],
    ];
    for (const [s, want] of cases) assert.equal(decodeHep3(h(s), 0, h(s).length, q), want, s);
    const u = h('48455033 000d 1234 0001 0007 02');
    decodeHep3(u, 0, u.length, q);
    assert.equal(q.unknownChunks, 1);
  });

  it('never throws on random bytes or any prefix', () => {
    const rnd = prng(9060);
    const q = new HepPacket();
    const out = Buffer.alloc(2000);
    const p = sample();
    p.seq = 1;
    const n = encodeHep3(p, out);
    for (let i = 0; i < n; i++) assert.notEqual(decodeHep3(out, 0, i, q), Status.Ok, `prefix ${i}`);
    for (let k = 0; k < 5000; k++) {
      const b = Buffer.alloc(6 + Math.floor(rnd() * 80));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
      b.write('HEP3', 0, 'latin1');
      if (rnd() < 0.7) b.writeUInt16BE(b.length, 4);
      decodeHep3(b, 0, b.length, q);
    }
  });

  it('survives a pcap round trip through tshark as UDP/9060 (tshark 4.0 here has no HEP dissector)', () => {
    const dir = tempDir('hep3-');
    try {
      const file = join(dir, 'hep.pcap');
      const out = Buffer.alloc(2000);
      const pkts: Buffer[] = [];
      for (let i = 0; i < 3; i++) {
        const p = sample();
        p.srcPort = 5060 + i;
        p.seq = i;
        pkts.push(Buffer.from(out.subarray(0, encodeHep3(p, out))));
      }
      writePcap(
        file,
        pkts.map((h, i) => ({ tsSec: 1700000000 + i, tsNsec: 0, data: ethernet(ipv4('10.9.9.9', '10.8.8.8', 17, udp(40000, 9060, h))) })),
        { linkType: 1 },
      );
      const lines = tshark(['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'udp.dstport', '-e', 'udp.payload']).trim().split('\n');
      assert.equal(lines.length, 3);
      lines.forEach((l, i) => {
        const [port, payload] = l.split('|');
        assert.equal(port, '9060');
        const b = Buffer.from(payload ?? '', 'hex');
        const q = new HepPacket();
        assert.equal(decodeHep3(b, 0, b.length, q), Status.Ok);
        assert.equal(formatIpv4(q.src4), '10.0.0.1');
        assert.equal(formatIpv4(q.dst4), '192.168.1.2');
        assert.equal(q.srcPort, 5060 + i);
        assert.equal(q.dstPort, 5080);
        assert.equal(q.tsSec, 1700000000);
        assert.equal(q.tsUsec, 123456);
        assert.equal(q.seq, i);
        assert.deepEqual(b.subarray(q.payloadOff, q.payloadOff + q.payloadLen), SIP);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
