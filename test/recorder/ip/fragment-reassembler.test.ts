import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counters } from '../../../recorder/core/counters.js';
import {
  FRAGMENT_ENTRY_OVERHEAD,
  FRAGMENT_PIECE_OVERHEAD,
  FragmentReassembler,
  type FragmentLimits,
} from '../../../recorder/ip/fragment-reassembler.js';
import { prng, permutations, shuffle } from '../../support/random.js';

const pattern = (n: number, seed = 1): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
};

/** A fragment as the IP decoder would pass it; `data` sits at a nonzero offset in a larger buffer. */
interface Frag {
  offset: number;
  more: boolean;
  data: Buffer;
}

const frag = (offset: number, more: boolean, data: Buffer): Frag => ({ offset, more, data });
/** Split payload at the given byte boundaries (each a multiple of 8). */
function split(payload: Buffer, cuts: readonly number[]): Frag[] {
  const bounds = [0, ...cuts, payload.length];
  const out: Frag[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    out.push(frag(bounds[i]!, i + 2 < bounds.length, payload.subarray(bounds[i], bounds[i + 1])));
  }
  return out;
}

const fill = (n: number, byte: number): Buffer => Buffer.alloc(n, byte);

function make(limits?: Partial<FragmentLimits>): { r: FragmentReassembler; counters: Counters } {
  const counters = new Counters();
  return { r: new FragmentReassembler(counters, limits), counters };
}

/** Feed through a scratch buffer with junk around the fragment, as a frame buffer would be. */
function feed(r: FragmentReassembler, key: string, f: Frag, now = 0): Buffer | null {
  const scratch = Buffer.alloc(f.data.length + 20, 0xee);
  f.data.copy(scratch, 14);
  const out = r.add(key, f.offset, f.more, scratch, 14, f.data.length, now);
  scratch.fill(0x99); // the caller reuses its buffer: the reassembler must have copied
  return out;
}

function feedAll(r: FragmentReassembler, key: string, frags: readonly Frag[], now = 0): Buffer[] {
  const done: Buffer[] = [];
  for (const f of frags) {
    const out = feed(r, key, f, now);
    if (out !== null) done.push(out);
  }
  return done;
}

describe('FragmentReassembler: ordering', () => {
  const layouts: [name: string, size: number, cuts: number[]][] = [
    ['3 fragments', 40, [16, 24]],
    ['3 fragments, ragged last', 61, [24, 48]],
    ['4 fragments', 1500 * 3 + 37, [1480, 2960, 4440]],
    ['4 fragments of 8', 29, [8, 16, 24]],
  ];
  for (const [name, size, cuts] of layouts) {
    it(`${name}: every permutation reassembles the same bytes`, () => {
      const payload = pattern(size);
      const perms = permutations(split(payload, cuts));
      for (const perm of perms) {
        const { r, counters } = make();
        const done = feedAll(r, 'k', perm);
        assert.equal(done.length, 1);
        assert.deepEqual(done[0], payload);
        assert.equal(r.size, 0);
        assert.equal(r.bufferedBytes, 0);
        assert.equal(counters.get('ip.frag_reassembled'), 1);
        assert.equal(counters.entries('ip.').length, 1, JSON.stringify(counters));
      }
    });
  }

  it('completes only on the fragment that fills the last hole', () => {
    const payload = pattern(48);
    const [a, b, c] = split(payload, [16, 32]) as [Frag, Frag, Frag];
    const { r } = make();
    assert.equal(feed(r, 'k', c), null);
    assert.equal(feed(r, 'k', a), null);
    assert.equal(r.size, 1);
    assert.deepEqual(feed(r, 'k', b), payload);
  });

  it('keeps datagrams with different keys apart', () => {
    const p1 = pattern(40, 1);
    const p2 = pattern(40, 2);
    const f1 = split(p1, [16]);
    const f2 = split(p2, [16]);
    const { r } = make();
    assert.equal(feed(r, 'a', f1[0]!), null);
    assert.equal(feed(r, 'b', f2[1]!), null);
    assert.deepEqual(feed(r, 'b', f2[0]!), p2);
    assert.deepEqual(feed(r, 'a', f1[1]!), p1);
  });

  it('random fragmentations, duplicated and shuffled, with consistent overlaps, give the original', () => {
    const rnd = prng(7);
    for (let round = 0; round < 200; round++) {
      const size = 1 + Math.floor(rnd() * 3000);
      const payload = pattern(size, round);
      const frags: Frag[] = [];
      // Two or three independent fragmentations of the same payload: overlaps agree on bytes.
      const copies = 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < copies; k++) {
        const cuts: number[] = [];
        for (let pos = 8 * (1 + Math.floor(rnd() * 40)); pos < size; pos += 8 * (1 + Math.floor(rnd() * 40))) cuts.push(pos);
        frags.push(...split(payload, cuts));
      }
      shuffle(frags, rnd);
      const { r, counters } = make();
      const done = feedAll(r, 'k', frags);
      assert.ok(done.length >= 1, `round ${round}`);
      assert.deepEqual(done[0], payload, `round ${round}`);
      assert.equal(counters.get('ip.frag_overlap_conflict'), 0, 'consistent overlaps are not conflicts');
      assert.equal(counters.get('ip.frag_malformed'), 0);
    }
  });
});

