/**
 * The consuming end of the spool ring: demultiplexes the records of every call into that call's
 * batch, creates the call's files, writes each batch with one writev(2) at the batch's file
 * position (CRCs sealed here, by batch-write.ts), replaces meta.json, asks for fsyncs and
 * finalizes closed calls. It runs on the SpoolWriter's thread; in `sync` mode (and if that
 * thread cannot run) on the capture thread, pumped synchronously, so both modes share this one
 * piece of code.
 *
 * Batching rule (as before the ring): a call's batch is written when it holds maxBufferBytes,
 * when its first packet is a flush interval older (capture time) than the newest, or when a
 * directory tick finds it a flush interval old (wall time): about one write per call per
 * second, live or replayed.
 *
 * A failed write is cut off the file again (batch-write.ts); its packets are counted lost and
 * the call's stream infos go in front of the next batch, so the packets that follow find their
 * stream described. Writes are synchronous here, so no later batch of that call can be on its
 * way meanwhile and the file never has a hole.
 *
 * Per record, the work is: find the call, copy the record into the call's batch, seal its CRC,
 * check whether the batch is due. With the capture addon built, native/spool/spool_demux.c does
 * that for runs of PACKET records (batch-slots.ts: the state both loops share); every other
 * message, and every record it leaves alone, takes the TypeScript path below, which writes the
 * same bytes.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeBatch } from './batch-write.js';
import {
  BatchSlots,
  CHUNK_BYTES,
  ChunkPool,
  DemuxOut,
  ST_BYTES,
  ST_CHUNK,
  ST_FAST,
  ST_FLUSH_MS,
  ST_MAX_BYTES,
  ST_PACKETS,
  ST_RECORDS,
  ST_SEAL_FROM,
  ST_STRIDE,
  ST_USED,
  chunkPool,
} from './batch-slots.js';
import { FILE_HEADER_LEN, RECORD_HEAD, RecordType, sealRecord, writeFileHeader } from './spool-format.js';
import { MsgKind, type RingConsumer } from './spool-ring.js';
import { MEDIA_FILE, META_FILE, metaFileText, writeMeta } from './spool-meta.js';
import { copyBytes } from '../core/bytes.js';

/** The fixed part of an OPEN message (JSON, followed in the message by the call's meta JSON). */
export interface SpoolOpenRequest {
  dir: string;
  root: string;
  dirId: number;
  flushIntervalMs: number;
  fsyncIntervalMs: number;
  /**
   * The spool root, opened when its directory was created (before any call's files), through
   * which a syncfs of its filesystem may make this call's files durable; -1: fsync each.
   */
  syncfsFd: number;
  maxBufferBytes: number;
}

/** A call whose spool was finalized: its final directory (collisions get a suffix here) and lost records. */
export interface ClosedSpool {
  sid: number;
  /** '' when the consumer never knew the call (its writer thread died). */
  dir: string;
  lost: number;
}

/** What the consumer tells the capture thread: counters per directory, answered tickets, closed calls. */
export interface SpoolReport {
  counters: [dirId: number, name: string, n: number][];
  ticket: number;
  closed: ClosedSpool[];
  batches: number;
}

export interface SpoolConsumerHost {
  /** fsync `fd` then `dirs` (or a syncfs through `via`, a spool root's fd; -1: no); false when it failed. */
  sync(fd: number, dirs: string[], via: number): Promise<boolean>;
  report(r: SpoolReport): void;
  /** Counters alone are reported at most this often (tickets and closes at once); 0: every pass. */
  reportMs: number;
}

// PACKET capture time, from the record start (spool-format.ts: body at +4, seconds at +8, ns at +12).
const REC_SEC = RECORD_HEAD + 8;
const REC_NSEC = RECORD_HEAD + 12;
const REC_STREAM = RECORD_HEAD;
/** A view of exactly `b`'s bytes (offsets as in `b`). */
const viewOf = (b: Buffer): DataView => new DataView(b.buffer, b.byteOffset, b.length);
/** The native loop returns at least this often, so that the ring's space is given back in steps. */
const RELEASE_BYTES = 1 << 20;

