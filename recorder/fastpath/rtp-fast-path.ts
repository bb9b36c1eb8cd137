/**
 * The capture thread's native path for the most common packet: an in-order RTP packet of a
 * known IPv4 flow in a plain Ethernet, Linux cooked or raw IP frame (native/fastpath/rtp_fast_path.c says exactly what it
 * takes and why the result is the TypeScript path's). This side keeps what the C loop needs:
 *
 * - Registration: the call registry registers a flow after its own path handled a packet of
 *   it (`register`, with the stream's SSRC, payload type, statistics record and spool stream),
 *   re-registers or forgets it with every packet it handles, and forgets it when the flow is
 *   dropped. So the C loop only takes packets whose outcome the TypeScript path has just
 *   shown: anything new or different stops it, and that frame goes through Pipeline.push.
 * - The flow table (OpenTable(3): source, destination, ports → slot) and the slots (FL_*).
 * - Running it on a run of frames that lie in one memory (`run`), and the spool ring's state
 *   across the call.
 *
 * Without the capture addon (or with NATIVE_LOOPS=0) there is no fast path: every frame takes
 * the TypeScript path, with the same results.
 */
import type { Frame } from '../capture/frame.js';
import { nativeAddon, type SlabAddon } from '../core/native-pages.js';
import { OpenTable } from '../core/open-table.js';
import type { Packet } from '../core/packet.js';
import { statsSlab } from '../rtp/stream-stats.js';
import type { SpoolWriter } from '../spool/spool-writer.js';

// Flow slots (native/fastpath/rtp_fast_path.c FL_*).
const FL_STATS = 0;
const FL_SSRC = 1;
const FL_PT = 2;
const FL_SID = 3;
const FL_SPOOL_INDEX = 4;
const FL_STRIDE = 8;

// Frame descriptors (D_*): offset in the view, caplen, len, seconds, nanoseconds, link type.
const DESC_STRIDE = 6;

// io slots (IO_*).
const IO_W = 0;
const IO_READ = 1;
const IO_HEADROOM = 2;
const IO_QUEUE_EMPTY = 3;
const IO_REACHED = 4;
const IO_FRAMES = 5;
const IO_BYTES = 6;
const IO_VLAN = 7;
const IO_MAX_TIME = 8;
const IO_SLL = 9;
const IO_SLL2 = 10;
const IO_RAW = 11;
const IO_COUNT = 12;

interface FastAddon extends SlabAddon {
  rtpFastPath(
    stats: object,
    view: DataView,
    desc: Float64Array,
    from: number,
    to: number,
    nextSweep: number,
    vxlan: Uint8Array,
    flowKeys: Int32Array,
    flows: Int32Array,
    ring: Buffer,
    ringCtrl: Int32Array,
    io: Float64Array,
  ): void;
}

/** What the fast path needs to know of a flow: its numeric endpoint keys (address · 65536 + port). */
export interface FastFlow {
  src: number | string;
  dst: number | string;
  /** Its slot here, -1 when not registered. */
  fastSlot: number;
}

/** What one run took: frames and their wire bytes by link layer (Ethernet is the rest), 802.1Q-tagged ones, the latest capture time. */
export interface FastRunResult {
  reached: number;
  frames: number;
  bytes: number;
  vlanFrames: number;
  sll: number;
  sll2: number;
  rawIp: number;
  maxTime: number;
}

const NO_RING = Buffer.alloc(0);
const NO_CTRL = new Int32Array(4);

export class RtpFastPath {
  /** The capture addon's fast path, or null (then every frame takes the TypeScript path). */
  static create(writer: SpoolWriter | null): RtpFastPath | null {
    const addon = nativeAddon<FastAddon>(['rtpFastPath']);
    const stats = statsSlab().pages.native;
    return addon === null || stats === null ? null : new RtpFastPath(addon, stats.set, writer);
  }

  /** The packet Pipeline.push is delivering: only flows of captured frames are registered. */
  current: Packet | null = null;
  private readonly table = new OpenTable(3);
  private flows = new Int32Array(FL_STRIDE * 64);
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  private desc = new Float64Array(DESC_STRIDE * 1024);
  private readonly io = new Float64Array(IO_COUNT);
  private readonly result: FastRunResult = { reached: 0, frames: 0, bytes: 0, vlanFrames: 0, sll: 0, sll2: 0, rawIp: 0, maxTime: 0 };

  private constructor(
    private readonly addon: FastAddon,
    private readonly statsSet: object,
    private readonly writer: SpoolWriter | null,
  ) {}

  /** Frames taken since this fast path was made (tests and benchmarks). */
  taken = 0;
  /** 1 at UDP ports whose packets must always see the TypeScript path (TURN server ports: the unwrapper). */
  private readonly excluded = new Uint8Array(65536);

  /** Flows registered now. */
  get size(): number {
    return this.table.size;
  }

