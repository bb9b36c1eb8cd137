/**
 * Skinny framing over TCP: several messages per segment, one message across segments (at every
 * split point), byte by byte, and recovery from garbage, lying lengths and gaps.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counters } from '../../../recorder/core/counters.js';
import { SkinnyStreamFramer } from '../../../recorder/sccp/stream-framer.js';
import { prng } from '../../support/random.js';
import { sk, V20, V_BASIC } from '../../support/skinny.js';

const messages = (): Buffer[] => [
  sk.keepAlive(V_BASIC),
  sk.callState(V20, 4, 1, 99),
  sk.callInfo(V20, { line: 1, callRef: 99, callType: 1, calling: '5551234', callingName: 'Caller', called: '2002', calledName: 'Bob' }),
  sk.openReceiveChannelAck(V20, { ip: '10.0.0.5', port: 20000, passThru: 1, callRef: 99 }),
  sk.callInfo(V_BASIC, { line: 2, callRef: 100, callType: 2, calling: '2002', called: '3003' }),
];

function collect(counters = new Counters()): { framer: SkinnyStreamFramer; got: Buffer[]; counters: Counters } {
  const got: Buffer[] = [];
  const framer = new SkinnyStreamFramer((b, o, l) => got.push(Buffer.from(b.subarray(o, o + l))), counters);
  return { framer, got, counters };
}

describe('SkinnyStreamFramer', () => {
  it('delivers several messages of one segment in order, in place', () => {
    const msgs = messages();
    const { framer, got } = collect();
    framer.push(Buffer.concat(msgs), 0, Buffer.concat(msgs).length);
    assert.deepEqual(got, msgs);
    assert.equal(framer.pendingMessage, false);
  });

  it('joins a message cut at every position across two segments', () => {
    const msgs = messages();
    const all = Buffer.concat(msgs);
    for (let cut = 1; cut < all.length; cut++) {
      const { framer, got } = collect();
      framer.push(all.subarray(0, cut), 0, cut);
      framer.push(all.subarray(cut), 0, all.length - cut);
      assert.deepEqual(got, msgs, `cut at ${cut}`);
    }
  });

  it('byte by byte, and in random chunks', () => {
    const msgs = messages();
    const all = Buffer.concat(msgs);
    const one = collect();
    for (let i = 0; i < all.length; i++) one.framer.push(all, i, 1);
    assert.deepEqual(one.got, msgs);
    const rnd = prng(3);
    for (let round = 0; round < 200; round++) {
      const { framer, got } = collect();
      for (let off = 0; off < all.length; ) {
        const n = Math.min(all.length - off, 1 + Math.floor(rnd() * 150));
        framer.push(Buffer.from(all.subarray(off, off + n)), 0, n);
        off += n;
      }
      assert.deepEqual(got, msgs);
    }
  });

  it('skips garbage before and between messages, counting it', () => {
    const msgs = messages();
    const garbage = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const stream = Buffer.concat([garbage, msgs[0]!, msgs[1]!, Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]), msgs[2]!, msgs[3]!]);
    const { framer, got, counters } = collect();
    framer.push(stream, 0, stream.length);
    assert.deepEqual(got, [msgs[0], msgs[1], msgs[2], msgs[3]]);
    assert.ok(counters.get('sccp.resync') >= 2);
    assert.equal(counters.get('sccp.resync_skipped_bytes'), garbage.length + 7);
  });

  it('a huge length is counted and skipped; the stream recovers', () => {
    const msgs = messages();
    const huge = Buffer.alloc(12);
    huge.writeUInt32LE(50 * 1024 * 1024, 0);
    const stream = Buffer.concat([msgs[0]!, huge, msgs[1]!, msgs[2]!]);
    const { framer, got, counters } = collect();
    framer.push(stream, 0, 20);
    framer.push(stream, 20, stream.length - 20);
    assert.deepEqual(got, [msgs[0], msgs[1], msgs[2]]);
    assert.equal(counters.get('sccp.too_large'), 1);
  });

  it('after a gap the partial message is dropped and framing resumes', () => {
    const msgs = messages();
    const { framer, got, counters } = collect();
    framer.push(msgs[2]!, 0, 30);
    framer.gap();
    const rest = Buffer.concat([msgs[2]!.subarray(70), msgs[3]!, msgs[4]!]);
    framer.push(rest, 0, rest.length);
    assert.deepEqual(got, [msgs[3], msgs[4]]);
    assert.equal(counters.get('sccp.gap_dropped'), 1);
  });

  it('random bytes never throw and never stall a later valid stream', () => {
    const rnd = prng(11);
    for (let round = 0; round < 300; round++) {
      const noise = Buffer.alloc(Math.floor(rnd() * 400));
      for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(rnd() * 256);
      const { framer, got } = collect();
      framer.push(noise, 0, noise.length);
      framer.gap();
      const msgs = messages();
      const all = Buffer.concat(msgs);
      framer.push(all, 0, all.length);
      // Everything after the first message is delivered whatever the noise was (a header
      // straddling the noise can swallow at most the first).
      assert.deepEqual(got.slice(-4), msgs.slice(1), `round ${round}`);
    }
  });
});
