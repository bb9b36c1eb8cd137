/**
 * The SRS's media ports: pairs of an even RTP port and the odd RTCP port above it (RFC 3550
 * §11: "RTP SHOULD use an even destination port number and the corresponding RTCP stream SHOULD
 * use the next higher (odd) destination port number"), taken from a configured range.
 *
 * Freed pairs go to the back of the queue, so a port is reused as late as possible: RTP still in
 * flight for an ended session (and the call registry's 10 s linger for trailing packets) must not
 * land in the next session that gets the same port. A pair that fails to bind (another process
 * holds it) is set aside and counted rather than handed out again and again.
 */
export interface PortRange {
  start: number;
  end: number;
}

/** `10000-20000` → a range; an error text when it is not one. */
export function parsePortRange(text: string): PortRange | string {
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  if (!m) return 'expected START-END, e.g. 10000-20000';
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start < 1024 || end > 65535) return 'ports must lie within 1024-65535';
  if (end <= start) return 'END must be above START';
  const evenStart = start + (start % 2);
  if (end - evenStart < 1) return 'the range holds no even/odd port pair';
  return { start, end };
}

export class PortPool {
  private readonly free: number[] = [];
  private head = 0;
  private readonly used = new Set<number>();
  private readonly broken = new Set<number>();
  readonly capacity: number;

  constructor(range: PortRange) {
    for (let p = range.start + (range.start % 2); p + 1 <= range.end; p += 2) this.free.push(p);
    this.capacity = this.free.length;
  }

  /** Pairs handed out and not yet released. */
  get inUse(): number {
    return this.used.size;
  }

  get available(): number {
    return this.free.length - this.head;
  }

  /** Pairs set aside because they could not be bound. */
  get unusable(): number {
    return this.broken.size;
  }

  /** An even RTP port (RTCP is port + 1), or -1 when the pool is exhausted. */
  allocate(): number {
    if (this.head >= this.free.length) return -1;
    const p = this.free[this.head++]!;
    // Compact now and then so the queue does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.free.length) {
      this.free.splice(0, this.head);
      this.head = 0;
    }
    this.used.add(p);
    return p;
  }

  /** `count` pairs at once, or null (none taken) when fewer are free. */
  allocateMany(count: number): number[] | null {
    if (this.available < count) return null;
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(this.allocate());
    return out;
  }

  release(port: number): void {
    if (!this.used.delete(port)) return;
    this.free.push(port);
  }

  /** A handed-out pair could not be bound: keep it out of circulation. */
  discard(port: number): void {
    if (this.used.delete(port)) this.broken.add(port);
  }
}