interface CallState {
  readonly sid: number;
  readonly dirId: number;
  dir: string;
  readonly root: string;
  /** -1 while the files are being created (records wait in the batch) or when that failed. */
  fd: number;
  /** The files could not be created: records are counted lost. */
  failed: boolean;
  /**
   * The call's file operations that run in libuv's pool (creation, meta updates, the close), in
   * order: one ext4 stall (behind another file's fsync) then delays this call, not the ring.
   */
  chain: Promise<void>;
  /** A flush was asked for while the files were being created. */
  flushWanted: boolean;
  readonly flushMs: number;
  readonly fsyncMs: number;
  readonly syncfsFd: number;
  /** The call's slot in BatchSlots: its batch's counts, current chunk and first capture time. */
  readonly slot: number;
  /**
   * The batch: whole records in bufs[i][0, lens[i]), then the slot's current chunk up to its
   * ST_USED; the file header first while it is pending. Chunks come from the thread's pool, so
   * a call holds about what it has buffered (a G.711 call ~20 KB a second). bufIds: each
   * buffer's chunk, or -1 for a record too large for one (its own buffer).
   */
  bufs: Buffer[];
  lens: number[];
  bufIds: number[];
  filePos: number;
  /** Latest STREAM record per stream index, written again in front of the batch after a failure. */
  readonly streams: Buffer[];
  lastFlushAt: number;
  lastFsyncAt: number;
  dirty: boolean;
  dirsSynced: boolean;
  syncing: Promise<void> | null;
  lost: number;
  mainLost: number;
  metaJson: string;
}

export class SpoolConsumer {
  private readonly calls = new Map<number, CallState>();
  private readonly slots = new BatchSlots();
  private readonly bySlot: (CallState | undefined)[] = [];
  private readonly pool: ChunkPool;
  private readonly demuxOut = new Int32Array(3);
  /** The native loop for runs of PACKET records (null: every record goes through `message`). */
  private readonly fast: ((r: number, w: number) => number) | null;
  /** The ring's bytes as a DataView: records are copied out of it into the batches. */
  private readonly ringView: DataView;
  private readonly byDir = new Map<number, Set<CallState>>();
  private readonly dirNow = new Map<number, number>();
  private readonly counters = new Map<number, Map<string, number>>();
  private countersDirty = false;
  private ticket = 0;
  private reportedTicket = 0;
  /** Per-call chains not settled yet: a ticket is answered once those before it are. */
  private readonly chains = new Set<Promise<void>>();
  private closed: ClosedSpool[] = [];
  private batches = 0;
  private lastReport = 0;
  /** Records of calls this consumer does not know (opened before its writer thread died). */
  orphanRecords = 0;
  private readonly handler = (kind: number, id: number, buf: Buffer, at: number, len: number): void => this.message(kind, id, buf, at, len);

  constructor(
    private readonly ring: RingConsumer,
    private readonly host: SpoolConsumerHost,
    opts: { native?: boolean } = {},
  ) {
    this.ringView = viewOf(ring.buf);
    this.pool = chunkPool();
    const native = opts.native === false ? null : this.pool.native;
    this.fast = native === null ? null : (r, w) => this.demux(native.addon, native.set, r, w);
  }

  /** Processes every published message; reports when someone waits for an answer. Returns bytes consumed. */
  pump(): number {
    const n = this.ring.drain(this.handler, this.fast ?? undefined);
    this.maybeReport(false);
    return n;
  }

  /** Runs the native loop from ring index r; returns where it stopped (a batch it found due is written first). */
  private demux(addon: NonNullable<ChunkPool['native']>['addon'], set: object, r: number, w: number): number {
    const o = this.demuxOut;
    const t = this.slots;
    addon.spoolDemux(set, this.ring.buf, r, w, RELEASE_BYTES, t.keys, t.state, t.caps, o);
    if (o[1] === DemuxOut.Due) {
      const st = this.bySlot[o[2]!];
      if (st !== undefined) this.flush(st);
    }
    return o[0]! >>> 0;
  }

