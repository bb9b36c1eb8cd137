/**
 * pcapng timestamps (draft-ietf-opsawg-pcapng §4.3): a 64-bit count of if_tsresol units
 * since 1970, stored as two 32-bit halves, plus the interface's if_tsoffset seconds.
 *
 * At ns resolution the count (~1.7e18) does not fit a double exactly, and a BigInt per
 * packet is what STYLE.md rules out, so the split into (sec, nsec) is done in doubles by
 * long division in 16-bit digits, every intermediate below 2^53. BigInt remains only for
 * exotic resolutions (10^-n with n > 9, 2^-n with n > 32).
 */

/** How the remainder (in ticks) becomes nanoseconds. */
const NsFrom = {
  /** nsec = rem * nsMul: 10^-n with n <= 9 and 2^-n with n <= 9 (1e9 is a multiple of 2^9). */
  Mul: 0,
  /** nsec = floor(rem * 1953125 / nsDiv), nsDiv = 2^(n-9): 2^-n with 9 < n <= 32. */
  Pow2Div: 1,
  /** Anything else: exact BigInt arithmetic per packet. */
  Big: 2,
} as const;
type NsFrom = (typeof NsFrom)[keyof typeof NsFrom];

/** Precomputed per-interface constants for turning ticks into (sec, nsec). */
export interface TsResolution {
  /** Ticks per second (exact for the Mul and Pow2Div kinds). */
  readonly unitsPerSec: number;
  readonly kind: NsFrom;
  readonly nsMul: number;
  readonly nsDiv: number;
  readonly unitsBig: bigint;
  /** if_tsoffset, whole seconds added to every timestamp. */
  readonly offsetSec: number;
}

/**
 * The if_tsresol option value (§4.2): MSB clear means 10^-v seconds per tick, MSB set
 * means 2^-(v & 0x7f). Without the option the resolution is 10^-6.
 */
export function tsResolution(tsresol = 6, offsetSec = 0): TsResolution {
  const binary = (tsresol & 0x80) !== 0;
  const exp = tsresol & 0x7f;
  const unitsBig = (binary ? 2n : 10n) ** BigInt(exp);
  let kind: NsFrom = NsFrom.Big;
  let nsMul = 0;
  let nsDiv = 0;
  if (!binary && exp <= 9) {
    kind = NsFrom.Mul;
    nsMul = 10 ** (9 - exp);
  } else if (binary && exp <= 9) {
    kind = NsFrom.Mul;
    nsMul = 1e9 / 2 ** exp;
  } else if (binary && exp <= 32) {
    kind = NsFrom.Pow2Div;
    nsDiv = 2 ** (exp - 9);
  }
  return { unitsPerSec: Number(unitsBig), kind, nsMul, nsDiv, unitsBig, offsetSec };
}

/** Reused output of splitTicks, so the split allocates nothing. */
export class SplitTime {
  sec = 0;
  nsec = 0;
}

const TWO32 = 4294967296;
/** Below this high half the whole count is < 2^52 and one double division is exact. */
const FAST_HI = 0x100000;

/**
 * (hi * 2^32 + lo) ticks → whole seconds and nanoseconds, truncating like Wireshark does
 * (nsec = floor(rem * 1e9 / units)) so our times equal tshark's frame.time_epoch.
 *
 * Exactness: for integers a < 2^53 and b >= 1, Math.floor(a / b) is floor(a/b), because a
 * quotient within 1/b below an integer k would need k*b >= 2^53. Every division below
 * has a < 2^53: the fast path a < 2^52; the long division a < units * 2^16 <= 2^48.
 */
export function splitTicks(hi: number, lo: number, res: TsResolution, out: SplitTime): void {
  if (res.kind === NsFrom.Big) {
    splitTicksBig(hi, lo, res, out);
    return;
  }
  const units = res.unitsPerSec;
  let sec: number;
  let rem: number;
  if (hi < FAST_HI) {
    const ts = hi * TWO32 + lo;
    sec = Math.floor(ts / units);
    rem = ts - sec * units;
  } else {
    // Long division of the 64-bit count by units (<= 2^32), 32 then 16 then 16 bits at a time.
    const q0 = Math.floor(hi / units);
    let r = hi - q0 * units;
    let v = r * 65536 + (lo >>> 16);
    const q1 = Math.floor(v / units);
    r = v - q1 * units;
    v = r * 65536 + (lo & 0xffff);
    const q2 = Math.floor(v / units);
    rem = v - q2 * units;
    sec = q0 * TWO32 + q1 * 65536 + q2;
  }
  // Pow2Div: rem < 2^32 and 1953125 < 2^21, so the product is < 2^53; dividing by 2^k is exact.
  out.nsec = res.kind === NsFrom.Mul ? rem * res.nsMul : Math.floor((rem * 1953125) / res.nsDiv);
  out.sec = sec + res.offsetSec;
}

function splitTicksBig(hi: number, lo: number, res: TsResolution, out: SplitTime): void {
  const ts = (BigInt(hi) << 32n) | BigInt(lo);
  const rem = ts % res.unitsBig;
  out.sec = Number(ts / res.unitsBig) + res.offsetSec;
  out.nsec = Number((rem * 1_000_000_000n) / res.unitsBig);
}
