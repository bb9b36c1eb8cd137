/**
 * One captured frame, the same for file replay and live capture.
 *
 * The timestamp is split into whole seconds and nanoseconds: ns since 1970 (~1.8e18)
 * does not fit a double exactly, and a BigInt per packet is too slow for the hot path.
 */
export interface Frame {
  /** DLT_/LINKTYPE_ value of the interface the frame came in on. */
  linkType: number;
  /** Interface index within the source (pcapng IDB number; 0 for classic pcap and live). */
  iface: number;
  tsSec: number;
  /** 0..999,999,999 */
  tsNsec: number;
  /** Bytes captured (`data.length`). */
  caplen: number;
  /** Length on the wire (may exceed caplen when a snaplen cut the frame). */
  len: number;
  data: Buffer;
  /**
   * When the reader has one: a DataView of the memory `data` lies in, `data[0]` at byte
   * `viewAt`. It lets the spool copy a payload without looking up its memory per packet.
   */
  view?: DataView;
  viewAt?: number;
}

/**
 * A frame of a file reader's chunk: `data` (a Buffer view of its bytes) is made when first read.
 * Most frames of a replay are taken whole by the native fast path, which reads them through
 * `view`, so most never need one: that Buffer was the reader's largest allocation per frame.
 * A spread `{ ...frame }` has no `data` (a getter) and keeps `view`/`viewAt`, which point into
 * the reader's chunk like `data` does: a frame kept past its batch is copied as pipeline.ts's
 * keepFrame does (bytes copied, no view).
 */
export class ChunkFrame implements Frame {
  #chunk: Buffer;
  #data: Buffer | undefined;

  constructor(
    public linkType: number,
    public iface: number,
    public tsSec: number,
    public tsNsec: number,
    public caplen: number,
    public len: number,
    /** The reader's chunk; `view` covers the same bytes at the same offsets. */
    chunk: Buffer,
    public view: DataView,
    public viewAt: number,
  ) {
    this.#chunk = chunk;
  }

  get data(): Buffer {
    return (this.#data ??= this.#chunk.subarray(this.viewAt, this.viewAt + this.caplen));
  }

  set data(b: Buffer) {
    this.#data = b;
  }
}

/** Capture time as seconds in a double: ~0.2 µs resolution, plenty for timeouts and sweeps. */
export const frameTime = (f: Frame): number => f.tsSec + f.tsNsec / 1e9;

/** "1700000000.000000123" exactly as tshark prints `frame.time_epoch` at ns precision. */
export const formatEpochNs = (sec: number, nsec: number): string => `${sec}.${String(nsec).padStart(9, '0')}`;

/** Link types (tcpdump.org/linktypes.html) that the frame decoders understand. */
export const LinkType = {
  Null: 0,
  Ethernet: 1,
  Raw: 101,
  Loop: 108,
  LinuxSll: 113,
  Ipv4: 228,
  Ipv6: 229,
  LinuxSll2: 276,
} as const;
