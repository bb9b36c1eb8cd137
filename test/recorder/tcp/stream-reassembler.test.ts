import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counters } from '../../../recorder/core/counters.js';
import { Packet, TcpFlag } from '../../../recorder/core/packet.js';
import {
  TcpReassembler,
  type TcpCloseReason,
  type TcpConnection,
  type TcpDir,
  type TcpLimits,
  type TcpStreamConsumer,
} from '../../../recorder/tcp/stream-reassembler.js';
import { prng, permutations, shuffle } from '../../support/random.js';

const { Syn, Ack, Fin, Rst, Psh } = TcpFlag;
const M32 = 2 ** 32;

const text = (n: number, seed = 0): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = 0x21 + ((i * 7 + seed * 13 + (i >> 7)) % 90);
  return b;
};

// ---- endpoints and packets ----------------------------------------------------------------

const CLIENT = 0x0a000001; // 10.0.0.1
const SERVER = 0x0a000002; // 10.0.0.2
const CPORT = 40000;
const SPORT = 5060;

interface Seg {
  /** 'c' = client → server. */
  from: 'c' | 's';
  seq: number;
  ack?: number;
  flags?: number;
  data?: Buffer;
  time?: number;
}

interface Ends {
  c: number;
  s: number;
  cport: number;
  sport: number;
}
const ENDS: Ends = { c: CLIENT, s: SERVER, cport: CPORT, sport: SPORT };

/** A reused Packet, as the pipeline has; payload sits inside a larger frame-like buffer. */
const pkt = new Packet();
function packet(s: Seg, ends: Ends = ENDS): Packet {
  const p = pkt;
  p.ipVersion = 4;
  p.ipProto = 6;
  const fromC = s.from === 'c';
  p.src4 = fromC ? ends.c : ends.s;
  p.dst4 = fromC ? ends.s : ends.c;
  p.srcPort = fromC ? ends.cport : ends.sport;
  p.dstPort = fromC ? ends.sport : ends.cport;
  p.tcpSeq = s.seq >>> 0;
  p.tcpAck = (s.ack ?? 0) >>> 0;
  p.tcpFlags = s.flags ?? (s.ack !== undefined ? Ack : 0);
  const data = s.data ?? Buffer.alloc(0);
  const frame = Buffer.alloc(data.length + 60, 0xee);
  data.copy(frame, 54);
  p.payload = frame;
  p.payloadOff = 54;
  p.payloadLen = data.length;
  p.time = s.time ?? 0;
  return p;
}

/** Cut `data` into segments starting at sequence number `first`, sizes cycling through `sizes`. */
function segments(from: 'c' | 's', first: number, data: Buffer, sizes: readonly number[], ack?: number): Seg[] {
  const out: Seg[] = [];
  let pos = 0;
  for (let i = 0; pos < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, data.length - pos);
    out.push({ from, seq: (first + pos) >>> 0, ack: ack ?? 1, flags: Ack | Psh, data: data.subarray(pos, pos + n) });
    pos += n;
  }
  return out;
}

// ---- a consumer that records everything ----------------------------------------------------

class Recorder implements TcpStreamConsumer {
  readonly events: string[] = [];
  readonly conns = new Map<number, TcpConnection>();
  readonly chunks = new Map<string, Buffer[]>();
  readonly closed = new Map<number, TcpCloseReason>();
  readonly dataTimes: number[] = [];
  /** The Buffer each onData came from (zero-copy check). */
  readonly sources: Buffer[] = [];

  onOpen(c: TcpConnection, now: number): void {
    assert.ok(!this.conns.has(c.id), 'opened twice');
    this.conns.set(c.id, c);
    this.events.push(`open ${c.id} @${now}`);
  }
  onData(c: TcpConnection, dir: TcpDir, buf: Buffer, off: number, len: number, now: number): void {
    assert.ok(this.conns.has(c.id) && !this.closed.has(c.id), 'data outside open..close');
    assert.ok(len > 0 && off >= 0 && off + len <= buf.length, 'bad slice');
    const k = `${c.id}/${dir}`;
    const list = this.chunks.get(k) ?? [];
    list.push(Buffer.from(buf.subarray(off, off + len)));
    this.chunks.set(k, list);
    this.dataTimes.push(now);
    this.sources.push(buf);
    this.events.push(`data ${c.id}/${dir} ${len}`);
  }
  onGap(c: TcpConnection, dir: TcpDir, missing: number, now: number): void {
    assert.ok(this.conns.has(c.id) && !this.closed.has(c.id), 'gap outside open..close');
    this.events.push(`gap ${c.id}/${dir} ${missing} @${now}`);
  }
  onClose(c: TcpConnection, reason: TcpCloseReason, now: number): void {
    assert.ok(this.conns.has(c.id) && !this.closed.has(c.id), 'closed twice');
    this.closed.set(c.id, reason);
    this.events.push(`close ${c.id} ${reason} @${now}`);
  }
  stream(id: number, dir: TcpDir): Buffer {
    return Buffer.concat(this.chunks.get(`${id}/${dir}`) ?? []);
  }
  only(prefix: string): string[] {
    return this.events.filter((e) => e.startsWith(prefix));
  }
}

