import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Status } from '../../../recorder/core/status.js';
import { decodeRtpHeader, RtpExtensionProfile, RtpHeader } from '../../../recorder/rtp/header.js';
import { prng } from '../../support/random.js';
import { tshark } from '../../support/tshark.js';
import { readRtp } from './capture-rtp.js';
import { encodeRtp, type RtpFields } from './rtp-builder.js';

const decode = (b: Buffer, h = new RtpHeader(), truncated = false): Status => decodeRtpHeader(b, 0, b.length, h, truncated);
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Fields of a decoded header as an encoder input, to compare round trips. */
function fieldsOf(h: RtpHeader, buf: Buffer): RtpFields {
  const f: RtpFields = {
    pt: h.pt,
    seq: h.seq,
    ts: h.timestamp,
    ssrc: h.ssrc,
    marker: h.marker,
    csrcs: Array.from(h.csrcs.subarray(0, h.csrcCount)),
    payload: Buffer.from(buf.subarray(h.payloadOff, h.payloadOff + h.payloadLen)),
  };
  if (h.extension) f.ext = { profile: h.extProfile, data: Buffer.from(buf.subarray(h.extOff, h.extOff + h.extLen)) };
  if (h.padLen > 0) f.pad = h.padLen;
  return f;
}

describe('decodeRtpHeader (RFC 3550 §5.1)', () => {
  it('decodes a G.711 packet from sipp__g711a.pcap', () => {
    // tshark -r fixtures/sipp__g711a.pcap -c 1 -T fields -e udp.payload (first 16 bytes shown)
    const b = Buffer.concat([hex('80 08 6a 5b 00 00 00 a0 de e0 ee 8f'), Buffer.alloc(160, 0xd5)]);
    const h = new RtpHeader();
    assert.equal(decode(b, h), Status.Ok);
    assert.deepEqual(
      [h.version, h.padding, h.extension, h.marker, h.pt, h.seq, h.timestamp, h.ssrc, h.csrcCount, h.payloadOff, h.payloadLen],
      [2, false, false, false, 8, 0x6a5b, 160, 0xdee0ee8f, 0, 12, 160],
    );
  });

  it('reads every CSRC at 12 + 4i', () => {
    const csrcs = Array.from({ length: 15 }, (_, i) => (0x01020304 * (i + 1)) >>> 0);
    const b = encodeRtp({ pt: 0, seq: 1, ts: 2, ssrc: 3, csrcs, payload: Buffer.from('abcd') });
    const h = new RtpHeader();
    assert.equal(decode(b, h), Status.Ok);
    assert.equal(h.csrcCount, 15);
    assert.deepEqual(Array.from(h.csrcs), csrcs);
    assert.equal(h.payloadOff, 12 + 60);
    assert.equal(b.toString('latin1', h.payloadOff, h.payloadOff + h.payloadLen), 'abcd');
  });

  it('skips RFC 8285 one-byte and two-byte extensions by their length', () => {
    for (const profile of [RtpExtensionProfile.OneByte, RtpExtensionProfile.TwoByte | 0x3, 0x1234]) {
      const data = hex('10 aa 22 bb cc dd 00 00');
      const b = encodeRtp({ pt: 111, seq: 9, ts: 9, ssrc: 9, csrcs: [7], ext: { profile, data }, payload: Buffer.from('xyz') });
      const h = new RtpHeader();
      assert.equal(decode(b, h), Status.Ok);
      assert.equal(h.extProfile, profile);
      assert.equal(h.extOff, 12 + 4 + 4);
      assert.equal(h.extLen, 8);
      assert.equal(h.payloadOff, 12 + 4 + 4 + 8);
      assert.equal(h.payloadLen, 3);
    }
  });

  it('strips padding and rejects impossible pad counts', () => {
    const h = new RtpHeader();
    const ok = encodeRtp({ pt: 0, seq: 1, ts: 1, ssrc: 1, payload: Buffer.from('hello'), pad: 3 });
    assert.equal(decode(ok, h), Status.Ok);
    assert.equal(h.padLen, 3);
    assert.equal(h.payloadLen, 5);
    const onlyPad = encodeRtp({ pt: 0, seq: 1, ts: 1, ssrc: 1, pad: 4 });
    assert.equal(decode(onlyPad, h), Status.Ok);
    assert.equal(h.payloadLen, 0);
    const zero = Buffer.from(ok);
    zero[zero.length - 1] = 0;
    assert.equal(decode(zero, h), Status.Malformed);
    const tooBig = Buffer.from(ok);
    tooBig[tooBig.length - 1] = 9;
    assert.equal(decode(tooBig, h), Status.Malformed);
    const noRoom = encodeRtp({ pt: 0, seq: 1, ts: 1, ssrc: 1 });
    noRoom[0] = 0xa0;
    assert.equal(decode(noRoom, h), Status.Malformed);
    // Cut by the snaplen: the last byte is not the count, padding is left in the payload.
    assert.equal(decode(tooBig, h, true), Status.Ok);
    assert.equal(h.padLen, 0);
    assert.equal(h.payloadLen, 8);
  });

  it('separates truncated from malformed', () => {
    const table: [string, Buffer, Status][] = [
      ['empty', Buffer.alloc(0), Status.Truncated],
      ['11 bytes', Buffer.alloc(11, 0x80), Status.Truncated],
      ['version 0', hex('00 00 00 01 00 00 00 00 00 00 00 00'), Status.Malformed],
      ['version 1', hex('40 00 00 01 00 00 00 00 00 00 00 00'), Status.Malformed],
      ['version 3', hex('c0 00 00 01 00 00 00 00 00 00 00 00'), Status.Malformed],
      ['CC=2 without the CSRCs', hex('82 00 00 01 00 00 00 00 00 00 00 00 00 00 00 01'), Status.Truncated],
      ['X without the extension header', hex('90 00 00 01 00 00 00 00 00 00 00 00 be de'), Status.Truncated],
      ['extension length beyond the packet', hex('90 00 00 01 00 00 00 00 00 00 00 00 be de 00 02 00 00 00 00'), Status.Truncated],
      ['extension of length 0', hex('90 00 00 01 00 00 00 00 00 00 00 00 be de 00 00'), Status.Ok],
    ];
    for (const [name, b, want] of table) assert.equal(decode(b), want, name);
  });

  it('decodes at an offset inside a larger buffer', () => {
    const pkt = encodeRtp({ pt: 18, seq: 65535, ts: 0xffffffff, ssrc: 0x80000000, marker: true, payload: Buffer.from('zz'), pad: 2 });
    const big = Buffer.concat([Buffer.alloc(42, 0xee), pkt, Buffer.alloc(7, 0xee)]);
    const h = new RtpHeader();
    assert.equal(decodeRtpHeader(big, 42, pkt.length, h), Status.Ok);
    assert.deepEqual([h.pt, h.seq, h.timestamp, h.ssrc, h.marker, h.payloadOff, h.payloadLen], [18, 65535, 0xffffffff, 0x80000000, true, 54, 2]);
  });

  it('agrees with tshark on every RTP packet of a capture', async () => {
    const path = 'fixtures/sipp-siprec__09a_2833_dtmf.pcap';
    const ours = (await readRtp(path)).packets.map((p) => `${p.seq} ${p.ts} ${p.pt} ${p.marker ? 1 : 0} ${p.ssrc} ${p.payload.length}`);
    // Two ICMP port-unreachable errors quote RTP packets: tshark dissects those, our path does not.
    const theirs = tshark(['-r', path, '-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtp && !icmp', '-T', 'fields', '-e', 'rtp.seq', '-e', 'rtp.timestamp', '-e', 'rtp.p_type', '-e', 'rtp.marker', '-e', 'rtp.ssrc', '-e', 'udp.length'])
      .trim()
      .split('\n')
      .map((l) => {
        const [seq, ts, pt, m, ssrc, udpLen] = l.split('\t');
        return `${seq} ${ts} ${pt} ${m === 'True' || m === '1' ? 1 : 0} ${Number(ssrc)} ${Number(udpLen) - 8 - 12}`;
      });
    assert.equal(ours.length, 2165);
    assert.deepEqual(ours, theirs);
  });
});

