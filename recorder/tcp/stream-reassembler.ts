import { formatIpv4, formatIpv6 } from '../core/address.js';
import type { Counters } from '../core/counters.js';
import { EMPTY, IpProto, type Packet, TcpFlag } from '../core/packet.js';
import { seqAdd, seqDiff } from '../core/serial.js';

/**
 * TCP stream reassembly (RFC 9293) for a passive observer: turns captured segments of each
 * connection into two ordered byte streams for the signaling framers (SIP, SCCP).
 *
 * A tracker (STYLE.md): it runs on capture time (`p.time`, `now`) and expires state only in
 * sweep(now). Every table is capped and every loss is counted and reported to the consumer.
 *
 * Direction 0 is client → server. The client is the sender of a SYN without ACK, or the
 * receiver of a SYN-ACK. For a connection picked up mid-stream the endpoint with the higher
 * port is taken as the client (servers listen on low, well-known ports such as 5060 and 2000
 * and clients use ephemeral ones, RFC 6335 §6); on equal ports, the sender of the first
 * segment seen.
 *
 * Where a direction's stream starts: after its SYN (ISN + 1, RFC 9293 §3.4); else at the
 * acknowledgment number of the first ACK the peer sends (the peer holds everything before it,
 * so the capture cannot have anything earlier that matters); else at the first segment seen.
 *
 * Overlaps: the first bytes received for a sequence range win, for delivered and buffered
 * data alike (delivered bytes cannot be taken back, so this is the only consistent rule;
 * Wireshark's reassembly also keeps the first copy). Only new bytes are delivered.
 *
 * Holes: out-of-order data waits in a per-direction list until the hole fills. A hole is
 * given up (onGap with the missing byte count, then delivery resumes at the next buffered
 * byte) when the direction's buffer passes maxBufferedPerDirection, when all buffers pass
 * maxBufferedTotal (oldest hole first), when it is older than gapTimeoutSec, or when the
 * connection closes. A FIN alone does not give up a hole, because the retransmission that
 * fills it may still come; once both sides have sent FIN it does.
 *
 * Zero-copy: bytes that arrive in order are delivered straight from the packet buffer, valid
 * only during the onData call. Only out-of-order bytes are copied.
 *
 * The consumer must not call back into the reassembler from its callbacks.
 */

/** 0 = client → server, 1 = server → client. */
export type TcpDir = 0 | 1;

export type TcpCloseReason =
  /** Both sides sent FIN (holes left before a FIN were reported as gaps). */
  | 'fin'
  | 'rst'
  /** No segment for idleTimeoutSec. */
  | 'timeout'
  /** Pushed out by maxConnections (least recently seen first). */
  | 'evicted'
  /** A new SYN on the same address/port pair started another connection (RFC 9293 §3.6.1). */
  | 'reused'
  /** flush(): end of the capture. */
  | 'end';

export interface TcpConnection {
  /** Unique per reassembler, increasing in order of creation. */
  readonly id: number;
  readonly clientAddr: string;
  readonly clientPort: number;
  readonly serverAddr: string;
  readonly serverPort: number;
  readonly firstSeen: number;
  lastSeen: number;
  /** True when the connection was picked up without seeing its SYN or SYN-ACK. */
  midStream: boolean;
  /** Slot for the consumer's per-connection state (framer). */
  user: unknown;
}

export interface TcpStreamConsumer {
  onOpen?(c: TcpConnection, now: number): void;
  /**
   * Ordered bytes buf[off, off + len) of one direction. `buf` may be the packet buffer: copy
   * what must outlive the call. `now` is the capture time at which the bytes became
   * deliverable: the packet that carried or completed them, or, after a gap was given up,
   * the capture time of the buffered segment itself.
   */
  onData(c: TcpConnection, dir: TcpDir, buf: Buffer, off: number, len: number, now: number): void;
  /** `missing` bytes of `dir` will never be delivered; the next onData resumes after them. */
  onGap?(c: TcpConnection, dir: TcpDir, missing: number, now: number): void;
  onClose?(c: TcpConnection, reason: TcpCloseReason, now: number): void;
}

