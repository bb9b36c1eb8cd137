/**
 * Live capture from a network interface through our libpcap addon (native/pcap/pcap_capture.c).
 *
 * The addon copies packets out of the kernel ring into one batch buffer and calls JS once per
 * batch; this module turns a batch into Frames. Zero copy: `Frame.data` is a view into that
 * batch buffer, and the Frame objects and the array are reused, so frames are valid ONLY
 * during the onBatch call. Copy (`Buffer.from(frame.data)`) whatever must outlive it.
 * Keeping a view is memory-safe (the buffer is GC-owned); it just shows later packets' bytes.
 *
 * Loss is counted by the kernel, not here: poll `stats()` (received / dropped / ifDropped).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Frame } from './frame.js';

export interface LiveOptions {
  /** Interface name, as `tcpdump -D` lists it (`eth0`, `any`, `lo`). */
  iface: string;
  /** BPF filter in pcap-filter(7) syntax; all packets when absent. */
  filter?: string;
  /** Bytes kept per frame (1..262144); default 262144. */
  snaplen?: number;
  /** Kernel ring size in bytes; default 32 MiB. It absorbs bursts while JS is busy. */
  bufferSize?: number;
  /** Default true: a SPAN port delivers frames addressed to other hosts. */
  promisc?: boolean;
  /**
   * Deliver each packet as soon as it arrives instead of per kernel block; default false.
   * On Linux this makes libpcap use a TPACKET_V2 ring of snaplen-sized slots, so with a large
   * snaplen the ring holds only ~bufferSize/snaplen packets and drops at rate (measured on
   * lo at ~90k pps with the defaults: 1–21% lost, against 0% without it). Keep it off for
   * recording.
   */
  immediate?: boolean;
  /** Longest a packet waits in a partly filled kernel block (ms, 0..60000); default 100. */
  timeoutMs?: number;
  /** Most frames per onBatch call (1..1048576); default 1024. */
  batchSize?: number;
}

/** Totals since open; libpcap's 32-bit counters are widened, so read at least every ~hour at 1 Mpps. */
export interface LiveStats {
  /** Packets that passed the filter (on Linux `lo` each packet is counted twice: out and in). */
  received: number;
  /** Passed the filter but dropped because the kernel ring was full (we were too slow). */
  dropped: number;
  /** Dropped by the interface/driver (Linux: only known in promiscuous mode). */
  ifDropped: number;
}

/** Opening failed (bad interface, permissions, bad filter), or capture stopped (interface gone). */
export class LiveCaptureError extends Error {
  override name = 'LiveCaptureError';
  /** Addon error code, e.g. `PCAP_NO_SUCH_DEVICE`, `PCAP_PERM_DENIED`, `PCAP_BAD_FILTER`. */
  readonly code: string;
  constructor(message: string, code = 'PCAP_ERROR', options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

// ---- the addon's surface (private; mirrors pcap_capture.c) ----

interface NativeOpenOptions {
  iface: string;
  filter?: string;
  snaplen?: number;
  bufferSize?: number;
  promisc?: boolean;
  immediate?: boolean;
  timeoutMs?: number;
  batchSize?: number;
}

interface NativeCapture {
  readonly linkType: number;
  readonly precision: 'nano' | 'micro';
  readonly snaplen: number;
  readonly warnings: string[];
  stats(): LiveStats;
  close(): void;
}

export interface NativeAddon {
  Capture: new (
    opts: NativeOpenOptions,
    onBatch: (buf: Buffer, count: number) => void,
    onError?: (err: Error) => void,
  ) => NativeCapture;
  libVersion: string;
  /** native/pcap/batch_send.c: Linux only, absent elsewhere. */
  openUdp?: (host: string, port: number, sndbuf: number) => number;
  openPacket?: (ifname: string) => number;
  sendBatch?: (fd: number, buf: Buffer, ends: Uint32Array, count: number, gso?: boolean) => number;
  closeFd?: (fd: number) => void;
  /** native/pcap/fs_sync.c: syncfs(2) → 0 or -errno; Linux only. */
  syncFs?: (fd: number) => number;
}

const ADDON_FILE = 'pcap_capture.node';

/**
 * Where `npx node-gyp rebuild -C native` puts the addon, seen from this module: compiled it
 * runs from dist/recorder/capture/ (three levels below the repo root), from source (a TS
 * loader) from recorder/capture/ (two levels). Release first, then a debug build.
 */
function addonCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const roots = [join(here, '..', '..', '..'), join(here, '..', '..')];
  return roots.flatMap((r) => ['Release', 'Debug'].map((b) => join(r, 'native', 'build', b, ADDON_FILE)));
}

let addon: NativeAddon | undefined;

/** Loaded on first use, so file replay works on hosts without the addon built. */
export function loadAddon(): NativeAddon {
  if (addon !== undefined) return addon;
  const candidates = addonCandidates();
  const file = candidates.find((f) => existsSync(f));
  if (file === undefined) {
    throw new LiveCaptureError(
      `live capture addon not built (looked for ${candidates[0] ?? ADDON_FILE}); run: npx node-gyp rebuild -C native`,
      'ADDON_MISSING',
    );
  }
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new LiveCaptureError(`cannot load ${file}: ${why}`, 'ADDON_LOAD_FAILED', { cause: e });
  }
  return addon;
}