describe('FragmentReassembler: duplicates and overlaps (first wins)', () => {
  it('an exact duplicate is counted and ignored, in every position', () => {
    const payload = pattern(40);
    const base = split(payload, [16, 24]);
    for (let dup = 0; dup < base.length; dup++) {
      for (const perm of permutations([...base, base[dup]!])) {
        const { r, counters } = make();
        const done = feedAll(r, 'k', perm);
        assert.deepEqual(done, [payload]);
        // When the copy comes last, the datagram was already complete: the copy opens a new
        // entry that will time out, and is no duplicate of anything held.
        const copyLast = perm[3] === base[dup];
        assert.equal(counters.get('ip.frag_duplicate'), copyLast ? 0 : 1);
        assert.equal(r.size, copyLast ? 1 : 0);
        assert.equal(counters.get('ip.frag_overlap'), 0);
      }
    }
  });

  const A = 0xaa;
  const B = 0xbb;
  const C = 0xcc;
  const cases: [name: string, frags: Frag[], expect: Buffer, overlaps: number][] = [
    [
      'consistent partial overlap (re-fragmented on another path)',
      [frag(0, true, pattern(24).subarray(0, 16)), frag(8, false, pattern(24).subarray(8))],
      pattern(24),
      1,
    ],
    [
      'later fragment overlapping the tail of a held one',
      [frag(0, true, fill(16, A)), frag(8, true, fill(16, B)), frag(24, false, fill(8, C))],
      Buffer.concat([fill(16, A), fill(8, B), fill(8, C)]),
      1,
    ],
    [
      'later fragment overlapping the head of a held one',
      [frag(8, true, fill(16, B)), frag(0, true, fill(16, A)), frag(24, false, fill(8, C))],
      Buffer.concat([fill(8, A), fill(16, B), fill(8, C)]),
      1,
    ],
    [
      'later fragment covering two held ones and the hole between',
      [frag(0, true, fill(8, A)), frag(16, true, fill(8, B)), frag(32, false, fill(5, C)), frag(0, true, fill(32, C))],
      Buffer.concat([fill(8, A), fill(8, C), fill(8, B), fill(13, C)]),
      1,
    ],
    [
      'later fragment fully inside a held one, different bytes',
      [frag(0, true, fill(32, A)), frag(8, true, fill(8, B)), frag(32, false, fill(3, C))],
      Buffer.concat([fill(32, A), fill(3, C)]),
      1,
    ],
    [
      'last fragment overlapping the previous one',
      [frag(0, true, fill(16, A)), frag(8, false, fill(12, C))],
      Buffer.concat([fill(16, A), fill(4, C)]),
      1,
    ],
  ];
  for (const [name, frags, expect, overlaps] of cases) {
    it(name, () => {
      const { r, counters } = make();
      const done = feedAll(r, 'k', frags);
      assert.equal(done.length, 1);
      assert.deepEqual(done[0], expect);
      assert.equal(counters.get('ip.frag_overlap'), overlaps);
      assert.equal(counters.get('ip.frag_overlap_conflict'), name.startsWith('consistent') ? 0 : overlaps);
      assert.equal(counters.get('ip.frag_duplicate'), 0);
      assert.equal(r.bufferedBytes, 0);
    });
  }

  it('dropOverlapping (RFC 5722) discards the datagram on an overlap, even a consistent one', () => {
    const p = pattern(40);
    const { r, counters } = make({ dropOverlapping: true });
    assert.equal(feed(r, 'k', frag(0, true, p.subarray(0, 16))), null);
    assert.equal(feed(r, 'k', frag(8, true, p.subarray(8, 24))), null);
    assert.equal(r.size, 0);
    assert.equal(counters.get('ip.frag_overlap'), 1);
    assert.equal(counters.get('ip.frag_overlap_conflict'), 0);
  });

  it('dropOverlapping (RFC 5722) discards the datagram on a conflicting overlap', () => {
    const { r, counters } = make({ dropOverlapping: true });
    assert.equal(feed(r, 'k', frag(0, true, fill(16, A))), null);
    assert.equal(feed(r, 'k', frag(8, true, fill(16, B))), null);
    assert.equal(r.size, 0);
    assert.equal(counters.get('ip.frag_overlap'), 1);
    assert.equal(feed(r, 'k', frag(24, false, fill(8, C))), null, 'the rest never completes');
  });

  it('dropOverlapping still accepts exact duplicates (RFC 8200 §4.5)', () => {
    const payload = pattern(40);
    const f = split(payload, [16, 24]);
    const { r, counters } = make({ dropOverlapping: true });
    const done = feedAll(r, 'k', [f[0]!, f[0]!, f[2]!, f[1]!]);
    assert.deepEqual(done, [payload]);
    assert.equal(counters.get('ip.frag_duplicate'), 1);
  });
});

