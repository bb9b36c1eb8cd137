/**
 * The writer of one call's spool. `append` copies a packet into the call's current chunk (8 KiB
 * buffers from a shared pool: no allocation in steady state, and memory grows with what is
 * buffered, not by doubling); the chunks reach the disk as one batch when they hold the
 * buffer cap or when the flusher finds them a flush interval old, so a G.711 call costs about
 * one writev(2) a second whatever its packet rate. In `worker` mode (the recorder's) the batch
 * is sealed (CRCs) and written by the SpoolWriter's thread; in `sync` mode, here. fsync runs at
 * most once per fsync interval, in the FsyncBatcher's worker thread, so a slow disk never
 * blocks the capture thread on durability.
 *
 * Crash model: a batch written with write(2) is in the page cache and survives kill -9 of the
 * recorder; an fsynced batch also survives power loss. Either way the reader keeps every
 * complete record and drops a torn tail (spool-format.ts).
 */
import fs from 'node:fs';
import { promisify } from 'node:util';
import type { Counters } from '../core/counters.js';
import {
  FILE_HEADER_LEN,
  MAX_PAYLOAD,
  MAX_BODY,
  RECORD_OVERHEAD,
  packetRecordSize,
  writeFileHeader,
  writePacketRecord,
  writeStreamRecord,
  type SpoolStreamInfo,
} from './spool-format.js';
import { CHUNK_BYTES, returnChunks, takeChunk, writeBatchSync, type SpoolWriter, type WriteBatch, type WriteResult } from './spool-writer.js';
import { newMetaFile, writeMeta, writeMetaSync, type SpoolCallMeta } from './spool-meta.js';

const closeAsync = promisify(fs.close);

export interface ResolvedSpoolOptions {
  flushIntervalMs: number;
  fsyncIntervalMs: number;
  maxBufferBytes: number;
  /** `worker`: batches are written by the SpoolWriter's thread; `sync`: on the caller's. */
  io: 'worker' | 'sync';
}

/** What a CallSpool needs from its SpoolDirectory (kept narrow to avoid an import cycle). */
export interface SpoolHost {
  readonly counters: Counters;
  readonly options: ResolvedSpoolOptions;
  /** Wall-clock milliseconds (injectable for tests). */
  now(): number;
  /** The spool root, whose entry for the new call directory must be made durable once. */
  readonly root: string;
  /** fsync `fd`, then `dirs` (batched off the capture thread); false when it failed. */
  sync(fd: number, dirs: string[]): Promise<boolean>;
  /** The batch writer of `worker` mode. */
  readonly writer: SpoolWriter;
  released(spool: CallSpool): void;
}

let nextSid = 1;

type WriterState = 'open' | 'closing' | 'closed';

export class CallSpool {
  readonly dir: string;
  private readonly host: SpoolHost;
  private readonly fd: number;
  private readonly sid = nextSid++;
  /** Filled chunks of the current batch, their used lengths, and the chunk being filled. */
  private chunks: Buffer[] = [];
  private lens: number[] = [];
  private buf: Buffer;
  private used: number;
  private batchBytes = 0;
  /** Capture time (ms) of the batch's first packet; NaN when the batch has none. */
  private batchCapMs = Number.NaN;
  /** Records (and of them packets) in the batch. */
  private bufferedRecords = 0;
  private bufferedPackets = 0;
  /** Where the next batch goes (positional writes, so a failed batch can be cut off cleanly). */
  private filePos = 0;
  /** Bumped when a batch fails: batches sent before we knew are dropped by the writer. */
  private epoch = 0;
  private headerPending = true;
  private streamCount = 0;
  /** Latest STREAM record body per stream, to write again if the batch holding it fails. */
  private readonly streamJson: Buffer[] = [];
  private meta: SpoolCallMeta;
  private lost = 0;
  private state: WriterState = 'open';
  private lastFlushAt: number;
  private lastFsyncAt: number;
  private dirty = false;
  private syncing: Promise<void> | null = null;
  private dirsSynced = false;
  private closing: Promise<void> | null = null;
  /** Batches handed to the writer and not answered yet. */
  private readonly inFlight = new Set<Promise<void>>();

  /** Use SpoolDirectory.open. */
  constructor(host: SpoolHost, dir: string, fd: number, meta: SpoolCallMeta) {
    this.host = host;
    this.dir = dir;
    this.fd = fd;
    this.meta = meta;
    this.buf = takeChunk();
    this.used = 0;
    const now = host.now();
    this.lastFlushAt = now;
    this.lastFsyncAt = now;
  }

  get streams(): number {
    return this.streamCount;
  }

