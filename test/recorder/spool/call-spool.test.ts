import assert from 'node:assert/strict';
import fs, { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Counters } from '../../../recorder/core/counters.js';
import { packetRecordSize, type SpoolPacket } from '../../../recorder/spool/spool-format.js';
import { FsyncBatcher } from '../../../recorder/spool/fsync-batcher.js';
import { SpoolDirectory, listSpools } from '../../../recorder/spool/spool-directory.js';
import { MEDIA_FILE, META_FILE } from '../../../recorder/spool/spool-meta.js';
import { readSpool } from '../../../recorder/spool/spool-reader.js';
import { MsgKind, RingConsumer, RingProducer, newRingMemory } from '../../../recorder/spool/spool-ring.js';
import { SpoolWriter } from '../../../recorder/spool/spool-writer.js';
import { prng } from '../../support/random.js';
import { PCMA, PCMU, T0, capNsec, capSec, streamInfo, tmp } from './spool-helpers.js';

type Sent = SpoolPacket;

/** Random packets over `streams` streams, appended as they are made. */
function spoolRandom(seed: number, count: number, maxLen = 1400): { dir: string; sent: Sent[]; infos: ReturnType<typeof streamInfo>[]; close: () => Promise<void> } {
  const rnd = prng(seed);
  const root = tmp('spool-rt');
  const d = new SpoolDirectory(root, new Counters(), { maxBufferBytes: 16 * 1024 });
  const spool = d.open({ id: `call-${seed}`, callId: 'abc@host', record: { n: seed } });
  const infos = [streamInfo(0xaaaa0001, 'caller', 0), streamInfo(0xbbbb0002, 'callee', 1, [PCMA]), streamInfo(0xaaaa0003, 'caller', 0)];
  infos.forEach((i) => spool.addStream(i));
  const sent: Sent[] = [];
  for (let i = 0; i < count; i++) {
    const len = rnd() < 0.05 ? 0 : Math.floor(rnd() * maxLen);
    const payload = Buffer.alloc(len);
    for (let k = 0; k < len; k++) payload[k] = Math.floor(rnd() * 256);
    // Appended from inside a bigger buffer, as the pipeline does.
    const frame = Buffer.concat([Buffer.alloc(42, 0xee), payload, Buffer.alloc(4, 0xee)]);
    const p: Sent = {
      stream: Math.floor(rnd() * 3),
      seq: Math.floor(rnd() * 65536),
      ts: Math.floor(rnd() * 2 ** 32),
      marker: rnd() < 0.1,
      pt: Math.floor(rnd() * 128),
      captureSec: T0 + i,
      captureNsec: Math.floor(rnd() * 1e9),
      payload,
    };
    if (i % 2 === 0) spool.append(p.stream, p.seq, p.ts, p.marker, p.pt, p.captureSec, p.captureNsec, frame, 42, len);
    else {
      // As a capture reader hands it over: the frame inside a chunk, with the chunk's view.
      const chunk = Buffer.alloc(frame.length + 100 + (i % 7), 0xdd);
      frame.copy(chunk, 100 + (i % 7));
      const data = chunk.subarray(100 + (i % 7), 100 + (i % 7) + frame.length);
      spool.append(p.stream, p.seq, p.ts, p.marker, p.pt, p.captureSec, p.captureNsec, data, 42, len, new DataView(chunk.buffer, chunk.byteOffset, chunk.length), 100 + (i % 7));
    }
    sent.push(p);
  }
  return { dir: spool.dir, sent, infos, close: () => spool.close({ id: `call-${seed}`, callId: 'abc@host', record: { n: seed, done: true } }) };
}

const byStream = (sent: Sent[], s: number): Sent[] => sent.filter((p) => p.stream === s);

