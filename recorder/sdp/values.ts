/**
 * Reading sdp-transform output safely. Its parser turns every captured group that looks like an
 * integer into a number (toIntIfInt) whatever @types/sdp-transform declares, and leaves empty
 * or odd captures as strings, so fields are read as unknown and checked here.
 */

/** A string for a value sdp-transform may have turned into a number (its toIntIfInt). */
export const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** A non-negative integer from sdp-transform output, or -1. */
export function int(v: unknown): number {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : -1;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v);
  return -1;
}

/** The objects of an array field, skipping anything else. */
export function records(v: unknown): Record<string, unknown>[] {
  if (!Array.isArray(v)) return [];
  return v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null);
}

/** An object field, or null. */
export const record = (v: unknown): Record<string, unknown> | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
