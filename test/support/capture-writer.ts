/**
 * Writes pcap (draft-ietf-opsawg-pcap) and pcapng (draft-ietf-opsawg-pcapng) files for
 * tests. Not a hot path: clarity over speed, BigInt for timestamps.
 */
import { writeFileSync } from 'node:fs';

export interface WriterFrame {
  /** pcapng interface index within the section (default 0). */
  iface?: number;
  tsSec: number;
  tsNsec: number;
  data: Buffer;
  /** Original length (default data.length). */
  len?: number;
}

export interface PcapOptions {
  linkType: number;
  snaplen?: number;
  nanosecond?: boolean;
  bigEndian?: boolean;
}

/** Classic pcap file (header + records) as a Buffer. */
export function encodePcap(frames: readonly WriterFrame[], opts: PcapOptions): Buffer {
  const be = opts.bigEndian === true;
  const parts: Buffer[] = [];
  const header = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, off: number): void => {
    if (be) b.writeUInt32BE(v >>> 0, off);
    else b.writeUInt32LE(v >>> 0, off);
  };
  const w16 = (b: Buffer, v: number, off: number): void => {
    if (be) b.writeUInt16BE(v, off);
    else b.writeUInt16LE(v, off);
  };
  w32(header, opts.nanosecond === true ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(header, 2, 4);
  w16(header, 4, 6);
  w32(header, opts.snaplen ?? 262144, 16);
  w32(header, opts.linkType, 20);
  parts.push(header);
  for (const f of frames) {
    const rec = Buffer.alloc(16);
    w32(rec, f.tsSec, 0);
    w32(rec, opts.nanosecond === true ? f.tsNsec : Math.floor(f.tsNsec / 1000), 4);
    w32(rec, f.data.length, 8);
    w32(rec, f.len ?? f.data.length, 12);
    parts.push(rec, f.data);
  }
  return Buffer.concat(parts);
}

/** Writes the file synchronously (tests write small files, then read them) and returns its bytes. */
export function writePcap(path: string, frames: readonly WriterFrame[], opts: PcapOptions): Buffer {
  const buf = encodePcap(frames, opts);
  writeFileSync(path, buf);
  return buf;
}

export interface PcapngInterface {
  linkType: number;
  snaplen?: number;
  /** if_tsresol as a power of 10 exponent (6 = µs, 9 = ns); omitted means the default µs. */
  tsresol?: number;
  /** if_tsresol as a power of 2 exponent (takes precedence over tsresol). */
  tsresolBinary?: number;
  /** if_tsoffset in seconds. */
  tsoffset?: number;
  name?: string;
}

/** One record of a pcapng section: a packet (EPB unless `block` says otherwise) or a raw block. */
export type PcapngRecord =
  | (WriterFrame & { block?: 'epb' | 'spb' | 'pb' })
  | { block: 'raw'; type: number; body: Buffer };

export interface PcapngOptions {
  interfaces: readonly PcapngInterface[];
  bigEndian?: boolean;
}

class BlockWriter {
  constructor(private readonly be: boolean) {}
  u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.be) b.writeUInt16BE(v);
    else b.writeUInt16LE(v);
    return b;
  }
  u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.be) b.writeUInt32BE(v >>> 0);
    else b.writeUInt32LE(v >>> 0);
    return b;
  }
  i64(v: bigint): Buffer {
    const b = Buffer.alloc(8);
    if (this.be) b.writeBigInt64BE(v);
    else b.writeBigInt64LE(v);
    return b;
  }
  /** code, length, value padded to 32 bits (§3.5). */
  option(code: number, value: Buffer): Buffer {
    const pad = (4 - (value.length % 4)) % 4;
    return Buffer.concat([this.u16(code), this.u16(value.length), value, Buffer.alloc(pad)]);
  }
  /** type, total length, body padded to 32 bits, total length (§3.1). */
  block(type: number, body: Buffer): Buffer {
    const pad = (4 - (body.length % 4)) % 4;
    const total = 12 + body.length + pad;
    return Buffer.concat([this.u32(type), this.u32(total), body, Buffer.alloc(pad), this.u32(total)]);
  }
}