describe('FragmentReassembler: malformed and oversized input', () => {
  it('drops a non-final fragment whose length is not a multiple of 8, keeps the datagram', () => {
    const payload = pattern(40);
    const f = split(payload, [16, 24]);
    const { r, counters } = make();
    assert.equal(feed(r, 'k', frag(0, true, payload.subarray(0, 15))), null);
    assert.equal(counters.get('ip.frag_malformed'), 1);
    assert.deepEqual(feedAll(r, 'k', f), [payload]);
  });

  const bad: [name: string, offset: number, more: boolean, off: number, len: number][] = [
    ['offset not a multiple of 8', 4, true, 0, 8],
    ['negative offset', -8, true, 0, 8],
    ['fractional offset', 8.5, true, 0, 8],
    ['empty non-final fragment', 8, true, 0, 0],
    ['slice past the buffer', 0, true, 10, 16],
    ['negative slice offset', 0, true, -1, 8],
    ['negative length', 0, true, 0, -8],
  ];
  for (const [name, offset, more, off, len] of bad) {
    it(`${name}: counted, not thrown`, () => {
      const { r, counters } = make();
      assert.equal(r.add('k', offset, more, Buffer.alloc(24), off, len, 0), null);
      assert.equal(counters.get('ip.frag_malformed'), 1);
      assert.equal(r.size, 0);
    });
  }

  it('two different last fragments drop the datagram', () => {
    const { r, counters } = make();
    feed(r, 'k', frag(0, true, fill(16, 1)));
    feed(r, 'k', frag(24, false, fill(8, 2)));
    assert.equal(r.size, 1);
    assert.equal(feed(r, 'k', frag(24, false, fill(16, 2))), null);
    assert.equal(counters.get('ip.frag_malformed'), 1);
    assert.equal(r.size, 0);
    assert.equal(r.bufferedBytes, 0);
  });

  it('data beyond the known end drops the datagram, in either order', () => {
    for (const order of [0, 1]) {
      const { r, counters } = make();
      const last = frag(16, false, fill(8, 2));
      const beyond = frag(24, true, fill(8, 3));
      feed(r, 'k', order === 0 ? last : beyond);
      feed(r, 'k', order === 0 ? beyond : last);
      assert.equal(counters.get('ip.frag_malformed'), 1);
      assert.equal(r.size, 0);
    }
  });

  it('a datagram larger than maxDatagramSize is dropped (ping of death)', () => {
    const { r, counters } = make();
    feed(r, 'k', frag(0, true, fill(1480, 1)));
    assert.equal(feed(r, 'k', frag(65528, false, fill(100, 1))), null);
    assert.equal(counters.get('ip.frag_too_big'), 1);
    assert.equal(r.size, 0);
    // Exactly at the limit is fine.
    const { r: r2 } = make({ maxDatagramSize: 64 });
    assert.deepEqual(feedAll(r2, 'k', [frag(0, true, fill(32, 1)), frag(32, false, fill(32, 2))]).length, 1);
  });

  it('an atomic fragment (offset 0, last) is returned at once as a copy (RFC 6946)', () => {
    const { r, counters } = make();
    const payload = pattern(20);
    const out = feed(r, 'k', frag(0, false, payload));
    assert.deepEqual(out, payload);
    assert.equal(r.size, 0);
    assert.equal(counters.get('ip.frag_atomic'), 1);
  });

  it('a zero-length last fragment can complete a datagram', () => {
    const { r } = make();
    const payload = pattern(16);
    assert.equal(feed(r, 'k', frag(0, true, payload)), null);
    assert.deepEqual(feed(r, 'k', frag(16, false, Buffer.alloc(0))), payload);
  });

  it('a last fragment fully covered by held data still completes the datagram', () => {
    const { r, counters } = make();
    const payload = pattern(24);
    assert.equal(feed(r, 'k', frag(0, true, payload)), null);
    assert.deepEqual(feed(r, 'k', frag(16, false, payload.subarray(16))), payload);
    assert.equal(counters.get('ip.frag_duplicate'), 1);
  });

  it('maxFragmentsPerDatagram bounds the piece list', () => {
    const { r, counters } = make({ maxFragmentsPerDatagram: 4 });
    for (let i = 0; i < 4; i++) feed(r, 'k', frag(i * 16, true, fill(8, i)));
    assert.equal(r.size, 1);
    feed(r, 'k', frag(100 * 8, true, fill(8, 9)));
    assert.equal(counters.get('ip.frag_too_many'), 1);
    assert.equal(r.size, 0);
  });
});

