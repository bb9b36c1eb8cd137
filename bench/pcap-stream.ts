/**
 * Streaming classic-pcap writing for the benchmarks' generated captures (millions of frames:
 * the test writer builds whole files in memory). draft-ietf-opsawg-pcap §4–§5, µs, little-endian.
 */
export function pcapFileHeader(linkType = 1): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(linkType, 20);
  return h;
}

/** One record: capture time in µs since 1970, then the frame. */
export function pcapRecord(us: number, frame: Buffer): Buffer {
  const rec = Buffer.alloc(16 + frame.length);
  rec.writeUInt32LE(Math.floor(us / 1e6), 0);
  rec.writeUInt32LE(us % 1e6, 4);
  rec.writeUInt32LE(frame.length, 8);
  rec.writeUInt32LE(frame.length, 12);
  frame.copy(rec, 16);
  return rec;
}