  /**
   * The C loop may take `flow`'s packets of SSRC `ssrc` and payload type `pt`: their statistics
   * go to record `statsSlot`, their payloads to stream `spoolIndex` of spool `sid` (through this
   * fast path's writer; -1: not spooled). IPv4 flows only.
   */
  register(flow: FastFlow, ssrc: number, pt: number, statsSlot: number, sid: number, spoolIndex: number): void {
    if (typeof flow.src !== 'number' || typeof flow.dst !== 'number' || statsSlot < 0) return;
    if (this.excluded[flow.src % 65536] === 1 || this.excluded[flow.dst % 65536] === 1) {
      this.unregister(flow);
      return;
    }
    let slot = flow.fastSlot;
    if (slot < 0) {
      slot = this.freeSlots.pop() ?? this.nextSlot++;
      if ((slot + 1) * FL_STRIDE > this.flows.length) {
        const f = new Int32Array(this.flows.length * 2);
        f.set(this.flows);
        this.flows = f;
      }
      flow.fastSlot = slot;
      this.table.set(slot, ...flowKey(flow.src, flow.dst));
    }
    const o = slot * FL_STRIDE;
    const F = this.flows;
    F[o + FL_STATS] = statsSlot;
    F[o + FL_SSRC] = ssrc | 0;
    F[o + FL_PT] = pt;
    F[o + FL_SID] = sid | 0;
    F[o + FL_SPOOL_INDEX] = this.writer === null ? -1 : spoolIndex;
  }

  /**
   * Packets from or to these UDP ports always take the TypeScript path: a TURN server port's
   * packets go to the TURN unwrapper first, whose state (an allocation, a channel, an active
   * destination) can turn the next packet into relayed media at any time.
   */
  exclude(ports: readonly number[]): void {
    for (const p of ports) if (p >= 0 && p < 65536) this.excluded[p] = 1;
  }

  /** The C loop leaves `flow` alone from now on. */
  unregister(flow: FastFlow): void {
    const slot = flow.fastSlot;
    if (slot < 0 || typeof flow.src !== 'number' || typeof flow.dst !== 'number') return;
    this.table.delete(...flowKey(flow.src, flow.dst));
    this.freeSlots.push(slot);
    flow.fastSlot = -1;
  }

  /** Describes frames[from, to) (all in one memory, `frames[from].view`) for `run`. */
  describe(frames: readonly Frame[], from: number, to: number): void {
    const n = to - from;
    if (n * DESC_STRIDE > this.desc.length) this.desc = new Float64Array(n * DESC_STRIDE);
    const d = this.desc;
    for (let i = 0, o = 0; i < n; i++, o += DESC_STRIDE) {
      const f = frames[from + i]!;
      d[o] = f.viewAt ?? -1;
      d[o + 1] = f.caplen;
      d[o + 2] = f.len;
      d[o + 3] = f.tsSec;
      d[o + 4] = f.tsNsec;
      d[o + 5] = f.linkType;
    }
  }

  /**
   * Runs the C loop over described frames [from, to) in `view`, stopping before a sweep due at
   * `nextSweep` (capture time) and at the first frame it leaves to TypeScript. `vxlan`: the
   * decoder's VXLAN ports. The spool records it wrote are committed to the writer's ring.
   */
  run(view: DataView, from: number, to: number, nextSweep: number, vxlan: Uint8Array): FastRunResult {
    const io = this.io;
    const w = this.writer;
    const ring = w?.ring ?? null;
    if (ring !== null && w !== null) {
      io[IO_W] = ring.writeIndex;
      io[IO_READ] = ring.readSeen;
      io[IO_HEADROOM] = w.packetHeadroom;
      io[IO_QUEUE_EMPTY] = w.queueEmpty ? 1 : 0;
    } else {
      io[IO_W] = io[IO_READ] = io[IO_HEADROOM] = io[IO_QUEUE_EMPTY] = 0;
    }
    io[IO_MAX_TIME] = -Infinity;
    this.addon.rtpFastPath(
      this.statsSet,
      view,
      this.desc,
      from,
      to,
      nextSweep,
      vxlan,
      this.table.keys,
      this.flows,
      ring?.buf ?? NO_RING,
      ring?.ctrlArray ?? NO_CTRL,
      io,
    );
    const r = this.result;
    r.reached = io[IO_REACHED]!;
    r.frames = io[IO_FRAMES]!;
    this.taken += r.frames;
    r.bytes = io[IO_BYTES]!;
    r.vlanFrames = io[IO_VLAN]!;
    r.sll = io[IO_SLL]!;
    r.sll2 = io[IO_SLL2]!;
    r.rawIp = io[IO_RAW]!;
    r.maxTime = io[IO_MAX_TIME]!;
    if (ring !== null) ring.written(io[IO_W], io[IO_READ]);
    return r;
  }
}

/** The table key of an IPv4 flow: source address, destination address, ports. */
function flowKey(src: number, dst: number): [number, number, number] {
  const s4 = Math.floor(src / 65536);
  const d4 = Math.floor(dst / 65536);
  return [s4 | 0, d4 | 0, (((src % 65536) << 16) | (dst % 65536)) | 0];
}
