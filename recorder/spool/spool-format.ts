/**
 * The on-disk format of a call's media spool (`<call dir>/media.spool`): a file header, then
 * records appended as packets arrive. Every record carries its own length and CRC, so after a
 * crash (kill -9, power loss) a reader keeps every complete record and recognises a torn or
 * garbage tail instead of trusting it. All integers are little-endian.
 *
 * File header (16 bytes, written with the first batch of records):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------------------------------------------------------+
 * |                  magic "VRSP" (56 52 53 50)                   |
 * +-------------------------------+-------------------------------+
 * |          version = 2          |     header length = 16        |
 * +-------------------------------+-------------------------------+
 * |                        reserved (zero)                        |
 * |                                                               |
 * +---------------------------------------------------------------+
 *
 * Record (8 bytes of framing around the body):
 *
 * +---------------+---------------+-------------------------------+
 * |  sync = 0xA5  |     type      |          body length          |
 * +---------------+---------------+-------------------------------+
 * :                      body (body length bytes)                 :
 * +---------------------------------------------------------------+
 * |          CRC-32C of sync byte .. end of body (see below)      |
 * +---------------------------------------------------------------+
 *
 * PACKET body (type 1), one RTP packet of a stream, payload only (the header fields we need
 * are kept; extensions, CSRCs and padding are not):
 *
 * +-------------------------------+-------------------------------+
 * |         stream index          |    RTP sequence number        |
 * +-------------------------------+-------------------------------+
 * |                         RTP timestamp                         |
 * +---------------------------------------------------------------+
 * |                 capture time, seconds (Unix)                  |
 * +---------------------------------------------------------------+
 * |                 capture time, nanoseconds                     |
 * +-+-------------+---------------+-------------------------------+
 * |M|     PT      |   reserved    |  RTP payload ...              :
 * +-+-------------+---------------+-------------------------------+
 *
 * STREAM body (type 2): stream index (16 bits), then the stream's SpoolStreamInfo as UTF-8
 * JSON. It precedes the stream's first packet in the file; a later STREAM record with the same
 * index replaces the info (a re-INVITE changed the payload map) from that point on.
 *
 * The CRC is CRC-32C (Castagnoli, RFC 3720 §B.4) since version 2, computed in hardware where
 * the CPU has it (native/spool/spool_demux.c); version 1 used IEEE 802.3's CRC-32 (as zlib), and
 * version-1 spools are still read (crash recovery after an upgrade).
 *
 * A 16-bit body length is enough: an RTP payload over UDP is at most 65,495 bytes, and the
 * writer refuses (and counts) anything longer.
 */
import { crc32, crc32c, type Checksum } from './crc32.js';
import { copyBytes, ViewCache } from '../core/bytes.js';

export const FILE_MAGIC = 0x50535256; // "VRSP" read as a little-endian u32
export const FILE_VERSION = 2;
/** The record checksum of each readable file version. */
const CHECKSUMS: Record<number, Checksum> = { 1: crc32, 2: crc32c };
export const FILE_HEADER_LEN = 16;

export const RECORD_SYNC = 0xa5;
export const RecordType = { Packet: 1, Stream: 2 } as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** Framing bytes around a body: sync, type, length before; CRC after. */
export const RECORD_HEAD = 4;
export const RECORD_TRAILER = 4;
export const RECORD_OVERHEAD = RECORD_HEAD + RECORD_TRAILER;
export const MAX_BODY = 0xffff;

// PACKET body offsets.
const P_STREAM = 0;
const P_SEQ = 2;
const P_TS = 4;
const P_SEC = 8;
const P_NSEC = 12;
const P_MPT = 16;
export const PACKET_FIXED = 18;
export const MAX_PAYLOAD = MAX_BODY - PACKET_FIXED;


/** One entry of a stream's payload map (from SDP a=rtpmap, or the RFC 3551 static table). */
export interface SpoolPayloadType {
  pt: number;
  /** Encoding name as in SDP: PCMU, PCMA, G722, opus, telephone-event, CN, … */
  codec: string;
  clockRate: number;
  channels: number;
  /** a=fmtp parameters from the SDP, when it had any (the decoder's mode: iLBC 20/30 ms, AMR framing). */
  fmtp?: string;
}

