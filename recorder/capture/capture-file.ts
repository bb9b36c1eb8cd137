import type { Frame } from './frame.js';

/**
 * A file that cannot be read as a capture at all: missing, unreadable, not pcap/pcapng,
 * or too short to hold the file header. Damage after a valid header is not an error:
 * the readers deliver what they can and count `capture.truncated` / `capture.malformed`.
 */
export class CaptureFileError extends Error {
  override name = 'CaptureFileError';
}

/** One capture interface: the pcap file header, or one pcapng Interface Description Block. */
export interface CaptureInterface {
  /** LINKTYPE_ value (tcpdump.org/linktypes.html). */
  linkType: number;
  /** Maximum captured length per frame; 0 means "no limit" (pcapng §4.2). */
  snaplen: number;
  /**
   * Timestamp units per second: 1e6 (µs), 1e9 (ns), or what pcapng if_tsresol says
   * (10^n or 2^n). Exact while it fits a double (10^15, 2^53); beyond that only informative.
   */
  tsUnitsPerSec: number;
  /** pcapng if_tsoffset: seconds added to every timestamp of this interface. */
  tsOffsetSec?: number;
  /** pcapng if_name. */
  name?: string;
  /** pcapng section (0-based) the interface belongs to; 0 for classic pcap. */
  section: number;
}

export interface CaptureFile {
  readonly path: string;
  readonly format: 'pcap' | 'pcapng';
  /**
   * Interfaces by Frame.iface. For pcapng the list holds the IDBs read so far: those before
   * the first packet when the file was opened, and it grows as later IDBs or sections appear.
   * Numbering runs across sections, so an index names one interface of the file (tshark 4.0's
   * frame.interface_id restarts at 0 in each section instead).
   */
  readonly interfaces: CaptureInterface[];
  /** File size in bytes when it was opened. */
  readonly size: number;
  /** Bytes of the file decoded so far (a file offset; for progress reports against `size`). */
  readonly bytesRead: number;
  /**
   * Frames in file order, in batches of up to 1024. Single pass: the file is read once.
   *
   * Zero-copy: each `frame.data` is a view into the reader's chunk buffer and is only valid
   * until the next batch is requested. Consumers copy the bytes they keep.
   */
  batches(): AsyncIterable<Frame[]>;
  /** Closes the file; safe to call more than once. */
  close(): Promise<void>;
}
