/**
 * The spool writer's per-call batch state in typed arrays, and the chunk memory the batches are
 * built in: the layout native/spool/spool_demux.c reads and writes, so that its loop and the
 * consumer's TypeScript share one copy of every call's state (no copying back and forth).
 *
 * - Slots: one per open call, found by spool id through an OpenTable that C probes too.
 * - `state`: ST_STRIDE int32s per slot (ST_* below); `caps`: capture time (ms) of the batch's
 *   first packet, NaN when the batch has none.
 * - Chunks: CHUNK_BYTES each, SLAB_CHUNKS to a 1 MiB slab. Slabs are allocated as calls need
 *   them and kept for the thread's life: the pool holds what the busiest moment needed (a
 *   G.711 call's batch is one or two chunks), not a fixed reserve.
 */
import { PAGE_BYTES, PageSet, nativeAddon, type SlabAddon } from '../core/native-pages.js';
import { OpenTable } from '../core/open-table.js';

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
const SLAB_CHUNKS = PAGE_BYTES / CHUNK_BYTES;

/** spoolDemux outcomes (out[1]). */
export const DemuxOut = { Done: 0, Stop: 1, Due: 2 } as const;

export interface DemuxAddon extends SlabAddon {
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

/** Chunk memory of this thread (every consumer on it shares it, as the chunks' pool before it). */
export class ChunkPool {
  private readonly slabs: PageSet<DemuxAddon>;
  private readonly views: DataView[] = [];
  private readonly bufs: Buffer[] = [];
  private readonly free: number[] = [];

  constructor(addon: DemuxAddon | null) {
    this.slabs = new PageSet(addon);
  }

  /** The native loop's handle on the slabs (null: TypeScript only). */
  get native(): { addon: DemuxAddon; set: object } | null {
    return this.slabs.native;
  }

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

  private grow(): void {
    const index = this.slabs.add();
    const slab = this.slabs.pages[index]!;
    const first = index * SLAB_CHUNKS;
    this.views.push(new DataView(slab.buffer, slab.byteOffset, slab.length));
    for (let i = 0; i < SLAB_CHUNKS; i++) this.bufs.push(slab.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES));
    // Lowest chunks on top: a small load keeps using the first slab.
    for (let i = SLAB_CHUNKS - 1; i >= 0; i--) this.free.push(first + i);
  }
}

let pool: ChunkPool | undefined;

/** This thread's chunk pool, with the native loop when the addon has it. */
export function chunkPool(): ChunkPool {
  pool ??= new ChunkPool(nativeAddon<DemuxAddon>(['spoolDemux', 'spoolCrc32c']));
  return pool;
}

/** Slots of open calls: the id table (width 1: [sid, slot + 1] entries, see OpenTable) and the per-slot state. */
export class BatchSlots {
  private readonly table = new OpenTable(1);
  state = new Int32Array(ST_STRIDE * 32);
  caps = new Float64Array(32);
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;

  /** The id table's entries (what the native loop probes). */
  get keys(): Int32Array {
    return this.table.keys;
  }

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
    this.table.set(slot, sid);
    return slot;
  }

  /** Forgets `sid` (its slot is free for the next call). */
  remove(sid: number, slot: number): void {
    if (this.table.delete(sid)) this.freeSlots.push(slot);
  }

  /** The slot of `sid`, or -1 (the lookup the native loop does). */
  find(sid: number): number {
    return this.table.find(sid);
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