/** Ticks per second of an interface, as the reader should see it. */
export function unitsPerSecond(i: PcapngInterface): bigint {
  if (i.tsresolBinary !== undefined) return 2n ** BigInt(i.tsresolBinary);
  return 10n ** BigInt(i.tsresol ?? 6);
}

/** (sec, nsec) → ticks, truncated, relative to if_tsoffset. */
export function toTicks(i: PcapngInterface, tsSec: number, tsNsec: number): bigint {
  const units = unitsPerSecond(i);
  const sec = BigInt(tsSec) - BigInt(i.tsoffset ?? 0);
  return sec * units + (BigInt(tsNsec) * units) / 1_000_000_000n;
}

/** What a reader must return for ticks written by toTicks (truncation may lose ns). */
export function fromTicks(i: PcapngInterface, ticks: bigint): { tsSec: number; tsNsec: number } {
  const units = unitsPerSecond(i);
  return {
    tsSec: Number(ticks / units) + (i.tsoffset ?? 0),
    tsNsec: Number(((ticks % units) * 1_000_000_000n) / units),
  };
}

/** One pcapng section (SHB, IDBs, then the records) as a Buffer. Concatenate for several sections. */
export function encodePcapng(records: readonly PcapngRecord[], opts: PcapngOptions): Buffer {
  const w = new BlockWriter(opts.bigEndian === true);
  const parts: Buffer[] = [];
  const shbBody = Buffer.concat([w.u32(0x1a2b3c4d), w.u16(1), w.u16(0), w.i64(-1n)]);
  parts.push(w.block(0x0a0d0d0a, shbBody));
  for (const i of opts.interfaces) {
    const opt: Buffer[] = [];
    if (i.name !== undefined) opt.push(w.option(2, Buffer.from(i.name, 'utf8')));
    if (i.tsresolBinary !== undefined) opt.push(w.option(9, Buffer.from([0x80 | i.tsresolBinary])));
    else if (i.tsresol !== undefined) opt.push(w.option(9, Buffer.from([i.tsresol])));
    if (i.tsoffset !== undefined) opt.push(w.option(14, w.i64(BigInt(i.tsoffset))));
    if (opt.length > 0) opt.push(w.option(0, Buffer.alloc(0)));
    const body = Buffer.concat([w.u16(i.linkType), w.u16(0), w.u32(i.snaplen ?? 262144), ...opt]);
    parts.push(w.block(1, body));
  }
  for (const r of records) {
    if (r.block === 'raw') {
      parts.push(w.block(r.type, r.body));
      continue;
    }
    const len = r.len ?? r.data.length;
    if (r.block === 'spb') {
      parts.push(w.block(3, Buffer.concat([w.u32(len), r.data])));
      continue;
    }
    const ifIndex = r.iface ?? 0;
    const iface = opts.interfaces[ifIndex];
    if (iface === undefined) throw new Error(`writer: no interface ${ifIndex}`);
    const ticks = toTicks(iface, r.tsSec, r.tsNsec);
    if (ticks < 0n || ticks >= 1n << 64n) throw new Error(`writer: ${r.tsSec}.${r.tsNsec} does not fit 64 bits of ticks`);
    const hi = Number(ticks >> 32n);
    const lo = Number(ticks & 0xffffffffn);
    const id = r.block === 'pb' ? Buffer.concat([w.u16(ifIndex), w.u16(0)]) : w.u32(ifIndex);
    const type = r.block === 'pb' ? 2 : 6;
    parts.push(w.block(type, Buffer.concat([id, w.u32(hi), w.u32(lo), w.u32(r.data.length), w.u32(len), r.data])));
  }
  return Buffer.concat(parts);
}

/** Writes one section synchronously and returns its bytes. */
export function writePcapng(path: string, records: readonly PcapngRecord[], opts: PcapngOptions): Buffer {
  const buf = encodePcapng(records, opts);
  writeFileSync(path, buf);
  return buf;
}
