/**
 * pcapng files, draft-ietf-opsawg-pcapng.
 *
 * Every block (§3.1) has the same frame, in the section's byte order:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  0 |                          Block Type                           |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  4 |                      Block Total Length                       |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  8 /                          Block Body                           /
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                      Block Total Length                       |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The total length (a multiple of 4, >= 12) lets a reader step over any block it does
 * not know, so blocks other than SHB, IDB, EPB, SPB and the obsolete PB are skipped.
 *
 * Section Header Block (§4.1), type 0x0A0D0D0A (the same in both byte orders):
 *  8 Byte-Order Magic 0x1A2B3C4D | 12 Major (1) u16 | 14 Minor u16 | 16 Section Length i64 | 24 options
 * Interface Description Block (§4.2), type 1:
 *  8 LinkType u16 | 10 Reserved u16 | 12 SnapLen u32 | 16 options
 * Enhanced Packet Block (§4.3), type 6:
 *  8 Interface ID | 12 Timestamp (High) | 16 Timestamp (Low) | 20 Captured Len | 24 Original Len | 28 data
 * Simple Packet Block (§4.4), type 3:
 *  8 Original Len | 12 data (interface 0; captured length implied by the block length)
 * Packet Block (obsolete, Appendix A), type 2:
 *  8 Interface ID u16 | 10 Drops Count u16 | then as the EPB from offset 12
 */
import type { CaptureInterface } from './capture-file.js';
import { Step, type ChunkReader, type RecordDecoder } from './chunk-reader.js';
import { ChunkFrame, type Frame } from './frame.js';
import { MAX_CAPLEN } from './pcap-file.js';
import { SplitTime, splitTicks, tsResolution, type TsResolution } from './pcapng-timestamp.js';
import type { Counters } from '../core/counters.js';

export const BlockType = {
  SectionHeader: 0x0a0d0d0a,
  InterfaceDescription: 1,
  Packet: 2,
  SimplePacket: 3,
  NameResolution: 4,
  InterfaceStatistics: 5,
  EnhancedPacket: 6,
  DecryptionSecrets: 0x0a,
  Custom: 0xbad,
  CustomNoCopy: 0x40000bad,
} as const;

/** Byte-Order Magic as read big-endian: tells the section's byte order. */
export const BYTE_ORDER_MAGIC_BE = 0x1a2b3c4d;
export const BYTE_ORDER_MAGIC_LE = 0x4d3c2b1a;

const OptionCode = { EndOfOpt: 0, IfName: 2, IfTsresol: 9, IfTsoffset: 14 } as const;

const BLOCK_MIN = 12;
export const SHB_MIN = 28;
const IDB_MIN = 20;
const EPB_MIN = 32;
const SPB_MIN = 16;
const SHB_OFF_MAGIC = 8;
export const SHB_OFF_MAJOR = 12;
const IDB_OFF_LINKTYPE = 8;
const IDB_OFF_SNAPLEN = 12;
const IDB_OFF_OPTIONS = 16;
const EPB_OFF_IFACE = 8;
const EPB_OFF_TS_HI = 12;
const EPB_OFF_TS_LO = 16;
const EPB_OFF_CAPLEN = 20;
const EPB_OFF_LEN = 24;
const EPB_OFF_DATA = 28;
const SPB_OFF_LEN = 8;
const SPB_OFF_DATA = 12;

/**
 * Blocks we must decode (headers, packets) are read whole into memory; past this size a
 * block is taken as damage rather than grow the buffer without bound.
 */
export const MAX_BLOCK = 16 * 1024 * 1024;

/** Byte order of the section whose SHB starts at buf[off], or null when the magic is wrong. */
export function sectionLittleEndian(buf: Buffer, off: number): boolean | null {
  const m = buf.readUInt32BE(off + SHB_OFF_MAGIC);
  return m === BYTE_ORDER_MAGIC_LE ? true : m === BYTE_ORDER_MAGIC_BE ? false : null;
}