describe('FragmentReassembler: caps and timeouts', () => {
  it('maxDatagrams evicts the oldest datagram', () => {
    const { r, counters } = make({ maxDatagrams: 2 });
    const payloads = [pattern(40, 1), pattern(40, 2), pattern(40, 3)];
    payloads.forEach((p, i) => feed(r, `d${i}`, split(p, [16])[0]!));
    assert.equal(r.size, 2);
    assert.equal(counters.get('ip.frag_evicted'), 1);
    // d0 was evicted: its last fragment alone does not complete it.
    assert.equal(feed(r, 'd0', split(payloads[0]!, [16])[1]!), null);
    // d2 survived (d1 was evicted to make room for d0 again).
    assert.deepEqual(feed(r, 'd2', split(payloads[2]!, [16])[1]!), payloads[2]);
  });

  it('maxBytes evicts the oldest datagrams and never is exceeded', () => {
    const cost = (n: number): number => FRAGMENT_ENTRY_OVERHEAD + n + FRAGMENT_PIECE_OVERHEAD;
    const maxBytes = cost(1000) * 3;
    const { r, counters } = make({ maxBytes });
    for (let i = 0; i < 10; i++) {
      feed(r, `d${i}`, frag(0, true, fill(1000, i)));
      assert.ok(r.bufferedBytes <= maxBytes);
    }
    assert.equal(r.size, 3);
    assert.equal(r.bufferedBytes, maxBytes);
    assert.equal(counters.get('ip.frag_evicted'), 7);
  });

  it('a datagram that alone exceeds maxBytes is given up', () => {
    const { r, counters } = make({ maxBytes: 2000 });
    feed(r, 'k', frag(0, true, fill(1000, 1)));
    feed(r, 'k', frag(1000, true, fill(1000, 1)));
    assert.equal(r.size, 0);
    assert.equal(r.bufferedBytes, 0);
    assert.equal(counters.get('ip.frag_evicted'), 1);
  });

  it('huge holes cost only the bytes held, not the datagram size', () => {
    const { r } = make();
    for (let i = 0; i < 100; i++) {
      feed(r, `d${i}`, frag(0, true, fill(8, 1)));
      feed(r, `d${i}`, frag(65520, true, fill(8, 1)));
    }
    assert.equal(r.size, 100);
    assert.equal(r.bufferedBytes, 100 * (FRAGMENT_ENTRY_OVERHEAD + 2 * (8 + FRAGMENT_PIECE_OVERHEAD)));
  });

  it('sweep abandons datagrams older than timeoutSec (capture time)', () => {
    const { r, counters } = make({ timeoutSec: 30 });
    const p = pattern(40);
    const [a, b] = split(p, [16]) as [Frag, Frag];
    feed(r, 'old', a, 100);
    feed(r, 'new', a, 120);
    r.sweep(129.9);
    assert.equal(r.size, 2);
    r.sweep(130);
    assert.equal(r.size, 1);
    assert.equal(counters.get('ip.frag_timeout'), 1);
    assert.equal(feed(r, 'old', b, 131), null, 'the old datagram is gone');
    assert.deepEqual(feed(r, 'new', b, 131), p);
    r.sweep(1000);
    assert.equal(r.size, 0);
    assert.equal(r.bufferedBytes, 0);
  });
});

