/**
 * Test-only RTP encoder (RFC 3550 §5.1), written independently of the decoder so round trips
 * check one against the other. Clarity over speed.
 */
export interface RtpFields {
  version?: number;
  marker?: boolean;
  pt: number;
  seq: number;
  ts: number;
  ssrc: number;
  csrcs?: readonly number[];
  /** Header extension: profile and data (a multiple of 4 bytes). */
  ext?: { profile: number; data: Buffer };
  payload?: Buffer;
  /** Padding bytes to append (sets P; the last one holds the count). */
  pad?: number;
}

export function encodeRtp(f: RtpFields): Buffer {
  const csrcs = f.csrcs ?? [];
  const head = Buffer.alloc(12 + 4 * csrcs.length);
  head[0] = ((f.version ?? 2) << 6) | ((f.pad ?? 0) > 0 ? 0x20 : 0) | (f.ext ? 0x10 : 0) | csrcs.length;
  head[1] = (f.marker === true ? 0x80 : 0) | f.pt;
  head.writeUInt16BE(f.seq, 2);
  head.writeUInt32BE(f.ts >>> 0, 4);
  head.writeUInt32BE(f.ssrc >>> 0, 8);
  csrcs.forEach((c, i) => head.writeUInt32BE(c >>> 0, 12 + 4 * i));
  const parts: Buffer[] = [head];
  if (f.ext) {
    const eh = Buffer.alloc(4);
    eh.writeUInt16BE(f.ext.profile, 0);
    eh.writeUInt16BE(f.ext.data.length / 4, 2);
    parts.push(eh, f.ext.data);
  }
  parts.push(f.payload ?? Buffer.alloc(0));
  if ((f.pad ?? 0) > 0) {
    const p = Buffer.alloc(f.pad!);
    p[p.length - 1] = f.pad!;
    parts.push(p);
  }
  return Buffer.concat(parts);
}