  private count(dirId: number, name: string, n = 1): void {
    let m = this.counters.get(dirId);
    if (m === undefined) this.counters.set(dirId, (m = new Map<string, number>()));
    m.set(name, (m.get(name) ?? 0) + n);
    this.countersDirty = true;
  }

  private maybeReport(force: boolean): void {
    const now = performance.now();
    const urgent = this.ticket !== this.reportedTicket || this.closed.length > 0;
    if (!urgent && !(this.countersDirty && (force || now - this.lastReport >= this.host.reportMs))) return;
    const counters: SpoolReport['counters'] = [];
    for (const [d, m] of this.counters) for (const [name, n] of m) counters.push([d, name, n]);
    this.counters.clear();
    this.countersDirty = false;
    const r: SpoolReport = { counters, ticket: this.ticket, closed: this.closed, batches: this.batches };
    this.closed = [];
    this.batches = 0;
    this.reportedTicket = this.ticket;
    this.lastReport = now;
    this.host.report(r);
  }

  private message(kind: number, id: number, buf: Buffer, at: number, len: number): void {
    switch (kind) {
      case MsgKind.Record: {
        const st = this.calls.get(id);
        if (st === undefined) this.orphanRecords++;
        else this.record(st, buf, at, len);
        return;
      }
      case MsgKind.Open:
        this.open(id, buf, at, len);
        return;
      case MsgKind.Meta: {
        const st = this.calls.get(id);
        if (st !== undefined) this.meta(st, buf.readUInt32LE(at), buf.toString('utf8', at + 4, at + len));
        return;
      }
      case MsgKind.Flush: {
        const st = this.calls.get(id);
        if (st !== undefined) this.flush(st);
        return;
      }
      case MsgKind.Close:
        this.close(id, buf.readUInt32LE(at), len > 4 ? buf.toString('utf8', at + 4, at + len) : '');
        return;
      case MsgKind.Tick:
        this.tick(id, buf.readDoubleLE(at));
        return;
      case MsgKind.Ticket: {
        const t = buf.readUInt32LE(at);
        if (this.chains.size === 0) this.ticket = t;
        else
          void Promise.all([...this.chains]).then(() => {
            // Tickets are serial numbers: keep the newest answered.
            if (((t - this.ticket) | 0) > 0) this.ticket = t;
            this.maybeReport(true);
          });
        return;
      }
      default:
        return;
    }
  }

  private open(sid: number, buf: Buffer, at: number, len: number): void {
    const now = buf.readDoubleLE(at);
    const hlen = buf.readUInt32LE(at + 8);
    const req = JSON.parse(buf.toString('utf8', at + 12, at + 12 + hlen)) as SpoolOpenRequest;
    const metaJson = buf.toString('utf8', at + 12 + hlen, at + len);
    this.dirNow.set(req.dirId, now);
    this.forget(this.bySlot[this.slots.find(sid)]);
    const slot = this.slots.add(sid);
    const S = this.slots.state;
    const o = slot * ST_STRIDE;
    const c = this.pool.take();
    writeFileHeader(this.pool.buf(c), 0);
    S[o + ST_FAST] = 1;
    S[o + ST_CHUNK] = c;
    S[o + ST_USED] = S[o + ST_BYTES] = S[o + ST_SEAL_FROM] = FILE_HEADER_LEN;
    S[o + ST_MAX_BYTES] = req.maxBufferBytes;
    S[o + ST_FLUSH_MS] = req.flushIntervalMs;
    const st: CallState = {
      sid,
      dirId: req.dirId,
      dir: req.dir,
      root: req.root,
      fd: -1,
      flushMs: req.flushIntervalMs,
      fsyncMs: req.fsyncIntervalMs,
      syncfsFd: req.syncfsFd,
      slot,
      bufs: [],
      lens: [],
      bufIds: [],
      filePos: 0,
      streams: [],
      failed: false,
      chain: Promise.resolve(),
      flushWanted: false,
      lastFlushAt: now,
      lastFsyncAt: now,
      dirty: false,
      dirsSynced: false,
      syncing: null,
      lost: 0,
      mainLost: 0,
      metaJson,
    };
    this.calls.set(sid, st);
    this.bySlot[slot] = st;
    let set = this.byDir.get(st.dirId);
    if (set === undefined) this.byDir.set(st.dirId, (set = new Set<CallState>()));
    set.add(st);
    this.then(st, () => {
      this.create(st);
      return Promise.resolve();
    });
  }