describe('CallSpool round trip', () => {
  it('random packets on three streams read back exactly, meta finalized', async () => {
    const { dir, sent, infos, close } = spoolRandom(1, 3000);
    await close();
    const r = readSpool(dir);
    assert.equal(r.finalized, true);
    assert.equal(r.state, 'closed');
    assert.equal(r.truncatedTail, false);
    assert.deepEqual(r.meta, { id: 'call-1', callId: 'abc@host', record: { n: 1, done: true } });
    assert.equal(r.streams.length, 3);
    r.streams.forEach((s, i) => {
      assert.deepEqual(s.info, infos[i]);
      assert.deepEqual(s.packets, byStream(sent, i));
    });
    assert.equal(existsSync(join(dir, 'meta.json.tmp')), false);
  });

  it('the largest RTP payload (65,495 bytes) fits; a larger one is refused and counted', async () => {
    const root = tmp('spool-big');
    const counters = new Counters();
    const spool = new SpoolDirectory(root, counters).open({ id: 'big', callId: 'x', record: null });
    const s = spool.addStream(streamInfo(1, 'caller', 0));
    const big = Buffer.alloc(65495, 7);
    spool.append(s, 1, 0, false, 0, T0, 0, big, 0, big.length);
    spool.append(s, 2, 160, false, 0, T0, 0, Buffer.alloc(70000), 0, 70000);
    await spool.close();
    assert.equal(counters.get('spool.oversize'), 1);
    const r = readSpool(spool.dir);
    assert.equal(r.streams[0]!.packets.length, 1);
    assert.deepEqual(r.streams[0]!.packets[0]!.payload, big);
    assert.equal(r.lostRecords, 1);
  });

  it('updateStream replaces the info; updateMeta replaces meta.json atomically', async () => {
    const root = tmp('spool-upd');
    const spool = new SpoolDirectory(root, new Counters()).open({ id: 'u', callId: 'c1', record: { v: 1 } });
    const s = spool.addStream(streamInfo(5, 'caller', 0, [PCMU]));
    spool.updateMeta({ id: 'u', callId: 'c1', record: { v: 2 } });
    // The writer thread replaces meta.json: in order with the records, not before updateMeta returns.
    await spool.whenWritten();
    assert.deepEqual((JSON.parse(readFileSync(join(spool.dir, META_FILE), 'utf8')) as { meta: { record: unknown } }).meta.record, { v: 2 });
    spool.updateStream(s, streamInfo(5, 'caller', 0, [PCMA]));
    spool.append(s, 1, 0, false, 8, T0, 0, Buffer.alloc(160), 0, 160);
    spool.flush();
    await spool.whenWritten();
    const r = readSpool(spool.dir);
    assert.equal(r.finalized, false);
    assert.deepEqual(r.streams[0]!.info.payloads, [PCMA]);
    assert.deepEqual(r.meta.record, { v: 2 });
    await spool.close();
    assert.deepEqual(readdirSync(spool.dir).sort(), [MEDIA_FILE, META_FILE]);
  });

  it('appends after close and to unknown streams are counted, not thrown', async () => {
    const counters = new Counters();
    const spool = new SpoolDirectory(tmp('spool-misuse'), counters).open({ id: 'm', callId: 'c', record: null });
    spool.append(0, 1, 0, false, 0, T0, 0, Buffer.alloc(4), 0, 4);
    const s = spool.addStream(streamInfo(1, 'caller', 0));
    await spool.close();
    spool.append(s, 1, 0, false, 0, T0, 0, Buffer.alloc(4), 0, 4);
    assert.equal(counters.get('spool.bad_stream'), 1);
    assert.equal(counters.get('spool.append_after_close'), 1);
  });

  it('a call id that is not a safe file name is sanitized, and collisions get a suffix', () => {
    const root = tmp('spool-names');
    const d = new SpoolDirectory(root, new Counters());
    const a = d.open({ id: '../../etc/passwd', callId: 'x', record: null });
    const b = d.open({ id: '../../etc/passwd', callId: 'y', record: null });
    assert.equal(a.dir, join(root, '.._.._etc_passwd'));
    assert.equal(b.dir, join(root, '.._.._etc_passwd-1'));
  });
});