export interface TcpLimits {
  /** Connections tracked at once, closed ones still lingering included. */
  maxConnections: number;
  /** Out-of-order bytes buffered per direction before the first hole is given up. */
  maxBufferedPerDirection: number;
  /** Out-of-order bytes buffered over all connections. */
  maxBufferedTotal: number;
  /** Seconds without a segment before an open connection is closed ('timeout'). */
  idleTimeoutSec: number;
  /** Seconds a closed (FIN/RST) connection is remembered, so late segments do not reopen it. */
  closedLingerSec: number;
  /** Seconds a hole may wait for its retransmission before it is reported as a gap. */
  gapTimeoutSec: number;
}

export const DEFAULT_TCP_LIMITS: Readonly<TcpLimits> = {
  maxConnections: 65536,
  maxBufferedPerDirection: 1024 * 1024,
  maxBufferedTotal: 64 * 1024 * 1024,
  // SIP over TCP and SCCP keep connections open for hours with sparse keep-alives.
  idleTimeoutSec: 600,
  closedLingerSec: 30,
  gapTimeoutSec: 5,
};

/** Estimated heap cost of one buffered segment beyond its bytes, charged against the caps. */
export const TCP_SEGMENT_OVERHEAD = 96;

/** Out-of-order bytes [seq, seq + data.length), copied; `time` = capture time. */
interface Segment {
  seq: number;
  data: Buffer;
  time: number;
  /** Bytes charged against the caps, released when the segment goes. */
  cost: number;
}

class HalfStream {
  /** `next` is known. */
  init = false;
  isnSeen = false;
  isn = 0;
  /** Sequence number of the next byte to deliver (uint32). */
  next = 0;
  /** Buffered out-of-order data beyond `next`: sorted, never overlapping. */
  readonly pending: Segment[] = [];
  /** Bytes charged for `pending`. */
  pendingBytes = 0;
  finSeen = false;
  /** Sequence number the FIN occupies (= end of data). */
  finSeq = 0;
  /** Every byte up to the FIN was delivered or reported missing. */
  done = false;
  delivered = 0;
  /** Membership in the reassembler's list of directions with a hole. */
  inHoles = false;
  holeSince = 0;
  holePrev: HalfStream | null = null;
  holeNext: HalfStream | null = null;

  constructor(
    readonly conn: Conn,
    readonly dir: TcpDir,
  ) {}

  /** A hole exists: data waits beyond one, or the FIN was seen but not reached. */
  get hasHole(): boolean {
    return this.pending.length > 0 || (this.finSeen && !this.done);
  }
}

class Conn implements TcpConnection {
  midStream: boolean;
  user: unknown = undefined;
  lastSeen: number;
  closed = false;
  closedAt = 0;
  readonly halves: readonly [HalfStream, HalfStream];
  lruPrev: Conn | null = null;
  lruNext: Conn | null = null;

  constructor(
    readonly id: number,
    readonly clientAddr: string,
    readonly clientPort: number,
    readonly serverAddr: string,
    readonly serverPort: number,
    readonly firstSeen: number,
    midStream: boolean,
    /** Table key: IPv4 endpoints as numbers (lo < hi), or the IPv6 string key. */
    readonly v6Key: string | null,
    readonly lo: number,
    readonly hi: number,
    /** The client is the lower endpoint of the key. */
    readonly clientIsLo: boolean,
  ) {
    this.midStream = midStream;
    this.lastSeen = firstSeen;
    this.halves = [new HalfStream(this, 0), new HalfStream(this, 1)];
  }
}

/** locate() result: which endpoint of the key sent the packet. */
const SRC_LO = 1;
const SRC_HI = 0;
const SAME = -1;
const BAD_ADDR = -2;

export class TcpReassembler {
  private readonly limits: TcpLimits;
  /** IPv4: lower endpoint (ip * 65536 + port) → higher endpoint → connection; no allocation per lookup. */
  private readonly v4 = new Map<number, Map<number, Conn>>();
  /** IPv6: a 36-character key built from the two endpoints (STYLE.md allows strings off the RTP path). */
  private readonly v6 = new Map<string, Conn>();
  private count = 0;
  private nextId = 1;
  private total = 0;
  /** Least recently seen first. */
  private lruHead: Conn | null = null;
  private lruTail: Conn | null = null;
  /** Directions with a hole, oldest first (roughly: a hole keeps its place when it moves). */
  private holeHead: HalfStream | null = null;
  private holeTail: HalfStream | null = null;
  /** Key parts found by locate() for the packet being added. */
  private kLo = 0;
  private kHi = 0;
  private kStr = '';