/** All blocks after (and including) the first SHB. */
export class PcapngBlockDecoder implements RecordDecoder {
  need = 0;
  skip = 0;
  private stopped = false;
  private le = true;
  private section = -1;
  /** Global index of this section's interface 0, and how many the section has. */
  private sectionBase = 0;
  private sectionCount = 0;
  /** Per global interface: link type and timestamp constants (parallel to `interfaces`). */
  private readonly ifLink: number[] = [];
  private readonly ifSnap: number[] = [];
  private readonly ifRes: TsResolution[] = [];
  private readonly ts = new SplitTime();

  constructor(
    private readonly reader: ChunkReader,
    readonly interfaces: CaptureInterface[],
    private readonly counters: Counters,
  ) {}

  decode(out: Frame[], max: number): Step {
    if (this.stopped) return Step.Stop;
    const r = this.reader;
    const view = r.view;
    const end = r.end;
    let pos = r.start;
    let step: Step = Step.Full;
    for (;;) {
      const avail = end - pos;
      if (avail < BLOCK_MIN) {
        this.need = BLOCK_MIN;
        step = Step.NeedMore;
        break;
      }
      const type = view.getUint32(pos, this.le);
      if (type === BlockType.SectionHeader) {
        // A new section may switch byte order (§4.1); the magic decides before the length is read.
        const le = sectionLittleEndian(r.buf, pos);
        if (le === null) {
          step = this.stop();
          break;
        }
        this.le = le;
      }
      const btl = view.getUint32(pos + 4, this.le);
      if (btl < BLOCK_MIN || (btl & 3) !== 0) {
        step = this.stop();
        break;
      }
      const isPacket =
        type === BlockType.EnhancedPacket || type === BlockType.SimplePacket || type === BlockType.Packet;
      if (isPacket && out.length >= max) break;
      if (!isPacket && type !== BlockType.InterfaceDescription && type !== BlockType.SectionHeader) {
        // NRB, ISB, DSB, custom and unknown blocks: not needed, stepped over by length.
        if (avail >= btl) {
          pos += btl;
          continue;
        }
        this.skip = btl;
        step = Step.Skip;
        break;
      }
      if (btl > MAX_BLOCK) {
        if (!isPacket) {
          step = this.stop();
          break;
        }
        this.counters.inc('capture.malformed');
        this.skip = btl;
        step = Step.Skip;
        break;
      }
      if (avail < btl) {
        this.need = btl;
        step = Step.NeedMore;
        break;
      }
      if (view.getUint32(pos + btl - 4, this.le) !== btl) {
        // The lengths at both ends disagree: we are no longer on block boundaries.
        step = this.stop();
        break;
      }
      if (type === BlockType.EnhancedPacket || type === BlockType.Packet) {
        this.packet(out, pos, btl, type === BlockType.Packet);
      } else if (type === BlockType.SimplePacket) {
        this.simplePacket(out, pos, btl);
      } else if (type === BlockType.InterfaceDescription) {
        if (!this.interfaceDescription(pos, btl)) {
          step = this.stop();
          break;
        }
      } else if (!this.sectionHeader(pos, btl)) {
        step = this.stop();
        break;
      }
      pos += btl;
    }
    r.start = pos;
    return step;
  }

  private stop(): Step {
    this.counters.inc('capture.malformed');
    this.stopped = true;
    return Step.Stop;
  }

  private sectionHeader(pos: number, btl: number): boolean {
    if (btl < SHB_MIN || this.reader.view.getUint16(pos + SHB_OFF_MAJOR, this.le) !== 1) return false;
    this.section++;
    this.sectionBase = this.interfaces.length;
    this.sectionCount = 0;
    // SHB options (comments, hardware, OS) are not needed; the section length is advisory.
    return true;
  }

