/**
 * Puts one stream's decoded audio on the recording's time line at the output rate. Audio that
 * follows on from the previous piece (the next packet, a concealed gap) runs through one
 * continuous resampler, so the band-limited filter sees the signal, not packet edges; audio that
 * lands elsewhere (loss beyond concealment, hold, a re-anchor) starts a new segment.
 */
import { Resampler } from './resample.js';

export type PlaceSink = (pos: number, src: Int16Array, n: number) => void;

export class StreamPlacer {
  private rs: Resampler | null = null;
  /** Output frame of the current segment's first sample. */
  private segPos = 0;
  private readonly tmp: Int16Array;

  constructor(
    private readonly outRate: number,
    private readonly sink: PlaceSink,
    scratchFrames = 1 << 17,
  ) {
    this.tmp = new Int16Array(scratchFrames);
  }

  /**
   * Adds src[0, n) at `inRate`, whose first sample belongs at output frame `pos`. Returns the
   * output frames this input spans (its nominal length at the output rate).
   */
  place(pos: number, src: Int16Array, n: number, inRate: number): number {
    if (inRate === this.outRate) {
      // Same rate: nothing to filter; a pending segment of another rate ends first.
      this.flush();
      this.sink(pos, src, n);
      return n;
    }
    let rs = this.rs;
    if (rs !== null) {
      const expected = this.segPos + Math.round((rs.consumed * this.outRate) / inRate);
      const slack = Math.max(1, Math.ceil(this.outRate / inRate));
      if (rs.inRate !== inRate || Math.abs(pos - expected) > slack) {
        this.flush();
        rs = null;
      }
    }
    if (rs === null) {
      rs = this.rs = new Resampler(inRate, this.outRate);
      this.segPos = pos;
    }
    // Large inputs go through in pieces that fit the scratch buffer.
    let done = 0;
    const piece = Math.max(1, Math.floor(((this.tmp.length - 2) * inRate) / this.outRate) - 1);
    while (done < n) {
      const k = Math.min(piece, n - done);
      const at = this.segPos + rs.produced;
      const m = rs.push(src, done, k, this.tmp, 0);
      if (m > 0) this.sink(at, this.tmp, m);
      done += k;
    }
    return Math.round((n * this.outRate) / inRate);
  }

  /** The output frame where the current segment's audio ends, or null when none is open. */
  get segmentEnd(): number | null {
    const rs = this.rs;
    return rs === null ? null : this.segPos + Math.round((rs.consumed * this.outRate) / rs.inRate);
  }

  /** Ends the current segment: its filter tail goes out. */
  flush(): void {
    const rs = this.rs;
    if (rs === null) return;
    const at = this.segPos + rs.produced;
    const m = rs.flush(this.tmp, 0);
    if (m > 0) this.sink(at, this.tmp, m);
    this.rs = null;
  }
}
