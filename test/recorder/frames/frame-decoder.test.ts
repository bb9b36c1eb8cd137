import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkType, type Frame } from '../../../recorder/capture/frame.js';
import { dstAddress, srcAddress } from '../../../recorder/core/address.js';
import { Counters } from '../../../recorder/core/counters.js';
import { Packet } from '../../../recorder/core/packet.js';
import { Decoded, FrameDecoder } from '../../../recorder/frames/frame-decoder.js';
import * as B from '../../support/packets.js';

const frame = (data: Buffer, linkType: number = LinkType.Ethernet, tsSec = 1700000000, caplen = data.length): Frame => ({
  linkType,
  iface: 0,
  tsSec,
  tsNsec: 123,
  caplen,
  len: data.length,
  data: data.subarray(0, caplen),
});

const sipUdp4 = B.ipv4('10.0.0.1', '10.0.0.2', 17, B.udp(5060, 5062, B.sipInvite('abc')));
const rtpUdp6 = B.ipv6('2001:db8::1', '2001:db8::2', 17, B.udp(40000, 40002, B.rtp(1, 160, 0x11223344)));

interface Case {
  name: string;
  data: Buffer;
  link?: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  tunnels?: number;
  vlan?: number;
}

const cases: Case[] = [
  { name: 'Ethernet IPv4 UDP', data: B.ethernet(sipUdp4), src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5062 },
  { name: '802.1Q', data: B.ethernet(sipUdp4, 0x0800, [100]), src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5062, vlan: 100 },
  { name: 'QinQ 802.1ad + 802.1Q', data: B.ethernet(sipUdp4, 0x0800, [200, 100]), src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5062, vlan: 200 },
  { name: 'triple tag 0x9100', data: B.ethernet(sipUdp4, 0x0800, [7, 8, 9], [0x9100, 0x88a8, 0x8100]), src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5062, vlan: 7 },
  { name: 'Ethernet IPv6 UDP', data: B.ethernet(rtpUdp6, 0x86dd), src: '2001:db8::1', dst: '2001:db8::2', sport: 40000, dport: 40002 },
  { name: 'Linux SLL', data: B.sll(sipUdp4), link: LinkType.LinuxSll, src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5062 },
  { name: 'Linux SLL2 IPv6', data: B.sll2(rtpUdp6, 0x86dd), link: LinkType.LinuxSll2, src: '2001:db8::1', dst: '2001:db8::2', sport: 40000, dport: 40002 },
  { name: 'raw IPv4 (101)', data: sipUdp4, link: LinkType.Raw, src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5062 },
  { name: 'raw IPv6 (229)', data: rtpUdp6, link: LinkType.Ipv6, src: '2001:db8::1', dst: '2001:db8::2', sport: 40000, dport: 40002 },
  { name: 'BSD null, little-endian AF_INET', data: Buffer.concat([Buffer.from([2, 0, 0, 0]), sipUdp4]), link: LinkType.Null, src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5062 },
  { name: 'BSD null, big-endian AF_INET6=30', data: Buffer.concat([Buffer.from([0, 0, 0, 30]), rtpUdp6]), link: LinkType.Null, src: '2001:db8::1', dst: '2001:db8::2', sport: 40000, dport: 40002 },
  { name: 'LOOP (108)', data: Buffer.concat([Buffer.from([0, 0, 0, 2]), sipUdp4]), link: LinkType.Loop, src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5062 },
  { name: 'IPv4 with options', data: B.ethernet(B.ipv4('10.0.0.1', '10.0.0.2', 17, B.udp(1, 2, Buffer.from('x')), { options: Buffer.from([1, 1, 1, 0]) })), src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2 },
  { name: 'IP-in-IP', data: B.ethernet(B.ipv4('192.0.2.1', '192.0.2.2', 4, sipUdp4)), src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5062, tunnels: 1 },
  { name: 'IPv6-in-IPv4', data: B.ethernet(B.ipv4('192.0.2.1', '192.0.2.2', 41, rtpUdp6)), src: '2001:db8::1', dst: '2001:db8::2', sport: 40000, dport: 40002, tunnels: 1 },
  { name: 'GRE IPv4', data: B.ethernet(B.ipv4('192.0.2.1', '192.0.2.2', 47, B.gre(0x0800, sipUdp4, { key: 5 }))), src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5062, tunnels: 1 },
  { name: 'GRE transparent Ethernet', data: B.ethernet(B.ipv4('192.0.2.1', '192.0.2.2', 47, B.gre(0x6558, B.ethernet(sipUdp4)))), src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5062, tunnels: 1 },
  { name: 'ERSPAN type I', data: B.ethernet(B.ipv4('192.0.2.1', '192.0.2.2', 47, B.gre(0x88be, B.ethernet(sipUdp4)))), src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5062, tunnels: 1 },
  { name: 'ERSPAN type II', data: B.ethernet(B.ipv4('192.0.2.1', '192.0.2.2', 47, B.gre(0x88be, B.erspanII(7, B.ethernet(sipUdp4, 0x0800, [55])), { seq: 9 }))), src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5062, tunnels: 1, vlan: 55 },
  { name: 'ERSPAN type III + platform', data: B.ethernet(B.ipv4('192.0.2.1', '192.0.2.2', 47, B.gre(0x22eb, B.erspanIII(7, B.ethernet(rtpUdp6, 0x86dd), true), { seq: 1 }))), src: '2001:db8::1', dst: '2001:db8::2', sport: 40000, dport: 40002, tunnels: 1 },
  { name: 'VXLAN', data: B.ethernet(B.ipv4('192.0.2.1', '192.0.2.2', 17, B.udp(50000, 4789, B.vxlan(42, B.ethernet(sipUdp4))))), src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5062, tunnels: 1 },
  {
    name: 'IPv6 hop-by-hop + routing + dest options',
    data: B.ethernet(B.ipv6('2001:db8::1', '2001:db8::2', 17, B.udp(7, 8, Buffer.from('hello')), [
      { type: 0, body: Buffer.alloc(6) },
      { type: 43, body: Buffer.alloc(14) },
      { type: 60, body: Buffer.alloc(6) },
    ]), 0x86dd),
    src: '2001:db8::1', dst: '2001:db8::2', sport: 7, dport: 8,
  },
];