describe('FragmentReassembler: fragment soup', () => {
  it('random fragments never throw and stay within every cap', () => {
    const rnd = prng(42);
    const limits = { maxDatagrams: 64, maxBytes: 256 * 1024, timeoutSec: 5, maxFragmentsPerDatagram: 200 };
    const { r, counters } = make(limits);
    const big = Buffer.alloc(70000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 13) & 0xff;
    let now = 0;
    let completed = 0;
    for (let i = 0; i < 50000; i++) {
      now += rnd() * 0.01;
      const key = `k${Math.floor(rnd() * 100)}`;
      const shape = rnd();
      const offset = shape < 0.3 ? 8 * Math.floor(rnd() * 8192) : shape < 0.9 ? 8 * Math.floor(rnd() * 64) : Math.floor(rnd() * 70000) - 10;
      const len = rnd() < 0.8 ? 8 * Math.floor(rnd() * 200) : Math.floor(rnd() * 2000) - 5;
      const off = Math.floor(rnd() * 1000) - 2;
      const out = r.add(key, offset, rnd() < 0.85, big, off, len, now);
      if (out !== null) {
        completed++;
        assert.ok(out.length <= 65535);
      }
      assert.ok(r.bufferedBytes <= limits.maxBytes, `bytes ${r.bufferedBytes}`);
      assert.ok(r.bufferedBytes >= 0);
      assert.ok(r.size <= limits.maxDatagrams);
      if (i % 1000 === 0) r.sweep(now);
    }
    r.sweep(now + 10);
    assert.equal(r.size, 0);
    assert.equal(r.bufferedBytes, 0);
    assert.ok(completed > 0, 'some datagrams completed');
    assert.ok(counters.get('ip.frag_evicted') > 0);
    assert.ok(counters.get('ip.frag_malformed') > 0);
  });
});