function setup(limits?: Partial<TcpLimits>): { r: TcpReassembler; rec: Recorder; counters: Counters } {
  const rec = new Recorder();
  const counters = new Counters();
  return { r: new TcpReassembler(rec, counters, limits), rec, counters };
}

function run(r: TcpReassembler, segs: readonly Seg[], ends?: Ends): void {
  for (const s of segs) r.add(packet(s, ends));
}

const CISN = 1000;
const SISN = 5000;
const handshake = (cIsn = CISN, sIsn = SISN): Seg[] => [
  { from: 'c', seq: cIsn, flags: Syn },
  { from: 's', seq: sIsn, ack: cIsn + 1, flags: Syn | Ack },
  { from: 'c', seq: cIsn + 1, ack: sIsn + 1 },
];
const fins = (cEnd: number, sEnd: number, time = 0): Seg[] => [
  { from: 'c', seq: cEnd, ack: sEnd, flags: Fin | Ack, time },
  { from: 's', seq: sEnd, ack: cEnd + 1, flags: Fin | Ack, time },
  { from: 'c', seq: cEnd + 1, ack: sEnd + 1, time },
];

// ---- tests ---------------------------------------------------------------------------------

describe('TcpReassembler: in order', () => {
  it('handshake, data both ways, FIN both ways', () => {
    const { r, rec, counters } = setup();
    const req = text(3000, 1);
    const resp = text(1200, 2);
    run(r, handshake());
    run(r, segments('c', CISN + 1, req, [1460]));
    run(r, segments('s', SISN + 1, resp, [500]));
    run(r, fins(CISN + 1 + req.length, SISN + 1 + resp.length));
    assert.deepEqual(rec.stream(1, 0), req);
    assert.deepEqual(rec.stream(1, 1), resp);
    assert.equal(rec.closed.get(1), 'fin');
    const c = rec.conns.get(1)!;
    assert.deepEqual(
      [c.clientAddr, c.clientPort, c.serverAddr, c.serverPort, c.midStream],
      ['10.0.0.1', CPORT, '10.0.0.2', SPORT, false],
    );
    assert.equal(rec.only('gap').length, 0);
    assert.equal(counters.get('tcp.open'), 1);
    assert.equal(counters.get('tcp.closed_fin'), 1);
    assert.equal(r.bufferedBytes, 0);
  });

  it('in-order bytes are delivered from the packet buffer itself (zero copy)', () => {
    const { r, rec } = setup();
    run(r, handshake());
    const p = packet({ from: 'c', seq: CISN + 1, ack: SISN + 1, data: text(100) });
    r.add(p);
    assert.equal(rec.sources.length, 1);
    assert.equal(rec.sources[0], p.payload);
  });

  it('data on the SYN (TCP Fast Open, RFC 7413) follows the ISN', () => {
    const { r, rec } = setup();
    const early = text(50);
    run(r, [{ from: 'c', seq: CISN, flags: Syn, data: early }]);
    run(r, segments('c', CISN + 1 + 50, text(20, 3), [20]));
    assert.deepEqual(rec.stream(1, 0), Buffer.concat([early, text(20, 3)]));
  });
});

