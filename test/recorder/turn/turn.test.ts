import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIpv4, formatIpv6 } from '../../../recorder/core/address.js';
import { Status } from '../../../recorder/core/status.js';
import { ChannelData, decodeChannelData, TurnFrameKind, TurnStreamFramer } from '../../../recorder/turn/channel-data.js';
import { decodeTurnRelay, TurnRelay, TurnRelayKind } from '../../../recorder/turn/indications.js';
import {
  decodeMappedAddress,
  decodeStunMessage,
  decodeXorAddress,
  STUN_MAX_ATTRS,
  StunAddress,
  StunClass,
  StunMessage,
  stunType,
} from '../../../recorder/turn/stun-message.js';
import { prng } from '../../support/random.js';
import { tshark } from '../../support/tshark.js';
import { stunMessage } from '../../support/turn-call.js';

const FIXTURE = 'fixtures/nDPI__stun.pcap';
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const hex16 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

interface Row {
  frame: number;
  types: string[];
  channel: string;
  attrTypes: string[];
  ipv4: string[];
  ipv6: string[];
  ports: string[];
  length: string;
  udp: Buffer;
  tcp: Buffer;
}

/** tshark's own view of every STUN/ChannelData frame in the fixture (the oracle). */
function rows(): Row[] {
  const fields = ['frame.number', 'stun.type', 'stun.channel', 'stun.att.type', 'stun.att.ipv4', 'stun.att.ipv6', 'stun.att.port', 'stun.length', 'udp.payload', 'tcp.payload'];
  const out = tshark(['-r', FIXTURE, '-Y', 'stun', '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])]);
  const split = (s: string | undefined): string[] => (s === undefined || s === '' ? [] : s.split(','));
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const c = l.split('|');
      return {
        frame: Number(c[0]),
        types: split(c[1]),
        channel: c[2] ?? '',
        attrTypes: split(c[3]),
        ipv4: split(c[4]),
        ipv6: split(c[5]),
        ports: split(c[6]),
        length: c[7] ?? '',
        udp: hex(c[8] ?? ''),
        tcp: hex(c[9] ?? ''),
      };
    });
}

const ROWS = rows();

describe('decodeStunMessage (RFC 8489 §5, §14) against tshark on nDPI__stun.pcap', () => {
  it('has the fixture frames we expect', () => {
    assert.ok(ROWS.filter((r) => r.udp.length > 0 && r.types.length === 1).length > 100);
    assert.ok(ROWS.some((r) => r.channel === '0x4001'));
    assert.ok(ROWS.some((r) => r.channel === '0x4003'));
    assert.ok(ROWS.some((r) => r.tcp.length > 0));
  });

  it('gives the type and attribute list tshark gives, for every UDP STUN message', () => {
    const m = new StunMessage();
    let n = 0;
    for (const r of ROWS) {
      if (r.udp.length === 0 || r.types.length !== 1) continue;
      assert.equal(decodeStunMessage(r.udp, 0, r.udp.length, m), Status.Ok, `frame ${r.frame}`);
      assert.equal(hex16(m.type), r.types[0], `frame ${r.frame}`);
      assert.equal(stunType(m.method, m.cls), m.type);
      const got = Array.from(m.attrType.subarray(0, m.attrCount), hex16);
      assert.deepEqual(got, r.attrTypes.slice(0, STUN_MAX_ATTRS), `frame ${r.frame}`);
      n++;
    }
    assert.ok(n > 100);
  });

  it('decodes plain MAPPED-ADDRESS over IPv6 (RFC 3489-style responses) like tshark', () => {
    const m = new StunMessage();
    const a = new StunAddress();
    let n = 0;
    for (const r of ROWS) {
      if (r.udp.length === 0 || r.types[0] !== '0x0101' || r.ipv6.length !== 1) continue;
      assert.equal(decodeStunMessage(r.udp, 0, r.udp.length, m), Status.Ok);
      const i = m.find(0x0001);
      assert.ok(i >= 0);
      assert.equal(decodeMappedAddress(r.udp, m.attrOff[i]!, m.attrLen[i]!, a), Status.Ok);
      assert.equal(formatIpv6(a.ipv6, 0), r.ipv6[0]);
      assert.equal(String(a.port), r.ports[0]);
      n++;
    }
    assert.ok(n > 0);
  });
});