describe('FrameDecoder: link layers, IP, tunnels', () => {
  for (const c of cases) {
    it(c.name, () => {
      const counters = new Counters();
      const d = new FrameDecoder(counters);
      const p = new Packet();
      assert.equal(d.decode(frame(c.data, c.link), p), Decoded.Udp);
      assert.equal(srcAddress(p), c.src);
      assert.equal(dstAddress(p), c.dst);
      assert.equal(p.srcPort, c.sport);
      assert.equal(p.dstPort, c.dport);
      assert.equal(p.tunnels, c.tunnels ?? 0);
      assert.equal(p.vlan, c.vlan ?? -1);
      assert.equal(p.truncated, false);
      assert.deepEqual(counters.entries(), []);
    });
  }

  it('TCP header fields', () => {
    const d = new FrameDecoder(new Counters());
    const p = new Packet();
    const data = B.ethernet(B.ipv4('10.0.0.1', '10.0.0.2', 6, B.tcp(5060, 40000, 0xfffffff0, 7, B.TCP.ACK | B.TCP.PSH, Buffer.from('SIP'))));
    assert.equal(d.decode(frame(data), p), Decoded.Tcp);
    assert.equal(p.tcpSeq, 0xfffffff0);
    assert.equal(p.tcpFlags, B.TCP.ACK | B.TCP.PSH);
    assert.equal(p.payload.toString('latin1', p.payloadOff, p.payloadOff + p.payloadLen), 'SIP');
  });

  it('Ethernet padding after a short IPv4 packet is not payload', () => {
    const d = new FrameDecoder(new Counters());
    const p = new Packet();
    const data = Buffer.concat([B.ethernet(B.ipv4('10.0.0.1', '10.0.0.2', 17, B.udp(1, 2, Buffer.from('ab')))), Buffer.alloc(10)]);
    assert.equal(d.decode(frame(data), p), Decoded.Udp);
    assert.equal(p.payloadLen, 2);
  });

  it('ARP and 802.3 LLC are non-IP, not errors', () => {
    const counters = new Counters();
    const d = new FrameDecoder(counters);
    const p = new Packet();
    assert.equal(d.decode(frame(B.ethernet(Buffer.alloc(28), 0x0806)), p), Decoded.NonIp);
    assert.equal(d.decode(frame(B.ethernet(Buffer.alloc(40), 40)), p), Decoded.NonIp);
    assert.deepEqual(counters.entries(), []);
  });

  it('snaplen cut is counted apart from a lying length', () => {
    const counters = new Counters();
    const d = new FrameDecoder(counters);
    const p = new Packet();
    const data = B.ethernet(sipUdp4);
    // Cut inside the UDP payload: headers decode, payload is marked truncated.
    assert.equal(d.decode(frame(data, LinkType.Ethernet, 1, 60), p), Decoded.Udp);
    assert.equal(p.truncated, true);
    assert.equal(counters.get('ipv4.snaplen'), 1);
    // Cut inside the IPv4 header.
    assert.equal(d.decode(frame(data, LinkType.Ethernet, 1, 20), p), Decoded.Dropped);
    assert.equal(counters.get('ipv4.snaplen'), 2);
    // Not cut, but Total Length claims more than there is.
    const lying = B.ethernet(B.ipv4('10.0.0.1', '10.0.0.2', 17, B.udp(1, 2, Buffer.from('ab')), { totalLength: 500 }));
    assert.equal(d.decode(frame(lying), p), Decoded.Udp);
    assert.equal(counters.get('ipv4.truncated'), 1);
    // Total Length below the header length: malformed.
    const bad = B.ethernet(B.ipv4('10.0.0.1', '10.0.0.2', 17, B.udp(1, 2, Buffer.from('ab')), { totalLength: 12 }));
    assert.equal(d.decode(frame(bad), p), Decoded.Dropped);
    assert.equal(counters.get('ipv4.malformed'), 1);
  });

  it('tunnel nesting deeper than the limit is dropped, not followed', () => {
    let inner = sipUdp4;
    for (let i = 0; i < 10; i++) inner = B.ipv4('192.0.2.1', '192.0.2.2', 4, inner);
    const counters = new Counters();
    assert.equal(new FrameDecoder(counters).decode(frame(B.ethernet(inner)), new Packet()), Decoded.Dropped);
    assert.equal(counters.get('tunnel.malformed'), 1);
  });
});