describe('TcpReassembler: reordering', () => {
  it('every permutation of 4 segments delivers the original stream', () => {
    const data = text(4 * 100 + 37);
    const segs = segments('c', CISN + 1, data, [100, 137, 100, 100]);
    for (const perm of permutations(segs)) {
      const { r, rec, counters } = setup();
      run(r, handshake());
      run(r, perm);
      assert.deepEqual(rec.stream(1, 0), data);
      assert.equal(rec.only('gap').length, 0);
      assert.equal(r.bufferedBytes, 0);
      assert.equal(counters.get('tcp.retransmission'), 0);
      assert.equal(counters.get('tcp.overlap'), 0);
    }
  });

  it('every permutation of 4 segments plus a duplicate delivers the original stream', () => {
    const data = text(400);
    const segs = segments('c', CISN + 1, data, [100]);
    for (const perm of permutations([...segs, segs[1]!])) {
      const { r, rec, counters } = setup();
      run(r, handshake());
      run(r, perm);
      assert.deepEqual(rec.stream(1, 0), data);
      assert.equal(counters.get('tcp.retransmission'), 1);
    }
  });

  it('random shuffles of many segments deliver the original stream', () => {
    const rnd = prng(1);
    for (let round = 0; round < 50; round++) {
      const data = text(20000 + Math.floor(rnd() * 20000), round);
      const sizes = Array.from({ length: 7 }, () => 1 + Math.floor(rnd() * 1460));
      const segs = shuffle(segments('c', CISN + 1, data, sizes), rnd);
      const { r, rec } = setup();
      run(r, handshake());
      run(r, segs);
      assert.deepEqual(rec.stream(1, 0), data, `round ${round}`);
      assert.equal(r.bufferedBytes, 0);
    }
  });

  it('several segmentations of the same bytes, interleaved (overlapping retransmits), give the stream once', () => {
    const rnd = prng(2);
    for (let round = 0; round < 50; round++) {
      const data = text(5000 + Math.floor(rnd() * 5000), round);
      const all: Seg[] = [];
      for (let k = 0; k < 3; k++) {
        const sizes = Array.from({ length: 5 }, () => 1 + Math.floor(rnd() * 1460));
        all.push(...segments('c', CISN + 1, data, sizes));
      }
      const { r, rec, counters } = setup();
      run(r, handshake());
      run(r, shuffle(all, rnd));
      assert.deepEqual(rec.stream(1, 0), data, `round ${round}`);
      assert.equal(rec.only('gap').length, 0);
      assert.ok(counters.get('tcp.retransmission') + counters.get('tcp.overlap') > 0);
    }
  });
});

describe('TcpReassembler: retransmissions and overlaps (first received wins)', () => {
  const A = Buffer.alloc(10, 'A');
  const B = Buffer.alloc(10, 'B');
  const base = CISN + 1;
  const cases: [name: string, segs: Seg[], expect: string, counts: Record<string, number>][] = [
    [
      'exact retransmission',
      [
        { from: 'c', seq: base, ack: 1, data: A },
        { from: 'c', seq: base, ack: 1, data: B },
      ],
      'AAAAAAAAAA',
      { 'tcp.retransmission': 1 },
    ],
    [
      'longer retransmission: only the new tail is delivered',
      [
        { from: 'c', seq: base, ack: 1, data: A },
        { from: 'c', seq: base + 5, ack: 1, data: B },
      ],
      'AAAAAAAAAABBBBB',
      { 'tcp.overlap': 1 },
    ],
    [
      'shorter retransmission inside delivered data',
      [
        { from: 'c', seq: base, ack: 1, data: A },
        { from: 'c', seq: base + 2, ack: 1, data: B.subarray(0, 3) },
      ],
      'AAAAAAAAAA',
      { 'tcp.retransmission': 1 },
    ],
    [
      'buffered bytes win over a later in-order segment covering them',
      [
        { from: 'c', seq: base + 10, ack: 1, data: B },
        { from: 'c', seq: base, ack: 1, data: Buffer.alloc(15, 'A') },
      ],
      'AAAAAAAAAABBBBBBBBBB',
      { 'tcp.overlap': 1, 'tcp.out_of_order': 1 },
    ],
    [
      'in-order segment spanning two buffered ones and the hole between',
      [
        { from: 'c', seq: base + 5, ack: 1, data: B.subarray(0, 5) },
        { from: 'c', seq: base + 15, ack: 1, data: B.subarray(0, 5) },
        { from: 'c', seq: base, ack: 1, data: Buffer.alloc(25, 'A') },
      ],
      'AAAAABBBBBAAAAABBBBBAAAAA',
      { 'tcp.overlap': 1, 'tcp.out_of_order': 2 },
    ],
    [
      'out-of-order segment overlapping a buffered one keeps the buffered bytes',
      [
        { from: 'c', seq: base + 10, ack: 1, data: B },
        { from: 'c', seq: base + 5, ack: 1, data: A },
        { from: 'c', seq: base, ack: 1, data: Buffer.alloc(5, 'C') },
      ],
      'CCCCCAAAAABBBBBBBBBB',
      { 'tcp.overlap': 1, 'tcp.out_of_order': 2 },
    ],
    [
      'out-of-order segment fully inside a buffered one',
      [
        { from: 'c', seq: base + 5, ack: 1, data: B },
        { from: 'c', seq: base + 7, ack: 1, data: A.subarray(0, 3) },
        { from: 'c', seq: base, ack: 1, data: A.subarray(0, 5) },
      ],
      'AAAAABBBBBBBBBB',
      { 'tcp.retransmission': 1, 'tcp.out_of_order': 1 },
    ],
  ];
  for (const [name, segs, expect, counts] of cases) {
    it(name, () => {
      const { r, rec, counters } = setup();
      run(r, handshake());
      run(r, segs);
      assert.equal(rec.stream(1, 0).toString('latin1'), expect);
      for (const [k, v] of Object.entries(counts)) assert.equal(counters.get(k), v, k);
      assert.equal(r.bufferedBytes, 0);
    });
  }
});