describe('TURN relay messages (RFC 8656 §11, §12) against tshark', () => {
  it('Send/Data indications and ChannelBind: peer, data, channel', () => {
    const m = new StunMessage();
    const t = new TurnRelay();
    const seen = new Set<number>();
    for (const r of ROWS) {
      if (r.udp.length === 0 || r.types.length !== 1) continue;
      const type = r.types[0];
      if (type !== '0x0016' && type !== '0x0017' && type !== '0x0009') continue;
      assert.equal(decodeStunMessage(r.udp, 0, r.udp.length, m), Status.Ok);
      assert.equal(decodeTurnRelay(r.udp, m, t), Status.Ok, `frame ${r.frame}`);
      seen.add(t.kind);
      assert.equal(formatIpv4(t.peer.ipv4), r.ipv4[0], `frame ${r.frame}`);
      assert.equal(String(t.peer.port), r.ports[0], `frame ${r.frame}`);
      if (type === '0x0009') assert.equal(hex16(t.channel), '0x4003');
      else {
        // DATA is the last attribute: the inner payload ends with the message (no padding in these frames).
        assert.ok(t.dataLen > 0);
        assert.ok(t.dataOff + t.dataLen <= r.udp.length);
      }
    }
    assert.deepEqual([...seen].sort(), [TurnRelayKind.Send, TurnRelayKind.Data, TurnRelayKind.ChannelBindRequest]);
  });

  it('ChannelBind success response is classified (pairs with the request by transaction id)', () => {
    const m = new StunMessage();
    const t = new TurnRelay();
    const r = ROWS.find((x) => x.types[0] === '0x0109' && x.udp.length > 0);
    assert.ok(r);
    assert.equal(decodeStunMessage(r.udp, 0, r.udp.length, m), Status.Ok);
    assert.equal(decodeTurnRelay(r.udp, m, t), Status.Ok);
    assert.equal(t.kind, TurnRelayKind.ChannelBindSuccess);
  });

  it('ChannelData channel and length match tshark (0x4001, 0x4003)', () => {
    const c = new ChannelData();
    let n = 0;
    for (const r of ROWS) {
      if (r.channel === '' || r.udp.length === 0) continue;
      assert.equal(decodeChannelData(r.udp, 0, r.udp.length, c), Status.Ok);
      assert.equal(hex16(c.channel), r.channel);
      assert.equal(String(c.dataLen), r.length);
      n++;
    }
    assert.equal(n, 19);
  });

  it('ChannelData rejects reserved channels and short data', () => {
    const c = new ChannelData();
    const cases: [string, Status][] = [
      ['4000 0000', Status.Ok],
      ['4fff 0001 aa', Status.Ok],
      ['5000 0000', Status.Malformed],
      ['3fff 0000', Status.Malformed],
      ['4001 0004 aabbcc', Status.Truncated],
      ['40', Status.Truncated],
    ];
    for (const [h, want] of cases) assert.equal(decodeChannelData(hex(h), 0, hex(h).length, c), want, h);
  });
});