export interface SpoolStreamInfo {
  ssrc: number;
  /** 'caller' | 'callee' | a SIPREC participant label. */
  party: string;
  /** Output channel in a dual-channel recording: 0 left (caller), 1 right (callee). */
  channel: number;
  /** `ip:port` (IPv6 in brackets). */
  src: string;
  dst: string;
  payloads: SpoolPayloadType[];
}

/** The fixed fields of a PACKET record. */
export interface SpoolPacketFields {
  stream: number;
  seq: number;
  ts: number;
  marker: boolean;
  pt: number;
  captureSec: number;
  captureNsec: number;
}

/** A packet read back from a spool (payload copied). */
export interface SpoolPacket extends SpoolPacketFields {
  payload: Buffer;
}

/** A packet as the scanner sees it: the payload is `buf[off, off + len)`, valid during the callback only. */
export interface SpoolPacketView extends SpoolPacketFields {
  buf: Buffer;
  off: number;
  len: number;
}

export const newPacketView = (): SpoolPacketView => ({
  stream: 0,
  seq: 0,
  ts: 0,
  marker: false,
  pt: 0,
  captureSec: 0,
  captureNsec: 0,
  buf: Buffer.alloc(0),
  off: 0,
  len: 0,
});

export class SpoolFormatError extends Error {
  override readonly name = 'SpoolFormatError';
}

export function writeFileHeader(buf: Buffer, at: number): number {
  buf.writeUInt32LE(FILE_MAGIC, at);
  buf.writeUInt16LE(FILE_VERSION, at + 4);
  buf.writeUInt16LE(FILE_HEADER_LEN, at + 6);
  buf.fill(0, at + 8, at + FILE_HEADER_LEN);
  return at + FILE_HEADER_LEN;
}

// The memory of a payload that came without its frame's view (reassembled, HEP, SIPREC; see copyBytes).
const payloadViews = new ViewCache();

const put32 = (b: Uint8Array, at: number, v: number): void => {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
};

/** Record size of a packet with `len` payload bytes. */
export const packetRecordSize = (len: number): number => RECORD_OVERHEAD + PACKET_FIXED + len;

/**
 * Encodes a PACKET record at `dst` offset `at` (the caller made room); returns the offset after
 * it. The CRC is left for `sealRecord`, which the spool writer runs off the capture thread. `view`, when
 * given, is the payload's memory with `payload[0]` at `viewAt` (a Frame's view), else it is
 * looked up.
 */
export function writePacketRecord(
  dst: DataView,
  at: number,
  stream: number,
  seq: number,
  ts: number,
  marker: boolean,
  pt: number,
  captureSec: number,
  captureNsec: number,
  payload: Buffer,
  off: number,
  len: number,
  view?: DataView,
  viewAt = 0,
): number {
  // DataView stores (little-endian, as the format is): this runs per packet on the capture
  // thread into the ring's view, and the caller has already made room.
  const body = PACKET_FIXED + len;
  dst.setUint8(at, RECORD_SYNC);
  dst.setUint8(at + 1, RecordType.Packet);
  dst.setUint16(at + 2, body, true);
  const b = at + RECORD_HEAD;
  dst.setUint16(b + P_STREAM, stream, true);
  dst.setUint16(b + P_SEQ, seq, true);
  dst.setUint32(b + P_TS, ts >>> 0, true);
  dst.setUint32(b + P_SEC, captureSec >>> 0, true);
  dst.setUint32(b + P_NSEC, captureNsec >>> 0, true);
  dst.setUint16(b + P_MPT, (marker ? 0x80 : 0) | (pt & 0x7f), true);
  const src = view ?? payloadViews.of(payload);
  const from = (view !== undefined ? viewAt : payload.byteOffset) + off;
  copyBytes(src, from, dst, b + PACKET_FIXED, len);
  return b + body + RECORD_TRAILER;
}

