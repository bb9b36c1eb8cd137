/**
 * The spool writer's native record loop (native/spool/spool_demux.c) against its TypeScript
 * twin in spool-consumer.ts: the same calls spooled through each must give the same files,
 * byte for byte, and read back as what was sent.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Counters } from '../../../recorder/core/counters.js';
import { BatchSlots, chunkPool } from '../../../recorder/spool/batch-slots.js';
import { crc32c } from '../../../recorder/spool/crc32.js';
import { SpoolDirectory } from '../../../recorder/spool/spool-directory.js';
import { MEDIA_FILE } from '../../../recorder/spool/spool-meta.js';
import { readSpool } from '../../../recorder/spool/spool-reader.js';
import { SpoolWriter } from '../../../recorder/spool/spool-writer.js';
import { prng } from '../../support/random.js';
import { PCMA, T0, crc32cBitwise, streamInfo, tmp } from './spool-helpers.js';

const native = chunkPool().native;

describe('native spool loop', () => {
  it('is built (make native) and selected', () => {
    assert.notEqual(native, null, 'the capture addon with spoolDemux must be loadable in tests');
  });

  it('CRC-32C: hardware and table paths equal the definition for lengths 0..300 at several offsets', () => {
    const addon = native!.addon;
    const rnd = prng(11);
    const buf = Buffer.alloc(400);
    for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(rnd() * 256);
    for (const off of [0, 1, 5]) {
      for (let len = 0; len <= 300; len++) {
        const b = buf.subarray(off, off + len);
        const want = crc32cBitwise(b);
        assert.equal(addon.spoolCrc32c(b, false), want, `hw off ${off} len ${len}`);
        assert.equal(addon.spoolCrc32c(b, true), want, `sw off ${off} len ${len}`);
        assert.equal(crc32c(buf, off, off + len), want);
      }
    }
  });

  it('many interleaved calls spool to the same bytes with and without it, and read back as sent', async () => {
    const run = async (useNative: boolean): Promise<{ dirs: string[]; counters: Counters }> => {
      const counters = new Counters();
      const writer = new SpoolWriter({ inThread: true, ringBytes: 1 << 20, native: useNative, sync: () => Promise.resolve(true) });
      // A small batch cap: batches end by size as well as by capture time.
      const d = new SpoolDirectory(tmp(`demux-${useNative ? 'c' : 'ts'}`), counters, { writer, maxBufferBytes: 6000, flushIntervalMs: 1000 });
      const rnd = prng(5);
      const calls = Array.from({ length: 40 }, (_, i) => {
        const s = d.open({ id: `call-${i}`, callId: `c${i}@x`, record: null });
        s.addStream(streamInfo(0x1000 + i, 'caller', 0));
        s.addStream(streamInfo(0x2000 + i, 'callee', 1, [PCMA]));
        return s;
      });
      const payload = Buffer.alloc(20_000);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + 3) & 0xff;
      for (let n = 0; n < 6000; n++) {
        const c = Math.floor(rnd() * calls.length);
        const s = calls[c]!;
        if (!s.isOpen) continue;
        if (rnd() < 0.003) {
          // A re-INVITE: the stream's info changes mid-call (a STREAM record between packets).
          s.updateStream(1, streamInfo(0x3000 + c, 'callee', 1));
          continue;
        }
        if (rnd() < 0.002) {
          await s.close();
          continue;
        }
        // Mostly G.711-sized, some empty, some larger than a batch chunk (8 KiB).
        const r = rnd();
        const len = r < 0.02 ? 0 : r < 0.04 ? 9000 + Math.floor(rnd() * 8000) : 160;
        const at = Math.floor(rnd() * 100);
        s.append(Math.floor(rnd() * 2), n & 0xffff, n * 160, rnd() < 0.05, 0, T0 + Math.floor(n / 50), (n % 50) * 20_000_000, payload, at, len);
        if (rnd() < 0.01) writer.pump();
      }
      await Promise.all(calls.map((s) => s.close()));
      return { dirs: calls.map((s) => s.dir), counters };
    };
    const js = await run(false);
    // Count the runs of records the native loop took (the consumer calls it through the pool's handle).
    const handle = native!;
    const real = handle.addon;
    let taken = 0;
    handle.addon = {
      ...real,
      spoolDemux(set, ring, r, w, limit, keys, state, caps, out): void {
        real.spoolDemux(set, ring, r, w, limit, keys, state, caps, out);
        if (out[0]! >>> 0 !== r) taken++;
      },
    };
    let c: Awaited<ReturnType<typeof run>>;
    try {
      c = await run(true);
    } finally {
      handle.addon = real;
    }
    assert.equal(c.dirs.length, js.dirs.length);
    let packets = 0;
    c.dirs.forEach((dir, i) => {
      const a = readFileSync(join(dir, MEDIA_FILE));
      const b = readFileSync(join(js.dirs[i]!, MEDIA_FILE));
      assert.ok(a.equals(b), `call ${i}: the native loop wrote other bytes than the TypeScript loop`);
      const r = readSpool(dir);
      assert.equal(r.truncatedTail, false);
      assert.equal(r.stats.skippedBytes, 0);
      for (const s of r.streams) packets += s.packets.length;
    });
    assert.equal(packets, c.counters.get('spool.packets'));
    assert.ok(packets > 4000, `${packets} packets spooled`);
    assert.ok(taken > 100, `the native loop took runs of records ${taken} times`);
    // Several batches per call: the size and capture-time cuts both happened.
    assert.ok(c.counters.get('spool.writes') > 3 * c.dirs.length);
    assert.equal(c.counters.get('spool.writes'), js.counters.get('spool.writes'));
  });
});

describe('BatchSlots', () => {
  it('finds every live id and no removed one through random adds and removes (colliding ids too)', () => {
    const t = new BatchSlots();
    const live = new Map<number, number>();
    const rnd = prng(3);
    let next = 1;
    for (let step = 0; step < 20_000; step++) {
      if (live.size < 5 || rnd() < 0.52) {
        // Ids that share their low bits collide in the table.
        const sid = rnd() < 0.3 ? (next++ * 1024) >>> 0 : next++;
        const slot = t.add(sid);
        assert.ok(![...live.values()].includes(slot), 'a slot is never given twice');
        live.set(sid, slot);
      } else {
        const keys = [...live.keys()];
        const sid = keys[Math.floor(rnd() * keys.length)]!;
        t.remove(sid, live.get(sid)!);
        live.delete(sid);
        assert.equal(t.find(sid), -1);
      }
      if (step % 97 === 0) for (const [sid, slot] of live) assert.equal(t.find(sid), slot, `sid ${sid}`);
    }
    for (const [sid, slot] of live) assert.equal(t.find(sid), slot);
    assert.equal(t.find(0x7fffffff), -1);
  });
});
