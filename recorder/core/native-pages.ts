/**
 * Memory pages shared with C loops of the capture addon (native/slab/slab_set.c): 1 MiB
 * Buffers, allocated as they are needed and kept for the thread's life, whose addresses the
 * addon's slab set holds, so that C finds a page by index. The spool writer's batch chunks and
 * the RTP statistics' records live in such pages.
 */
import { loadAddon } from '../capture/live-source.js';

export const PAGE_BYTES = 1 << 20;

/** The slab-set functions of the capture addon. */
export interface SlabAddon {
  newSlabSet(): object;
  slabSetAdd(set: object, slab: Buffer): number;
}

/**
 * The capture addon when it has every function in `names` (and `NATIVE_LOOPS` is not 0, which
 * benchmarks and tests use to run the TypeScript loops alone), else null.
 */
export function nativeAddon<T extends SlabAddon>(names: readonly (keyof T)[]): T | null {
  if (process.env.NATIVE_LOOPS === '0') return null;
  try {
    const a = loadAddon() as unknown as Record<string, unknown>;
    if (typeof a.newSlabSet !== 'function' || typeof a.slabSetAdd !== 'function') return null;
    return names.every((n) => typeof a[n as string] === 'function') ? (a as unknown as T) : null;
  } catch {
    return null;
  }
}

export class PageSet<T extends SlabAddon = SlabAddon> {
  readonly pages: Buffer[] = [];
  /** The addon and this set's handle in it (null: TypeScript only). */
  readonly native: { addon: T; set: object } | null;

  constructor(addon: T | null) {
    this.native = addon === null ? null : { addon, set: addon.newSlabSet() };
  }

  /** A new zeroed page; returns its index. */
  add(): number {
    const page = Buffer.alloc(PAGE_BYTES);
    if (this.native !== null && this.native.addon.slabSetAdd(this.native.set, page) !== this.pages.length) {
      throw new Error('the native slab set lost count');
    }
    this.pages.push(page);
    return this.pages.length - 1;
  }
}
