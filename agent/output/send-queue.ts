/**
 * A destination's backlog: encoded HEP packets waiting for the connection, in order, bounded. Memory
 * first; when the memory budget is spent and a spill directory is configured, new packets go to a
 * file until the file has been read back, so order is kept. When both are full the newest packet is
 * dropped and counted (`overflow`): never a crash or unbounded growth.
 *
 * The memory budget is shared with the destination's unacknowledged packets (see tcp-destination.ts),
 * so `charge()`/`release()` let the owner account for bytes it holds outside the queue.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface QueuedPacket {
  seq: number;
  buf: Buffer;
}

export interface SendQueueLimits {
  memoryBytes: number;
  /** Spill directory; '' keeps everything in memory. */
  diskDir: string;
  diskBytes: number;
}

/** Records on disk: u32 sequence number, then the HEP packet (its own header gives its length). */
const REC_HEADER = 4;
const READ_CHUNK = 1 << 20;

class DiskSpill {
  private fd = -1;
  private writeOff = 0;
  private readOff = 0;
  private readonly chunk = Buffer.allocUnsafe(READ_CHUNK);
  private readonly head = Buffer.allocUnsafe(REC_HEADER);

  constructor(
    private readonly path: string,
    private readonly max: number,
  ) {}

  get pending(): number {
    return this.writeOff - this.readOff;
  }

  append(p: QueuedPacket): boolean {
    if (this.writeOff + REC_HEADER + p.buf.length > this.max) return false;
    if (this.fd < 0) {
      mkdirSync(join(this.path, '..'), { recursive: true });
      this.fd = openSync(this.path, 'w+');
    }
    this.head.writeUInt32BE(p.seq >>> 0, 0);
    writeSync(this.fd, this.head, 0, REC_HEADER, this.writeOff);
    writeSync(this.fd, p.buf, 0, p.buf.length, this.writeOff + REC_HEADER);
    this.writeOff += REC_HEADER + p.buf.length;
    return true;
  }

  /** Reads back up to about `budget` bytes of whole records, oldest first. */
  read(budget: number, out: QueuedPacket[]): number {
    if (this.fd < 0 || this.pending === 0) return 0;
    const n = readSync(this.fd, this.chunk, 0, Math.min(READ_CHUNK, this.pending), this.readOff);
    let p = 0;
    let taken = 0;
    while (p + REC_HEADER + 6 <= n && taken < budget) {
      const len = this.chunk.readUInt16BE(p + REC_HEADER + 4);
      if (len < 6 || p + REC_HEADER + len > n) break;
      out.push({ seq: this.chunk.readUInt32BE(p), buf: Buffer.from(this.chunk.subarray(p + REC_HEADER, p + REC_HEADER + len)) });
      p += REC_HEADER + len;
      taken += len;
    }
    this.readOff += p;
    if (this.readOff === this.writeOff) {
      // Drained: start the file over so it never grows past what is pending.
      ftruncateSync(this.fd, 0);
      this.readOff = this.writeOff = 0;
    }
    return taken;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

export class SendQueue {
  private items: QueuedPacket[] = [];
  private head = 0;
  /** Bytes held in memory: queued here plus what the owner charged (unacknowledged packets). */
  memBytes = 0;
  overflow = 0;
  spilled = 0;
  private readonly disk: DiskSpill | null;

  constructor(
    private readonly limits: SendQueueLimits,
    name: string,
  ) {
    this.disk = limits.diskDir ? new DiskSpill(join(limits.diskDir, `${name.replace(/[^\w.-]+/g, '_')}.spool`), limits.diskBytes) : null;
  }

  get length(): number {
    return this.items.length - this.head + (this.disk && this.disk.pending > 0 ? 1 : 0);
  }

  get empty(): boolean {
    return this.items.length === this.head && (this.disk === null || this.disk.pending === 0);
  }

  get diskBytes(): number {
    return this.disk?.pending ?? 0;
  }

  /** Queues a packet; false when it had to be dropped (counted in `overflow`). */
  push(p: QueuedPacket): boolean {
    const spilling = this.disk !== null && this.disk.pending > 0;
    if (!spilling && this.memBytes + p.buf.length <= this.limits.memoryBytes) {
      this.items.push(p);
      this.memBytes += p.buf.length;
      return true;
    }
    if (this.disk?.append(p)) {
      this.spilled++;
      return true;
    }
    this.overflow++;
    return false;
  }

  /** Oldest packet (removed), or undefined. */
  shift(): QueuedPacket | undefined {
    if (this.head === this.items.length) {
      this.compact();
      if (!this.disk || this.disk.pending === 0) return undefined;
      const room = Math.max(64 * 1024, this.limits.memoryBytes - this.memBytes);
      this.memBytes += this.disk.read(room, this.items);
      if (this.head === this.items.length) return undefined;
    }
    const p = this.items[this.head]!;
    this.items[this.head++] = undefined as unknown as QueuedPacket;
    this.memBytes -= p.buf.length;
    if (this.head > 4096 && this.head * 2 > this.items.length) this.compact();
    return p;
  }

  /** Puts packets back at the front, in their order (unacknowledged ones after a reconnect). */
  unshiftAll(ps: readonly QueuedPacket[]): void {
    if (ps.length === 0) return;
    this.compact();
    this.items = [...ps, ...this.items];
    for (const p of ps) this.memBytes += p.buf.length;
  }

  charge(bytes: number): void {
    this.memBytes += bytes;
  }

  release(bytes: number): void {
    this.memBytes -= bytes;
  }

  close(): void {
    this.disk?.close();
  }

  private compact(): void {
    if (this.head === 0) return;
    this.items = this.items.slice(this.head);
    this.head = 0;
  }
}