describe('torn tail after a crash', () => {
  it('truncating the file at every byte of the last record keeps every earlier record', async () => {
    const { dir, sent, close } = spoolRandom(2, 200, 300);
    await close();
    const file = join(dir, MEDIA_FILE);
    const size = statSync(file).size;
    const last = sent[sent.length - 1]!;
    const lastStart = size - packetRecordSize(last.payload.length);
    const expected = [0, 1, 2].map((s) => byStream(sent.slice(0, -1), s));
    for (let cut = size - 1; cut >= lastStart; cut--) {
      truncateSync(file, cut);
      const r = readSpool(dir);
      assert.equal(r.truncatedTail, cut > lastStart, `cut at ${cut}`);
      r.streams.forEach((s, i) => assert.deepEqual(s.packets, expected[i], `cut at ${cut}, stream ${i}`));
    }
  });

  it('garbage or zeros after the last record (power loss) are a torn tail too', async () => {
    for (const tail of [Buffer.alloc(4096), Buffer.from([0xa5, 1, 0xff, 0x00, 1, 2, 3]), Buffer.alloc(100, 0xa5)]) {
      const { dir, sent, close } = spoolRandom(3, 50, 200);
      await close();
      appendFileSync(join(dir, MEDIA_FILE), tail);
      const r = readSpool(dir);
      assert.equal(r.truncatedTail, true);
      assert.equal(r.stats.tailBytes, tail.length);
      assert.equal(r.streams.reduce((n, s) => n + s.packets.length, 0), sent.length);
    }
  });

  it('a corrupted record in the middle is skipped and the scan resynchronizes', async () => {
    const { dir, sent, close } = spoolRandom(4, 100, 100);
    await close();
    const file = join(dir, MEDIA_FILE);
    const b = readFileSync(file);
    b[Math.floor(b.length / 2)]! ^= 0xff;
    writeFileSync(file, b);
    const r = readSpool(dir);
    const got = r.streams.reduce((n, s) => n + s.packets.length, 0);
    assert.ok(got === sent.length - 1 || got === sent.length - 2, `${got} of ${sent.length}`);
    assert.ok(r.stats.skippedBytes > 0);
    assert.equal(r.truncatedTail, false);
  });

  it('a file cut inside its header reads as empty and torn', async () => {
    const { dir, close } = spoolRandom(5, 10, 10);
    await close();
    truncateSync(join(dir, MEDIA_FILE), 9);
    const r = readSpool(dir);
    assert.equal(r.streams.length, 0);
    assert.equal(r.truncatedTail, true);
  });
});