  constructor(
    private readonly consumer: TcpStreamConsumer,
    private readonly counters: Counters,
    limits?: Partial<TcpLimits>,
  ) {
    this.limits = { ...DEFAULT_TCP_LIMITS, ...limits };
  }

  /** Connections in the table, closed ones still lingering included. */
  get size(): number {
    return this.count;
  }

  /** Bytes charged for buffered out-of-order data over all connections. */
  get bufferedBytes(): number {
    return this.total;
  }

  add(p: Packet): void {
    if (p.ipProto !== IpProto.Tcp || (p.ipVersion !== 4 && p.ipVersion !== 6)) {
      this.counters.inc('tcp.not_tcp');
      return;
    }
    const buf = p.payload;
    const off = p.payloadOff;
    const len = p.payloadLen;
    // Written so that NaN fails too: the decoders should never hand us this, but no throws.
    if (!(off >= 0 && len >= 0 && off + len <= buf.length)) {
      this.counters.inc('tcp.malformed');
      return;
    }
    const side = this.locate(p);
    if (side < 0) {
      this.counters.inc(side === SAME ? 'tcp.same_endpoints' : 'tcp.malformed');
      return;
    }
    const now = p.time;
    const flags = p.tcpFlags;
    const syn = (flags & TcpFlag.Syn) !== 0;
    const ack = (flags & TcpFlag.Ack) !== 0;
    const rst = (flags & TcpFlag.Rst) !== 0;
    const fin = (flags & TcpFlag.Fin) !== 0;
    const seq = p.tcpSeq >>> 0;

    let c = p.ipVersion === 4 ? this.v4.get(this.kLo)?.get(this.kHi) : this.v6.get(this.kStr);
    if (c !== undefined) {
      if (c.closed) {
        if (syn && !ack) {
          // A new connection on the 4-tuple of a closed one (TIME-WAIT reuse, RFC 9293 §3.6.1).
          this.counters.inc('tcp.port_reuse');
          this.remove(c);
          c = undefined;
        } else {
          // Final ACKs and retransmitted FINs are expected; count only late data.
          if (len > 0) this.counters.inc('tcp.after_close');
          return;
        }
      } else if (syn && !ack) {
        const h = c.halves[(side === SRC_LO) === c.clientIsLo ? 0 : 1];
        // A SYN (without ACK: a SYN-ACK retransmitted late must not end a live connection)
        // that contradicts the start we follow means the 4-tuple was reused after a
        // close we did not see. A SYN that matches (retransmitted, or captured late after
        // the peer's ACK told us its ISN) is part of this connection.
        const reused = h.isnSeen ? h.isn !== seq : h.init && h.next !== seqAdd(seq, 1);
        if (reused) {
          this.counters.inc('tcp.port_reuse');
          this.close(c, 'reused', now);
          c = undefined;
        }
      }
    }
    if (c === undefined) {
      if (rst) {
        this.counters.inc('tcp.rst_unknown');
        return;
      }
      c = this.open(p, side === SRC_LO, syn, ack, now);
      if (c === undefined) return;
    } else {
      this.touch(c, now);
    }

    const dir: TcpDir = (side === SRC_LO) === c.clientIsLo ? 0 : 1;
    const h = c.halves[dir];
    if (rst) {
      // RFC 9293 §3.10.7: a reset aborts both directions at once.
      this.close(c, 'rst', now);
      return;
    }
    let start = seq;
    if (syn) {
      // The SYN occupies one sequence number; data (TCP Fast Open, RFC 7413) follows it.
      start = seqAdd(seq, 1);
      if (!h.isnSeen && (!h.init || h.next === start)) {
        h.isnSeen = true;
        h.isn = seq;
        h.init = true;
        h.next = start;
      }
    }
    if (!h.init) {
      h.init = true;
      h.next = start;
    }
    const peer = c.halves[dir === 0 ? 1 : 0];
    if (ack && !peer.init) {
      peer.init = true;
      peer.next = p.tcpAck >>> 0;
    }
    if (len > 0) this.data(c, h, start, buf, off, len, now);
    if (fin && !c.closed) this.fin(h, seqAdd(start, len), now);
    if (!c.closed) this.settle(c, now);
  }

