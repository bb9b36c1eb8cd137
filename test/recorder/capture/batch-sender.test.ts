import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { BatchSender } from '../../../recorder/capture/batch-sender.js';

/** A UDP receiver on 127.0.0.1 that collects datagrams until it has `n`. */
async function receiver(): Promise<{ port: number; got: Buffer[]; until: (n: number) => Promise<void>; close: () => void }> {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  const got: Buffer[] = [];
  let want = Infinity;
  let wake: (() => void) | null = null;
  s.on('message', (m) => {
    got.push(m);
    if (got.length >= want) wake?.();
  });
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return {
    port: s.address().port,
    got,
    until: (n) =>
      new Promise<void>((resolve, reject) => {
        want = n;
        if (got.length >= n) return resolve();
        wake = resolve;
        setTimeout(() => reject(new Error(`received ${got.length} of ${n}`)), 5000).unref();
      }),
    close: () => s.close(),
  };
}

describe('BatchSender (sendmmsg through the pcap addon)', () => {
  it('sends every datagram of a batch as its own datagram, in order, with its bytes', async () => {
    const r = await receiver();
    const tx = BatchSender.udp('127.0.0.1', r.port, { bytes: 64 * 1024, maxCount: 600 });
    assert.ok(tx !== null, 'the native batch sender is built on Linux');
    // 1,000 datagrams of varying sizes (0..299 bytes): more than one sendmmsg call (256 per call)
    // and more than one batch (maxCount 600).
    const sent: Buffer[] = [];
    let total = 0;
    for (let i = 0; i < 1000; i++) {
      const d = Buffer.alloc(i % 300, i & 0xff);
      if (d.length > 0) d.writeUInt8(i >> 8, 0);
      sent.push(d);
      if (!tx.push(d)) {
        total += tx.flush().sent;
        assert.ok(tx.push(d));
      }
    }
    assert.ok(tx.pending > 0);
    total += tx.flush().sent;
    assert.equal(tx.pending, 0);
    assert.equal(total, 1000);
    await r.until(1000);
    assert.equal(r.got.length, 1000);
    for (let i = 0; i < 1000; i++) assert.ok(r.got[i]!.equals(sent[i]!), `datagram ${i}`);
    tx.close();
    r.close();
  });

  it('runs of equal-size datagrams (sent with UDP GSO) still arrive one datagram each, short last one included', async () => {
    for (const gso of [true, false]) {
      const r = await receiver();
      const tx = BatchSender.udp('127.0.0.1', r.port, { gso })!;
      // 300 × 214 bytes (an RTP-sized HEP run, longer than one 64-segment GSO message), one of
      // 100, then 10 × 214 again: every run boundary the segmenter has to respect.
      const sizes: number[] = [...new Array<number>(300).fill(214), 100, ...new Array<number>(10).fill(214)];
      const sent = sizes.map((n, i) => {
        const d = Buffer.alloc(n, i & 0xff);
        d.writeUInt16BE(i, 0);
        return d;
      });
      for (const d of sent) assert.ok(tx.push(d));
      assert.deepEqual(tx.flush(), { sent: sizes.length, dropped: 0 });
      await r.until(sizes.length);
      assert.equal(r.got.length, sizes.length, `gso ${gso}`);
      for (let i = 0; i < sizes.length; i++) assert.ok(r.got[i]!.equals(sent[i]!), `gso ${gso}: datagram ${i}`);
      tx.close();
      r.close();
    }
  });

  it('reserve gives room in place; a full batch says so instead of growing', () => {
    const tx = BatchSender.udp('127.0.0.1', 9, { bytes: 1000, maxCount: 4 })!;
    const a = tx.reserve(400);
    const b = tx.reserve(400);
    assert.deepEqual([a, b], [0, 400]);
    assert.equal(tx.reserve(400), -1, 'no room for 1,200 bytes in 1,000');
    assert.equal(tx.reserve(100), 800);
    assert.equal(tx.reserve(10), 900);
    assert.equal(tx.reserve(1), -1, 'four datagrams at most');
    assert.equal(tx.push(Buffer.alloc(2000)), false);
    tx.close();
  });

  it('rejects bad arguments with one clear error', () => {
    assert.throws(() => BatchSender.udp('not-an-ip', 5060), /IP address literal/);
    assert.throws(() => BatchSender.packet('no-such-if0'), /no-such-if0/);
  });
});
