/**
 * The writer of one call's spool. `append` copies a packet into the call's buffer (no I/O, no
 * allocation once the buffer has grown); the buffer reaches the disk in one write when it is
 * full or when the flusher finds it a flush interval old, so a G.711 call costs about one
 * write(2) a second whatever its packet rate. fsync runs at most once per fsync interval, in
 * the FsyncBatcher's worker thread, so a slow disk never blocks the capture thread on
 * durability.
 *
 * Crash model: a batch written with write(2) is in the page cache and survives kill -9 of the
 * recorder; an fsynced batch also survives power loss. Either way the reader keeps every
 * complete record and drops a torn tail (spool-format.ts).
 */
import fs from 'node:fs';
import { promisify } from 'node:util';
import type { Counters } from '../core/counters.js';
import {
  MAX_PAYLOAD,
  MAX_BODY,
  RECORD_OVERHEAD,
  packetRecordSize,
  writeFileHeader,
  writePacketRecord,
  writeStreamRecord,
  type SpoolStreamInfo,
} from './spool-format.js';
import { newMetaFile, writeMeta, writeMetaSync, type SpoolCallMeta } from './spool-meta.js';

const closeAsync = promisify(fs.close);

export interface ResolvedSpoolOptions {
  flushIntervalMs: number;
  fsyncIntervalMs: number;
  maxBufferBytes: number;
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
  released(spool: CallSpool): void;
}

const INITIAL_BUFFER = 8 * 1024;

type WriterState = 'open' | 'closing' | 'closed';

export class CallSpool {
  readonly dir: string;
  private readonly host: SpoolHost;
  private readonly fd: number;
  private buf: Buffer;
  private used: number;
  /** Records (and of them packets) in the buffer. */
  private bufferedRecords = 0;
  private bufferedPackets = 0;
  /** Where the next batch goes (positional writes, so a failed batch can be cut off cleanly). */
  private filePos = 0;
  private headerPending = true;
  private streamCount = 0;
  /** Latest STREAM record body per stream, to write again if the batch holding it fails. */
  private readonly streamJson: Buffer[] = [];
  /** Streams whose latest STREAM record is still in the buffer. */
  private readonly streamsBuffered = new Set<number>();
  private meta: SpoolCallMeta;
  private lost = 0;
  private state: WriterState = 'open';
  private lastFlushAt: number;
  private lastFsyncAt: number;
  private dirty = false;
  private syncing: Promise<void> | null = null;
  private dirsSynced = false;
  private closing: Promise<void> | null = null;

  /** Use SpoolDirectory.open. */
  constructor(host: SpoolHost, dir: string, fd: number, meta: SpoolCallMeta) {
    this.host = host;
    this.dir = dir;
    this.fd = fd;
    this.meta = meta;
    this.buf = Buffer.allocUnsafe(Math.min(INITIAL_BUFFER, host.options.maxBufferBytes));
    // The file header rides in the first batch, so opening a call costs no write to this file.
    this.used = writeFileHeader(this.buf, 0);
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
    this.reserve(RECORD_OVERHEAD + 2 + json.length);
    this.used = writeStreamRecord(this.buf, this.used, index, json);
    this.bufferedRecords++;
    this.streamsBuffered.add(index);
  }

  /**
   * Appends one RTP packet's payload. Hot path: no allocation once the buffer has grown, no
   * I/O unless the buffer is full. Never throws on data; problems are counted.
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
    this.reserve(packetRecordSize(len));
    this.used = writePacketRecord(this.buf, this.used, stream, seq, ts, marker, pt, captureSec, captureNsec, payload, off, len);
    this.bufferedRecords++;
    // Counted into spool.packets per flush, not per packet: a Map update per packet showed in profiles.
    this.bufferedPackets++;
    if (this.used >= this.host.options.maxBufferBytes) this.flush();
  }

  /** Makes room for `need` more bytes: grow up to the cap, else flush first. */
  private reserve(need: number): void {
    if (this.used + need <= this.buf.length) return;
    const cap = this.host.options.maxBufferBytes;
    if (this.buf.length < cap) {
      const size = Math.min(cap, Math.max(this.buf.length * 2, this.used + need));
      if (this.used + need <= size) {
        this.grow(size);
        return;
      }
    }
    this.flush();
    // A record larger than the cap (a jumbo payload) gets a one-off larger buffer.
    if (this.used + need > this.buf.length) this.grow(this.used + need);
  }

  private grow(size: number): void {
    const b = Buffer.allocUnsafe(size);
    this.buf.copy(b, 0, 0, this.used);
    this.buf = b;
  }

  /** True when records wait in memory. */
  get buffered(): boolean {
    return this.bufferedRecords > 0;
  }

  /**
   * Writes the buffered records with one positional write (more only if the kernel writes
   * short). On a write error the batch is cut off the file again and its packets are counted
   * lost: memory stays bounded when the disk is full. Stream infos in the failed batch are
   * queued again, since the packets that follow are useless without them.
   */
  flush(): void {
    if (this.bufferedRecords === 0 || this.state === 'closed') return;
    const c = this.host.counters;
    const start = this.filePos;
    let done = 0;
    let failed = false;
    try {
      while (done < this.used) {
        const n = fs.writeSync(this.fd, this.buf, done, this.used - done, start + done);
        c.inc('spool.writes');
        done += n;
      }
      this.filePos = start + done;
      this.headerPending = false;
      this.dirty = true;
      c.inc('spool.bytes', done);
      c.inc('spool.flushes');
      if (this.bufferedPackets) c.inc('spool.packets', this.bufferedPackets);
    } catch {
      failed = true;
      c.inc('spool.write_error');
      c.inc('spool.lost_records', this.bufferedPackets);
      this.lost += this.bufferedPackets;
      try {
        fs.ftruncateSync(this.fd, start);
      } catch {
        c.inc('spool.truncate_error');
      }
    }
    this.lastFlushAt = this.host.now();
    this.bufferedRecords = 0;
    this.bufferedPackets = 0;
    this.used = this.headerPending ? writeFileHeader(this.buf, 0) : 0;
    const cap = this.host.options.maxBufferBytes;
    if (this.buf.length > cap) this.buf = Buffer.allocUnsafe(cap);
    const requeue = failed ? [...this.streamsBuffered] : [];
    this.streamsBuffered.clear();
    for (const k of requeue) this.bufferStream(k);
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