  /** Give up holes that waited too long, close idle connections, forget closed ones. */
  sweep(now: number): void {
    const gapLimit = this.limits.gapTimeoutSec;
    if (this.holeHead !== null) {
      const holes: HalfStream[] = [];
      for (let h: HalfStream | null = this.holeHead; h !== null; h = h.holeNext) holes.push(h);
      for (const h of holes) {
        if (!h.inHoles || h.conn.closed || now - h.holeSince < gapLimit) continue;
        this.counters.inc('tcp.gap_timeout');
        // holeSince follows the oldest waiting data, so one sweep clears every stale hole.
        while (h.inHoles && now - h.holeSince >= gapLimit) this.gap(h, now);
        this.settle(h.conn, now);
      }
    }
    const idle = this.limits.idleTimeoutSec;
    const linger = this.limits.closedLingerSec;
    const soonest = idle < linger ? idle : linger;
    let c = this.lruHead;
    while (c !== null) {
      // The list is in last-seen order, and no deadline comes sooner than lastSeen + soonest.
      if (now - c.lastSeen < soonest) break;
      const after: Conn | null = c.lruNext;
      if (c.closed) {
        if (now - c.closedAt >= linger) this.remove(c);
      } else if (now - c.lastSeen >= idle) {
        this.close(c, 'timeout', now);
      }
      c = after;
    }
  }

  /** End of capture: deliver what can be, report the holes, close everything, empty the table. */
  flush(now: number): void {
    for (let c = this.lruHead; c !== null; c = this.lruHead) {
      if (c.closed) this.remove(c);
      else this.close(c, 'end', now);
    }
  }

  /**
   * Fill kLo/kHi (IPv4) or kStr (IPv6) with the direction-independent key and say which end
   * sent the packet.
   */
  private locate(p: Packet): number {
    if (p.ipVersion === 4) {
      // ip * 65536 + port < 2^48: exact in a double (STYLE.md hot path).
      const a = (p.src4 >>> 0) * 65536 + (p.srcPort & 0xffff);
      const b = (p.dst4 >>> 0) * 65536 + (p.dstPort & 0xffff);
      if (a === b) return SAME;
      if (a < b) {
        this.kLo = a;
        this.kHi = b;
        return SRC_LO;
      }
      this.kLo = b;
      this.kHi = a;
      return SRC_HI;
    }
    const ab = p.addrBuf;
    const so = p.srcOff;
    const dO = p.dstOff;
    if (!(so >= 0 && dO >= 0 && so + 16 <= ab.length && dO + 16 <= ab.length)) return BAD_ADDR;
    let cmp = 0;
    for (let i = 0; i < 16 && cmp === 0; i++) cmp = ab[so + i]! - ab[dO + i]!;
    if (cmp === 0) cmp = (p.srcPort & 0xffff) - (p.dstPort & 0xffff);
    if (cmp === 0) return SAME;
    const src = ab.toString('latin1', so, so + 16) + String.fromCharCode(p.srcPort & 0xffff);
    const dst = ab.toString('latin1', dO, dO + 16) + String.fromCharCode(p.dstPort & 0xffff);
    this.kStr = cmp < 0 ? src + dst : dst + src;
    return cmp < 0 ? SRC_LO : SRC_HI;
  }

  private open(p: Packet, srcIsLo: boolean, syn: boolean, ack: boolean, now: number): Conn | undefined {
    while (this.count >= this.limits.maxConnections && this.lruHead !== null) {
      const victim = this.lruHead;
      if (victim.closed) {
        this.counters.inc('tcp.evicted_closed');
        this.remove(victim);
      } else {
        this.counters.inc('tcp.evicted');
        this.close(victim, 'evicted', now);
      }
    }
    if (this.count >= this.limits.maxConnections) return undefined;
    const srcIsClient = syn ? !ack : p.srcPort >= p.dstPort;
    const srcAddr = p.ipVersion === 4 ? formatIpv4(p.src4 >>> 0) : formatIpv6(p.addrBuf, p.srcOff);
    const dstAddr = p.ipVersion === 4 ? formatIpv4(p.dst4 >>> 0) : formatIpv6(p.addrBuf, p.dstOff);
    const c = new Conn(
      this.nextId++,
      srcIsClient ? srcAddr : dstAddr,
      srcIsClient ? p.srcPort : p.dstPort,
      srcIsClient ? dstAddr : srcAddr,
      srcIsClient ? p.dstPort : p.srcPort,
      now,
      !syn,
      p.ipVersion === 6 ? this.kStr : null,
      this.kLo,
      this.kHi,
      srcIsClient === srcIsLo,
    );
    if (c.v6Key !== null) {
      this.v6.set(c.v6Key, c);
    } else {
      let inner = this.v4.get(c.lo);
      if (inner === undefined) {
        inner = new Map();
        this.v4.set(c.lo, inner);
      }
      inner.set(c.hi, c);
    }
    this.count++;
    this.lruAppend(c);
    this.counters.inc('tcp.open');
    if (!syn) this.counters.inc('tcp.mid_stream');
    this.consumer.onOpen?.(c, now);
    return c;
  }