/** The libpcap the addon runs on, e.g. "libpcap version 1.10.3 (with TPACKET_V3)". */
export const pcapVersion = (): string => loadAddon().libVersion;

const toLiveError = (e: unknown): LiveCaptureError => {
  if (e instanceof LiveCaptureError) return e;
  if (e instanceof Error) {
    const code = (e as Error & { code?: unknown }).code;
    return new LiveCaptureError(e.message, typeof code === 'string' ? code : 'PCAP_ERROR', { cause: e });
  }
  return new LiveCaptureError(String(e));
};

/** Record layout written by on_packet() in pcap_capture.c: four host-order u32, then data. */
const REC_HEADER_WORDS = 4;
const REC_HEADER = REC_HEADER_WORDS * 4;
const REC_ALIGN_MASK = 7;

export class LiveCapture {
  /** DLT_/LINKTYPE_ of the interface (1 = Ethernet, also for `lo`; 113 = Linux SLL for `any`). */
  readonly linkType: number;
  /** Timestamp precision libpcap granted; with 'micro', tsNsec is a multiple of 1000. */
  readonly precision: 'nano' | 'micro';
  /** Effective snaplen (libpcap may adjust the requested one). */
  readonly snaplen: number;
  /** Activation warnings from libpcap (e.g. promiscuous mode not supported). */
  readonly warnings: readonly string[];

  private readonly native: NativeCapture;
  private readonly frames: Frame[] = [];
  private readonly pool: Frame[] = [];
  private words: Uint32Array | undefined;
  /** The batch buffer as a DataView (frames carry it: Frame.view). */
  private view: DataView = new DataView(new ArrayBuffer(0));
  private final: LiveStats | undefined;

  /**
   * Starts capturing; onBatch gets every frame, in capture order, in batches. See the module
   * comment: frames are valid only during the call. A throw from onBatch becomes an
   * uncaught exception, like an event listener's. onError gets a LiveCaptureError when the
   * capture stops by itself (interface removed: code PCAP_READ_ERROR); without onError that
   * error is thrown uncaught. A link going down and up again does not stop the capture.
   * The open capture keeps the process alive until close(), like a socket.
   * Throws LiveCaptureError when the interface, the permissions or the filter are wrong.
   */
  static open(
    opts: LiveOptions,
    onBatch: (frames: Frame[]) => void,
    onError?: (err: LiveCaptureError) => void,
  ): LiveCapture {
    return new LiveCapture(opts, onBatch, onError);
  }

  private constructor(
    opts: LiveOptions,
    onBatch: (frames: Frame[]) => void,
    onError: ((err: LiveCaptureError) => void) | undefined,
  ) {
    const native = loadAddon();
    const nativeOpts: NativeOpenOptions = { ...opts };
    // Runs from the event loop, so never before the constructor has set linkType.
    const onNativeBatch = (buf: Buffer, count: number): void => {
      onBatch(this.decodeBatch(buf, count));
    };
    const onNativeError =
      onError === undefined
        ? undefined
        : (e: Error): void => {
            onError(toLiveError(e));
          };
    try {
      this.native = new native.Capture(nativeOpts, onNativeBatch, onNativeError);
    } catch (e) {
      throw toLiveError(e);
    }
    this.linkType = this.native.linkType;
    this.precision = this.native.precision;
    this.snaplen = this.native.snaplen;
    this.warnings = Object.freeze([...this.native.warnings]);
  }

  private decodeBatch(buf: Buffer, count: number): Frame[] {
    // The addon always passes the same buffer; one aligned view serves every batch.
    let words = this.words;
    if (words === undefined || words.buffer !== buf.buffer || words.byteOffset !== buf.byteOffset) {
      words = this.words = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    }
    const view = this.view;
    const frames = this.frames;
    const pool = this.pool;
    let off = 0;
    for (let i = 0; i < count; i++) {
      const w = off >>> 2;
      const caplen = words[w + 2] ?? 0;
      let f = pool[i];
      if (f === undefined) {
        f = { linkType: this.linkType, iface: 0, tsSec: 0, tsNsec: 0, caplen: 0, len: 0, data: buf, view, viewAt: 0 };
        pool.push(f);
      }
      f.tsSec = words[w] ?? 0;
      f.tsNsec = words[w + 1] ?? 0;
      f.caplen = caplen;
      f.len = words[w + 3] ?? 0;
      f.data = buf.subarray(off + REC_HEADER, off + REC_HEADER + caplen);
      // The batch's memory as a view: the spool and the native fast path read frames through it.
      f.view = view;
      f.viewAt = off + REC_HEADER;
      frames[i] = f;
      off += REC_HEADER + ((caplen + REC_ALIGN_MASK) & ~REC_ALIGN_MASK);
    }
    frames.length = count;
    return frames;
  }

  /** Kernel counters since open; after close(), the values at close. */
  stats(): LiveStats {
    if (this.final !== undefined) return { ...this.final };
    try {
      return this.native.stats();
    } catch (e) {
      throw toLiveError(e);
    }
  }

  /** Stops capturing and releases the interface; no onBatch call follows. Idempotent. */
  close(): void {
    if (this.final !== undefined) return;
    try {
      this.final = this.native.stats();
    } catch {
      this.final = { received: 0, dropped: 0, ifDropped: 0 };
    }
    this.native.close();
  }
}