describe('write batching', () => {
  it('≤ 1 write per call per second with 50 calls of 2 streams at 50 packets/s; fsync ≤ 1/s per file', async () => {
    let now = 0;
    const counters = new Counters();
    const root = tmp('spool-batch');
    // Synchronous I/O, so that the write syscalls can be counted here.
    const d = new SpoolDirectory(root, counters, { now: () => now, io: 'sync' });
    const calls = 50;
    const seconds = 10;
    const spools = Array.from({ length: calls }, (_, c) => d.open({ id: `c${c}`, callId: `${c}`, record: null }));
    for (const s of spools) {
      s.addStream(streamInfo(1, 'caller', 0));
      s.addStream(streamInfo(2, 'callee', 1));
    }
    // Files are created in libuv's pool, off the calling thread.
    await d.whenWritten();
    let writes = 0;
    const orig = fs.writevSync;
    fs.writevSync = ((...args: Parameters<typeof fs.writevSync>) => {
      writes++;
      return orig(...args);
    });
    const payload = Buffer.alloc(160, 0xff);
    try {
      for (let t = 0; t < seconds * 1000; t += 20) {
        now = t;
        for (let c = 0; c < calls; c++) {
          const s = spools[c]!;
          for (const st of [0, 1]) s.append(st, t / 20, t * 8, false, 0, T0 + Math.floor(t / 1000), (t % 1000) * 1e6, payload, 0, 160);
        }
        if (t % 100 === 0) d.tick();
      }
    } finally {
      fs.writevSync = orig;
    }
    const perCallSecond = writes / (calls * seconds);
    assert.equal(writes, counters.get('spool.writes'));
    assert.ok(perCallSecond <= 1, `${perCallSecond} writes per call per second`);
    assert.ok(perCallSecond >= 0.8, `${perCallSecond}: batches should still go out every second`);
    assert.ok(counters.get('spool.fsyncs') <= calls * seconds, `${counters.get('spool.fsyncs')} fsyncs`);
    await d.closeAll();
    for (const s of spools) assert.equal(readSpool(s.dir).streams[1]!.packets.length, (seconds * 1000) / 20);
  });

  it('a fast stream is flushed by size: the buffer stays under the cap', async () => {
    const counters = new Counters();
    const now = 0;
    const d = new SpoolDirectory(tmp('spool-size'), counters, { now: () => now, maxBufferBytes: 64 * 1024 });
    const s = d.open({ id: 'fast', callId: 'x', record: null });
    s.addStream(streamInfo(1, 'caller', 0));
    // Until the writer has created the file, records wait in one batch (the cap applies from then on).
    await s.whenWritten();
    const payload = Buffer.alloc(1200);
    for (let i = 0; i < 1000; i++) s.append(0, i, i * 960, false, 0, T0, 0, payload, 0, payload.length);
    await d.whenWritten();
    const bytes = 1000 * packetRecordSize(1200);
    const writes = counters.get('spool.writes');
    // Each batch is as full as whole records allow: between cap − one record and cap bytes.
    assert.ok(writes >= Math.floor(bytes / (64 * 1024)) && writes <= Math.ceil(bytes / (64 * 1024 - packetRecordSize(1200))), `${writes} writes`);
  });

  it('a failed write loses only its batch; stream infos are written again; the file stays valid', async () => {
    const counters = new Counters();
    // Synchronous I/O so that the failure can be injected in this thread.
    const d = new SpoolDirectory(tmp('spool-enospc'), counters, { io: 'sync' });
    const s = d.open({ id: 'full', callId: 'x', record: null });
    s.addStream(streamInfo(1, 'caller', 0));
    await s.whenWritten();
    const orig = fs.writevSync;
    let fail = true;
    fs.writevSync = ((...args: Parameters<typeof fs.writevSync>) => {
      if (fail) {
        fail = false;
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      }
      return orig(...args);
    });
    try {
      for (let i = 0; i < 10; i++) s.append(0, i, i * 160, false, 0, T0, i, Buffer.alloc(160, i), 0, 160);
      s.flush();
      for (let i = 10; i < 15; i++) s.append(0, i, i * 160, false, 0, T0, i, Buffer.alloc(160, i), 0, 160);
      await s.close();
    } finally {
      fs.writevSync = orig;
    }
    assert.equal(counters.get('spool.write_error'), 1);
    const r = readSpool(s.dir);
    assert.equal(r.lostRecords, 10);
    assert.equal(r.truncatedTail, false);
    assert.deepEqual(
      r.streams[0]!.packets.map((p) => p.seq),
      [10, 11, 12, 13, 14],
    );
  });
});