describe('decodeRtpHeader properties', () => {
  const randomFields = (rnd: () => number): RtpFields => {
    const n = (max: number): number => Math.floor(rnd() * max);
    const f: RtpFields = {
      pt: n(128),
      seq: n(65536),
      ts: n(2 ** 32),
      ssrc: n(2 ** 32),
      marker: rnd() < 0.5,
      csrcs: Array.from({ length: rnd() < 0.7 ? 0 : n(16) }, () => n(2 ** 32)),
      payload: Buffer.from(Array.from({ length: n(200) }, () => n(256))),
    };
    if (rnd() < 0.3) f.ext = { profile: rnd() < 0.5 ? 0xbede : 0x1000 | n(16), data: Buffer.from(Array.from({ length: 4 * n(6) }, () => n(256))) };
    if (rnd() < 0.3) f.pad = 1 + n(255);
    return f;
  };

  it('round-trips random headers: encode → decode → encode gives the same bytes', () => {
    const rnd = prng(3550);
    const h = new RtpHeader();
    for (let i = 0; i < 5000; i++) {
      const f = randomFields(rnd);
      const b = encodeRtp(f);
      assert.equal(decode(b, h), Status.Ok);
      assert.deepEqual(fieldsOf(h, b), { ...f, marker: f.marker ?? false, csrcs: f.csrcs ?? [], payload: f.payload ?? Buffer.alloc(0) });
      assert.deepEqual(encodeRtp(fieldsOf(h, b)), b);
    }
  });

  it('every prefix of a valid packet is Ok or Truncated (as a snaplen cut)', () => {
    const rnd = prng(1982);
    const h = new RtpHeader();
    for (let i = 0; i < 300; i++) {
      const b = encodeRtp(randomFields(rnd));
      for (let n = 0; n <= b.length; n++) {
        const st = decodeRtpHeader(b, 0, n, h, n < b.length);
        assert.ok(st === Status.Ok || st === Status.Truncated, `prefix ${n}/${b.length}: ${st}`);
        if (st === Status.Ok) assert.ok(h.payloadOff + h.payloadLen <= n);
      }
    }
  });

  it('never throws on random bytes, stays in bounds, and works after a failure', () => {
    const rnd = prng(7);
    const h = new RtpHeader();
    const good = encodeRtp({ pt: 0, seq: 5, ts: 6, ssrc: 7, payload: Buffer.alloc(20) });
    for (let i = 0; i < 100_000; i++) {
      const b = Buffer.alloc(Math.floor(rnd() * 80));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      if (rnd() < 0.5 && b.length > 0) b[0] = (b[0]! & 0x3f) | 0x80; // mostly version 2
      const st = decode(b, h, rnd() < 0.2);
      assert.ok(st >= Status.Ok && st <= Status.Unsupported);
      if (st === Status.Ok) {
        assert.ok(h.payloadOff >= 12 && h.payloadOff + h.payloadLen + h.padLen === b.length);
        assert.ok(h.csrcCount <= 15);
      }
      if (i % 1000 === 0) {
        assert.equal(decode(good, h), Status.Ok);
        assert.equal(h.seq, 5);
      }
    }
  });
});