describe('TcpReassembler: gaps', () => {
  it('a lost segment is reported with its size when both sides close, and later data follows', () => {
    const { r, rec, counters } = setup();
    const data = text(500);
    const segs = segments('c', CISN + 1, data, [100]);
    run(r, handshake());
    run(r, [segs[0]!, segs[1]!, segs[3]!, segs[4]!]);
    assert.equal(rec.stream(1, 0).length, 200, 'waits at the hole');
    run(r, fins(CISN + 1 + 500, SISN + 1));
    assert.deepEqual(rec.stream(1, 0), Buffer.concat([data.subarray(0, 200), data.subarray(300)]));
    assert.deepEqual(rec.only('gap'), ['gap 1/0 100 @0']);
    assert.equal(rec.closed.get(1), 'fin');
    assert.equal(counters.get('tcp.gap'), 1);
    assert.equal(counters.get('tcp.gap_bytes'), 100);
    // Events are ordered: the bytes before the gap, the gap, the bytes after it, then close.
    const idx = (e: string): number => rec.events.findIndex((x) => x.startsWith(e));
    assert.ok(idx('gap') < idx('close') && idx('gap') > idx('data'));
  });

  it('a single FIN with a hole waits: the retransmission still fills it', () => {
    const { r, rec } = setup();
    const data = text(300);
    const segs = segments('c', CISN + 1, data, [100]);
    run(r, handshake());
    run(r, [segs[0]!, segs[2]!, { from: 'c', seq: CISN + 301, ack: SISN + 1, flags: Fin | Ack }]);
    assert.equal(rec.stream(1, 0).length, 100);
    run(r, [segs[1]!]);
    assert.deepEqual(rec.stream(1, 0), data);
    assert.equal(rec.only('gap').length, 0);
  });

  it('bytes missing just before a FIN, with nothing buffered, are reported at close', () => {
    const { r, rec } = setup();
    const data = text(300);
    const segs = segments('c', CISN + 1, data, [100]);
    run(r, handshake());
    run(r, [segs[0]!, segs[1]!]);
    run(r, fins(CISN + 301, SISN + 1));
    assert.deepEqual(rec.only('gap'), ['gap 1/0 100 @0']);
    assert.equal(rec.closed.get(1), 'fin');
  });

  it('sweep gives up a hole after gapTimeoutSec; buffered bytes carry their capture time', () => {
    const { r, rec, counters } = setup({ gapTimeoutSec: 5 });
    const data = text(300);
    const segs = segments('c', CISN + 1, data, [100]);
    run(r, handshake());
    run(r, [{ ...segs[0]!, time: 1 }, { ...segs[2]!, time: 2 }]);
    r.sweep(6.9);
    assert.equal(rec.only('gap').length, 0);
    r.sweep(7);
    assert.deepEqual(rec.only('gap'), ['gap 1/0 100 @7']);
    assert.deepEqual(rec.stream(1, 0), Buffer.concat([data.subarray(0, 100), data.subarray(200)]));
    assert.deepEqual(rec.dataTimes, [1, 2]);
    assert.equal(counters.get('tcp.gap_timeout'), 1);
    assert.equal(r.bufferedBytes, 0);
    // The late retransmission is old news now.
    run(r, [{ ...segs[1]!, time: 8 }]);
    assert.equal(counters.get('tcp.retransmission'), 1);
  });

  it('one sweep clears several stale holes in a row', () => {
    const { r, rec } = setup({ gapTimeoutSec: 5 });
    const segs = segments('c', CISN + 1, text(500), [100]);
    run(r, handshake());
    run(r, [segs[0]!, segs[2]!, segs[4]!].map((s) => ({ ...s, time: 1 })));
    r.sweep(10);
    assert.deepEqual(rec.only('gap'), ['gap 1/0 100 @10', 'gap 1/0 100 @10']);
  });

  it('per-direction buffer overflow gives up the first hole', () => {
    const { r, rec, counters } = setup({ maxBufferedPerDirection: 1000 });
    const data = text(2000);
    const segs = segments('c', CISN + 1, data, [100]);
    run(r, handshake());
    run(r, segs.slice(1)); // the first segment never comes
    assert.ok(counters.get('tcp.buffer_overflow') >= 1);
    assert.equal(rec.only('gap')[0], 'gap 1/0 100 @0');
    assert.deepEqual(rec.stream(1, 0), data.subarray(100));
    assert.ok(r.bufferedBytes <= 1000);
  });

  it('total buffer overflow gives up the oldest hole first', () => {
    const { r, rec } = setup({ maxBufferedTotal: 1500 });
    const other: Ends = { c: CLIENT, s: SERVER, cport: CPORT + 1, sport: SPORT };
    run(r, handshake());
    run(r, handshake(), other);
    run(r, [segments('c', CISN + 1, text(1000), [500])[1]!]); // conn 1 buffers 500
    run(r, [segments('c', CISN + 1, text(1000), [500])[1]!], other); // conn 2 buffers 500
    assert.equal(rec.only('gap').length, 0);
    run(r, [segments('c', CISN + 1, text(2000), [500])[2]!], other); // conn 2: 1000 more → over
    assert.equal(rec.only('gap')[0], 'gap 1/0 500 @0');
    assert.ok(r.bufferedBytes <= 1500);
  });

  it('RST delivers what is buffered after reporting the hole, then closes', () => {
    const { r, rec } = setup();
    const segs = segments('c', CISN + 1, text(300), [100]);
    run(r, handshake());
    run(r, [segs[0]!, segs[2]!, { from: 's', seq: SISN + 1, flags: Rst }]);
    assert.deepEqual(rec.only('gap'), ['gap 1/0 100 @0']);
    assert.equal(rec.stream(1, 0).length, 200);
    assert.equal(rec.closed.get(1), 'rst');
  });
});

