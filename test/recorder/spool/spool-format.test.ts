import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { crc32, crc32c } from '../../../recorder/spool/crc32.js';
import {
  FILE_HEADER_LEN,
  checkFileHeader,
  newPacketView,
  newScanStats,
  packetRecordSize,
  scanRecords,
  writeFileHeader,
  sealRecords,
  writePacketRecord,
  writeStreamRecord,
  type SpoolPacket,
  type SpoolRecordSink,
  type SpoolStreamInfo,
} from '../../../recorder/spool/spool-format.js';
import { prng } from '../../support/random.js';
import { crc32cBitwise, streamInfo } from './spool-helpers.js';

describe('crc32', () => {
  it('equals zlib.crc32 for every length 0..300 at several offsets', () => {
    const rnd = prng(7);
    const buf = Buffer.alloc(400);
    for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(rnd() * 256);
    for (const off of [0, 1, 2, 3, 5]) {
      for (let len = 0; len <= 300; len++) assert.equal(crc32(buf, off, off + len), zlib.crc32(buf.subarray(off, off + len)), `off ${off} len ${len}`);
    }
  });
  it('known vector: "123456789" → 0xCBF43926', () => {
    const b = Buffer.from('123456789');
    assert.equal(crc32(b, 0, b.length), 0xcbf43926);
  });
});

describe('crc32c', () => {
  it('known vectors: "123456789" → 0xE3069283; 32 zero bytes → 0x8A9136AA (RFC 3720 §B.4)', () => {
    const b = Buffer.from('123456789');
    assert.equal(crc32c(b, 0, b.length), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(32), 0, 32), 0x8a9136aa);
    assert.equal(crc32c(Buffer.alloc(32, 0xff), 0, 32), 0x62a8ab43);
  });
  it('equals the bitwise definition for every length 0..300 at several offsets', () => {
    const rnd = prng(8);
    const buf = Buffer.alloc(400);
    for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(rnd() * 256);
    for (const off of [0, 1, 3, 7]) {
      for (let len = 0; len <= 300; len++) assert.equal(crc32c(buf, off, off + len), crc32cBitwise(buf.subarray(off, off + len)), `off ${off} len ${len}`);
    }
  });
});

function collect(): { sink: SpoolRecordSink; streams: Map<number, SpoolStreamInfo>; packets: SpoolPacket[] } {
  const streams = new Map<number, SpoolStreamInfo>();
  const packets: SpoolPacket[] = [];
  return {
    streams,
    packets,
    sink: {
      stream: (i, info) => streams.set(i, info),
      packet: (p) =>
        packets.push({ ...p, payload: Buffer.from(p.buf.subarray(p.off, p.off + p.len)), stream: p.stream }),
    },
  };
}

