import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { AddressSet, parseNetwork, type Network } from '../../agent/capture/interest.js';
import type { Destination, DestinationSpec } from '../../agent/output/destination.js';
import { newStats } from '../../agent/output/destination.js';
import { DestinationSet } from '../../agent/output/destination-set.js';
import { SendQueue } from '../../agent/output/send-queue.js';
import { TcpDestination } from '../../agent/output/tcp-destination.js';
import { parseIpv4 } from '../../recorder/core/address.js';
import { Status } from '../../recorder/core/status.js';
import { decodeHep3, HepPacket } from '../../recorder/hep/hep3.js';
import { HepStreamFramer } from '../../recorder/hep/hep-stream.js';
import { tempDir } from '../support/temp-dir.js';

const hep = (seq: number, size = 100): Buffer => {
  const b = Buffer.alloc(size, seq & 0xff);
  b.write('HEP3', 0, 'latin1');
  b.writeUInt16BE(size, 4);
  return b;
};

describe('SendQueue', () => {
  it('memory first, then disk in order, then overflow; never more than the limits', () => {
    const dir = tempDir('agent-q-');
    const q = new SendQueue({ memoryBytes: 1000, diskDir: dir, diskBytes: 2000 }, 'tcp:x');
    let accepted = 0;
    for (let i = 0; i < 40; i++) if (q.push({ seq: i, buf: hep(i) })) accepted++;
    // 10 in memory (1000 bytes), 19 on disk (2000 / 104 bytes a record), the rest dropped.
    assert.equal(accepted, 10 + 19);
    assert.equal(q.overflow, 40 - accepted);
    assert.ok(q.memBytes <= 1000);
    assert.ok(readdirSync(dir).length === 1);
    const out: number[] = [];
    for (let p = q.shift(); p; p = q.shift()) {
      assert.equal(p.buf[10], p.seq & 0xff);
      out.push(p.seq);
    }
    assert.deepEqual(out, Array.from({ length: accepted }, (_, i) => i));
    assert.ok(q.empty);
    // Drained: memory is used again.
    assert.ok(q.push({ seq: 99, buf: hep(99) }));
    assert.equal(q.diskBytes, 0);
  });
});

class FakeDestination implements Destination {
  seq = 0;
  readonly stats = newStats();
  readonly got: string[] = [];
  constructor(
    readonly spec: DestinationSpec,
    public up = true,
  ) {}
  send(buf: Buffer, seq: number): void {
    const h = new HepPacket();
    assert.equal(decodeHep3(buf, 0, buf.length, h), Status.Ok);
    assert.equal(h.seq, seq);
    this.got.push(`${seq}:${h.srcPort}`);
  }
  drain(): Promise<boolean> {
    return Promise.resolve(true);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const spec = (name: string, ips: string[] = []): DestinationSpec => ({ name, transport: 'udp', host: '127.0.0.1', port: 1, ips: new AddressSet(ips.map((s) => parseNetwork(s) as Network)) });

const pkt = (src: string, port: number): HepPacket => {
  const p = new HepPacket();
  p.src4 = parseIpv4(src);
  p.dst4 = parseIpv4('10.9.9.9');
  p.srcPort = port;
  p.payloadBuf = Buffer.from('x');
  p.payloadLen = 1;
  return p;
};

describe('DestinationSet', () => {
  it('fan-out: each destination its own sequence numbers and tenant filter', () => {
    const all = new FakeDestination(spec('all'));
    const a = new FakeDestination(spec('tenant-a', ['10.1.0.0/16']));
    const set = new DestinationSet([all, a], 'fanout');
    set.send(pkt('10.1.2.3', 1));
    set.send(pkt('10.2.2.3', 2));
    set.send(pkt('10.1.9.9', 3));
    assert.deepEqual(all.got, ['0:1', '1:2', '2:3']);
    assert.deepEqual(a.got, ['0:1', '1:3']);
  });

  it('failover: the first destination that is up; the primary again once it is back', () => {
    const p = new FakeDestination(spec('primary'), false);
    const s = new FakeDestination(spec('secondary'));
    const set = new DestinationSet([p, s], 'failover');
    set.send(pkt('10.1.2.3', 1));
    p.up = true;
    set.send(pkt('10.1.2.3', 2));
    assert.deepEqual(s.got, ['0:1']);
    assert.deepEqual(p.got, ['0:2']);
  });
});

describe('TcpDestination', () => {
  it('delivers everything to a collector that never acknowledges (plain HEP over TCP), and reconnects', async () => {
    const received: number[] = [];
    const conns: Socket[] = [];
    const server = createServer((c) => {
      conns.push(c);
      const f = new HepStreamFramer((b, off) => received.push(b[off + 10]!));
      c.on('data', (d: Buffer) => f.push(d));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const d = new TcpDestination({ ...spec('tcp'), transport: 'tcp', port }, { memoryBytes: 1 << 20, diskDir: '', diskBytes: 0, reconnectMs: 20, ack: 'auto' });
    try {
      for (let i = 0; i < 50; i++) d.send(hep(i), i);
      assert.ok(await d.drain(6000), 'drained without acks (detected after 3 s)');
      conns[0]!.destroy();
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 50; i < 60; i++) d.send(hep(i), i);
      assert.ok(await d.drain(3000));
    } finally {
      await d.close();
      for (const c of conns) c.destroy();
      server.close();
    }
    assert.deepEqual(received, Array.from({ length: 60 }, (_, i) => i));
    assert.equal(d.stats.reconnects, 1);
  });
});

describe('agent CLI', () => {
  const run = (args: string[]): { status: number | null; stderr: string } => {
    const r = spawnSync('bin/agent', args, { encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr };
  };
  it('bad arguments: one clear line, exit 2', () => {
    for (const [args, msg] of [
      [['--read', 'x.pcap'], 'agent: no destination: give --to HOST:PORT or "destinations" in the config\n'],
      [['--to', '127.0.0.1:9060'], 'agent: give --iface IF or --read CAPTURE\n'],
      [['--read', 'x.pcap', '--iface', 'lo', '--to', '127.0.0.1:9060'], 'agent: give --iface or --read, not both\n'],
      [['--read', 'x.pcap', '--to', 'sctp:1.2.3.4:5'], 'agent: --to sctp:1.2.3.4:5: expected [udp:|tcp:]HOST:PORT (IPv6 in brackets: tcp:[::1]:9060)\n'],
      [['--read', '/nonexistent.pcap', '--to', '127.0.0.1:9'], 'agent: /nonexistent.pcap: cannot open (ENOENT)\n'],
      [['--read', 'x.pcap', '--to', '127.0.0.1:9', '--config', '/nonexistent.json'], 'agent: /nonexistent.json: cannot read: no such file\n'],
      [['--bogus'], "agent: unknown option '--bogus'\n"],
    ] as const) {
      const r = run([...args]);
      assert.equal(r.stderr, msg, args.join(' '));
      assert.equal(r.status, 2, args.join(' '));
    }
  });
});
