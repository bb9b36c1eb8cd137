/**
 * Ogg (RFC 3533): a page writer for one logical bitstream, and a page reader that checks what
 * it reads (tests, and anything that inspects a recording).
 *
 * A page (RFC 3533 §6):
 *
 *    0 "OggS"  4 version 0  5 header type (1 continued, 2 BOS, 4 EOS)  6 granule position (64-bit LE)
 *   14 serial number  18 page sequence number  22 CRC-32  26 segment count  27 lacing values  body
 *
 * A packet is laced as ⌊len / 255⌋ values of 255 and one value below 255 (0 when len is a
 * multiple of 255), so a 255-value is always followed by more of the same packet; a packet whose
 * lacing does not fit in the page's 255 values continues on the next page, which then carries
 * the "continued" flag. The granule position of a page is that of the last packet completed on
 * it, or −1 when none completes there.
 *
 * The CRC is CRC-32 with polynomial 0x04C11DB7, initial value 0, no reflection, no final XOR,
 * over the whole page with the CRC field taken as zero (RFC 3533 §6, "CRC checksum").
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** Ogg's CRC-32 of buf[off, off + len), continuing from `crc`. */
export function oggCrc32(buf: Uint8Array, off: number, len: number, crc = 0): number {
  let c = crc >>> 0;
  for (let i = off, end = off + len; i < end; i++) c = ((c << 8) ^ CRC_TABLE[((c >>> 24) ^ buf[i]!) & 0xff]!) >>> 0;
  return c;
}

const HEADER = 27;
const MAX_SEGMENTS = 255;
const MAX_BODY = 255 * 255;
/** Largest page: header, a full lacing table and a full body. */
export const OGG_MAX_PAGE = HEADER + MAX_SEGMENTS + MAX_BODY;

const FLAG_CONTINUED = 1;
const FLAG_BOS = 2;
const FLAG_EOS = 4;

/** Where finished pages go: `page[0, len)` is valid only during the call. */
export type OggPageSink = (page: Uint8Array, len: number) => void;

/**
 * Builds pages of one logical stream. Packets accumulate on the current page until `flush()`
 * (or until its lacing table is full: then the page goes out by itself, and a packet that did
 * not fit continues on the next). The first page written is marked BOS; `flush(true)` marks the
 * last one EOS. Buffers are allocated once: adding packets does not allocate.
 */
export class OggPageWriter {
  private readonly sink: OggPageSink;
  readonly serial: number;
  private readonly page = new Uint8Array(OGG_MAX_PAGE);
  private readonly lacing = new Uint8Array(MAX_SEGMENTS);
  private readonly body = new Uint8Array(MAX_BODY);
  private segments = 0;
  private bodyLen = 0;
  /** Granule of the last packet completed on the current page; −1: none yet. */
  private granule = -1;
  /** The current page starts with the rest of a packet begun on the previous page. */
  private continued = false;
  /** The last lacing value written was 255: the packet it belongs to goes on. */
  private lastLacingWas255 = false;
  private sequence = 0;
  private eosWritten = false;
  /** Pages written so far. */
  pages = 0;
  /** Bytes written so far. */
  bytes = 0;

  constructor(sink: OggPageSink, serial: number) {
    this.sink = sink;
    this.serial = serial >>> 0;
  }

  /** Lacing values on the current, unwritten page (0: nothing pending). */
  get pending(): number {
    return this.segments;
  }

  /**
   * Adds one packet, `data[off, off + len)`, whose granule position is `granule` (a non-negative
   * integer below 2^53; RFC 3533 leaves its meaning to the codec).
   */
  packet(data: Uint8Array, off: number, len: number, granule: number): void {
    if (this.eosWritten) throw new Error('ogg: packet after the end of the stream');
    let done = 0;
    for (;;) {
      if (this.segments === MAX_SEGMENTS) {
        // The lacing table is full: the page goes out, and the next one is a continuation when
        // its last value was 255 (a packet is open), not when it ended a packet.
        this.emit(false);
        this.continued = this.lastLacingWas255;
      }
      const chunk = Math.min(255, len - done);
      this.lacing[this.segments++] = chunk;
      const b = this.body;
      let at = this.bodyLen;
      for (let i = off + done, end = i + chunk; i < end; i++) b[at++] = data[i]!;
      this.bodyLen = at;
      done += chunk;
      this.lastLacingWas255 = chunk === 255;
      if (chunk < 255) break;
    }
    this.granule = granule;
  }

  /** Writes the current page, if it holds anything (or, with `eos`, even when empty). */
  flush(eos = false): void {
    if (this.segments === 0 && !(eos && !this.eosWritten)) return;
    this.emit(eos);
  }

  private emit(eos: boolean): void {
    const p = this.page;
    const n = this.segments;
    p[0] = 0x4f; // O
    p[1] = 0x67; // g
    p[2] = 0x67; // g
    p[3] = 0x53; // S
    p[4] = 0;
    p[5] = (this.continued ? FLAG_CONTINUED : 0) | (this.sequence === 0 ? FLAG_BOS : 0) | (eos ? FLAG_EOS : 0);
    writeGranule(p, 6, this.granule);
    writeU32(p, 14, this.serial);
    writeU32(p, 18, this.sequence);
    writeU32(p, 22, 0);
    p[26] = n;
    p.set(this.lacing.subarray(0, n), HEADER);
    p.set(this.body.subarray(0, this.bodyLen), HEADER + n);
    const len = HEADER + n + this.bodyLen;
    writeU32(p, 22, oggCrc32(p, 0, len));
    this.sink(p, len);
    this.sequence++;
    this.pages++;
    this.bytes += len;
    this.segments = 0;
    this.bodyLen = 0;
    this.granule = -1;
    this.continued = false;
    if (eos) this.eosWritten = true;
  }
}

