import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openCaptureFile } from '../../../recorder/capture/file-source.js';
import { LinkType } from '../../../recorder/capture/frame.js';
import { Counters } from '../../../recorder/core/counters.js';
import type { Packet } from '../../../recorder/core/packet.js';
import { Pipeline } from '../../../recorder/pipeline.js';
import type { TcpConnection, TcpDir } from '../../../recorder/tcp/stream-reassembler.js';
import { writePcap, writePcapng } from '../../support/capture-writer.js';
import * as B from '../../support/packets.js';
import { tshark, tsharkConversations } from '../../support/tshark.js';
import { compareConversations, inspectFile } from '../../support/inspect-helpers.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir('gen-golden-');
const T0 = 1_700_000_000;

interface GenFrame {
  iface?: number;
  data: Buffer;
}

const stamp = (frames: GenFrame[]): { iface: number; tsSec: number; tsNsec: number; data: Buffer }[] =>
  frames.map((f, i) => ({ iface: f.iface ?? 0, tsSec: T0 + Math.floor(i / 10), tsNsec: (i % 10) * 100_000_000 + 123, data: f.data }));

async function checkAgainstTshark(path: string): Promise<void> {
  const r = await inspectFile(path);
  const first = tshark(['-r', path, '-T', 'fields', '-e', 'frame.time_epoch']).trim().split('\n');
  assert.equal(r.capture.packets, first.length);
  compareConversations(r.conversations.udp, tsharkConversations(path, 'udp'), first[0]!, `${path} udp`);
  compareConversations(r.conversations.tcp, tsharkConversations(path, 'tcp'), first[0]!, `${path} tcp`);
}

const sip = (id: string): Buffer => B.ipv4('10.0.0.1', '10.0.0.2', 17, B.udp(5060, 5060, B.sipInvite(id)));
const rtp6 = B.ipv6('2001:db8::1', '2001:db8::2', 17, B.udp(40000, 40002, B.rtp(1, 160, 0xabc)));