describe('TcpReassembler: sequence wrap-around', () => {
  it('shuffled segments across 2^32 deliver the original stream', () => {
    const rnd = prng(3);
    const isn = M32 - 1234;
    for (let round = 0; round < 20; round++) {
      const data = text(5000, round);
      const { r, rec } = setup();
      run(r, handshake(isn, M32 - 1));
      run(r, shuffle(segments('c', isn + 1, data, [333, 97]), rnd));
      run(r, segments('s', M32, text(100), [40])); // server ISN + 1 wraps to 0
      assert.deepEqual(rec.stream(1, 0), data);
      assert.deepEqual(rec.stream(1, 1), text(100));
    }
  });

  it('a gap across 2^32 has the right size', () => {
    const { r, rec } = setup();
    const isn = M32 - 150;
    const data = text(400);
    const segs = segments('c', isn + 1, data, [100]);
    run(r, handshake(isn));
    run(r, [segs[0]!, segs[3]!]);
    run(r, fins((isn + 401) >>> 0, SISN + 1));
    assert.deepEqual(rec.only('gap'), ['gap 1/0 200 @0']);
    assert.deepEqual(rec.stream(1, 0), Buffer.concat([data.subarray(0, 100), data.subarray(300)]));
  });
});

describe('TcpReassembler: mid-stream pickup and direction', () => {
  const cases: [name: string, first: Seg, ends: Ends, client: [number, string]][] = [
    ['data from the high port first', { from: 'c', seq: 7, ack: 9, data: text(5) }, ENDS, [CPORT, '10.0.0.1']],
    ['data from the low port first: the high port is still the client', { from: 's', seq: 7, ack: 9, data: text(5) }, ENDS, [CPORT, '10.0.0.1']],
    [
      'equal ports: the first sender is the client',
      { from: 's', seq: 7, ack: 9, data: text(5) },
      { ...ENDS, cport: 5060, sport: 5060 },
      [5060, '10.0.0.2'],
    ],
  ];
  for (const [name, first, ends, [port, addr]] of cases) {
    it(name, () => {
      const { r, rec, counters } = setup();
      run(r, [first], ends);
      const c = rec.conns.get(1)!;
      assert.equal(c.midStream, true);
      assert.equal(c.clientPort, port);
      assert.equal(c.clientAddr, addr);
      assert.equal(counters.get('tcp.mid_stream'), 1);
      assert.equal(rec.events.filter((e) => e.startsWith('data')).length, 1);
    });
  }

  it('starts at the first segment seen and follows from there', () => {
    const { r, rec } = setup();
    const data = text(1000);
    const segs = segments('c', 123456, data, [100]);
    run(r, segs.slice(2));
    run(r, segs.slice(0, 2)); // earlier bytes seen late cannot be placed: dropped as old
    assert.deepEqual(rec.stream(1, 0), data.subarray(200));
  });

  it("starts a direction at the peer's acknowledgment number when that comes first", () => {
    const { r, rec, counters } = setup();
    const data = text(300);
    const segs = segments('c', 10000, data, [100]);
    // The server's ACK says it holds everything before 10100: the client stream starts there.
    run(r, [{ from: 's', seq: 777, ack: 10100 }]);
    run(r, [segs[2]!, segs[0]!, segs[1]!]);
    assert.deepEqual(rec.stream(1, 0), data.subarray(100));
    assert.equal(counters.get('tcp.overlap') + counters.get('tcp.retransmission'), 1);
  });

  it('a SYN-ACK without its SYN is not mid-stream: the client starts at its ack', () => {
    const { r, rec } = setup();
    run(r, handshake().slice(1));
    run(r, segments('c', CISN + 1, text(50), [50], SISN + 1));
    const c = rec.conns.get(1)!;
    assert.equal(c.midStream, false);
    assert.equal(c.clientPort, CPORT);
    assert.deepEqual(rec.stream(1, 0), text(50));
  });

  it('a SYN captured after the SYN-ACK belongs to the same connection', () => {
    const { r, rec, counters } = setup();
    const hs = handshake();
    run(r, [hs[1]!, hs[2]!, hs[0]!]);
    run(r, segments('c', CISN + 1, text(50), [50], SISN + 1));
    assert.equal(rec.conns.size, 1);
    assert.equal(counters.get('tcp.port_reuse'), 0);
    assert.deepEqual(rec.stream(1, 0), text(50));
  });
});