describe('FrameDecoder: IP fragments', () => {
  const payload = B.udp(5060, 5060, B.sipInvite('frag-call', 'v=0\r\n'.repeat(300)));
  const pieces = (size: number): Buffer[] => {
    const out: Buffer[] = [];
    for (let off = 0; off < payload.length; off += size) out.push(payload.subarray(off, Math.min(payload.length, off + size)));
    return out;
  };

  it('IPv4 fragments out of order reassemble into one UDP datagram', () => {
    const d = new FrameDecoder(new Counters());
    const p = new Packet();
    const parts = pieces(480);
    const frames = parts.map((part, i) =>
      frame(B.ethernet(B.ipv4('10.1.1.1', '10.1.1.2', 17, part, { id: 77, fragOffset: i * 480, more: i < parts.length - 1 }))),
    );
    const order = [2, 0, 3, 1, ...parts.keys()].filter((v, i, a) => a.indexOf(v) === i && v < parts.length);
    const results = order.map((i) => d.decode(frames[i]!, p));
    assert.deepEqual(results.slice(0, -1), Array<Decoded>(order.length - 1).fill(Decoded.FragmentHeld));
    assert.equal(results.at(-1), Decoded.Udp);
    assert.equal(p.reassembled, true);
    assert.equal(p.payloadLen, payload.length - 8);
    assert.ok(p.payload.subarray(p.payloadOff, p.payloadOff + p.payloadLen).equals(payload.subarray(8)));
    assert.equal(d.layers.ipReassembled, 1);
  });

  it('IPv6 fragments out of order reassemble', () => {
    const d = new FrameDecoder(new Counters());
    const p = new Packet();
    const parts = pieces(512);
    const frames = parts.map((part, i) =>
      frame(B.ethernet(B.ipv6('2001:db8::a', '2001:db8::b', 17, part, [{ type: 44, body: B.ipv6FragBody(i * 512, i < parts.length - 1, 0xabcdef) }]), 0x86dd)),
    );
    const res = [...frames].reverse().map((f) => d.decode(f, p));
    assert.equal(res.at(-1), Decoded.Udp);
    assert.equal(srcAddress(p), '2001:db8::a');
    assert.ok(p.payload.subarray(p.payloadOff, p.payloadOff + p.payloadLen).equals(payload.subarray(8)));
  });
});

describe('FrameDecoder: hostile input', () => {
  const valid = [B.ethernet(sipUdp4, 0x0800, [1, 2]), B.ethernet(rtpUdp6, 0x86dd), ...cases.map((c) => c.data)];

  it('every prefix of a valid frame decodes or is counted, never throws', () => {
    const counters = new Counters();
    const d = new FrameDecoder(counters);
    const p = new Packet();
    for (const c of cases) {
      for (let n = 0; n <= c.data.length; n++) {
        const f = frame(c.data, c.link, 1, n);
        d.decode({ ...f, len: n }, p);
      }
    }
    assert.ok(counters.entries().length > 0);
    assert.equal(counters.get('pipeline.bug'), 0);
  });

  it('random bytes and random bit flips never throw', () => {
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const d = new FrameDecoder(new Counters());
    const p = new Packet();
    const links = [LinkType.Ethernet, LinkType.LinuxSll, LinkType.LinuxSll2, LinkType.Raw, LinkType.Null, LinkType.Ipv6];
    for (let i = 0; i < 20000; i++) {
      const base = valid[i % valid.length]!;
      const data = i % 2 ? Buffer.from(base) : Buffer.alloc(Math.floor(rnd() * 200));
      if (i % 2) for (let k = 0; k < 4; k++) data[Math.floor(rnd() * data.length)] = Math.floor(rnd() * 256);
      else for (let k = 0; k < data.length; k++) data[k] = Math.floor(rnd() * 256);
      d.decode(frame(data, links[i % links.length], 1 + i), p);
    }
    d.sweep(1e9);
    assert.equal(d.fragments.size, 0);
  });
});