  /** Runs `f` after the call's earlier file operations (a failure was counted where it happened). */
  private then(st: CallState, f: () => Promise<void>): void {
    const p = st.chain.then(f);
    st.chain = p;
    this.chains.add(p);
    void p.finally(() => this.chains.delete(p));
  }

  /**
   * Synchronous on purpose: this is the writer's thread, and three plain system calls cost less
   * than six trips through libuv's thread pool (measured: in a burst of call set-ups, records
   * waited in memory for their files to exist).
   */
  private create(st: CallState): void {
    try {
      st.dir = makeCallDir(st.dir);
      // Media file first: a directory with media.spool is a spool even if the crash came before
      // meta.json (listSpools treats it as open and recovery names it after the directory). The
      // first meta.json is new, so it is written in place (a torn one reads as `open`, like none).
      st.fd = fs.openSync(join(st.dir, MEDIA_FILE), 'wx');
      fs.writeFileSync(join(st.dir, META_FILE), metaFileText(st.metaJson, 'open', 0), { flag: 'wx' });
    } catch {
      this.count(st.dirId, 'spool.open_error');
      st.failed = true;
      const o = st.slot * ST_STRIDE;
      const S = this.slots.state;
      S[o + ST_FAST] = 0;
      this.lose(st, S[o + ST_PACKETS]!);
      S[o + ST_RECORDS] = S[o + ST_PACKETS] = 0;
      this.release(st, true);
      return;
    }
    // Records that arrived meanwhile: written now if a flush was asked for or the batch is full.
    const o = st.slot * ST_STRIDE;
    const S = this.slots.state;
    if (st.flushWanted || S[o + ST_BYTES]! - S[o + ST_SEAL_FROM]! >= S[o + ST_MAX_BYTES]!) this.flush(st);
  }

  /** A record the native loop left alone (or all of them, without it): what spool_demux.c does, and the rest. */
  private record(st: CallState, buf: Buffer, at: number, len: number): void {
    const isPacket = buf[at + 1] === RecordType.Packet;
    if (st.failed) {
      if (isPacket) this.lose(st, 1);
      return;
    }
    this.put(st, buf, at, len);
    const S = this.slots.state;
    const o = st.slot * ST_STRIDE;
    S[o + ST_RECORDS] = S[o + ST_RECORDS]! + 1;
    if (!isPacket) {
      st.streams[buf.readUInt16LE(at + REC_STREAM)] = Buffer.from(buf.subarray(at, at + len));
      return;
    }
    S[o + ST_PACKETS] = S[o + ST_PACKETS]! + 1;
    const capMs = buf.readUInt32LE(at + REC_SEC) * 1000 + buf.readUInt32LE(at + REC_NSEC) / 1e6;
    const caps = this.slots.caps;
    if (Number.isNaN(caps[st.slot])) caps[st.slot] = capMs;
    // A batch also ends after a flush interval of capture time: a replay running many times
    // faster than real time then holds no more per call than live capture does.
    if (S[o + ST_BYTES]! - S[o + ST_SEAL_FROM]! >= S[o + ST_MAX_BYTES]! || capMs - caps[st.slot]! >= S[o + ST_FLUSH_MS]!) this.flush(st);
  }

  /** Appends one whole record (`src[at, at + len)`) to the batch and seals its CRC there. */
  private put(st: CallState, src: Buffer, at: number, len: number): void {
    const S = this.slots.state;
    const o = st.slot * ST_STRIDE;
    // From the ring (every record), or a STREAM record kept for re-queueing after a failure.
    const from = src === this.ring.buf ? this.ringView : viewOf(src);
    let c = S[o + ST_CHUNK]!;
    let used = S[o + ST_USED]!;
    S[o + ST_BYTES] = S[o + ST_BYTES]! + len;
    if (len > CHUNK_BYTES) {
      // A buffer of its own, after what the current chunk holds; the next record takes a new chunk.
      this.retire(st);
      const b = Buffer.allocUnsafeSlow(len);
      copyBytes(from, at, viewOf(b), 0, len);
      sealRecord(b, 0, len);
      st.bufs.push(b);
      st.lens.push(len);
      st.bufIds.push(-1);
      return;
    }
    if (c < 0 || used + len > CHUNK_BYTES) {
      this.retire(st);
      c = S[o + ST_CHUNK] = this.pool.take();
      used = 0;
    }
    const base = ChunkPool.base(c);
    copyBytes(from, at, this.pool.view(c), base + used, len);
    sealRecord(this.pool.buf(c), used, used + len);
    S[o + ST_USED] = used + len;
  }