describe('TcpReassembler: close, linger, port reuse', () => {
  it('half-close: the other side keeps sending until its own FIN', () => {
    const { r, rec } = setup();
    run(r, handshake());
    run(r, [{ from: 'c', seq: CISN + 1, ack: SISN + 1, flags: Fin | Ack }]);
    run(r, segments('s', SISN + 1, text(300), [100], CISN + 2));
    assert.equal(rec.closed.size, 0);
    run(r, [{ from: 's', seq: SISN + 301, ack: CISN + 2, flags: Fin | Ack }]);
    assert.equal(rec.closed.get(1), 'fin');
    assert.deepEqual(rec.stream(1, 1), text(300));
  });

  it('a closed connection lingers: late segments are absorbed, then sweep forgets it', () => {
    const { r, rec, counters } = setup({ closedLingerSec: 30 });
    const data = text(100);
    run(r, handshake());
    run(r, segments('c', CISN + 1, data, [100]));
    run(r, fins(CISN + 101, SISN + 1, 10));
    assert.equal(r.size, 1);
    run(r, [{ from: 'c', seq: CISN + 1, ack: SISN + 1, data, time: 11 }]); // late retransmission
    run(r, [{ from: 'c', seq: CISN + 101, ack: SISN + 1, flags: Fin | Ack, time: 11 }]);
    assert.equal(rec.conns.size, 1, 'no new connection');
    assert.equal(counters.get('tcp.after_close'), 1);
    r.sweep(39);
    assert.equal(r.size, 1);
    r.sweep(40);
    assert.equal(r.size, 0);
  });

  it('data after the FIN is not delivered', () => {
    const { r, rec, counters } = setup();
    run(r, handshake());
    run(r, [
      { from: 'c', seq: CISN + 1, ack: SISN + 1, flags: Fin | Ack, data: text(10) },
      { from: 'c', seq: CISN + 11, ack: SISN + 1, data: text(10, 1) },
    ]);
    assert.deepEqual(rec.stream(1, 0), text(10));
    assert.equal(counters.get('tcp.after_fin'), 1);
  });

  it('a new SYN on a closed 4-tuple opens a new connection', () => {
    const { r, rec, counters } = setup();
    run(r, handshake());
    run(r, segments('c', CISN + 1, text(10), [10]));
    run(r, fins(CISN + 11, SISN + 1));
    run(r, handshake(90000, 70000));
    run(r, segments('c', 90001, text(20, 5), [20], 70001));
    assert.deepEqual([...rec.closed], [[1, 'fin']]);
    assert.deepEqual(rec.stream(2, 0), text(20, 5));
    assert.equal(counters.get('tcp.port_reuse'), 1);
    assert.equal(r.size, 1);
  });

  it('a SYN with another ISN on an open connection replaces it', () => {
    const { r, rec, counters } = setup();
    run(r, segments('c', 5555, text(10), [10])); // picked up mid-stream, never closed
    run(r, handshake(90000, 70000));
    run(r, segments('c', 90001, text(20, 5), [20], 70001));
    assert.deepEqual([...rec.closed], [[1, 'reused']]);
    assert.equal(rec.conns.get(2)!.midStream, false);
    assert.deepEqual(rec.stream(2, 0), text(20, 5));
    assert.equal(counters.get('tcp.port_reuse'), 1);
  });

  it('a retransmitted SYN is not port reuse', () => {
    const { r, rec } = setup();
    run(r, handshake());
    run(r, [{ from: 'c', seq: CISN, flags: Syn }]);
    run(r, segments('c', CISN + 1, text(20), [20], SISN + 1));
    assert.equal(rec.conns.size, 1);
    assert.deepEqual(rec.stream(1, 0), text(20));
  });

  it('a RST for an unknown connection creates nothing', () => {
    const { r, counters } = setup();
    run(r, [{ from: 'c', seq: 1, flags: Rst }]);
    assert.equal(r.size, 0);
    assert.equal(counters.get('tcp.rst_unknown'), 1);
  });
});