/** Encodes a STREAM record (`json` is the UTF-8 SpoolStreamInfo); returns the offset after it. CRC: `sealRecord`. */
export function writeStreamRecord(buf: Buffer, at: number, index: number, json: Buffer): number {
  const body = 2 + json.length;
  buf[at] = RECORD_SYNC;
  buf[at + 1] = RecordType.Stream;
  buf.writeUInt16LE(body, at + 2);
  buf.writeUInt16LE(index, at + RECORD_HEAD);
  json.copy(buf, at + RECORD_HEAD + 2);
  return at + RECORD_HEAD + body + RECORD_TRAILER;
}

/**
 * Fills the CRC of the record at `buf[at, to)` (written by writePacketRecord/writeStreamRecord,
 * `to` where the space it may occupy ends); returns the offset after it, or -1 if the bytes there
 * are not a whole record: a writer bug, which the reader would then report.
 */
export function sealRecord(buf: Uint8Array, at: number, to: number): number {
  if (at + RECORD_OVERHEAD > to || buf[at] !== RECORD_SYNC) return -1;
  const end = at + RECORD_HEAD + (buf[at + 2]! | (buf[at + 3]! << 8));
  if (end + RECORD_TRAILER > to) return -1;
  put32(buf, end, crc32c(buf, at, end));
  return end + RECORD_TRAILER;
}

/** sealRecord for every record in `buf[from, to)`; false (and nothing further sealed) at one that is not whole. */
export function sealRecords(buf: Uint8Array, from: number, to: number): boolean {
  for (let at = from; at < to; ) {
    at = sealRecord(buf, at, to);
    if (at < 0) return false;
  }
  return true;
}

export interface SpoolRecordSink {
  stream(index: number, info: SpoolStreamInfo): void;
  /** `p` is reused for every packet; copy what must outlive the call. */
  packet(p: SpoolPacketView): void;
}

/** What a scan found besides the records it delivered. */
export interface ScanStats {
  records: number;
  packets: number;
  /** Bytes skipped between two valid records (corruption in the middle: should never happen). */
  skippedBytes: number;
  /** Records with a good CRC but a body we could not use (a writer bug). */
  badRecords: number;
  /** The file ended inside a record or in bytes that are no record: the torn write of a crash. */
  truncatedTail: boolean;
  tailBytes: number;
  /** Bytes skipped since the last valid record (internal to the scan across chunks). */
  pendingSkip: number;
}

export const newScanStats = (): ScanStats => ({
  records: 0,
  packets: 0,
  skippedBytes: 0,
  badRecords: 0,
  truncatedTail: false,
  tailBytes: 0,
  pendingSkip: 0,
});

/** What a file header says: where the first record starts and how records are checksummed. */
export interface SpoolFileHeader {
  start: number;
  version: number;
  checksum: Checksum;
}

/**
 * Checks the file header at `buf[0, len)`. Returns where the records start and their checksum,
 * or null when fewer than 16 bytes are present (a crash before the first batch was complete).
 * Throws on a file that is not a spool or of an unknown version.
 */
export function checkFileHeader(buf: Buffer, len: number): SpoolFileHeader | null {
  if (len < FILE_HEADER_LEN) {
    // A prefix of our magic is a torn header; anything else is not our file.
    const magic = Buffer.alloc(4);
    magic.writeUInt32LE(FILE_MAGIC, 0);
    if (buf.subarray(0, Math.min(len, 4)).equals(magic.subarray(0, Math.min(len, 4)))) return null;
    throw new SpoolFormatError('not a media spool (bad magic)');
  }
  if (buf.readUInt32LE(0) !== FILE_MAGIC) throw new SpoolFormatError('not a media spool (bad magic)');
  const version = buf.readUInt16LE(4);
  const checksum = CHECKSUMS[version];
  if (checksum === undefined) throw new SpoolFormatError(`media spool version ${version} is not supported`);
  const hl = buf.readUInt16LE(6);
  if (hl < FILE_HEADER_LEN) throw new SpoolFormatError(`media spool header length ${hl} is too short`);
  return { start: hl, version, checksum };
}