  /** Records that could not be stored (write errors, oversize payloads). */
  get lostRecords(): number {
    return this.lost;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Declares a stream (an SSRC of a party); returns its index for `append`. */
  addStream(info: SpoolStreamInfo): number {
    const index = this.streamCount;
    this.writeStream(index, info);
    this.streamCount++;
    return index;
  }

  /** Replaces a stream's info from now on (e.g. a re-INVITE changed its payload map). */
  updateStream(index: number, info: SpoolStreamInfo): void {
    if (index < 0 || index >= this.streamCount) throw new RangeError(`no stream ${index}`);
    this.writeStream(index, info);
  }

  private writeStream(index: number, info: SpoolStreamInfo): void {
    if (this.state !== 'open') throw new Error(`spool ${this.dir} is closed`);
    if (index > 0xffff) throw new RangeError('too many streams in one call');
    const json = Buffer.from(JSON.stringify(info));
    if (json.length + 2 > MAX_BODY) throw new RangeError('stream info too large');
    this.streamJson[index] = json;
    this.bufferStream(index);
    this.host.counters.inc('spool.stream_records');
  }

  private bufferStream(index: number): void {
    const json = this.streamJson[index]!;
    const need = RECORD_OVERHEAD + 2 + json.length;
    this.reserve(need);
    this.used = writeStreamRecord(this.buf, this.used, index, json);
    this.batchBytes += need;
    this.bufferedRecords++;
  }

  /**
   * Appends one RTP packet's payload. Hot path: no allocation in steady state, no I/O unless
   * the batch is full. Never throws on data; problems are counted.
   */
  append(
    stream: number,
    seq: number,
    ts: number,
    marker: boolean,
    pt: number,
    captureSec: number,
    captureNsec: number,
    payload: Uint8Array,
    off: number,
    len: number,
  ): void {
    const c = this.host.counters;
    if (this.state !== 'open') {
      c.inc('spool.append_after_close');
      return;
    }
    if ((stream | 0) !== stream || stream < 0 || stream >= this.streamCount) {
      c.inc('spool.bad_stream');
      return;
    }
    if (len > MAX_PAYLOAD || len < 0 || off < 0 || off + len > payload.length) {
      c.inc('spool.oversize');
      this.lost++;
      return;
    }
    const need = packetRecordSize(len);
    this.reserve(need);
    this.used = writePacketRecord(this.buf, this.used, stream, seq, ts, marker, pt, captureSec, captureNsec, payload, off, len);
    this.batchBytes += need;
    this.bufferedRecords++;
    // Counted into spool.packets per flush, not per packet: a Map update per packet showed in profiles.
    this.bufferedPackets++;
    // A batch also ends after a flush interval of capture time: a replay running many times
    // faster than real time then holds no more per call than live capture does (about one
    // second of media), and still writes once per second of call.
    const capMs = captureSec * 1000 + captureNsec / 1e6;
    if (Number.isNaN(this.batchCapMs)) this.batchCapMs = capMs;
    if (this.batchBytes >= this.host.options.maxBufferBytes || capMs - this.batchCapMs >= this.host.options.flushIntervalMs) this.flush();
  }

  /** Makes room for a record of `need` bytes: records never straddle chunks. */
  private reserve(need: number): void {
    if (this.used + need <= this.buf.length) return;
    if (this.used > 0) {
      this.chunks.push(this.buf);
      this.lens.push(this.used);
    } else returnChunks([this.buf]);
    // A record larger than a chunk (a jumbo payload) gets a buffer of its own.
    this.buf = need <= CHUNK_BYTES ? takeChunk() : Buffer.allocUnsafeSlow(need);
    this.used = 0;
  }

  /** True when records wait in memory. */
  get buffered(): boolean {
    return this.bufferedRecords > 0;
  }

  /**
   * Hands the batch to the writer (or writes it, in `sync` mode). On a write error the batch is
   * cut off the file again and its packets are counted lost, and so are later batches already
   * on their way: memory stays bounded when the disk is full, and the file has no hole. Stream
   * infos not known to be written are queued again, since the packets that follow are useless
   * without them.
   */
  flush(): void {
    if (this.bufferedRecords === 0 || this.state === 'closed') return;
    if (this.used > 0) {
      this.chunks.push(this.buf);
      this.lens.push(this.used);
      this.buf = takeChunk();
      this.used = 0;
    }
    // The file header rides in the first batch, so opening a call costs no write to this file.
    if (this.headerPending) {
      const h = Buffer.allocUnsafeSlow(FILE_HEADER_LEN);
      writeFileHeader(h, 0);
      this.chunks.unshift(h);
      this.lens.unshift(FILE_HEADER_LEN);
    }
    const batch: WriteBatch = {
      sid: this.sid,
      fd: this.fd,
      pos: this.filePos,
      epoch: this.epoch,
      bufs: this.chunks,
      lens: this.lens,
      sealFrom: this.headerPending ? FILE_HEADER_LEN : 0,
    };
    const packets = this.bufferedPackets;
    this.filePos += this.batchBytes + (this.headerPending ? FILE_HEADER_LEN : 0);
    this.headerPending = false;
    this.chunks = [];
    this.lens = [];
    this.batchBytes = 0;
    this.bufferedRecords = 0;
    this.bufferedPackets = 0;
    this.batchCapMs = Number.NaN;
    this.lastFlushAt = this.host.now();
    if (this.host.options.io === 'sync') {
      this.written(batch, packets, writeBatchSync(batch));
      return;
    }
    const p = this.host.writer.write(batch).then((r) => {
      this.inFlight.delete(p);
      this.written(batch, packets, r);
    });
    this.inFlight.add(p);
  }

  /** The outcome of a batch: counters, and on failure the file position and stream infos reset. */
  private written(batch: WriteBatch, packets: number, r: WriteResult): void {
    const c = this.host.counters;
    returnChunks(r.bufs);
    if (r.ok) {
      c.inc('spool.writes');
      c.inc('spool.bytes', r.bytes);
      c.inc('spool.flushes');
      if (packets) c.inc('spool.packets', packets);
      this.dirty = true;
      return;
    }
    if (!r.dropped) c.inc('spool.write_error');
    c.inc('spool.lost_records', packets);
    this.lost += packets;
    // Only the first failure of an epoch resets; batches sent after it in the same epoch were
    // dropped by the writer and are only counted.
    if (batch.epoch !== this.epoch) return;
    this.epoch++;
    this.filePos = batch.pos;
    if (batch.pos === 0) this.headerPending = true;
    try {
      fs.ftruncateSync(this.fd, batch.pos);
    } catch {
      c.inc('spool.truncate_error');
    }
    this.prependStreams();
  }

  /**
   * After a failed batch nothing since it is on disk: every stream's latest info goes in front
   * of what is buffered, so the packets that follow find their stream described.
   */
  private prependStreams(): void {
    if (this.state === 'closed') return;
    const pre: Buffer[] = [];
    const preLens: number[] = [];
    let b = takeChunk();
    let u = 0;
    for (let k = 0; k < this.streamCount; k++) {
      const json = this.streamJson[k];
      if (json === undefined) continue;
      const need = RECORD_OVERHEAD + 2 + json.length;
      if (u + need > b.length) {
        pre.push(b);
        preLens.push(u);
        b = need <= CHUNK_BYTES ? takeChunk() : Buffer.allocUnsafeSlow(need);
        u = 0;
      }
      u = writeStreamRecord(b, u, k, json);
      this.batchBytes += need;
      this.bufferedRecords++;
    }
    if (u > 0) {
      pre.push(b);
      preLens.push(u);
    } else returnChunks([b]);
    this.chunks = [...pre, ...this.chunks];
    this.lens = [...preLens, ...this.lens];
  }

  /** Resolves when every batch handed over so far has been answered (written or failed). */
  async whenWritten(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Called by the directory's flusher: flush when the batch is old enough, then maybe fsync. */
  tick(now: number): void {
    if (this.state !== 'open') return;
    const o = this.host.options;
    if (this.bufferedRecords > 0 && now - this.lastFlushAt >= o.flushIntervalMs) this.flush();
    if (this.dirty && this.syncing === null && now - this.lastFsyncAt >= o.fsyncIntervalMs) this.startSync(now);
  }

  private startSync(now: number): void {
    this.lastFsyncAt = now;
    this.dirty = false;
    this.syncing = this.syncNow();
  }

  /** One fsync through the host's batcher; the first also makes the new directory entries durable. */
  private syncNow(): Promise<void> {
    const c = this.host.counters;
    c.inc('spool.fsyncs');
    const dirs = this.dirsSynced ? [] : [this.dir, this.host.root];
    this.dirsSynced = true;
    return this.host
      .sync(this.fd, dirs)
      .then((ok) => {
        if (!ok) c.inc('spool.fsync_error');
      })
      .finally(() => {
        this.syncing = null;
      });
  }

  /** Replaces meta.json (no fsync: it is small, rare, and the final meta is written durably). */
  updateMeta(meta: SpoolCallMeta): void {
    if (this.state !== 'open') throw new Error(`spool ${this.dir} is closed`);
    this.meta = meta;
    writeMetaSync(this.dir, newMetaFile(meta, 'open', this.lost));
  }

  /** The latest meta given to open/updateMeta/close. */
  get currentMeta(): SpoolCallMeta {
    return this.meta;
  }

  /**
   * Finalizes: flush, fsync, close the file, then write meta.json with state `closed`
   * durably. From then on the spool is a render job's input; appends are counted and ignored.
   */
  close(final?: SpoolCallMeta): Promise<void> {
    if (this.closing !== null) return this.closing;
    if (final !== undefined) this.meta = final;
    this.flush();
    this.state = 'closing';
    this.closing = this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    try {
      await this.whenWritten();
      // A batch that failed meanwhile put the stream infos back: one more try, then give up.
      for (let round = 0; round < 2 && this.bufferedRecords > 0; round++) {
        this.flush();
        await this.whenWritten();
      }
      if (this.bufferedRecords > 0) {
        this.host.counters.inc('spool.lost_records', this.bufferedPackets);
        this.lost += this.bufferedPackets;
      }
      returnChunks(this.chunks);
      returnChunks([this.buf]);
      this.chunks = [];
      this.lens = [];
      this.host.writer.forget(this.sid);
      if (this.syncing !== null) await this.syncing;
      await this.syncNow();
      await closeAsync(this.fd);
      await writeMeta(this.dir, newMetaFile(this.meta, 'closed', this.lost));
    } finally {
      this.state = 'closed';
      this.host.released(this);
    }
  }
}
