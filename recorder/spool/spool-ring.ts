/**
 * The single-producer, single-consumer ring that carries every spool record from the capture
 * thread to the SpoolWriter's thread: one SharedArrayBuffer of messages and a small control
 * array of indices. The capture thread writes a message in place (a PACKET record is encoded
 * straight into shared memory: the payload is copied once) and publishes it with one
 * Atomics.store of the write index; the writer reads, demultiplexes per call and publishes how
 * far it got. No postMessage per packet, no allocation, no lock.
 *
 * Message (8-byte aligned, never straddling the end of the ring: a PAD message fills the rest
 * of the ring when the next one does not fit):
 *
 * +---------------+-----------------------------------------------+
 * |     kind      |          body length (24 bits, LE)            |
 * +---------------+-----------------------------------------------+
 * |          spool id (or directory id for TICK), u32 LE          |
 * +---------------------------------------------------------------+
 * :                     body (body length bytes)                  :
 * +---------------------------------------------------------------+
 *
 * Indices count bytes modulo 2^32 (the ring size is a power of two that divides 2^32), so
 * `(write - read) >>> 0` is the number of bytes in use.
 */

export const MsgKind = {
  /** Filler up to the end of the ring. */
  Pad: 0,
  /** Body: one spool record as on disk (PACKET or STREAM), CRC not yet filled. */
  Record: 1,
  /** Body: f64 wall-clock ms, then the UTF-8 JSON of a SpoolOpenRequest. */
  Open: 2,
  /** Body: u32 records lost on the capture side, then the call's SpoolCallMeta as JSON. */
  Meta: 3,
  /** Write the call's batch now. */
  Flush: 4,
  /** Body: u32 records lost on the capture side, then the final SpoolCallMeta as JSON (or nothing). */
  Close: 5,
  /** id = directory; body: f64 wall-clock ms. Drives flush-by-age and fsync for that directory's calls. */
  Tick: 6,
  /** Body: u32 ticket; answered once everything before it is processed (whenWritten). */
  Ticket: 7,
} as const;
export type MsgKind = (typeof MsgKind)[keyof typeof MsgKind];

export const MSG_HEAD = 8;
/** Largest body a message can have (24-bit length). */
export const MAX_MSG_BODY = 0xffffff;

const C_WRITE = 0;
const C_READ = 1;
/** Bumped (and notified) when the producer wants the consumer awake at once. */
export const C_BELL = 2;
const CTRL_INTS = 4;

/** Committed bytes are published (made visible to the consumer) at least this often. */
const PUBLISH_BYTES = 64 * 1024;

export const msgSize = (body: number): number => (MSG_HEAD + body + 7) & ~7;

/** The shared memory of one ring (what the writer thread is handed). */
export interface RingMemory {
  data: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
}

export function newRingMemory(bytes: number): RingMemory {
  if (bytes < 1 << 16 || bytes > 1 << 30 || (bytes & (bytes - 1)) !== 0) throw new RangeError(`ring size ${bytes}: a power of two from 64 KiB to 1 GiB`);
  const data = new SharedArrayBuffer(bytes);
  // Touch every page now: the ring is resident from the start (a stable RSS, no page faults on
  // the capture path the first time round).
  new Uint8Array(data).fill(0);
  return { data, ctrl: new SharedArrayBuffer(CTRL_INTS * 4) };
}

/** The capture thread's side. */
export class RingProducer {
  /** The ring's bytes; `begin` returns where to encode the body. */
  readonly buf: Buffer;
  /** The same bytes as a DataView (offsets as in `buf`), for encoders that store through one. */
  readonly view: DataView;
  readonly size: number;
  private readonly ctrl: Int32Array;
  private readonly mask: number;
  private w: number;
  /** Last read index seen (refreshed only when the ring looks full: one shared load less per message). */
  private read: number;
  private pending = 0;
  private sinceBell = 0;
  /** Bytes committed but not yet visible to the consumer. */
  private unpublished = 0;
  private publishScheduled = false;
  private readonly publishLater = (): void => {
    this.publishScheduled = false;
    this.publish();
  };