/**
 * Delivers the records in `buf[off, end)` to `sink`. Returns where it stopped: `end`, or (when
 * `eof` is false) the start of a record that needs more bytes, which the caller carries over to
 * the next chunk. A record that fails its checks is skipped one byte at a time until the next
 * valid record; bytes skipped that no valid record follows are the torn tail. `checksum`: the
 * file's (checkFileHeader), by default the current version's.
 */
export function scanRecords(
  buf: Buffer,
  off: number,
  end: number,
  eof: boolean,
  sink: SpoolRecordSink,
  view: SpoolPacketView,
  stats: ScanStats,
  checksum: Checksum = crc32c,
): number {
  let i = off;
  while (i < end) {
    if (end - i < RECORD_OVERHEAD) {
      if (!eof) return i;
      stats.pendingSkip += end - i;
      i = end;
      break;
    }
    const type = buf[i + 1]!;
    if (buf[i] !== RECORD_SYNC || (type !== RecordType.Packet && type !== RecordType.Stream)) {
      stats.pendingSkip++;
      i++;
      continue;
    }
    const body = buf[i + 2]! | (buf[i + 3]! << 8);
    const recEnd = i + RECORD_OVERHEAD + body;
    if (recEnd > end) {
      if (!eof) return i;
      stats.pendingSkip++;
      i++;
      continue;
    }
    const crcAt = i + RECORD_HEAD + body;
    if (buf.readUInt32LE(crcAt) !== checksum(buf, i, crcAt)) {
      stats.pendingSkip++;
      i++;
      continue;
    }
    stats.skippedBytes += stats.pendingSkip;
    stats.pendingSkip = 0;
    stats.records++;
    const b = i + RECORD_HEAD;
    if (type === RecordType.Packet) {
      if (body < PACKET_FIXED) stats.badRecords++;
      else {
        view.stream = buf.readUInt16LE(b + P_STREAM);
        view.seq = buf.readUInt16LE(b + P_SEQ);
        view.ts = buf.readUInt32LE(b + P_TS);
        view.captureSec = buf.readUInt32LE(b + P_SEC);
        view.captureNsec = buf.readUInt32LE(b + P_NSEC);
        const mpt = buf[b + P_MPT]!;
        view.marker = (mpt & 0x80) !== 0;
        view.pt = mpt & 0x7f;
        view.buf = buf;
        view.off = b + PACKET_FIXED;
        view.len = body - PACKET_FIXED;
        stats.packets++;
        sink.packet(view);
      }
    } else {
      const info = body >= 2 ? parseStreamInfo(buf.toString('utf8', b + 2, b + body)) : null;
      if (info === null) stats.badRecords++;
      else sink.stream(buf.readUInt16LE(b), info);
    }
    i = recEnd;
  }
  if (eof && stats.pendingSkip > 0) {
    stats.truncatedTail = true;
    stats.tailBytes = stats.pendingSkip;
    stats.pendingSkip = 0;
  }
  return i;
}

/** JSON text to an object, or null when it is not valid JSON or not an object (spool files may be torn). */
export function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Parses and shape-checks a STREAM record's JSON; null when it is not a SpoolStreamInfo. */
export function parseStreamInfo(text: string): SpoolStreamInfo | null {
  const o = parseJsonObject(text);
  if (o === null) return null;
  if (typeof o.ssrc !== 'number' || typeof o.party !== 'string' || typeof o.channel !== 'number') return null;
  if (typeof o.src !== 'string' || typeof o.dst !== 'string' || !Array.isArray(o.payloads)) return null;
  const payloads: SpoolPayloadType[] = [];
  for (const p of o.payloads as unknown[]) {
    if (typeof p !== 'object' || p === null) return null;
    const e = p as Record<string, unknown>;
    if (typeof e.pt !== 'number' || typeof e.codec !== 'string' || typeof e.clockRate !== 'number') return null;
    const pf: SpoolPayloadType = { pt: e.pt, codec: e.codec, clockRate: e.clockRate, channels: typeof e.channels === 'number' ? e.channels : 1 };
    if (typeof e.fmtp === 'string' && e.fmtp !== '') pf.fmtp = e.fmtp;
    payloads.push(pf);
  }
  return { ssrc: o.ssrc, party: o.party, channel: o.channel, src: o.src, dst: o.dst, payloads };
}