describe('fsync batching', () => {
  const settle = async (b: FsyncBatcher): Promise<void> => {
    while (b.pending > 0) await new Promise((r) => setTimeout(r, 2));
  };

  it('the fsyncs due in one flusher tick go to the worker as one batch', async () => {
    let now = 0;
    const syncer = new FsyncBatcher();
    const counters = new Counters();
    const d = new SpoolDirectory(tmp('spool-fsync'), counters, { now: () => now, syncer, io: 'sync' });
    const spools = Array.from({ length: 100 }, (_, i) => d.open({ id: `s${i}`, callId: 'x', record: null }));
    for (const s of spools) {
      s.addStream(streamInfo(1, 'caller', 0));
      s.append(0, 1, 0, false, 0, T0, 0, Buffer.alloc(160), 0, 160);
    }
    now = 1000;
    d.tick(); // hands the batches to the writer
    await d.whenWritten();
    d.tick(); // the written files are due for fsync
    await settle(syncer);
    assert.equal(counters.get('spool.writes'), 100);
    assert.equal(counters.get('spool.fsyncs'), 100);
    assert.equal(syncer.stats.batches, 1);
    assert.equal(syncer.stats.syncfs, 1, 'one syncfs(2) instead of 100 fsyncs (one filesystem, ≥ DEFAULT_SYNCFS_MIN files)');
    assert.equal(counters.get('spool.fsync_error'), 0);
    await d.closeAll();
    await syncer.close();
  });

  it('a directory with syncfs: false keeps an fsync per file, however many calls', async () => {
    let now = 0;
    const syncer = new FsyncBatcher();
    const counters = new Counters();
    const d = new SpoolDirectory(tmp('spool-fsync-solo'), counters, { now: () => now, syncer, io: 'sync', syncfs: false });
    const spools = Array.from({ length: 100 }, (_, i) => d.open({ id: `s${i}`, callId: 'x', record: null }));
    for (const s of spools) {
      s.addStream(streamInfo(1, 'caller', 0));
      s.append(0, 1, 0, false, 0, T0, 0, Buffer.alloc(160), 0, 160);
    }
    now = 1000;
    d.tick();
    await d.whenWritten();
    d.tick();
    await settle(syncer);
    assert.equal(counters.get('spool.fsyncs'), 100);
    assert.equal(syncer.stats.batches, 1);
    assert.equal(syncer.stats.syncfs, 0);
    assert.equal(counters.get('spool.fsync_error'), 0);
    await d.closeAll();
    await syncer.close();
  });

  it('without a usable worker, fs.fsync takes over', async () => {
    const syncer = new FsyncBatcher(new URL('./no-such-fsync-worker.js', import.meta.url));
    const counters = new Counters();
    const d = new SpoolDirectory(tmp('spool-fsync-fb'), counters, { syncer, io: 'sync' });
    const s = d.open({ id: 'fb', callId: 'x', record: null });
    s.addStream(streamInfo(1, 'caller', 0));
    await s.close();
    assert.equal(syncer.stats.workerErrors, 1);
    assert.equal(counters.get('spool.fsync_error'), 0);
    assert.equal(readSpool(s.dir).finalized, true);
  });
});

describe('SpoolDirectory state', () => {
  it('pending() lists spools a crashed process left open; unrendered() the closed ones', async () => {
    const root = tmp('spool-pending');
    const d = new SpoolDirectory(root, new Counters());
    const a = d.open({ id: 'a', callId: 'a', record: null });
    const b = d.open({ id: 'b', callId: 'b', record: null });
    a.addStream(streamInfo(1, 'caller', 0));
    a.append(0, 1, 0, false, 0, capSec(T0), capNsec(T0), Buffer.alloc(10), 0, 10);
    a.flush();
    await b.close();
    assert.deepEqual(d.pending(), [], 'spools open in this process are not pending');
    // A new process on the same root (the first one "crashed").
    const d2 = new SpoolDirectory(root, new Counters());
    assert.deepEqual(d2.pending(), [a.dir]);
    assert.deepEqual(d2.unrendered(), [b.dir]);
    assert.deepEqual(
      listSpools(root).map((e) => e.state),
      ['open', 'closed'],
    );
  });
});

