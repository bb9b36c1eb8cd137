/**
 * Classic pcap ("libpcap") files, draft-ietf-opsawg-pcap.
 *
 * File Header (§4), 24 octets, in the writer's byte order:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  0 |                          Magic Number                         |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  4 |          Major Version        |         Minor Version         |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  8 |                           Reserved1                           |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * 12 |                           Reserved2                           |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * 16 |                            SnapLen                            |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * 20 | FCS |f|0 0 0 0 0 0 0 0 0 0 0 0|         LinkType              |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Packet Record (§5): 16-octet header, then Captured Packet Length octets of data.
 *
 *  0 |                      Timestamp (Seconds)                      |
 *  4 |            Timestamp (Microseconds or nanoseconds)            |
 *  8 |                    Captured Packet Length                     |
 * 12 |                    Original Packet Length                     |
 * 16 /                          Packet Data                          /
 *
 * Records carry no length of their own beyond Captured Packet Length, so after a
 * damaged record there is no way to find the next one: decoding stops there.
 */
import type { CaptureInterface } from './capture-file.js';
import { Step, type ChunkReader, type RecordDecoder } from './chunk-reader.js';
import { ChunkFrame, type Frame } from './frame.js';
import type { Counters } from '../core/counters.js';

/** Magic numbers as read big-endian from the first four octets. */
export const PcapMagic = {
  MicroBE: 0xa1b2c3d4,
  MicroLE: 0xd4c3b2a1,
  NanoBE: 0xa1b23c4d,
  NanoLE: 0x4d3cb2a1,
  /** Kuznetzov's "modified" pcap (extra record fields); not decoded. */
  ModifiedBE: 0xa1b2cd34,
  ModifiedLE: 0x34cdb2a1,
} as const;

export const PCAP_FILE_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;
const OFF_VERSION_MAJOR = 4;
const OFF_VERSION_MINOR = 6;
const OFF_SNAPLEN = 16;
const OFF_LINKTYPE = 20;
const REC_TS_SEC = 0;
const REC_TS_FRAC = 4;
const REC_CAPLEN = 8;
const REC_LEN = 12;

/**
 * Larger captured lengths are treated as damage: 256 KiB is the limit libpcap and
 * Wireshark apply to ordinary link types, and far above any real snaplen we record.
 */
export const MAX_CAPLEN = 256 * 1024;

export const isPcapMagic = (m: number): boolean =>
  m === PcapMagic.MicroBE || m === PcapMagic.MicroLE || m === PcapMagic.NanoBE || m === PcapMagic.NanoLE;

export interface PcapHeader {
  littleEndian: boolean;
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  iface: CaptureInterface;
}

/** Decodes the 24-octet file header at buf[off]; the caller checked the length and the magic. */
export function decodePcapHeader(buf: Buffer, off: number): PcapHeader {
  const magic = buf.readUInt32BE(off);
  const littleEndian = magic === PcapMagic.MicroLE || magic === PcapMagic.NanoLE;
  const nanosecond = magic === PcapMagic.NanoBE || magic === PcapMagic.NanoLE;
  const u16 = (o: number): number => (littleEndian ? buf.readUInt16LE(off + o) : buf.readUInt16BE(off + o));
  const u32 = (o: number): number => (littleEndian ? buf.readUInt32LE(off + o) : buf.readUInt32BE(off + o));
  return {
    littleEndian,
    nanosecond,
    versionMajor: u16(OFF_VERSION_MAJOR),
    versionMinor: u16(OFF_VERSION_MINOR),
    iface: {
      // §4: only the low 16 bits are the link type; the top bits may carry FCS information.
      linkType: u32(OFF_LINKTYPE) & 0xffff,
      snaplen: u32(OFF_SNAPLEN),
      tsUnitsPerSec: nanosecond ? 1e9 : 1e6,
      section: 0,
    },
  };
}

/** Packet records after the file header. */
export class PcapRecordDecoder implements RecordDecoder {
  need = 0;
  skip = 0;
  private stopped = false;
  private readonly le: boolean;
  private readonly fracToNs: number;
  private readonly fracPerSec: number;
  private readonly linkType: number;

  constructor(
    private readonly reader: ChunkReader,
    header: PcapHeader,
    private readonly counters: Counters,
  ) {
    this.le = header.littleEndian;
    this.fracToNs = header.nanosecond ? 1 : 1000;
    this.fracPerSec = header.nanosecond ? 1e9 : 1e6;
    this.linkType = header.iface.linkType;
  }

  decode(out: Frame[], max: number): Step {
    if (this.stopped) return Step.Stop;
    const r = this.reader;
    const buf = r.buf;
    const view = r.view;
    const le = this.le;
    const end = r.end;
    let pos = r.start;
    let step: Step = Step.Full;
    while (out.length < max) {
      if (end - pos < RECORD_HEADER_LEN) {
        this.need = RECORD_HEADER_LEN;
        step = Step.NeedMore;
        break;
      }
      const caplen = view.getUint32(pos + REC_CAPLEN, le);
      if (caplen > MAX_CAPLEN) {
        this.counters.inc('capture.malformed');
        this.stopped = true;
        step = Step.Stop;
        break;
      }
      const recLen = RECORD_HEADER_LEN + caplen;
      if (end - pos < recLen) {
        this.need = recLen;
        step = Step.NeedMore;
        break;
      }
      let sec = view.getUint32(pos + REC_TS_SEC, le);
      let frac = view.getUint32(pos + REC_TS_FRAC, le);
      if (frac >= this.fracPerSec) {
        // Out of range in the file; carry into seconds so tsNsec stays < 1e9.
        sec += Math.floor(frac / this.fracPerSec);
        frac %= this.fracPerSec;
      }
      out.push(new ChunkFrame(this.linkType, 0, sec, frac * this.fracToNs, caplen, view.getUint32(pos + REC_LEN, le), buf, view, pos + RECORD_HEADER_LEN));
      pos += recLen;
    }
    r.start = pos;
    return step;
  }
}
