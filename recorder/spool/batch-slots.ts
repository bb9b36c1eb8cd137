/**
 * The spool writer's per-call batch state in typed arrays, and the chunk memory the batches are
 * built in: the layout native/spool/spool_demux.c reads and writes, so that its loop and the
 * consumer's TypeScript share one copy of every call's state (no copying back and forth).
 *
 * - Slots: one per open call, found by spool id through an open-addressing table (linear
 *   probing, backward-shift deletion) that C can probe: `keys` holds [sid, slot + 1] pairs.
 * - `state`: ST_STRIDE int32s per slot (ST_* below); `caps`: capture time (ms) of the batch's
 *   first packet, NaN when the batch has none.
 * - Chunks: CHUNK_BYTES each, SLAB_CHUNKS to a 1 MiB slab. Slabs are allocated as calls need
 *   them and kept for the thread's life: the pool holds what the busiest moment needed (a
 *   G.711 call's batch is one or two chunks), not a fixed reserve.
 */
import { loadAddon } from '../capture/live-source.js';

// Per-slot int32 fields (native/spool/spool_demux.c has the same numbers).
/** 1: spoolDemux may append this call's PACKET records (the call's files did not fail). */
export const ST_FAST = 0;
/** The current chunk, -1 for none. */
export const ST_CHUNK = 1;
/** Bytes used in the current chunk. */
export const ST_USED = 2;
/** Bytes of the batch (the file header while it is pending included). */
export const ST_BYTES = 3;
/** FILE_HEADER_LEN while the file header is pending (a file's first batch), else 0. */
export const ST_SEAL_FROM = 4;
export const ST_RECORDS = 5;
export const ST_PACKETS = 6;
export const ST_MAX_BYTES = 7;
export const ST_FLUSH_MS = 8;
export const ST_STRIDE = 9;

export const CHUNK_BYTES = 8192;
const SLAB_CHUNKS = 128;

/** spoolDemux outcomes (out[1]). */
export const DemuxOut = { Done: 0, Stop: 1, Due: 2 } as const;

export interface DemuxAddon {
  newSlabSet(): object;
  slabSetAdd(set: object, slab: Buffer): number;
  spoolDemux(
    set: object,
    ring: Buffer,
    r: number,
    w: number,
    limit: number,
    keys: Int32Array,
    state: Int32Array,
    caps: Float64Array,
    out: Int32Array,
  ): void;
  /** The native loop's CRC-32C of `buf`, by its hardware path or (`software`) its table path. */
  spoolCrc32c(buf: Buffer, software: boolean): number;
}

function loadDemux(): DemuxAddon | null {
  if (process.env.SPOOL_NATIVE === '0') return null;
  try {
    const a = loadAddon() as unknown as Partial<DemuxAddon>;
    return typeof a.spoolDemux === 'function' && typeof a.newSlabSet === 'function' && typeof a.slabSetAdd === 'function'
      ? (a as DemuxAddon)
      : null;
  } catch {
    return null;
  }
}

/** Chunk memory of this thread (every consumer on it shares it, as the chunks' pool before it). */
export class ChunkPool {
  private readonly slabs: Buffer[] = [];
  private readonly views: DataView[] = [];
  private readonly bufs: Buffer[] = [];
  private readonly free: number[] = [];

  constructor(
    /** The native loop's handle on the slabs (null: TypeScript only). */
    readonly native: { addon: DemuxAddon; set: object } | null,
  ) {}

  take(): number {
    if (this.free.length === 0) this.grow();
    return this.free.pop()!;
  }

  give(c: number): void {
    this.free.push(c);
  }

  /** The chunk's bytes as a Buffer (created once per chunk). */
  buf(c: number): Buffer {
    return this.bufs[c]!;
  }

  /** The DataView of the chunk's slab, and where the chunk starts in it. */
  view(c: number): DataView {
    return this.views[(c / SLAB_CHUNKS) | 0]!;
  }

  static base(c: number): number {
    return (c % SLAB_CHUNKS) * CHUNK_BYTES;
  }

  get chunks(): number {
    return this.bufs.length;
  }

