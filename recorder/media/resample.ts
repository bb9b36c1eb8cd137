/**
 * Sample-rate conversion of one decoded frame by linear interpolation: enough to put an 8 kHz
 * party beside a 16 kHz one in a single file. Each packet is converted on its own (its start is
 * placed by RTP timestamp anyway), so no state crosses packets. A codec issue that cares about
 * wideband quality can swap in a polyphase filter here.
 */

/** Frames `n` input frames become at the output rate. */
export const resampledLength = (n: number, inRate: number, outRate: number): number =>
  inRate === outRate ? n : Math.round((n * outRate) / inRate);

/** Converts src[0, n) at inRate into dst at outRate; returns the frames written (≤ dst.length). */
export function resampleLinear(src: Int16Array, n: number, inRate: number, outRate: number, dst: Int16Array): number {
  const m = Math.min(resampledLength(n, inRate, outRate), dst.length);
  if (inRate === outRate) {
    dst.set(src.subarray(0, m));
    return m;
  }
  if (n === 0) return 0;
  const step = inRate / outRate;
  for (let j = 0; j < m; j++) {
    const x = j * step;
    const i = Math.floor(x);
    const f = x - i;
    const a = src[i]!;
    const b = i + 1 < n ? src[i + 1]! : a;
    dst[j] = Math.round(a + (b - a) * f);
  }
  return m;
}