describe('addresses (RFC 8489 §14.1, §14.2)', () => {
  it('XOR-PEER-ADDRESS over IPv6 un-XORs with cookie ‖ transaction id', () => {
    const tx = hex('0102030405060708090a0b0c');
    const ip = hex('20010db8000000000000000000000001');
    const pad = Buffer.concat([hex('2112a442'), tx]);
    const x = Buffer.alloc(20);
    x[1] = 2;
    x.writeUInt16BE(5004 ^ 0x2112, 2);
    for (let i = 0; i < 16; i++) x[4 + i] = ip[i]! ^ pad[i]!;
    const msg = stunMessage(0x0016, tx, [[0x0012, x], [0x0013, hex('deadbeef01')]]);
    const m = new StunMessage();
    assert.equal(decodeStunMessage(msg, 0, msg.length, m), Status.Ok);
    assert.equal(m.cls, StunClass.Indication);
    assert.equal(m.method, 0x006);
    const t = new TurnRelay();
    assert.equal(decodeTurnRelay(msg, m, t), Status.Ok);
    assert.equal(t.kind, TurnRelayKind.Send);
    assert.equal(formatIpv6(t.peer.ipv6, 0), '2001:db8::1');
    assert.equal(t.peer.port, 5004);
    assert.deepEqual(msg.subarray(t.dataOff, t.dataOff + t.dataLen), hex('deadbeef01'));
    const a = new StunAddress();
    assert.equal(decodeXorAddress(msg, m.attrOff[0]!, 19, m.txOff, a), Status.Truncated);
  });

  it('MS-TURN Data Indication (0x0115) and Send request (0x0004): plain addresses, 16-byte transaction id', () => {
    const tx = hex('00112233445566778899aabbccddeeff');
    const addr = hex('0001 1f90 0a000001'); // 10.0.0.1:8080
    const m = new StunMessage();
    const t = new TurnRelay();
    for (const [type, attr, kind] of [
      [0x0115, 0x0012, TurnRelayKind.MsData],
      [0x0004, 0x0011, TurnRelayKind.MsSend],
    ] as const) {
      const msg = stunMessage(type, tx, [[0x000f, hex('72c64bc6')], [attr, addr], [0x0013, hex('80000001')]], false);
      assert.equal(decodeStunMessage(msg, 0, msg.length, m), Status.Ok);
      assert.equal(m.magic, false);
      assert.equal(m.txLen, 16);
      assert.equal(decodeTurnRelay(msg, m, t), Status.Ok);
      assert.equal(t.kind, kind);
      assert.equal(formatIpv4(t.peer.ipv4), '10.0.0.1');
      assert.equal(t.peer.port, 8080);
      assert.deepEqual(msg.subarray(t.dataOff, t.dataOff + t.dataLen), hex('80000001'));
      // Without the MAGIC-COOKIE attribute first, [MS-TURN] §3.1.10 says ignore it.
      const bare = stunMessage(type, tx, [[attr, addr], [0x0013, hex('80000001')]], false);
      assert.equal(decodeStunMessage(bare, 0, bare.length, m), Status.Ok);
      assert.equal(decodeTurnRelay(bare, m, t), Status.Unsupported);
    }
  });

  it('header vectors', () => {
    const m = new StunMessage();
    const cases: [string, Status][] = [
      ['0001 0000 2112a442 000000000000000000000000', Status.Ok],
      ['c001 0000 2112a442 000000000000000000000000', Status.Malformed],
      ['0001 0004 2112a442 000000000000000000000000', Status.Truncated],
      ['0001 0004 2112a442 000000000000000000000000 0001 0008', Status.Malformed],
      ['0001 0000 2112a442 0000000000000000000000', Status.Truncated],
    ];
    for (const [h, want] of cases) assert.equal(decodeStunMessage(hex(h), 0, hex(h).length, m), want, h);
  });
});

