import type { Counters } from '../core/counters.js';

/**
 * IP fragment reassembly for IPv4 (RFC 791 §3.2 "Fragmentation and Reassembly", RFC 815) and
 * IPv6 (RFC 8200 §4.5). The caller (an IP decoder) parses the fragment header and passes the
 * fragment payload with its offset in bytes; this class only holds and joins byte ranges.
 *
 * A tracker (STYLE.md): it takes the capture time and expires state only in sweep(now).
 * Memory is bounded by `maxBytes` whatever the input: each datagram keeps its fragments as
 * a short sorted list of non-overlapping pieces (RFC 815 keeps a hole list instead; a piece
 * list is the same information and lets us avoid allocating the full datagram before it is
 * complete), every piece is charged its bytes plus an estimate of its object overhead, and
 * the whole datagram is only allocated once every byte is present.
 *
 * Overlaps: the bytes already held win (Wireshark's epan/reassemble.c does the same), and
 * only the uncovered parts of a new fragment are kept. RFC 5722 / RFC 8200 §4.5 require an
 * IPv6 host to discard the whole datagram instead; `dropOverlapping` models that host.
 */

export interface FragmentLimits {
  /** Datagrams under reassembly at once; the oldest is evicted beyond this. */
  maxDatagrams: number;
  /** Bytes buffered over all datagrams (payload plus per-object overhead estimate). */
  maxBytes: number;
  /**
   * Largest reassembled payload, in bytes. The default 65535 is the IPv6 payload limit
   * without jumbograms (RFC 8200 §4.5); an IPv4 decoder that wants the exact RFC 791 limit
   * passes 65535 minus the header length it saw in the first fragment (at least 20).
   */
  maxDatagramSize: number;
  /** Seconds from the first fragment until the datagram is abandoned (RFC 8200 §4.5: 60). */
  timeoutSec: number;
  /** Pieces held per datagram; bounds the per-fragment work (FreeBSD caps this at 16). */
  maxFragmentsPerDatagram: number;
  /** Discard the whole datagram on any overlap but an exact duplicate (RFC 5722) instead of first-wins. */
  dropOverlapping: boolean;
}

export const DEFAULT_FRAGMENT_LIMITS: Readonly<FragmentLimits> = {
  maxDatagrams: 4096,
  maxBytes: 32 * 1024 * 1024,
  maxDatagramSize: 65535,
  timeoutSec: 30,
  maxFragmentsPerDatagram: 1024,
  dropOverlapping: false,
};

/** Estimated heap cost of one held piece beyond its bytes (object, Buffer, ArrayBuffer). */
export const FRAGMENT_PIECE_OVERHEAD = 128;
/** Estimated heap cost of one datagram entry beyond its pieces (object, array, Map slot, key). */
export const FRAGMENT_ENTRY_OVERHEAD = 256;

/** A held byte range [start, start + data.length) of the datagram payload. */
interface Piece {
  start: number;
  data: Buffer;
}

class Datagram {
  /** Sorted by start, never overlapping. */
  readonly pieces: Piece[] = [];
  /** Payload bytes held (sum of piece lengths). */
  held = 0;
  /** Total payload length once the last fragment (MF = 0) was seen, else -1. */
  end = -1;
  /** Bytes charged against maxBytes for this entry. */
  cost = FRAGMENT_ENTRY_OVERHEAD;

  constructor(readonly firstSeen: number) {}
}

export class FragmentReassembler {
  private readonly limits: FragmentLimits;
  /** Map keeps insertion order, which is creation order: the first entry is the oldest. */
  private readonly table = new Map<string, Datagram>();
  private bytes = 0;
  /** Scratch list of new [start, end) ranges of the fragment being added (pairs). */
  private readonly fresh: number[] = [];

  constructor(
    private readonly counters: Counters,
    limits?: Partial<FragmentLimits>,
  ) {
    this.limits = { ...DEFAULT_FRAGMENT_LIMITS, ...limits };
  }

  /** Datagrams under reassembly. */
  get size(): number {
    return this.table.size;
  }

