/**
 * Named event counters, `stage.reason` (STYLE.md). Bad input is rare, so a Map keyed by
 * a constant string is cheap enough; per-packet layer counts live in typed arrays instead.
 */
export class Counters {
  private readonly values = new Map<string, number>();

  inc(name: string, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  /** Counters whose name starts with `prefix` (e.g. all of `ip.`), sorted by name. */
  entries(prefix = ''): [string, number][] {
    return [...this.values].filter(([k]) => k.startsWith(prefix)).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.entries());
  }
}