describe('TurnStreamFramer (RFC 8656 §12.5)', () => {
  const collect = (chunks: Buffer[]): string[] => {
    const got: string[] = [];
    const f = new TurnStreamFramer((kind, b, off, len) => got.push(`${kind}:${b.toString('hex', off, off + len)}`));
    for (const c of chunks) f.push(c, 0, c.length);
    return got;
  };

  /** TURN over TCP as RFC 8656 §12.5 sends it: messages back to back, no RFC 4571 length prefix. */
  const bare = (b: Buffer): boolean => b.length >= 8 && b.readUInt32BE(4) === 0x2112a442;

  it('ICE-TCP segments (RFC 6544 / RFC 4571 2-byte length prefix) decode after the prefix', () => {
    const m = new StunMessage();
    let n = 0;
    for (const r of ROWS) {
      if (r.tcp.length === 0 || bare(r.tcp)) continue;
      assert.equal(r.tcp.readUInt16BE(0), r.tcp.length - 2, `frame ${r.frame}`);
      assert.equal(decodeStunMessage(r.tcp, 2, r.tcp.length - 2, m), Status.Ok, `frame ${r.frame}`);
      assert.equal(hex16(m.type), r.types[0]);
      n++;
    }
    assert.equal(n, 12);
  });

  it('splits each TURN-over-TCP segment of the fixture into the STUN messages tshark sees', () => {
    let n = 0;
    for (const r of ROWS) {
      if (r.tcp.length === 0 || !bare(r.tcp)) continue;
      const got = collect([r.tcp]);
      assert.equal(got.length, r.types.length, `frame ${r.frame}`);
      const m = new StunMessage();
      got.forEach((g, i) => {
        assert.ok(g.startsWith(`${TurnFrameKind.Stun}:`));
        const b = hex(g.slice(2));
        assert.equal(decodeStunMessage(b, 0, b.length, m), Status.Ok);
        assert.equal(hex16(m.type), r.types[i]);
      });
      n++;
    }
    assert.ok(n >= 10);
  });

  it('gives the same frames however the stream is cut', () => {
    const chan = hex('4001 0005 0102030405 000000'); // ChannelData padded to 4 over TCP
    const tcp = ROWS.filter((r) => bare(r.tcp)).map((r) => r.tcp);
    const stream = Buffer.concat([...tcp.slice(0, 4), chan, ...tcp.slice(4, 8), chan]);
    const whole = collect([stream]);
    assert.ok(whole.length >= 10);
    assert.ok(whole.some((g) => g.startsWith(`${TurnFrameKind.ChannelData}:4001`)));
    for (let i = 0; i <= stream.length; i++) {
      assert.deepEqual(collect([stream.subarray(0, i), stream.subarray(i)]), whole, `cut at ${i}`);
    }
    assert.deepEqual(collect(Array.from(stream, (b) => Buffer.from([b]))), whole);
  });

  it('stops on bytes that are neither STUN nor ChannelData, and is bounded', () => {
    const got: number[] = [];
    const f = new TurnStreamFramer((k) => got.push(k));
    const junk = hex('80 00 00 10');
    f.push(junk, 0, junk.length);
    assert.equal(f.lost, true);
    assert.equal(f.buffered, 0);
    const big = Buffer.alloc(200000, 0x00); // STUN type 0, length 0: 20-byte messages
    f.reset();
    f.push(big, 0, big.length);
    assert.equal(f.frames, 10000);
    assert.ok(f.buffered < 20);
  });
});

describe('never throws on random or cut data', () => {
  it('random bytes and every prefix of fixture messages', () => {
    const rnd = prng(8656);
    const m = new StunMessage();
    const t = new TurnRelay();
    const c = new ChannelData();
    const a = new StunAddress();
    const f = new TurnStreamFramer(() => undefined);
    const tryAll = (b: Buffer): void => {
      if (decodeStunMessage(b, 0, b.length, m) === Status.Ok) {
        decodeTurnRelay(b, m, t);
        for (let i = 0; i < m.attrCount; i++) {
          decodeXorAddress(b, m.attrOff[i]!, m.attrLen[i]!, m.txOff, a);
          decodeMappedAddress(b, m.attrOff[i]!, m.attrLen[i]!, a);
        }
      }
      decodeChannelData(b, 0, b.length, c);
      f.push(b, 0, b.length);
      if (f.lost) f.reset();
    };
    for (const r of ROWS.slice(0, 60)) {
      const b = r.udp.length > 0 ? r.udp : r.tcp;
      for (let i = 0; i <= b.length; i++) tryAll(b.subarray(0, i));
    }
    for (let k = 0; k < 5000; k++) {
      const b = Buffer.alloc(Math.floor(rnd() * 120));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
      if (b.length > 0 && rnd() < 0.5) b[0]! &= 0x3f; // bias toward STUN / ChannelData
      if (b.length >= 8 && rnd() < 0.5) b.writeUInt32BE(0x2112a442, 4);
      if (b.length >= 4 && rnd() < 0.5) b.writeUInt16BE(Math.max(0, b.length - 20), 2);
      tryAll(b);
    }
  });
});