  /** Moves the current chunk, if it holds anything, behind the batch's buffers; no current chunk after. */
  private retire(st: CallState): void {
    const S = this.slots.state;
    const o = st.slot * ST_STRIDE;
    const c = S[o + ST_CHUNK]!;
    if (c < 0) return;
    if (S[o + ST_USED]! > 0) {
      st.bufs.push(this.pool.buf(c));
      st.lens.push(S[o + ST_USED]!);
      st.bufIds.push(c);
    } else this.pool.give(c);
    S[o + ST_CHUNK] = -1;
    S[o + ST_USED] = 0;
  }

  /** Empties the batch, its chunks back to the pool; the current chunk stays for the next batch unless `all`. */
  private release(st: CallState, all: boolean): void {
    for (const c of st.bufIds) if (c >= 0) this.pool.give(c);
    st.bufs = [];
    st.lens = [];
    st.bufIds = [];
    const S = this.slots.state;
    const o = st.slot * ST_STRIDE;
    const c = S[o + ST_CHUNK]!;
    if (all && c >= 0) {
      this.pool.give(c);
      S[o + ST_CHUNK] = -1;
    }
    S[o + ST_USED] = 0;
    S[o + ST_BYTES] = 0;
  }

  /** The call's slot back to the table, its chunks to the pool (finished, or replaced by a new call of its id). */
  private forget(st: CallState | undefined): void {
    if (st === undefined || this.bySlot[st.slot] !== st) return;
    this.release(st, true);
    this.slots.remove(st.sid, st.slot);
    this.bySlot[st.slot] = undefined;
  }

  private lose(st: CallState, packets: number): void {
    if (packets === 0) return;
    st.lost += packets;
    this.count(st.dirId, 'spool.lost_records', packets);
  }

  /** Writes the call's batch (one writev); on failure counts its packets lost and re-queues the stream infos. */
  private flush(st: CallState): void {
    const S = this.slots.state;
    const o = st.slot * ST_STRIDE;
    if (S[o + ST_RECORDS] === 0) return;
    if (st.fd < 0) {
      st.flushWanted = !st.failed;
      return;
    }
    st.flushWanted = false;
    const views = st.bufs.map((b, i) => b.subarray(0, st.lens[i]));
    const c = S[o + ST_CHUNK]!;
    if (c >= 0 && S[o + ST_USED]! > 0) views.push(this.pool.buf(c).subarray(0, S[o + ST_USED]));
    const r = writeBatch(st.fd, views, st.filePos);
    const bytes = S[o + ST_BYTES]!;
    this.release(st, false);
    this.batches++;
    const packets = S[o + ST_PACKETS]!;
    S[o + ST_RECORDS] = S[o + ST_PACKETS] = 0;
    this.slots.caps[st.slot] = Number.NaN;
    st.lastFlushAt = this.dirNow.get(st.dirId) ?? st.lastFlushAt;
    if (r.ok) {
      this.count(st.dirId, 'spool.writes');
      this.count(st.dirId, 'spool.bytes', r.bytes);
      this.count(st.dirId, 'spool.flushes');
      if (packets > 0) this.count(st.dirId, 'spool.packets', packets);
      st.filePos += bytes;
      S[o + ST_SEAL_FROM] = 0;
      st.dirty = true;
      return;
    }
    this.count(st.dirId, 'spool.write_error');
    this.lose(st, packets);
    // The batch was cut off again: the file ends at filePos (still without its header if 0).
    S[o + ST_SEAL_FROM] = 0;
    if (st.filePos === 0) {
      let h = S[o + ST_CHUNK]!;
      if (h < 0) h = S[o + ST_CHUNK] = this.pool.take();
      S[o + ST_USED] = S[o + ST_BYTES] = S[o + ST_SEAL_FROM] = writeFileHeader(this.pool.buf(h), 0);
    }
    for (const s of st.streams) {
      if (s === undefined) continue;
      this.put(st, s, 0, s.length);
      S[o + ST_RECORDS] = S[o + ST_RECORDS]! + 1;
    }
  }