describe('TcpReassembler: caps and timeouts', () => {
  const ends = (i: number): Ends => ({ ...ENDS, cport: CPORT + i });

  it('maxConnections evicts the least recently seen connection', () => {
    const { r, rec, counters } = setup({ maxConnections: 2 });
    run(r, [{ from: 'c', seq: 1, ack: 1, data: text(5), time: 1 }], ends(1));
    run(r, [{ from: 'c', seq: 1, ack: 1, data: text(5), time: 2 }], ends(2));
    run(r, [{ from: 'c', seq: 6, ack: 1, data: text(5), time: 3 }], ends(1)); // 1 is now the most recent
    run(r, [{ from: 'c', seq: 1, ack: 1, data: text(5), time: 4 }], ends(3));
    assert.deepEqual([...rec.closed], [[2, 'evicted']]);
    assert.equal(r.size, 2);
    assert.equal(counters.get('tcp.evicted'), 1);
  });

  it('an evicted connection delivers its buffered data after reporting the hole', () => {
    const { r, rec } = setup({ maxConnections: 1 });
    run(r, [
      { from: 'c', seq: 1, ack: 1, data: text(5) },
      { from: 'c', seq: 16, ack: 1, data: text(5, 1) },
    ], ends(1));
    run(r, [{ from: 'c', seq: 1, ack: 1, data: text(5) }], ends(2));
    assert.deepEqual(rec.only('gap'), ['gap 1/0 10 @0']);
    assert.deepEqual(rec.stream(1, 0), Buffer.concat([text(5), text(5, 1)]));
    assert.equal(r.bufferedBytes, 0);
  });

  it('sweep closes idle connections', () => {
    const { r, rec, counters } = setup({ idleTimeoutSec: 60 });
    run(r, [{ from: 'c', seq: 1, ack: 1, data: text(5), time: 100 }], ends(1));
    run(r, [{ from: 'c', seq: 1, ack: 1, data: text(5), time: 130 }], ends(2));
    r.sweep(159);
    assert.equal(r.size, 2);
    r.sweep(160);
    assert.deepEqual([...rec.closed], [[1, 'timeout']]);
    assert.equal(r.size, 1);
    assert.equal(counters.get('tcp.closed_timeout'), 1);
    r.sweep(190);
    assert.equal(r.size, 0);
  });

  it('flush delivers everything, reports holes and closes all', () => {
    const { r, rec } = setup();
    run(r, [
      { from: 'c', seq: 1, ack: 1, data: text(5) },
      { from: 'c', seq: 26, ack: 1, data: text(5, 1) },
    ], ends(1));
    run(r, handshake(), ends(2));
    run(r, handshake(), ends(3));
    run(r, fins(CISN + 1, SISN + 1), ends(3));
    r.flush(50);
    assert.deepEqual(rec.only('gap'), ['gap 1/0 20 @50']);
    assert.deepEqual([...rec.closed].sort(), [[1, 'end'], [2, 'end'], [3, 'fin']]);
    assert.equal(r.size, 0);
    assert.equal(r.bufferedBytes, 0);
  });
});