describe('record encoding and scanning', () => {
  const info = streamInfo(0x11223344, 'caller', 0);
  const build = (): { buf: Buffer; ends: number[] } => {
    const buf = Buffer.alloc(4096);
    let at = writeFileHeader(buf, 0);
    const ends: number[] = [];
    at = writeStreamRecord(buf, at, 0, Buffer.from(JSON.stringify(info)));
    ends.push(at);
    for (let i = 0; i < 5; i++) {
      const payload = Buffer.alloc(10 + i, i + 1);
      const before = at;
      at = writePacketRecord(new DataView(buf.buffer, buf.byteOffset, buf.length), at, 0, 65534 + i, 0xfffffff0 + i * 160, i === 0, 0, 1_790_000_000, i * 20_000_000, payload, 0, payload.length);
      assert.equal(at - before, packetRecordSize(payload.length));
      ends.push(at);
    }
    assert.equal(sealRecords(buf, FILE_HEADER_LEN, at), true);
    return { buf: buf.subarray(0, at), ends };
  };

  it('round-trips every field, including wrapped sequence numbers and timestamps', () => {
    const { buf } = build();
    assert.equal(checkFileHeader(buf, buf.length)?.start, FILE_HEADER_LEN);
    assert.equal(checkFileHeader(buf, buf.length)?.version, 2);
    const c = collect();
    const stats = newScanStats();
    const end = scanRecords(buf, FILE_HEADER_LEN, buf.length, true, c.sink, newPacketView(), stats);
    assert.equal(end, buf.length);
    assert.deepEqual(c.streams.get(0), info);
    assert.equal(c.packets.length, 5);
    c.packets.forEach((p, i) => {
      assert.equal(p.seq, (65534 + i) & 0xffff);
      assert.equal(p.ts, (0xfffffff0 + i * 160) >>> 0);
      assert.equal(p.marker, i === 0);
      assert.equal(p.captureNsec, i * 20_000_000);
      assert.deepEqual(p.payload, Buffer.alloc(10 + i, i + 1));
    });
    assert.equal(stats.truncatedTail, false);
  });

  it('without eof, stops at a record that needs more bytes; with eof, reports the torn tail', () => {
    const { buf, ends } = build();
    const cut = ends[3]! + 7;
    const c = collect();
    const stats = newScanStats();
    const stop = scanRecords(buf, FILE_HEADER_LEN, cut, false, c.sink, newPacketView(), stats);
    assert.equal(stop, ends[3]);
    assert.equal(c.packets.length, 3);
    const c2 = collect();
    const s2 = newScanStats();
    scanRecords(buf, FILE_HEADER_LEN, cut, true, c2.sink, newPacketView(), s2);
    assert.equal(c2.packets.length, 3);
    assert.equal(s2.truncatedTail, true);
    assert.equal(s2.tailBytes, 7);
  });

  it('a header cut short is a torn tail; a foreign file is an error', () => {
    const { buf } = build();
    for (let n = 1; n < FILE_HEADER_LEN; n++) assert.equal(checkFileHeader(buf, n), null);
    assert.throws(() => checkFileHeader(Buffer.from('RIFF0000WAVEfmt '), 16), /not a media spool/);
    const v3 = Buffer.from(buf.subarray(0, FILE_HEADER_LEN));
    v3.writeUInt16LE(3, 4);
    assert.throws(() => checkFileHeader(v3, 16), /version 3 is not supported/);
  });

  it('reads a version-1 spool (IEEE CRC-32, as zlib) and rejects its records under the other checksum', () => {
    const { buf } = build();
    const v1 = Buffer.from(buf);
    v1.writeUInt16LE(1, 4);
    for (let r = FILE_HEADER_LEN; r < v1.length; ) {
      const end = r + 4 + v1.readUInt16LE(r + 2);
      v1.writeUInt32LE(zlib.crc32(v1.subarray(r, end)), end);
      r = end + 4;
    }
    const h = checkFileHeader(v1, v1.length);
    assert.ok(h !== null);
    assert.equal(h.version, 1);
    const c = collect();
    const stats = newScanStats();
    scanRecords(v1, h.start, v1.length, true, c.sink, newPacketView(), stats, h.checksum);
    assert.equal(c.packets.length, 5);
    assert.equal(c.streams.size, 1);
    assert.equal(stats.skippedBytes + stats.pendingSkip, 0);
    const wrong = collect();
    scanRecords(v1, h.start, v1.length, true, wrong.sink, newPacketView(), newScanStats());
    assert.equal(wrong.packets.length + wrong.streams.size, 0, 'CRC-32C does not accept IEEE checksums');
  });

  it('random bytes never throw and never yield a record (CRC)', () => {
    const rnd = prng(99);
    for (let t = 0; t < 200; t++) {
      const b = Buffer.alloc(Math.floor(rnd() * 600));
      for (let i = 0; i < b.length; i++) b[i] = rnd() < 0.3 ? 0xa5 : Math.floor(rnd() * 256);
      const c = collect();
      scanRecords(b, 0, b.length, true, c.sink, newPacketView(), newScanStats());
      assert.equal(c.packets.length + c.streams.size, 0);
    }
  });
});

describe('sealRecords', () => {
  it('fills each record’s CRC-32C, and refuses bytes that are not records', () => {
    const buf = Buffer.alloc(2048);
    let at = 0;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    for (let i = 0; i < 6; i++) at = writePacketRecord(view, at, i, i, i, false, 0, 1, 2, Buffer.alloc(30 * i, i), 0, 30 * i);
    assert.equal(sealRecords(buf, 0, at), true);
    let r = 0;
    for (let i = 0; i < 6; i++) {
      const end = r + 4 + buf.readUInt16LE(r + 2);
      assert.equal(buf.readUInt32LE(end), crc32cBitwise(buf.subarray(r, end)));
      r = end + 4;
    }
    assert.equal(r, at);
    assert.equal(sealRecords(buf, 0, at - 1), false, 'a cut record');
    assert.equal(sealRecords(Buffer.alloc(64, 0x11), 0, 64), false, 'no sync byte');
  });
});