describe('generated captures, read the same by tshark', () => {
  it('tunnels and link layers in one pcapng with two link types', async () => {
    const frames: GenFrame[] = [
      { data: B.ethernet(sip('qinq'), 0x0800, [300, 10]) },
      { data: B.ethernet(B.ipv4('192.0.2.1', '192.0.2.2', 47, B.gre(0x0800, sip('gre')))) },
      { data: B.ethernet(B.ipv4('192.0.2.1', '192.0.2.2', 47, B.gre(0x88be, B.erspanII(5, B.ethernet(B.ipv4('10.3.0.1', '10.3.0.2', 17, B.udp(7000, 7002, B.rtp(1, 1, 1)))), 0), { seq: 1 }))) },
      { data: B.ethernet(B.ipv4('192.0.2.1', '192.0.2.2', 47, B.gre(0x22eb, B.erspanIII(6, B.ethernet(B.ipv4('10.4.0.1', '10.4.0.2', 17, B.udp(8000, 8002, B.rtp(1, 1, 1))))), { seq: 2 }))) },
      { data: B.ethernet(B.ipv4('192.0.2.1', '192.0.2.3', 17, B.udp(51000, 4789, B.vxlan(99, B.ethernet(B.ipv4('10.5.0.1', '10.5.0.2', 17, B.udp(9000, 9002, B.rtp(1, 1, 1)))))))) },
      { data: B.ethernet(B.ipv4('192.0.2.1', '192.0.2.2', 4, B.ipv4('10.6.0.1', '10.6.0.2', 17, B.udp(5060, 5070, B.sipInvite('ipip'))))) },
      { data: B.ethernet(B.ipv4('192.0.2.1', '192.0.2.2', 41, rtp6)) },
      { iface: 1, data: B.sll2(rtp6, 0x86dd) },
      { iface: 1, data: B.sll2(sip('sll2')) },
      { iface: 2, data: sip('raw') },
    ];
    const path = join(dir, 'tunnels.pcapng');
    writePcapng(path, stamp(frames), {
      interfaces: [
        { linkType: LinkType.Ethernet, tsresol: 6 },
        { linkType: LinkType.LinuxSll2, tsresol: 9 },
        { linkType: LinkType.Raw, tsresol: 9 },
      ],
    });
    await checkAgainstTshark(path);
    const r = await inspectFile(path);
    assert.equal(r.layers['erspan'], 2);
    assert.equal(r.layers['vxlan'], 1);
    assert.equal(r.layers['ipInIp'], 2);
    assert.equal(r.layers['sll2'], 2);
    assert.equal(r.layers['vlan'], 1);
  });

  it('IPv4 and IPv6 fragments out of order, duplicated and overlapping', async () => {
    const body = B.sipInvite('fragmented', 'a=x\r\n'.repeat(400));
    const udp4 = B.udp(5060, 5060, body);
    const frag4 = (off: number, len: number, more: boolean, id = 9): GenFrame => ({
      data: B.ethernet(B.ipv4('10.7.0.1', '10.7.0.2', 17, udp4.subarray(off, off + len), { id, fragOffset: off, more })),
    });
    const n = udp4.length;
    const udp6 = B.udp(5062, 5062, body);
    const frag6 = (off: number, len: number, more: boolean): GenFrame => ({
      data: B.ethernet(B.ipv6('2001:db8::7', '2001:db8::8', 17, udp6.subarray(off, off + len), [{ type: 44, body: B.ipv6FragBody(off, more, 0x1234) }]), 0x86dd),
    });
    const frames: GenFrame[] = [
      frag4(1000, 1000, true),
      frag4(0, 1000, true),
      frag4(1000, 1000, true), // duplicate
      frag4(1496, 600, true), // overlaps with identical bytes
      frag4(2000, n - 2000, false),
      frag6(1232, n - 1232, false),
      frag6(0, 616, true),
      frag6(616, 616, true),
      // A second IPv4 datagram whose fragments arrive last-first.
      frag4(800, n - 800, false, 10),
      frag4(0, 800, true, 10),
    ];
    const path = join(dir, 'fragments.pcap');
    writePcap(path, stamp(frames), { linkType: LinkType.Ethernet });
    await checkAgainstTshark(path);
    const r = await inspectFile(path);
    assert.equal(r.layers['ipReassembled'], 3);
    assert.equal(r.capture.malformed['ip.frag_duplicate'], 1);
    // The reassembled payloads are the very bytes tshark reassembles.
    const payloads: string[] = [];
    const pipeline = new Pipeline(new Counters(), {
      onUdp: (p: Packet) => void payloads.push(p.payload.toString('hex', p.payloadOff, p.payloadOff + p.payloadLen)),
    });
    const cap = await openCaptureFile(path, new Counters());
    for await (const batch of cap.batches()) for (const f of batch) pipeline.push(f);
    await cap.close();
    const theirs = tshark(['-r', path, '-Y', 'udp', '-T', 'fields', '-e', 'udp.payload']).trim().split('\n');
    assert.deepEqual(payloads, theirs.map((s) => s.replace(/:/g, '')));
    assert.equal(payloads[0], body.toString('hex'));
  });

  it('TCP with reordering, retransmission and overlap, µs and ns pcap', async () => {
    const text = Buffer.from(Array.from({ length: 40 }, (_, i) => `OPTIONS sip:x SIP/2.0\r\nCSeq: ${i} OPTIONS\r\n\r\n`).join(''));
    const isn = 0xfffff000; // the stream wraps past 2^32
    const seg = (off: number, len: number): GenFrame => ({
      data: B.ethernet(B.ipv4('10.8.0.1', '10.8.0.2', 6, B.tcp(40000, 5060, isn + 1 + off, 1, B.TCP.ACK | B.TCP.PSH, text.subarray(off, off + len)))),
    });
    const ctl = (flags: number, seq: number, fromClient: boolean): GenFrame => ({
      data: B.ethernet(fromClient ? B.ipv4('10.8.0.1', '10.8.0.2', 6, B.tcp(40000, 5060, seq, 1, flags)) : B.ipv4('10.8.0.2', '10.8.0.1', 6, B.tcp(5060, 40000, 0, seq, flags))),
    });
    const n = text.length;
    const frames: GenFrame[] = [
      ctl(B.TCP.SYN, isn, true),
      ctl(B.TCP.SYN | B.TCP.ACK, isn + 1, false),
      seg(0, 500),
      seg(1000, 500), // arrives before 500..1000
      seg(500, 500),
      seg(500, 500), // retransmission
      seg(1200, 600), // overlaps what is already there
      seg(1800, n - 1800),
      ctl(B.TCP.FIN | B.TCP.ACK, isn + 1 + n, true),
      ctl(B.TCP.SYN, 5, true), // port reuse: a new connection on the same 4-tuple
      ctl(B.TCP.RST, 6, true),
    ];
    for (const ns of [false, true]) {
      const path = join(dir, `tcp-${ns ? 'ns' : 'us'}.pcap`);
      writePcap(path, stamp(frames), { linkType: LinkType.Ethernet, nanosecond: ns });
      await checkAgainstTshark(path);
    }
    const got: Buffer[] = [];
    const pipeline = new Pipeline(new Counters(), {
      tcpStreams: { onData: (_c: TcpConnection, dir: TcpDir, b: Buffer, o: number, l: number) => void (dir === 0 && got.push(Buffer.from(b.subarray(o, o + l)))) },
    });
    const path = join(dir, 'tcp-us.pcap');
    const cap = await openCaptureFile(path, new Counters());
    for await (const batch of cap.batches()) for (const f of batch) pipeline.push(f);
    await cap.close();
    pipeline.finish();
    assert.equal(Buffer.concat(got).toString(), text.toString());
    const follow = tshark(['-r', path, '-q', '-z', 'follow,tcp,raw,0']);
    const hex = follow.split('\n').filter((l) => /^[0-9a-f]+$/.test(l.trim())).join('');
    assert.equal(hex, text.toString('hex'));
  });

  it('TCP with a lost segment: the gap is reported by size and the stream resynchronises', async () => {
    const text = Buffer.from('x'.repeat(3000));
    const seg = (off: number, len: number): GenFrame => ({
      data: B.ethernet(B.ipv4('10.9.0.1', '10.9.0.2', 6, B.tcp(40001, 5060, 1001 + off, 1, B.TCP.ACK, text.subarray(off, off + len)))),
    });
    const frames: GenFrame[] = [
      { data: B.ethernet(B.ipv4('10.9.0.1', '10.9.0.2', 6, B.tcp(40001, 5060, 1000, 0, B.TCP.SYN))) },
      seg(0, 1000),
      seg(2000, 1000), // 1000..2000 never arrives
      { data: B.ethernet(B.ipv4('10.9.0.1', '10.9.0.2', 6, B.tcp(40001, 5060, 4001, 1, B.TCP.FIN | B.TCP.ACK))) },
      { data: B.ethernet(B.ipv4('10.9.0.2', '10.9.0.1', 6, B.tcp(5060, 40001, 1, 4002, B.TCP.FIN | B.TCP.ACK))) },
    ];
    const path = join(dir, 'tcp-gap.pcap');
    writePcap(path, stamp(frames), { linkType: LinkType.Ethernet });
    await checkAgainstTshark(path);
    let delivered = 0;
    const gaps: number[] = [];
    const pipeline = new Pipeline(new Counters(), {
      tcpStreams: {
        onData: (_c: TcpConnection, _d: TcpDir, _b: Buffer, _o: number, l: number) => void (delivered += l),
        onGap: (_c: TcpConnection, _d: TcpDir, missing: number) => void gaps.push(missing),
      },
    });
    const cap = await openCaptureFile(path, new Counters());
    for await (const batch of cap.batches()) for (const f of batch) pipeline.push(f);
    await cap.close();
    pipeline.finish();
    assert.deepEqual(gaps, [1000]);
    assert.equal(delivered, 2000);
    const r = await inspectFile(path);
    assert.equal(r.tcpStreams.gaps, 1);
    assert.equal(r.tcpStreams.gapBytes, 1000);
  });
});

writeFileSync(join(dir, 'README'), 'generated by test/recorder/inspect/generated-golden.test.ts\n');