function writeU32(p: Uint8Array, at: number, v: number): void {
  p[at] = v & 0xff;
  p[at + 1] = (v >>> 8) & 0xff;
  p[at + 2] = (v >>> 16) & 0xff;
  p[at + 3] = (v >>> 24) & 0xff;
}

function writeGranule(p: Uint8Array, at: number, g: number): void {
  if (g < 0) {
    p.fill(0xff, at, at + 8);
    return;
  }
  writeU32(p, at, g % 0x100000000);
  writeU32(p, at + 4, Math.floor(g / 0x100000000));
}

const readU32 = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/** One page as read back. */
export interface OggPage {
  offset: number;
  continued: boolean;
  bos: boolean;
  eos: boolean;
  /** −1 when no packet completes on the page. */
  granule: number;
  serial: number;
  sequence: number;
  crcOk: boolean;
  lacing: Uint8Array;
  body: Uint8Array;
}

export interface OggPacket {
  data: Uint8Array;
  /** The granule of the page this packet completes on, when it is the last packet completed there; else −1. */
  granule: number;
  /** Index of the page the packet completes on. */
  page: number;
}

export type OggReadResult =
  | { ok: true; pages: OggPage[]; packets: OggPacket[] }
  | { ok: false; error: string; pages: OggPage[]; packets: OggPacket[] };

/**
 * Reads every page of a single-stream Ogg file and reassembles its packets, checking capture
 * patterns, versions, CRCs, sequence numbers, BOS/EOS placement and continuation flags. Never
 * throws: a damaged file gives ok: false, the first problem found, and what was read before it.
 */
export function readOgg(data: Uint8Array): OggReadResult {
  const pages: OggPage[] = [];
  const packets: OggPacket[] = [];
  const parts: Uint8Array[] = [];
  let off = 0;
  const fail = (error: string): OggReadResult => ({ ok: false, error, pages, packets });
  while (off < data.length) {
    if (off + HEADER > data.length) return fail(`truncated page header at ${off}`);
    if (data[off] !== 0x4f || data[off + 1] !== 0x67 || data[off + 2] !== 0x67 || data[off + 3] !== 0x53) return fail(`no capture pattern at ${off}`);
    if (data[off + 4] !== 0) return fail(`page version ${data[off + 4]} at ${off}`);
    const flags = data[off + 5]!;
    const n = data[off + 26]!;
    if (off + HEADER + n > data.length) return fail(`truncated lacing table at ${off}`);
    const lacing = data.subarray(off + HEADER, off + HEADER + n);
    let bodyLen = 0;
    for (const v of lacing) bodyLen += v;
    const end = off + HEADER + n + bodyLen;
    if (end > data.length) return fail(`truncated page body at ${off}`);
    const stored = readU32(data, off + 22);
    let crc = oggCrc32(data, off, 22);
    crc = oggCrc32(new Uint8Array(4), 0, 4, crc);
    crc = oggCrc32(data, off + 26, end - off - 26, crc);
    const lo = readU32(data, off + 6);
    const hi = readU32(data, off + 10);
    const page: OggPage = {
      offset: off,
      continued: (flags & FLAG_CONTINUED) !== 0,
      bos: (flags & FLAG_BOS) !== 0,
      eos: (flags & FLAG_EOS) !== 0,
      granule: lo === 0xffffffff && hi === 0xffffffff ? -1 : hi * 0x100000000 + lo,
      serial: readU32(data, off + 14),
      sequence: readU32(data, off + 18),
      crcOk: crc === stored,
      lacing,
      body: data.subarray(off + HEADER + n, end),
    };
    const index = pages.length;
    pages.push(page);
    if (!page.crcOk) return fail(`CRC mismatch on page ${index}`);
    if (page.sequence !== index) return fail(`page ${index} has sequence number ${page.sequence}`);
    if (page.bos !== (index === 0)) return fail(`BOS flag ${page.bos ? 'on' : 'off'} on page ${index}`);
    if (index > 0 && page.serial !== pages[0]!.serial) return fail(`page ${index} belongs to another stream`);
    if (index > 0 && pages[index - 1]!.eos) return fail(`page ${index} after the EOS page`);
    if (page.continued !== (parts.length > 0)) return fail(`continued flag wrong on page ${index}`);
    let at = 0;
    let lastDone = -1;
    for (let s = 0; s < n; s++) {
      const v = lacing[s]!;
      parts.push(page.body.subarray(at, at + v));
      at += v;
      if (v < 255) {
        packets.push({ data: concat(parts), granule: -1, page: index });
        parts.length = 0;
        lastDone = packets.length - 1;
      }
    }
    if (lastDone >= 0) packets[lastDone]!.granule = page.granule;
    else if (page.granule !== -1) return fail(`page ${index} completes no packet but has granule ${page.granule}`);
    off = end;
  }
  if (pages.length === 0) return fail('no pages');
  if (!pages[pages.length - 1]!.eos) return fail('last page lacks the EOS flag');
  if (parts.length > 0) return fail('stream ends inside a packet');
  return { ok: true, pages, packets };
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!.slice();
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