  private meta(st: CallState, mainLost: number, metaJson: string): void {
    st.metaJson = metaJson;
    st.mainLost = mainLost;
    this.then(st, async () => {
      if (st.failed) return;
      try {
        await writeMeta(st.dir, metaFileText(st.metaJson, 'open', st.lost + st.mainLost), false);
      } catch {
        this.count(st.dirId, 'spool.meta_error');
      }
    });
  }

  private tick(dirId: number, now: number): void {
    this.dirNow.set(dirId, now);
    const set = this.byDir.get(dirId);
    if (set === undefined) return;
    const S = this.slots.state;
    for (const st of set) {
      if (S[st.slot * ST_STRIDE + ST_RECORDS]! > 0 && now - st.lastFlushAt >= st.flushMs) this.flush(st);
      if (st.dirty && st.syncing === null && now - st.lastFsyncAt >= st.fsyncMs) {
        st.lastFsyncAt = now;
        st.dirty = false;
        st.syncing = this.fsync(st).finally(() => {
          st.syncing = null;
        });
      }
    }
  }

  /** One fsync through the host; the first also makes the new directory entries durable. */
  private async fsync(st: CallState): Promise<void> {
    this.count(st.dirId, 'spool.fsyncs');
    const dirs = st.dirsSynced ? [] : [st.dir, st.root];
    st.dirsSynced = true;
    if (!(await this.host.sync(st.fd, dirs, st.syncfsFd))) this.count(st.dirId, 'spool.fsync_error');
  }

  /**
   * Finalizes: write what is buffered (a batch that fails put the stream infos back: one more
   * try), fsync, close the file, then meta.json with state `closed`, durably. Answered through
   * the report once done.
   */
  private close(sid: number, mainLost: number, metaJson: string): void {
    const st = this.calls.get(sid);
    if (st === undefined) {
      this.closed.push({ sid, dir: '', lost: 0 });
      return;
    }
    this.calls.delete(sid);
    // Its records (none should follow a close) now take the TypeScript path, which counts them.
    this.slots.state[st.slot * ST_STRIDE + ST_FAST] = 0;
    this.byDir.get(st.dirId)?.delete(st);
    if (metaJson !== '') st.metaJson = metaJson;
    st.mainLost = mainLost;
    this.then(st, () => this.finish(st));
  }

  private async finish(st: CallState): Promise<void> {
    const o = st.slot * ST_STRIDE;
    for (let round = 0; round < 2 && this.slots.state[o + ST_RECORDS]! > 0; round++) this.flush(st);
    if (this.slots.state[o + ST_RECORDS]! > 0) this.lose(st, this.slots.state[o + ST_PACKETS]!);
    this.forget(st);
    if (st.fd >= 0) {
      if (st.syncing !== null) await st.syncing;
      await this.fsync(st);
      try {
        fs.closeSync(st.fd);
      } catch {
        // nothing left to lose: every batch was written or counted
      }
      try {
        await writeMeta(st.dir, metaFileText(st.metaJson, 'closed', st.lost + st.mainLost));
      } catch {
        this.count(st.dirId, 'spool.meta_error');
      }
    }
    this.closed.push({ sid: st.sid, dir: st.dir, lost: st.lost + st.mainLost });
    this.maybeReport(true);
  }
}

/** Creates the call's directory; a name already taken (another process, a leftover) gets a suffix. */
function makeCallDir(base: string): string {
  for (let n = 0; ; n++) {
    const dir = n === 0 ? base : `${base}-${n}`;
    try {
      fs.mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || n > 1000) throw e;
    }
  }
}