  private grow(): void {
    const slab = Buffer.allocUnsafeSlow(SLAB_CHUNKS * CHUNK_BYTES);
    if (this.native !== null && this.native.addon.slabSetAdd(this.native.set, slab) !== this.slabs.length) {
      throw new Error('spool: the native slab set lost count');
    }
    const first = this.slabs.length * SLAB_CHUNKS;
    this.slabs.push(slab);
    this.views.push(new DataView(slab.buffer, slab.byteOffset, slab.length));
    for (let i = 0; i < SLAB_CHUNKS; i++) this.bufs.push(slab.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES));
    // Lowest chunks on top: a small load keeps using the first slab.
    for (let i = SLAB_CHUNKS - 1; i >= 0; i--) this.free.push(first + i);
  }
}

let pool: ChunkPool | undefined;

/** This thread's chunk pool, with the native loop when the addon has it. */
export function chunkPool(): ChunkPool {
  if (pool === undefined) {
    const addon = loadDemux();
    pool = new ChunkPool(addon === null ? null : { addon, set: addon.newSlabSet() });
  }
  return pool;
}

/** Slots of open calls: the id table and the per-slot state. */
export class BatchSlots {
  keys = new Int32Array(2 * 64);
  state = new Int32Array(ST_STRIDE * 32);
  caps = new Float64Array(32);
  private count = 0;
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;

  /** A slot for spool `sid` (not already present), its state zeroed, no chunk, no batch time. */
  add(sid: number): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.nextSlot++;
      if (slot >= this.caps.length) this.growState();
    }
    const o = slot * ST_STRIDE;
    this.state.fill(0, o, o + ST_STRIDE);
    this.state[o + ST_CHUNK] = -1;
    this.caps[slot] = Number.NaN;
    if (2 * (this.count + 1) > this.keys.length / 2) this.rehash(this.keys.length * 2);
    this.insert(this.keys, sid, slot);
    this.count++;
    return slot;
  }

  /** Forgets `sid` (its slot is free for the next call). */
  remove(sid: number, slot: number): void {
    const k = this.keys;
    const mask = (k.length >>> 1) - 1;
    let gap = this.entry(sid);
    if (gap < 0) return;
    // Backward-shift deletion: later entries of the probe run move up, so lookups stop at gaps only.
    for (let j = (gap + 1) & mask; k[2 * j + 1] !== 0; j = (j + 1) & mask) {
      const home = k[2 * j]! & mask;
      // Entry j stays when its home lies cyclically in (gap, j]: moving it would put it before its home.
      const stays = gap <= j ? home > gap && home <= j : home > gap || home <= j;
      if (stays) continue;
      k[2 * gap] = k[2 * j]!;
      k[2 * gap + 1] = k[2 * j + 1]!;
      gap = j;
    }
    k[2 * gap] = 0;
    k[2 * gap + 1] = 0;
    this.count--;
    this.freeSlots.push(slot);
  }

  /** The slot of `sid`, or -1 (the lookup the native loop does). */
  find(sid: number): number {
    const e = this.entry(sid);
    return e < 0 ? -1 : this.keys[2 * e + 1]! - 1;
  }

  /** The table entry holding `sid`, or -1. */
  private entry(sid: number): number {
    const k = this.keys;
    const n = k.length >>> 1;
    const mask = n - 1;
    for (let i = sid & mask, probes = 0; probes < n; i = (i + 1) & mask, probes++) {
      if (k[2 * i + 1] === 0) return -1;
      if (k[2 * i]! >>> 0 === sid >>> 0) return i;
    }
    return -1;
  }

  private insert(k: Int32Array, sid: number, slot: number): void {
    const mask = (k.length >>> 1) - 1;
    let i = sid & mask;
    while (k[2 * i + 1] !== 0) i = (i + 1) & mask;
    k[2 * i] = sid | 0;
    k[2 * i + 1] = slot + 1;
  }

  private rehash(len: number): void {
    const old = this.keys;
    const k = new Int32Array(len);
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.insert(k, old[i]!, old[i + 1]! - 1);
    this.keys = k;
  }

  private growState(): void {
    const n = this.caps.length * 2;
    const st = new Int32Array(n * ST_STRIDE);
    st.set(this.state);
    const caps = new Float64Array(n);
    caps.set(this.caps);
    this.state = st;
    this.caps = caps;
  }
}
