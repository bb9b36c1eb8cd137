/** Builders of RTP payload formats for tests. */

/** Builds an RFC 2198 payload: redundant blocks [pt, offset, data] then the primary [pt, data]. */
export function redPayload(redundant: [number, number, Buffer][], primary: [number, Buffer]): Buffer {
  const heads: Buffer[] = [];
  for (const [pt, off, data] of redundant) {
    const h = Buffer.alloc(4);
    h[0] = 0x80 | pt;
    h[1] = off >> 6;
    h[2] = ((off & 0x3f) << 2) | (data.length >> 8);
    h[3] = data.length & 0xff;
    heads.push(h);
  }
  heads.push(Buffer.from([primary[0]]));
  return Buffer.concat([...heads, ...redundant.map((r) => r[2]), primary[1]]);
}
