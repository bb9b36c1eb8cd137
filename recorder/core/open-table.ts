/**
 * An open-addressing table from integer keys (one or three int32s) to small non-negative
 * values, in one Int32Array that C loops probe as well (native/spool/spool_demux.c,
 * native/fastpath/rtp_fast_path.c): entries of `width + 1` int32s, the key then value + 1
 * (0: empty), linear probing from `home`, backward-shift deletion (no tombstones), at most half
 * full. The C side computes `home` the same way.
 */

/** Where a key's probe starts: width 1 uses the key itself (sequential ids spread perfectly), width 3 a multiplicative mix. */
export function tableHome(k0: number, k1: number, k2: number, width: number, mask: number): number {
  if (width === 1) return k0 & mask;
  let h = Math.imul(k0, 0x9e3779b1) ^ Math.imul(k1, 0x85ebca77) ^ Math.imul(k2, 0xc2b2ae3d);
  h ^= h >>> 15;
  return h & mask;
}

export class OpenTable {
  /** The entries (what the C side probes). Replaced when the table grows. */
  keys: Int32Array;
  private count = 0;
  private readonly stride: number;

  constructor(
    readonly width: 1 | 3,
    entries = 64,
  ) {
    this.stride = width + 1;
    this.keys = new Int32Array(entries * this.stride);
  }

  get size(): number {
    return this.count;
  }

  /** The value of a key, or -1. */
  find(k0: number, k1 = 0, k2 = 0): number {
    const e = this.entry(k0, k1, k2);
    return e < 0 ? -1 : this.keys[e * this.stride + this.width]! - 1;
  }

  /** Sets a key's value (0 ≤ value < 2^31 - 1), adding the key if it is new. */
  set(value: number, k0: number, k1 = 0, k2 = 0): void {
    const e = this.entry(k0, k1, k2);
    if (e >= 0) {
      this.keys[e * this.stride + this.width] = value + 1;
      return;
    }
    if (2 * (this.count + 1) > this.keys.length / this.stride) this.rehash(2 * (this.keys.length / this.stride));
    this.insert(this.keys, value, k0, k1, k2);
    this.count++;
  }

  /** Removes a key; false when it was not there. */
  delete(k0: number, k1 = 0, k2 = 0): boolean {
    let gap = this.entry(k0, k1, k2);
    if (gap < 0) return false;
    const k = this.keys;
    const s = this.stride;
    const w = this.width;
    const mask = k.length / s - 1;
    // Backward-shift deletion: later entries of the probe run move up, so lookups stop at gaps only.
    for (let j = (gap + 1) & mask; k[j * s + w] !== 0; j = (j + 1) & mask) {
      const home = tableHome(k[j * s]!, w === 3 ? k[j * s + 1]! : 0, w === 3 ? k[j * s + 2]! : 0, w, mask);
      // Entry j stays when its home lies cyclically in (gap, j]: moving it would put it before its home.
      const stays = gap <= j ? home > gap && home <= j : home > gap || home <= j;
      if (stays) continue;
      k.copyWithin(gap * s, j * s, j * s + s);
      gap = j;
    }
    k.fill(0, gap * s, gap * s + s);
    this.count--;
    return true;
  }

  /** The entry holding the key, or -1. */
  private entry(k0: number, k1: number, k2: number): number {
    const k = this.keys;
    const s = this.stride;
    const w = this.width;
    const n = k.length / s;
    const mask = n - 1;
    const a = k0 | 0;
    const b = k1 | 0;
    const c = k2 | 0;
    for (let i = tableHome(a, b, c, w, mask), probes = 0; probes < n; i = (i + 1) & mask, probes++) {
      const at = i * s;
      if (k[at + w] === 0) return -1;
      if (k[at] === a && (w === 1 || (k[at + 1] === b && k[at + 2] === c))) return i;
    }
    return -1;
  }

  private insert(k: Int32Array, value: number, k0: number, k1: number, k2: number): void {
    const s = this.stride;
    const w = this.width;
    const mask = k.length / s - 1;
    let i = tableHome(k0 | 0, k1 | 0, k2 | 0, w, mask);
    while (k[i * s + w] !== 0) i = (i + 1) & mask;
    k[i * s] = k0 | 0;
    if (w === 3) {
      k[i * s + 1] = k1 | 0;
      k[i * s + 2] = k2 | 0;
    }
    k[i * s + w] = value + 1;
  }

  private rehash(entries: number): void {
    const old = this.keys;
    const s = this.stride;
    const w = this.width;
    const k = new Int32Array(entries * s);
    for (let at = 0; at < old.length; at += s) {
      if (old[at + w] !== 0) this.insert(k, old[at + w]! - 1, old[at]!, w === 3 ? old[at + 1]! : 0, w === 3 ? old[at + 2]! : 0);
    }
    this.keys = k;
  }
}