  /** New payload bytes [start, start + len) of direction h. */
  private data(c: Conn, h: HalfStream, start: number, buf: Buffer, off: number, len: number, now: number): void {
    const rel = seqDiff(start, h.next);
    let end = rel + len;
    if (end <= 0) {
      this.counters.inc('tcp.retransmission');
      return;
    }
    if (h.finSeen) {
      // Nothing exists after the FIN (RFC 9293 §3.10.7.4).
      const limit = seqDiff(h.finSeq, h.next);
      if (end > limit) {
        this.counters.inc('tcp.after_fin');
        if (rel >= limit) return;
        end = limit;
      }
    }
    if (rel <= 0) {
      if (rel < 0) this.counters.inc('tcp.overlap');
      this.deliver(c, h, buf, off - rel, end, now, false);
      this.checkDone(h);
      this.updateHole(h, now);
    } else {
      this.store(c, h, rel, buf, off, end - rel, now);
    }
  }

  /**
   * Deliver bytes that start exactly at h.next (buf[off, off + len), possibly empty), merged
   * with the buffered segments they reach. Buffered bytes win over the packet's for the same
   * range (first received wins). With `pieceTimes`, buffered bytes carry their own capture time.
   */
  private deliver(c: Conn, h: HalfStream, buf: Buffer, off: number, len: number, now: number, pieceTimes: boolean): void {
    const pend = h.pending;
    const base = h.next;
    if (pend.length === 0) {
      if (len > 0) {
        h.next = seqAdd(base, len);
        this.emit(c, h, buf, off, len, now);
      }
      return;
    }
    let pos = 0;
    let i = 0;
    let freed = 0;
    let shadowed = false;
    for (;;) {
      const q = pend[i];
      if (q !== undefined) {
        const qs = seqDiff(q.seq, base);
        if (qs <= pos) {
          const qe = qs + q.data.length;
          i++;
          freed += q.cost;
          if (qe > pos) {
            if (pos < len) shadowed = true;
            const from = pos - qs;
            pos = qe;
            h.next = seqAdd(base, pos);
            this.emit(c, h, q.data, from, q.data.length - from, pieceTimes ? q.time : now);
          }
          continue;
        }
        if (pos < len) {
          const upto = qs < len ? qs : len;
          const from = pos;
          pos = upto;
          h.next = seqAdd(base, pos);
          this.emit(c, h, buf, off + from, upto - from, now);
          continue;
        }
        break;
      }
      if (pos < len) {
        const from = pos;
        pos = len;
        h.next = seqAdd(base, pos);
        this.emit(c, h, buf, off + from, len - from, now);
      }
      break;
    }
    if (shadowed) this.counters.inc('tcp.overlap');
    if (i > 0) {
      pend.splice(0, i);
      h.pendingBytes -= freed;
      this.total -= freed;
    }
  }

  private emit(c: Conn, h: HalfStream, buf: Buffer, off: number, len: number, now: number): void {
    h.delivered += len;
    this.consumer.onData(c, h.dir, buf, off, len, now);
  }