describe('TcpReassembler: IPv6 and bad input', () => {
  it('IPv6 connections map both directions to one connection', () => {
    const { r, rec } = setup();
    const addrs = Buffer.alloc(40);
    Buffer.from('20010db8000000000000000000000001', 'hex').copy(addrs, 4);
    Buffer.from('20010db8000000000000000000000002', 'hex').copy(addrs, 22);
    const v6 = (s: Seg): Packet => {
      const p = packet(s);
      p.ipVersion = 6;
      p.addrBuf = addrs;
      p.srcOff = s.from === 'c' ? 4 : 22;
      p.dstOff = s.from === 'c' ? 22 : 4;
      return p;
    };
    for (const s of handshake()) r.add(v6(s));
    for (const s of segments('c', CISN + 1, text(100), [30], SISN + 1)) r.add(v6(s));
    for (const s of segments('s', SISN + 1, text(50, 1), [30], CISN + 101)) r.add(v6(s));
    assert.equal(rec.conns.size, 1);
    const c = rec.conns.get(1)!;
    assert.deepEqual([c.clientAddr, c.serverAddr], ['2001:db8::1', '2001:db8::2']);
    assert.deepEqual(rec.stream(1, 0), text(100));
    assert.deepEqual(rec.stream(1, 1), text(50, 1));
    // The same ports over IPv4 are another connection.
    run(r, handshake());
    assert.equal(rec.conns.size, 2);
  });

  it('bad packets are counted, not thrown', () => {
    const { r, counters } = setup();
    const p = packet({ from: 'c', seq: 1, data: text(10) });
    p.ipProto = 17;
    r.add(p);
    const q = packet({ from: 'c', seq: 1, data: text(10) });
    q.payloadLen = 1000;
    r.add(q);
    const s = packet({ from: 'c', seq: 1, data: text(10) });
    s.dst4 = s.src4;
    s.dstPort = s.srcPort;
    r.add(s);
    const t = packet({ from: 'c', seq: 1, data: text(10) });
    t.ipVersion = 6;
    t.addrBuf = Buffer.alloc(8);
    r.add(t);
    assert.equal(counters.get('tcp.not_tcp'), 1);
    assert.equal(counters.get('tcp.malformed'), 2);
    assert.equal(counters.get('tcp.same_endpoints'), 1);
    assert.equal(r.size, 0);
  });
});

describe('TcpReassembler: segment soup', () => {
  it('random segments never throw, keep every cap, and flush leaves nothing', () => {
    const rnd = prng(99);
    const limits = { maxConnections: 20, maxBufferedPerDirection: 20000, maxBufferedTotal: 100000, gapTimeoutSec: 2 };
    const { r, rec, counters } = setup(limits);
    const data = text(70000);
    const bases = [0, M32 - 3000, 123456789, 2 ** 31];
    let now = 0;
    for (let i = 0; i < 60000; i++) {
      now += rnd() * 0.002;
      const conn = Math.floor(rnd() * 30);
      const ends: Ends = { c: CLIENT + (conn % 3), s: SERVER, cport: CPORT + conn, sport: rnd() < 0.9 ? SPORT : CPORT + conn };
      const base = bases[conn % bases.length]!;
      const x = rnd();
      const flags =
        x < 0.03 ? Syn : x < 0.06 ? Syn | Ack : x < 0.08 ? Fin | Ack : x < 0.09 ? Rst : x < 0.95 ? Ack | Psh : Math.floor(rnd() * 256);
      const seq = rnd() < 0.9 ? (base + Math.floor(rnd() * 40000)) >>> 0 : Math.floor(rnd() * M32);
      const len = rnd() < 0.3 ? 0 : Math.floor(rnd() * 1500);
      const off = Math.floor(rnd() * 60000);
      const p = packet({ from: rnd() < 0.5 ? 'c' : 's', seq, ack: Math.floor(rnd() * M32), flags, data: data.subarray(off, off + len), time: now }, ends);
      r.add(p);
      assert.ok(r.bufferedBytes >= 0 && r.bufferedBytes <= limits.maxBufferedTotal, `buffered ${r.bufferedBytes}`);
      assert.ok(r.size <= limits.maxConnections);
      if (i % 500 === 0) r.sweep(now);
    }
    r.flush(now);
    assert.equal(r.size, 0);
    assert.equal(r.bufferedBytes, 0);
    for (const id of rec.conns.keys()) assert.ok(rec.closed.has(id), `connection ${id} closed`);
    for (const k of ['tcp.gap', 'tcp.retransmission', 'tcp.overlap', 'tcp.out_of_order', 'tcp.evicted', 'tcp.port_reuse']) {
      assert.ok(counters.get(k) > 0, k);
    }
  });
});
