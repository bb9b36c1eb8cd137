/**
 * Big-endian reads for hot decoders. Callers check lengths once before reading (STYLE.md
 * "length-check-then-read"), so these skip Buffer.readUInt*'s per-call argument validation,
 * which showed up in profiles of the packet path.
 */
export const u16 = (b: Buffer, off: number): number => (b[off]! << 8) | b[off + 1]!;

export const u32 = (b: Buffer, off: number): number => ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