  /** Keep the parts of an out-of-order segment (rel > 0 from h.next) not buffered yet. */
  private store(c: Conn, h: HalfStream, rel: number, buf: Buffer, off: number, len: number, now: number): void {
    const pend = h.pending;
    const end = rel + len;
    let added = 0;
    let cost = 0;
    const last = pend[pend.length - 1];
    if (last === undefined || seqDiff(last.seq, h.next) + last.data.length <= rel) {
      // Usual case: the segment goes after everything buffered.
      const seg = this.copySegment(h, rel, buf, off, len, now);
      pend.push(seg);
      added = len;
      cost = seg.cost;
    } else {
      // First buffered segment that ends after rel.
      let lo = 0;
      let hi = pend.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const q = pend[mid]!;
        if (seqDiff(q.seq, h.next) + q.data.length <= rel) lo = mid + 1;
        else hi = mid;
      }
      let i = lo;
      let cursor = rel;
      while (cursor < end) {
        const q = pend[i];
        const qs = q === undefined ? end : seqDiff(q.seq, h.next);
        if (qs > cursor) {
          const upto = qs < end ? qs : end;
          const seg = this.copySegment(h, cursor, buf, off + (cursor - rel), upto - cursor, now);
          pend.splice(i, 0, seg);
          i++;
          added += upto - cursor;
          cost += seg.cost;
          cursor = upto;
          continue;
        }
        // q covers cursor: its bytes were first and stay.
        const qe = qs + q!.data.length;
        if (qe > cursor) cursor = qe;
        i++;
      }
    }
    if (added === 0) {
      this.counters.inc('tcp.retransmission');
      return;
    }
    if (added < len) this.counters.inc('tcp.overlap');
    this.counters.inc('tcp.out_of_order');
    h.pendingBytes += cost;
    this.total += cost;
    if (h.inHoles) {
      if (now < h.holeSince) h.holeSince = now;
    } else {
      this.updateHole(h, now);
    }