  /** Bytes charged against maxBytes (payload held plus overhead estimates). */
  get bufferedBytes(): number {
    return this.bytes;
  }

  /**
   * Add one fragment. `key` names the datagram (IPv4: src, dst, protocol, id — RFC 791;
   * IPv6: src, dst, id — RFC 8200 §4.5). `fragOffset` is in bytes, `more` is the M/MF flag and
   * the fragment's payload is buf[off, off + len). The bytes kept are copied.
   *
   * Returns the reassembled payload (a new buffer owned by the caller) when this fragment
   * completes the datagram, else null. An atomic fragment (offset 0, no more fragments,
   * RFC 6946) is returned at once as a copy, without touching the table.
   */
  add(key: string, fragOffset: number, more: boolean, buf: Buffer, off: number, len: number, now: number): Buffer | null {
    if (
      !Number.isInteger(off) ||
      !Number.isInteger(len) ||
      off < 0 ||
      len < 0 ||
      off + len > buf.length ||
      !Number.isInteger(fragOffset) ||
      fragOffset < 0 ||
      fragOffset % 8 !== 0
    ) {
      this.counters.inc('ip.frag_malformed');
      return null;
    }
    // RFC 791 §3.2 and RFC 8200 §4.5: every fragment but the last carries a multiple of 8
    // bytes. An empty non-final fragment carries nothing and could only pad the piece list.
    if (more && (len === 0 || len % 8 !== 0)) {
      this.counters.inc('ip.frag_malformed');
      return null;
    }
    const end = fragOffset + len;
    if (end > this.limits.maxDatagramSize) {
      this.counters.inc('ip.frag_too_big');
      this.drop(key);
      return null;
    }
    if (!more && fragOffset === 0) {
      // RFC 6946 §4: an atomic fragment is processed on its own, never merged with a queue.
      this.counters.inc('ip.frag_atomic');
      return Buffer.from(buf.subarray(off, off + len));
    }

    let d = this.table.get(key);
    if (d === undefined) {
      while (
        (this.table.size >= this.limits.maxDatagrams || this.bytes + FRAGMENT_ENTRY_OVERHEAD > this.limits.maxBytes) &&
        this.evictOldest(null)
      ) {
        /* evictOldest counts */
      }
      if (this.table.size >= this.limits.maxDatagrams || this.bytes + FRAGMENT_ENTRY_OVERHEAD > this.limits.maxBytes) {
        this.counters.inc('ip.frag_evicted'); // limits too small to hold even this one
        return null;
      }
      d = new Datagram(now);
      this.table.set(key, d);
      this.bytes += d.cost;
    }

    // The end of the datagram: one last fragment only, and no data beyond it.
    const pieces = d.pieces;
    const last = pieces[pieces.length - 1];
    const heldEnd = last === undefined ? 0 : last.start + last.data.length;
    if (!more) {
      if ((d.end >= 0 && d.end !== end) || heldEnd > end) {
        this.counters.inc('ip.frag_malformed');
        this.drop(key);
        return null;
      }
      d.end = end;
    } else if (d.end >= 0 && end > d.end) {
      this.counters.inc('ip.frag_malformed');
      this.drop(key);
      return null;
    }

    // Ranges of [fragOffset, end) not yet held; the held bytes win (first wins).
    const fresh = this.fresh;
    fresh.length = 0;
    let idx = firstPieceEndingAfter(pieces, fragOffset);
    const insertAt = idx;
    let cursor = fragOffset;
    let conflict = false;
    for (let i = idx; i < pieces.length && cursor < end; i++) {
      const p = pieces[i]!;
      const ps = p.start;
      const pe = ps + p.data.length;
      if (ps >= end) break;
      if (ps > cursor) fresh.push(cursor, ps);
      // Compare the overlapped range to tell an exact duplicate from a conflicting overlap.
      const os = ps > fragOffset ? ps : fragOffset;
      const oe = pe < end ? pe : end;
      if (!conflict && p.data.compare(buf, off + (os - fragOffset), off + (oe - fragOffset), os - ps, oe - ps) !== 0) {
        conflict = true;
      }
      if (pe > cursor) cursor = pe;
    }
    if (cursor < end) fresh.push(cursor, end);

    let newBytes = 0;
    for (let i = 0; i < fresh.length; i += 2) newBytes += fresh[i + 1]! - fresh[i]!;
    if (newBytes < len) {
      // Some of this fragment was already held. Nothing new and the same bytes is a duplicate
      // (RFC 8200 §4.5 lets a host ignore those); anything else is an overlap, and a
      // conflicting one when the bytes differ (evasion, or a broken middlebox).
      if (newBytes === 0 && !conflict) {
        this.counters.inc('ip.frag_duplicate');
      } else {
        this.counters.inc('ip.frag_overlap');
        if (conflict) this.counters.inc('ip.frag_overlap_conflict');
        if (this.limits.dropOverlapping) {
          this.drop(key);
          return null;
        }
      }
    }

    if (fresh.length > 0) {
      const addPieces = fresh.length / 2;
      if (pieces.length + addPieces > this.limits.maxFragmentsPerDatagram) {
        this.counters.inc('ip.frag_too_many');
        this.drop(key);
        return null;
      }
      const cost = newBytes + addPieces * FRAGMENT_PIECE_OVERHEAD;
      while (this.bytes + cost > this.limits.maxBytes && this.evictOldest(d)) {
        /* evictOldest counts */
      }
      if (this.bytes + cost > this.limits.maxBytes) {
        // Even alone this datagram does not fit: give it up too.
        this.counters.inc('ip.frag_evicted');
        this.drop(key);
        return null;
      }
      const add: Piece[] = [];
      for (let i = 0; i < fresh.length; i += 2) {
        const s = fresh[i]!;
        const e = fresh[i + 1]!;
        // allocUnsafeSlow: a pooled slice would pin a whole 8 KiB pool slab per tiny piece.
        const data = Buffer.allocUnsafeSlow(e - s);
        buf.copy(data, 0, off + (s - fragOffset), off + (e - fragOffset));
        add.push({ start: s, data });
      }
      // The fresh ranges all fall between pieces[insertAt - 1] and the first piece at or
      // beyond `end`; interleave them with the covered pieces in that window.
      idx = insertAt;
      let j = 0;
      while (j < add.length) {
        const cur = pieces[idx];
        if (cur !== undefined && cur.start < add[j]!.start) {
          idx++;
          continue;
        }
        pieces.splice(idx, 0, add[j]!);
        idx++;
        j++;
      }
      d.held += newBytes;
      d.cost += cost;
      this.bytes += cost;
    }

    if (d.end >= 0 && d.held === d.end) {
      // Pieces never overlap and lie within [0, end), so held === end means no holes.
      const out = Buffer.allocUnsafe(d.end);
      for (const p of pieces) p.data.copy(out, p.start);
      this.drop(key);
      this.counters.inc('ip.frag_reassembled');
      return out;
    }
    return null;
  }

  /** Abandon datagrams whose first fragment is older than timeoutSec (capture time). */
  sweep(now: number): void {
    const limit = this.limits.timeoutSec;
    for (const [key, d] of this.table) {
      if (now - d.firstSeen >= limit) {
        this.counters.inc('ip.frag_timeout');
        this.drop(key);
      }
    }
  }

  private drop(key: string): void {
    const d = this.table.get(key);
    if (d === undefined) return;
    this.bytes -= d.cost;
    this.table.delete(key);
  }

  /** Evict the oldest datagram other than `keep`; false when there is none. */
  private evictOldest(keep: Datagram | null): boolean {
    for (const [key, d] of this.table) {
      if (d === keep) continue;
      this.counters.inc('ip.frag_evicted');
      this.drop(key);
      return true;
    }
    return false;
  }
}

/** Index of the first piece whose end is beyond `pos` (pieces sorted, non-overlapping). */
function firstPieceEndingAfter(pieces: readonly Piece[], pos: number): number {
  let lo = 0;
  let hi = pieces.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const p = pieces[mid]!;
    if (p.start + p.data.length <= pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