  private interfaceDescription(pos: number, btl: number): boolean {
    if (btl < IDB_MIN || this.section < 0) return false;
    const view = this.reader.view;
    const le = this.le;
    const linkType = view.getUint16(pos + IDB_OFF_LINKTYPE, le);
    const snaplen = view.getUint32(pos + IDB_OFF_SNAPLEN, le);
    let tsresol = 6;
    let tsOffsetSec = 0;
    let name: string | undefined;
    // Options (§3.5): code u16, length u16, value padded to 32 bits; tolerate damage by stopping early.
    const optEnd = pos + btl - 4;
    let o = pos + IDB_OFF_OPTIONS;
    while (o + 4 <= optEnd) {
      const code = view.getUint16(o, le);
      const len = view.getUint16(o + 2, le);
      if (code === OptionCode.EndOfOpt) break;
      if (o + 4 + len > optEnd) {
        this.counters.inc('capture.malformed');
        break;
      }
      const v = o + 4;
      if (code === OptionCode.IfTsresol && len >= 1) {
        tsresol = view.getUint8(v);
      } else if (code === OptionCode.IfTsoffset && len >= 8) {
        // Signed 64-bit seconds; exact while |offset| < 2^53, i.e. always in practice.
        const lo = view.getUint32(v + (le ? 0 : 4), le);
        const hi = view.getInt32(v + (le ? 4 : 0), le);
        tsOffsetSec = hi * 4294967296 + lo;
      } else if (code === OptionCode.IfName) {
        let n = len;
        while (n > 0 && this.reader.buf[v + n - 1] === 0) n--;
        name = this.reader.buf.toString('utf8', v, v + n);
      }
      o = v + ((len + 3) & ~3);
    }
    const res = tsResolution(tsresol, tsOffsetSec);
    const iface: CaptureInterface = { linkType, snaplen, tsUnitsPerSec: res.unitsPerSec, section: this.section };
    if (tsOffsetSec !== 0) iface.tsOffsetSec = tsOffsetSec;
    if (name !== undefined) iface.name = name;
    this.interfaces.push(iface);
    this.ifLink.push(linkType);
    this.ifSnap.push(snaplen);
    this.ifRes.push(res);
    this.sectionCount++;
    return true;
  }

  /** EPB, or the obsolete PB (16-bit interface id). Bad packets are counted and skipped. */
  private packet(out: Frame[], pos: number, btl: number, obsolete: boolean): void {
    const view = this.reader.view;
    const le = this.le;
    const local = obsolete ? view.getUint16(pos + EPB_OFF_IFACE, le) : view.getUint32(pos + EPB_OFF_IFACE, le);
    const caplen = btl >= EPB_MIN ? view.getUint32(pos + EPB_OFF_CAPLEN, le) : 0;
    if (btl < EPB_MIN || local >= this.sectionCount || caplen > btl - EPB_MIN || caplen > MAX_CAPLEN) {
      this.counters.inc('capture.malformed');
      return;
    }
    const g = this.sectionBase + local;
    const ts = this.ts;
    splitTicks(view.getUint32(pos + EPB_OFF_TS_HI, le), view.getUint32(pos + EPB_OFF_TS_LO, le), this.ifRes[g]!, ts);
    out.push(new ChunkFrame(this.ifLink[g]!, g, ts.sec, ts.nsec, caplen, view.getUint32(pos + EPB_OFF_LEN, le), this.reader.buf, view, pos + EPB_OFF_DATA));
  }

  /** SPB: interface 0, no timestamp (we give 0; tshark shows none), length implied by the block (§4.4). */
  private simplePacket(out: Frame[], pos: number, btl: number): void {
    if (btl < SPB_MIN || this.sectionCount === 0) {
      this.counters.inc('capture.malformed');
      return;
    }
    const view = this.reader.view;
    const g = this.sectionBase;
    const len = view.getUint32(pos + SPB_OFF_LEN, this.le);
    const snap = this.ifSnap[g]!;
    let caplen = Math.min(len, btl - SPB_MIN);
    if (snap !== 0 && caplen > snap) caplen = snap;
    if (caplen > MAX_CAPLEN) {
      this.counters.inc('capture.malformed');
      return;
    }
    out.push(new ChunkFrame(this.ifLink[g]!, g, 0, 0, caplen, len, this.reader.buf, view, pos + SPB_OFF_DATA));
  }
}