    if (h.pendingBytes > this.limits.maxBufferedPerDirection) {
      this.counters.inc('tcp.buffer_overflow');
      while (h.pending.length > 0 && h.pendingBytes > this.limits.maxBufferedPerDirection) this.gap(h, now);
    }
    while (this.total > this.limits.maxBufferedTotal && this.holeHead !== null) {
      // Give up the oldest hole anywhere: it is the least likely to be filled.
      const victim = this.holeHead;
      this.counters.inc('tcp.buffer_overflow');
      this.gap(victim, now);
      // The current connection is settled by add(); settle others here.
      if (victim.conn !== c) this.settle(victim.conn, now);
    }
  }

  private copySegment(h: HalfStream, rel: number, buf: Buffer, off: number, len: number, now: number): Segment {
    // allocUnsafeSlow: a pooled slice would pin a whole 8 KiB pool slab per small segment.
    const data = Buffer.allocUnsafeSlow(len);
    buf.copy(data, 0, off, off + len);
    return { seq: seqAdd(h.next, rel), data, time: now, cost: len + TCP_SEGMENT_OVERHEAD };
  }

  /** Record the FIN of direction h at sequence number finSeq. */
  private fin(h: HalfStream, finSeq: number, now: number): void {
    if (h.finSeen) {
      if (finSeq !== h.finSeq) this.counters.inc('tcp.fin_conflict');
      return;
    }
    if (seqDiff(finSeq, h.next) < 0) {
      // A FIN before bytes already delivered contradicts the stream; end it where we are.
      this.counters.inc('tcp.fin_conflict');
      finSeq = h.next;
    }
    h.finSeen = true;
    h.finSeq = finSeq;
    // Buffered bytes at or after the FIN cannot exist in a valid stream: drop them.
    const pend = h.pending;
    const limit = seqDiff(finSeq, h.next);
    let dropped = false;
    while (pend.length > 0) {
      const q = pend[pend.length - 1]!;
      const qs = seqDiff(q.seq, h.next);
      const qe = qs + q.data.length;
      if (qe <= limit) break;
      dropped = true;
      if (qs >= limit) {
        pend.pop();
        h.pendingBytes -= q.cost;
        this.total -= q.cost;
      } else {
        // The trimmed bytes stay allocated behind the view, so the charge stays whole.
        q.data = q.data.subarray(0, limit - qs);
        break;
      }
    }
    if (dropped) this.counters.inc('tcp.after_fin');
    this.checkDone(h);
    this.updateHole(h, now);
  }

  private checkDone(h: HalfStream): void {
    if (h.finSeen && !h.done && h.next === h.finSeq) h.done = true;
  }

  /** Close the connection once both sides sent FIN; close() reports any hole left. */
  private settle(c: Conn, now: number): void {
    if (!c.closed && c.halves[0].finSeen && c.halves[1].finSeen) this.close(c, 'fin', now);
  }

  /**
   * Give up the first hole of h: report the bytes missing up to the next buffered segment
   * (or up to the FIN) and deliver from there.
   */
  private gap(h: HalfStream, now: number): void {
    const c = h.conn;
    const q = h.pending[0];
    const target = q !== undefined ? q.seq : h.finSeen ? h.finSeq : h.next;
    const missing = seqDiff(target, h.next);
    if (missing > 0) {
      this.counters.inc('tcp.gap');
      this.counters.inc('tcp.gap_bytes', missing);
      h.next = target;
      this.consumer.onGap?.(c, h.dir, missing, now);
    }
    if (q !== undefined) this.deliver(c, h, EMPTY, 0, 0, now, true);
    else if (h.finSeen) h.done = true; // reached the FIN (or, defensively, past it)
    this.checkDone(h);
    this.updateHole(h, now);
  }

  /** Keep h's membership in the hole list in step with h.hasHole. */
  private updateHole(h: HalfStream, now: number): void {
    if (h.hasHole) {
      if (!h.inHoles) {
        h.inHoles = true;
        h.holeSince = h.pending[0]?.time ?? now;
        h.holePrev = this.holeTail;
        h.holeNext = null;
        if (this.holeTail !== null) this.holeTail.holeNext = h;
        else this.holeHead = h;
        this.holeTail = h;
      } else {
        // The first hole may have moved: date it by the data now waiting behind it.
        const first = h.pending[0];
        if (first !== undefined) h.holeSince = first.time;
      }
    } else if (h.inHoles) {
      this.unlinkHole(h);
    }
  }

  private unlinkHole(h: HalfStream): void {
    if (!h.inHoles) return;
    if (h.holePrev !== null) h.holePrev.holeNext = h.holeNext;
    else this.holeHead = h.holeNext;
    if (h.holeNext !== null) h.holeNext.holePrev = h.holePrev;
    else this.holeTail = h.holePrev;
    h.holePrev = null;
    h.holeNext = null;
    h.inHoles = false;
  }

  /**
   * Report what is left (buffered data after gaps, bytes missing before a FIN), tell the
   * consumer, and either keep a closed entry for late segments (FIN, RST) or forget it.
   */
  private close(c: Conn, reason: TcpCloseReason, now: number): void {
    if (c.closed) return;
    for (const h of c.halves) {
      while (h.hasHole) this.gap(h, now);
      this.unlinkHole(h);
    }
    c.closed = true;
    c.closedAt = now;
    this.counters.inc(`tcp.closed_${reason}`);
    this.consumer.onClose?.(c, reason, now);
    if (reason !== 'fin' && reason !== 'rst') this.remove(c);
  }

  /** Drop c from every table without telling the consumer. */
  private remove(c: Conn): void {
    if (c.v6Key !== null) {
      if (this.v6.get(c.v6Key) !== c) return;
      this.v6.delete(c.v6Key);
    } else {
      const inner = this.v4.get(c.lo);
      if (inner === undefined || inner.get(c.hi) !== c) return;
      inner.delete(c.hi);
      if (inner.size === 0) this.v4.delete(c.lo);
    }
    for (const h of c.halves) {
      this.unlinkHole(h);
      this.total -= h.pendingBytes;
      h.pendingBytes = 0;
      h.pending.length = 0;
    }
    if (c.lruPrev !== null) c.lruPrev.lruNext = c.lruNext;
    else this.lruHead = c.lruNext;
    if (c.lruNext !== null) c.lruNext.lruPrev = c.lruPrev;
    else this.lruTail = c.lruPrev;
    c.lruPrev = null;
    c.lruNext = null;
    this.count--;
  }

  private lruAppend(c: Conn): void {
    c.lruPrev = this.lruTail;
    c.lruNext = null;
    if (this.lruTail !== null) this.lruTail.lruNext = c;
    else this.lruHead = c;
    this.lruTail = c;
  }

  /** Mark c seen now and move it to the most-recent end of the LRU list. */
  private touch(c: Conn, now: number): void {
    c.lastSeen = now;
    if (this.lruTail === c) return;
    if (c.lruPrev !== null) c.lruPrev.lruNext = c.lruNext;
    else this.lruHead = c.lruNext;
    if (c.lruNext !== null) c.lruNext.lruPrev = c.lruPrev;
    this.lruAppend(c);
  }
}