describe('SpoolWriter (the ring and its writer thread)', () => {
  it('the worker seals every record: a spool written through it reads back with valid CRCs', async () => {
    const { dir, sent, close } = spoolRandom(5, 400);
    await close();
    const r = readSpool(dir);
    assert.equal(r.stats.skippedBytes, 0);
    assert.equal(r.stats.badRecords, 0);
    assert.equal(r.streams.reduce((n, st) => n + st.packets.length, 0), sent.length);
  });

  it('a small ring wraps around many times and every record arrives in order', async () => {
    // 64 KiB ring: 3000 random packets of up to 1400 bytes (≈ 2.2 MB) wrap it ~35 times.
    const writer = new SpoolWriter({ ringBytes: 1 << 16 });
    const rnd = prng(11);
    const d = new SpoolDirectory(tmp('spool-wrap'), new Counters(), { writer });
    const spool = d.open({ id: 'wrap', callId: 'w', record: null });
    spool.addStream(streamInfo(1, 'caller', 0));
    const sent: Sent[] = [];
    let dropped = 0;
    for (let i = 0; i < 3000; i++) {
      const payload = Buffer.alloc(Math.floor(rnd() * 1400), i & 0xff);
      const before = spool.lostRecords;
      spool.append(0, i & 0xffff, i * 160, false, 0, T0 + Math.floor(i / 50), (i % 50) * 20_000_000, payload, 0, payload.length);
      if (spool.lostRecords !== before) {
        // The writer fell behind (a busy machine): wait for it, as a test may, and go on.
        dropped++;
        await spool.whenWritten();
        continue;
      }
      sent.push({ stream: 0, seq: i & 0xffff, ts: i * 160, marker: false, pt: 0, captureSec: T0 + Math.floor(i / 50), captureNsec: (i % 50) * 20_000_000, payload });
      if (i % 200 === 0) await spool.whenWritten();
    }
    await spool.close();
    const r = readSpool(spool.dir);
    assert.deepEqual(r.streams[0]!.packets, sent);
    assert.equal(r.lostRecords, dropped);
    await writer.terminate();
  });

  it('ring producer and consumer: messages of every size across the wrap, pad messages skipped', () => {
    const mem = newRingMemory(1 << 16);
    const p = new RingProducer(mem);
    const c = new RingConsumer(mem);
    const rnd = prng(7);
    const got: string[] = [];
    const want: string[] = [];
    for (let round = 0; round < 2000; round++) {
      const len = Math.floor(rnd() * 3000);
      const at = p.begin(MsgKind.Record, round, len, 0);
      if (at < 0) {
        p.publish();
        c.drain((kind, id, buf, off, n) => got.push(`${kind}/${id}/${n}/${buf[off] ?? '-'}/${buf[off + n - 1] ?? '-'}`));
        round--;
        continue;
      }
      p.buf.fill(round & 0xff, at, at + len);
      p.commit();
      want.push(`${MsgKind.Record}/${round}/${len}/${len ? round & 0xff : '-'}/${len ? round & 0xff : '-'}`);
    }
    p.publish();
    c.drain((kind, id, buf, off, n) => got.push(`${kind}/${id}/${n}/${n ? buf[off] : '-'}/${n ? buf[off + n - 1] : '-'}`));
    assert.deepEqual(got, want);
    assert.equal(p.used, 0);
  });

  it('ring full: packets are dropped and counted, never blocking; control messages wait in order', async () => {
    const writer = new SpoolWriter({ ringBytes: 1 << 16, url: new URL('./stalled-writer-worker.js', import.meta.url) });
    const counters = new Counters();
    const d = new SpoolDirectory(tmp('spool-full'), counters, { writer });
    const spool = d.open({ id: 'full', callId: 'f', record: { v: 1 } });
    spool.addStream(streamInfo(1, 'caller', 0));
    const payload = Buffer.alloc(160, 9);
    for (let i = 0; i < 1000; i++) spool.append(0, i, i * 160, false, 0, T0 + Math.floor(i / 50), (i % 50) * 20_000_000, payload, 0, 160);
    const dropped = counters.get('spool.ring_full');
    assert.ok(dropped > 500 && dropped < 1000, `${dropped} dropped of 1000`);
    assert.equal(spool.lostRecords, dropped);
    assert.equal(writer.stats.ringFull, dropped);
    // More control messages than the headroom holds: queued, none lost.
    for (let k = 0; k < 300; k++) spool.updateMeta({ id: 'full', callId: 'f', record: { v: k, pad: 'x'.repeat(100) } });
    // The writer thread dies: the ring is consumed here from now on, in order.
    await writer.terminate();
    await spool.close({ id: 'full', callId: 'f', record: { v: 'final' } });
    const r = readSpool(spool.dir);
    assert.equal(r.finalized, true);
    assert.deepEqual(r.meta.record, { v: 'final' });
    assert.equal(r.streams[0]!.packets.length, 1000 - dropped);
    assert.equal(r.lostRecords, dropped);
    assert.deepEqual(
      r.streams[0]!.packets.map((p) => p.seq),
      Array.from({ length: 1000 - dropped }, (_, i) => i),
    );
    assert.equal(writer.stats.workerErrors, 1);
  });

  it('lossless (replay): a full ring makes the capture thread wait for the writer thread, nothing dropped', async () => {
    const writer = new SpoolWriter({ ringBytes: 1 << 16 });
    const counters = new Counters();
    const d = new SpoolDirectory(tmp('spool-lossless'), counters, { writer, lossless: true });
    const spool = d.open({ id: 'lossless', callId: 'l', record: { v: 1 } });
    spool.addStream(streamInfo(1, 'caller', 0));
    const payload = Buffer.alloc(160, 7);
    // 20,000 records (≈ 3.7 MB) through a 64 KiB ring in one synchronous loop: without waiting
    // almost all of them would be dropped (as in the test above).
    const n = 20_000;
    for (let i = 0; i < n; i++) spool.append(0, i & 0xffff, i * 160, false, 0, T0 + Math.floor(i / 50), (i % 50) * 20_000_000, payload, 0, 160);
    assert.equal(counters.get('spool.ring_full'), 0);
    assert.equal(spool.lostRecords, 0);
    await spool.close({ id: 'lossless', callId: 'l', record: { v: 'final' } });
    const r = readSpool(spool.dir);
    assert.equal(r.streams[0]!.packets.length, n);
    assert.equal(r.lostRecords, 0);
    await writer.terminate();
  });

  it('lossless gives up on a writer thread that makes no progress: dropped and counted', async () => {
    const writer = new SpoolWriter({ ringBytes: 1 << 16, stallLimitMs: 200, url: new URL('./stalled-writer-worker.js', import.meta.url) });
    const counters = new Counters();
    const d = new SpoolDirectory(tmp('spool-lossless-stall'), counters, { writer, lossless: true });
    const spool = d.open({ id: 'stall', callId: 's', record: { v: 1 } });
    spool.addStream(streamInfo(1, 'caller', 0));
    const payload = Buffer.alloc(160, 9);
    const t0 = Date.now();
    for (let i = 0; i < 1000; i++) spool.append(0, i, i * 160, false, 0, T0 + Math.floor(i / 50), (i % 50) * 20_000_000, payload, 0, 160);
    const dropped = counters.get('spool.ring_full');
    assert.ok(dropped > 500, `${dropped} dropped`);
    assert.equal(spool.lostRecords, dropped);
    assert.ok(Date.now() - t0 >= 200, 'waited for the writer first');
    await writer.terminate();
  });

  it('creating a call spool makes no file syscall on the capture thread', async () => {
    const root = tmp('spool-offthread');
    // A writer thread that does not consume yet: whatever exists afterwards was not made by open().
    const writer = new SpoolWriter({ ringBytes: 1 << 16, url: new URL('./stalled-writer-worker.js', import.meta.url) });
    const d = new SpoolDirectory(root, new Counters(), { writer });
    const calls: string[] = [];
    const orig = { mkdirSync: fs.mkdirSync, openSync: fs.openSync, renameSync: fs.renameSync, mkdir: fs.mkdir, open: fs.open };
    fs.mkdirSync = (...a: Parameters<typeof fs.mkdirSync>) => (calls.push('mkdirSync'), orig.mkdirSync(...a));
    fs.openSync = (...a: Parameters<typeof fs.openSync>) => (calls.push('openSync'), orig.openSync(...a));
    fs.renameSync = (...a: Parameters<typeof fs.renameSync>) => (calls.push('renameSync'), orig.renameSync(...a));
    let spool;
    try {
      spool = d.open({ id: 'off', callId: 'o', record: null });
      spool.addStream(streamInfo(1, 'caller', 0));
      spool.append(0, 1, 0, false, 0, T0, 0, Buffer.alloc(160), 0, 160);
      spool.updateMeta({ id: 'off', callId: 'o', record: { v: 2 } });
      spool.flush();
    } finally {
      Object.assign(fs, orig);
    }
    assert.deepEqual(calls, []);
    assert.equal(existsSync(spool.dir), false);
    // Consumed here once the writer thread is gone: the same messages create everything.
    await writer.terminate();
    await spool.whenWritten();
    assert.deepEqual(readdirSync(spool.dir).sort(), [MEDIA_FILE, META_FILE]);
    const r = readSpool(spool.dir);
    assert.equal(r.streams[0]!.packets.length, 1);
    assert.deepEqual(r.meta.record, { v: 2 });
    await spool.close();
  });

  it('a directory name taken behind our back gets a suffix in the writer; dir is final once closed', async () => {
    const root = tmp('spool-race');
    const d = new SpoolDirectory(root, new Counters());
    mkdirSync(join(root, 'race'));
    const s = d.open({ id: 'race', callId: 'r', record: null });
    assert.equal(s.dir, join(root, 'race'));
    await s.close();
    assert.equal(s.dir, join(root, 'race-1'));
    assert.equal(readSpool(s.dir).finalized, true);
  });

  it('files that cannot be created: counted, packets lost, close still resolves', async () => {
    const root = tmp('spool-cannot');
    const counters = new Counters();
    const d = new SpoolDirectory(root, counters);
    rmSync(root, { recursive: true });
    writeFileSync(root, 'not a directory');
    const s = d.open({ id: 'x', callId: 'x', record: null });
    s.addStream(streamInfo(1, 'caller', 0));
    for (let i = 0; i < 5; i++) s.append(0, i, 0, false, 0, T0, 0, Buffer.alloc(10), 0, 10);
    await s.close();
    assert.equal(counters.get('spool.open_error'), 1);
    assert.equal(counters.get('spool.lost_records'), 5);
    assert.equal(s.lostRecords, 5);
  });

  it('the writer thread dies mid-call: what it wrote stays, the spool stays open for recovery, later calls are written here', async () => {
    const writer = new SpoolWriter();
    const root = tmp('spool-died');
    const counters = new Counters();
    const d = new SpoolDirectory(root, counters, { writer });
    const a = d.open({ id: 'a', callId: 'a', record: null });
    a.addStream(streamInfo(1, 'caller', 0));
    for (let i = 0; i < 50; i++) a.append(0, i, i * 160, false, 0, T0, i * 20_000_000, Buffer.alloc(160, 1), 0, 160);
    a.flush();
    await a.whenWritten();
    await writer.terminate();
    for (let i = 50; i < 60; i++) a.append(0, i, i * 160, false, 0, T0 + 1, 0, Buffer.alloc(160, 1), 0, 160);
    await a.close();
    const b = d.open({ id: 'b', callId: 'b', record: null });
    b.addStream(streamInfo(2, 'callee', 1));
    b.append(0, 1, 0, false, 0, T0, 0, Buffer.alloc(160), 0, 160);
    await b.close();
    assert.equal(writer.stats.workerErrors, 1);
    assert.equal(readSpool(a.dir).streams[0]!.packets.length, 50);
    assert.equal(readSpool(b.dir).finalized, true);
    assert.deepEqual(new SpoolDirectory(root, new Counters()).pending(), [a.dir]);
  });
});
