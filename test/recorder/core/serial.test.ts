import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  seq16Add,
  seq16Diff,
  seq16Ge,
  seq16Gt,
  seq16Le,
  seq16Lt,
  seqAdd,
  seqDiff,
  seqGe,
  seqGt,
  seqLe,
  seqLt,
  seqMax,
} from '../../../recorder/core/serial.js';

const M32 = 2 ** 32;

describe('32-bit serial arithmetic (RFC 1982)', () => {
  const cases: [a: number, b: number, diff: number][] = [
    [0, 0, 0],
    [1, 0, 1],
    [0, 1, -1],
    [0, M32 - 1, 1], // wrap forward
    [M32 - 1, 0, -1],
    [5, M32 - 5, 10],
    [M32 - 5, 5, -10],
    [0x7fffffff, 0, 0x7fffffff], // largest forward distance
    [0, 0x7fffffff, -0x7fffffff],
    [1000, 999, 1],
    [0x12345678, 0x12345678 - 1460, 1460],
  ];
  for (const [a, b, diff] of cases) {
    it(`seqDiff(${a}, ${b}) = ${diff}`, () => {
      assert.equal(seqDiff(a, b), diff);
      assert.equal(seqLt(a, b), diff < 0);
      assert.equal(seqLe(a, b), diff <= 0);
      assert.equal(seqGt(a, b), diff > 0);
      assert.equal(seqGe(a, b), diff >= 0);
      assert.equal(seqAdd(b, diff), a);
      assert.equal(seqMax(a, b), diff >= 0 ? a : b);
    });
  }

  it('half-space apart is the undefined case: both compare less', () => {
    assert.equal(seqLt(0, 2 ** 31), true);
    assert.equal(seqLt(2 ** 31, 0), true);
  });

  it('seqAdd wraps and stays unsigned', () => {
    const table: [number, number, number][] = [
      [M32 - 1, 1, 0],
      [M32 - 10, 20, 10],
      [5, -10, M32 - 5],
      [0, 0, 0],
      [0x80000000, 0x80000000, 0],
    ];
    for (const [a, n, want] of table) assert.equal(seqAdd(a, n), want, `${a} + ${n}`);
  });

  it('agrees with a plain modular definition on random pairs', () => {
    let x = 12345;
    const rnd = (): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x;
    };
    for (let i = 0; i < 10000; i++) {
      const a = rnd();
      const b = rnd();
      let d = (a - b + M32) % M32;
      if (d >= 2 ** 31) d -= M32;
      assert.equal(seqDiff(a, b), d);
    }
  });
});

describe('16-bit serial arithmetic (RTP sequence numbers)', () => {
  const cases: [a: number, b: number, diff: number][] = [
    [0, 0, 0],
    [1, 0, 1],
    [0, 65535, 1],
    [65535, 0, -1],
    [10, 65526, 20],
    [0x7fff, 0, 0x7fff],
    [0, 0x7fff, -0x7fff],
    [300, 200, 100],
  ];
  for (const [a, b, diff] of cases) {
    it(`seq16Diff(${a}, ${b}) = ${diff}`, () => {
      assert.equal(seq16Diff(a, b), diff);
      assert.equal(seq16Lt(a, b), diff < 0);
      assert.equal(seq16Le(a, b), diff <= 0);
      assert.equal(seq16Gt(a, b), diff > 0);
      assert.equal(seq16Ge(a, b), diff >= 0);
      assert.equal(seq16Add(b, diff), a);
    });
  }

  it('seq16Add wraps', () => {
    assert.equal(seq16Add(65535, 1), 0);
    assert.equal(seq16Add(3, -5), 65534);
  });
});
