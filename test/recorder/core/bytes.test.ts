/**
 * copyBytes and ViewCache: the spool's per-packet copy (capture buffer → shared ring → batch)
 * must move every byte exactly, at any alignment and length, between ordinary and shared memory.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copyBytes, ViewCache } from '../../../recorder/core/bytes.js';

function random(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

describe('copyBytes', () => {
  it('copies exactly what Buffer#copy copies, at every alignment and length, into shared memory too', () => {
    const src = random(4096, 7);
    // Every float64 NaN pattern and sign/exponent edge sits in the source too: bits must survive.
    for (let i = 0; i < 256; i++) src.writeUInt32LE((0x7ff00000 | (i << 12)) >>> 0, 2048 + 4 * i);
    const shared = Buffer.from(new SharedArrayBuffer(4096));
    const plain = Buffer.alloc(4096);
    const expect = Buffer.alloc(4096);
    const srcView = new DataView(src.buffer);
    for (const dst of [shared, plain]) {
      const dstView = new DataView(dst.buffer);
      for (let len = 0; len <= 70; len++) {
        for (let from = 0; from < 9; from++) {
          for (let to = 0; to < 9; to++) {
            dst.fill(0xa5);
            expect.fill(0xa5);
            const f = 2040 + from;
            copyBytes(srcView, src.byteOffset + f, dstView, dst.byteOffset + 100 + to, len);
            src.copy(expect, 100 + to, f, f + len);
            assert.ok(dst.equals(expect), `len ${len} from +${from} to +${to}`);
          }
        }
      }
      // RTP-sized payloads across the whole source.
      for (let k = 0; k < 200; k++) {
        const len = 1 + ((k * 37) % 1400);
        const f = (k * 131) % (4096 - len);
        copyBytes(srcView, src.byteOffset + f, dstView, dst.byteOffset, len);
        assert.ok(dst.subarray(0, len).equals(src.subarray(f, f + len)), `payload ${k}`);
      }
    }
  });
});

describe('ViewCache', () => {
  it('gives one view per underlying memory, offsets by byteOffset', () => {
    const slab = random(1024, 3);
    const other = Buffer.from(new SharedArrayBuffer(64)); // memory of its own (random() may share Node's pool)
    other.set(random(64, 4));
    const cache = new ViewCache();
    const a = slab.subarray(100, 200);
    const b = slab.subarray(300, 400);
    const v = cache.of(a);
    assert.equal(cache.of(b), v, 'the same memory keeps its view');
    assert.equal(v.getUint8(b.byteOffset + 5), b[5]);
    const w = cache.of(other);
    assert.notEqual(w, v);
    assert.equal(w.getUint8(other.byteOffset + 10), other[10]);
  });
});