  constructor(mem: RingMemory) {
    this.buf = Buffer.from(mem.data);
    this.view = new DataView(mem.data);
    this.size = mem.data.byteLength;
    this.mask = this.size - 1;
    this.ctrl = new Int32Array(mem.ctrl);
    this.w = Atomics.load(this.ctrl, C_WRITE) >>> 0;
    this.read = Atomics.load(this.ctrl, C_READ) >>> 0;
  }

  /** Where the next message goes (the native fast path writes PACKET messages there itself, then calls `written`). */
  get writeIndex(): number {
    return this.w;
  }

  /** The consumer's read index as last seen here. */
  get readSeen(): number {
    return this.read;
  }

  /** The control indices, for the native fast path's check of free space. */
  get ctrlArray(): Int32Array {
    return this.ctrl;
  }

  /**
   * Messages were written from the write index up to `w` (native/fastpath/rtp_fast_path.c, which
   * reserves as `begin` does and saw read index `read`): committed as `commit` would.
   */
  written(w: number, read: number): void {
    const bytes = (w - this.w) >>> 0;
    this.read = read >>> 0;
    if (bytes === 0) return;
    this.pending = bytes;
    this.commit();
  }

  /** The consumer's read index (how far it got). */
  get consumed(): number {
    return Atomics.load(this.ctrl, C_READ) >>> 0;
  }

  /** Bytes in the ring not consumed yet. */
  get used(): number {
    return (this.w - (Atomics.load(this.ctrl, C_READ) >>> 0)) >>> 0;
  }

  /**
   * Reserves a message of `body` bytes, leaving `headroom` bytes free after it (packets leave
   * room for control messages). Returns the offset of the body in `buf`, or -1 when the ring is
   * full. The message is invisible to the consumer until `commit`.
   */
  begin(kind: MsgKind, id: number, body: number, headroom: number): number {
    const total = msgSize(body);
    let pos = this.w & this.mask;
    const pad = pos + total > this.size ? this.size - pos : 0;
    const need = pad + total + headroom;
    if (((this.w - this.read) >>> 0) + need > this.size) {
      this.read = Atomics.load(this.ctrl, C_READ) >>> 0;
      if (((this.w - this.read) >>> 0) + need > this.size) return -1;
    }
    if (pad > 0) {
      // pad ≥ 8: positions and sizes are multiples of 8.
      this.head(pos, MsgKind.Pad, 0, pad - MSG_HEAD);
      this.w = (this.w + pad) >>> 0;
      pos = 0;
    }
    this.head(pos, kind, id, body);
    this.pending = total;
    return pos + MSG_HEAD;
  }

  private head(pos: number, kind: number, id: number, body: number): void {
    const b = this.buf;
    b[pos] = kind;
    b[pos + 1] = body & 0xff;
    b[pos + 2] = (body >>> 8) & 0xff;
    b[pos + 3] = body >>> 16;
    b[pos + 4] = id & 0xff;
    b[pos + 5] = (id >>> 8) & 0xff;
    b[pos + 6] = (id >>> 16) & 0xff;
    b[pos + 7] = id >>> 24;
  }

  /**
   * Commits the message reserved by `begin`. It becomes visible to the consumer at the next
   * publish: every PUBLISH_BYTES, at a control message, or after the current event-loop turn.
   * Why not per message: Atomics.store is a full fence (xchg on x86), which made every packet
   * wait for the cache misses of its own record's stores: measured 3× slower onMedia.
   */
  commit(): void {
    this.w = (this.w + this.pending) >>> 0;
    this.unpublished += this.pending;
    this.pending = 0;
    if (this.unpublished >= PUBLISH_BYTES) this.publish();
    else if (!this.publishScheduled) {
      this.publishScheduled = true;
      setImmediate(this.publishLater);
    }
  }

