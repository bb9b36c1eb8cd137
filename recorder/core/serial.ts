/**
 * Serial number arithmetic (RFC 1982) for wrapping counters: TCP sequence numbers and RTP
 * timestamps (32 bit, RFC 9293 §3.4), RTP sequence numbers (16 bit, RFC 3550 §A.1).
 *
 * `a` is "less than" `b` when the forward distance from a to b is below half the space.
 * RFC 1982 §3.2 leaves the comparison undefined when the two are exactly half the space
 * apart; here the signed difference is then the most negative value, so both seqLt(a, b)
 * and seqLt(b, a) are true. Callers must not rely on either answer for that case.
 *
 * All helpers take and return plain numbers, no BigInt (STYLE.md hot path).
 */

/** Signed distance b → a in 32-bit space: positive when a is after b. Range [-2^31, 2^31). */
export const seqDiff = (a: number, b: number): number => (a - b) | 0;
export const seqLt = (a: number, b: number): boolean => ((a - b) | 0) < 0;
export const seqLe = (a: number, b: number): boolean => ((a - b) | 0) <= 0;
export const seqGt = (a: number, b: number): boolean => ((a - b) | 0) > 0;
export const seqGe = (a: number, b: number): boolean => ((a - b) | 0) >= 0;
/** a + n modulo 2^32, as an unsigned number. n may be negative. */
export const seqAdd = (a: number, n: number): number => (a + n) >>> 0;
/** The later of two 32-bit serial numbers. */
export const seqMax = (a: number, b: number): number => (((a - b) | 0) >= 0 ? a : b);

/** Signed distance b → a in 16-bit space: positive when a is after b. Range [-2^15, 2^15). */
export const seq16Diff = (a: number, b: number): number => (((a - b) << 16) >> 16);
export const seq16Lt = (a: number, b: number): boolean => seq16Diff(a, b) < 0;
export const seq16Le = (a: number, b: number): boolean => seq16Diff(a, b) <= 0;
export const seq16Gt = (a: number, b: number): boolean => seq16Diff(a, b) > 0;
export const seq16Ge = (a: number, b: number): boolean => seq16Diff(a, b) >= 0;
/** a + n modulo 2^16. n may be negative. */
export const seq16Add = (a: number, n: number): number => (a + n) & 0xffff;
