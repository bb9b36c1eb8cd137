/**
 * Reading a call's spool back: `scanSpool` streams the records through a fixed-size chunk
 * buffer (a render never holds the call in memory); `readSpool` collects everything (tests,
 * tools). Both are tolerant: a torn last record after kill -9 is dropped and reported.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  MAX_BODY,
  RECORD_OVERHEAD,
  checkFileHeader,
  newPacketView,
  newScanStats,
  scanRecords,
  type ScanStats,
  type SpoolPacket,
  type SpoolRecordSink,
  type SpoolStreamInfo,
} from './spool-format.js';
import { MEDIA_FILE, readMeta, type SpoolCallMeta, type SpoolState } from './spool-meta.js';
import type { Checksum } from './crc32.js';

export interface SpoolHeader {
  meta: SpoolCallMeta;
  state: SpoolState;
  /** State is not `open`: CallSpool.close completed. */
  finalized: boolean;
  lostRecords: number;
  recovered: boolean;
}

/** meta.json, or a stand-in named after the directory when it is missing (crash before it reached the disk). */
export function readSpoolHeader(dir: string): SpoolHeader {
  const m = readMeta(dir);
  if (m === null) {
    return { meta: { id: basename(dir), callId: '', record: null }, state: 'open', finalized: false, lostRecords: 0, recovered: false };
  }
  return { meta: m.meta, state: m.state, finalized: m.state !== 'open', lostRecords: m.lostRecords, recovered: m.recovered === true };
}

const CHUNK = 256 * 1024;

/**
 * Streams the records of `<dir>/media.spool` to `sink`, reading `chunkSize` bytes at a time
 * (a record split across chunks is carried over). Returns what the scan found.
 */
export function scanSpool(dir: string, sink: SpoolRecordSink, chunkSize = CHUNK): ScanStats {
  const stats = newScanStats();
  const fd = openSync(join(dir, MEDIA_FILE), 'r');
  try {
    // Room for one chunk plus the largest record carried over from the previous one.
    const buf = Buffer.allocUnsafe(Math.max(chunkSize, 4096) + MAX_BODY + RECORD_OVERHEAD);
    const view = newPacketView();
    const size = fstatSync(fd).size;
    let have = 0;
    let pos = 0;
    let headerDone = false;
    let checksum: Checksum | undefined;
    for (;;) {
      const n = readSync(fd, buf, have, Math.min(buf.length - have, size - pos), pos);
      pos += n;
      have += n;
      const eof = n === 0 || pos >= size;
      let start = 0;
      if (!headerDone) {
        if (have < 16 && !eof) continue;
        const header = checkFileHeader(buf, have);
        if (header === null) {
          // A crash before the first batch was complete: nothing usable, a torn tail.
          if (have > 0) {
            stats.truncatedTail = true;
            stats.tailBytes = have;
          }
          return stats;
        }
        headerDone = true;
        start = header.start;
        checksum = header.checksum;
      }
      const next = scanRecords(buf, start, have, eof, sink, view, stats, checksum);
      if (eof) break;
      buf.copy(buf, 0, next, have);
      have -= next;
    }
    return stats;
  } finally {
    closeSync(fd);
  }
}

export interface SpoolContents extends SpoolHeader {
  streams: { info: SpoolStreamInfo; packets: SpoolPacket[] }[];
  /** The file ended in a torn record (crash mid-write); the complete records before it are all here. */
  truncatedTail: boolean;
  stats: ScanStats;
}

/** The whole spool in memory. Packets are in file (arrival) order per stream. */
export function readSpool(dir: string): SpoolContents {
  const head = readSpoolHeader(dir);
  const streams: { info: SpoolStreamInfo; packets: SpoolPacket[] }[] = [];
  let orphans = 0;
  const stats = scanSpool(dir, {
    stream(index, info) {
      const s = streams[index];
      if (s === undefined) streams[index] = { info, packets: [] };
      else s.info = info;
    },
    packet(p) {
      const s = streams[p.stream];
      if (s === undefined) {
        orphans++;
        return;
      }
      s.packets.push({
        stream: p.stream,
        seq: p.seq,
        ts: p.ts,
        marker: p.marker,
        pt: p.pt,
        captureSec: p.captureSec,
        captureNsec: p.captureNsec,
        payload: Buffer.from(p.buf.subarray(p.off, p.off + p.len)),
      });
    },
  });
  stats.badRecords += orphans;
  // Indexes are dense as written; a hole would mean a lost STREAM record (never written alone).
  const dense = streams.filter((s) => s !== undefined);
  return { ...head, streams: dense, truncatedTail: stats.truncatedTail, stats };
}