  /** Makes every committed message visible to the consumer. */
  publish(): void {
    if (this.unpublished === 0) return;
    this.sinceBell += this.unpublished;
    this.unpublished = 0;
    Atomics.store(this.ctrl, C_WRITE, this.w | 0);
    // A consumer asleep between polls is woken when an eighth of the ring is waiting.
    if (this.sinceBell >= this.size >>> 3) this.bell();
  }

  /**
   * Blocks this thread until the consumer frees space or `ms` pass (replay only: a live capture
   * must never wait). Returns whether the consumer made progress.
   */
  waitForConsumer(ms: number): boolean {
    this.bell();
    const r = Atomics.load(this.ctrl, C_READ);
    if ((r >>> 0) === this.read) Atomics.wait(this.ctrl, C_READ, r, ms);
    const now = Atomics.load(this.ctrl, C_READ) >>> 0;
    const moved = now !== this.read;
    this.read = now;
    return moved;
  }

  /** Publishes and wakes the consumer now (control messages: someone may be waiting for the answer). */
  bell(): void {
    this.publish();
    this.sinceBell = 0;
    Atomics.add(this.ctrl, C_BELL, 1);
    Atomics.notify(this.ctrl, C_BELL);
  }
}

/** Called per message by RingConsumer.drain: the body is `buf[at, at + len)`, valid during the call. */
export type RingHandler = (kind: number, id: number, buf: Buffer, at: number, len: number) => void;

/**
 * Takes over a run of messages from ring index `r` (before `w`); returns the index where it
 * stopped, `r` itself when the message there is the handler's. At most about 1 MiB per call.
 */
export type RingFastPath = (r: number, w: number) => number;

/** The writer thread's side. */
export class RingConsumer {
  readonly buf: Buffer;
  readonly ctrl: Int32Array;
  private readonly mask: number;
  private r: number;

  constructor(mem: RingMemory) {
    this.buf = Buffer.from(mem.data);
    this.mask = mem.data.byteLength - 1;
    this.ctrl = new Int32Array(mem.ctrl);
    this.r = Atomics.load(this.ctrl, C_READ) >>> 0;
  }

  get available(): boolean {
    return (Atomics.load(this.ctrl, C_WRITE) >>> 0) !== this.r;
  }

  /** Hands every published message to `fast`, then to `h` what `fast` left, in order; returns the bytes consumed. */
  drain(h: RingHandler, fast?: RingFastPath): number {
    const b = this.buf;
    const start = this.r;
    let r = this.r;
    let released = r;
    const w = Atomics.load(this.ctrl, C_WRITE) >>> 0;
    while (r !== w) {
      const to = fast === undefined ? r : fast(r, w);
      if (to === r) {
        const pos = r & this.mask;
      const kind = b[pos]!;
      const len = b[pos + 1]! | (b[pos + 2]! << 8) | (b[pos + 3]! << 16);
      const id = (b[pos + 4]! | (b[pos + 5]! << 8) | (b[pos + 6]! << 16) | (b[pos + 7]! << 24)) >>> 0;
        if (kind !== MsgKind.Pad) h(kind, id, b, pos + MSG_HEAD, len);
        r = (r + msgSize(len)) >>> 0;
      } else r = to;
      // Give space back every 1 MiB, not only at the end of a long drain.
      if (((r - released) >>> 0) >= 1 << 20) {
        this.r = r;
        this.release(r);
        released = r;
      }
    }
    this.r = r;
    this.release(r);
    return (r - start) >>> 0;
  }

  /** Gives space back; a producer waiting for it (waitForConsumer) wakes. */
  private release(r: number): void {
    Atomics.store(this.ctrl, C_READ, r | 0);
    Atomics.notify(this.ctrl, C_READ);
  }
}
