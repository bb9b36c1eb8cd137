/** Builders for spool and media tests: synthetic RTP streams written through the real spool writer. */
import { Counters } from '../../../recorder/core/counters.js';
import type { SpoolPayloadType, SpoolStreamInfo } from '../../../recorder/spool/spool-format.js';
import { SpoolDirectory, type SpoolOptions } from '../../../recorder/spool/spool-directory.js';
import { tempDir } from '../../support/temp-dir.js';

export const tmp = (prefix: string): string => tempDir(`${prefix}-`);

export const PCMU: SpoolPayloadType = { pt: 0, codec: 'PCMU', clockRate: 8000, channels: 1 };
export const PCMA: SpoolPayloadType = { pt: 8, codec: 'PCMA', clockRate: 8000, channels: 1 };
export const TEL_EVENT: SpoolPayloadType = { pt: 101, codec: 'telephone-event', clockRate: 8000, channels: 1 };
export const CN: SpoolPayloadType = { pt: 13, codec: 'CN', clockRate: 8000, channels: 1 };

export function streamInfo(ssrc: number, party: string, channel: number, payloads: SpoolPayloadType[] = [PCMU, TEL_EVENT]): SpoolStreamInfo {
  return { ssrc, party, channel, src: `10.0.0.${channel + 1}:4000`, dst: `10.0.0.${2 - channel}:5000`, payloads };
}

/** One packet to spool; capture time in seconds (a double) for convenience. */
export interface TestPacket {
  seq: number;
  ts: number;
  pt: number;
  cap: number;
  payload: Buffer;
  marker?: boolean;
}

export interface TestStream {
  info: SpoolStreamInfo;
  packets: TestPacket[];
}

/** Base capture time of generated calls (an arbitrary 2026 date). */
export const T0 = 1_790_000_000;

export const capSec = (cap: number): number => Math.floor(cap);
export const capNsec = (cap: number): number => Math.min(999_999_999, Math.round((cap - Math.floor(cap)) * 1e9));

/**
 * `count` packets of 20 ms (160 samples at 8 kHz) from `startCap` (seconds after T0), with
 * payload codes from `code(i, k)` (packet i, sample k).
 */
export function g711Stream(opts: {
  count: number;
  startCap?: number;
  seq0?: number;
  ts0?: number;
  pt?: number;
  samples?: number;
  code?: (i: number, k: number) => number;
}): TestPacket[] {
  const n = opts.samples ?? 160;
  const out: TestPacket[] = [];
  for (let i = 0; i < opts.count; i++) {
    const payload = Buffer.alloc(n);
    for (let k = 0; k < n; k++) payload[k] = opts.code ? opts.code(i, k) & 0xff : (i * 7 + k * 13) & 0xff;
    out.push({
      seq: ((opts.seq0 ?? 1000) + i) & 0xffff,
      ts: ((opts.ts0 ?? 50_000) + i * n) >>> 0,
      pt: opts.pt ?? 0,
      cap: T0 + (opts.startCap ?? 0) + (i * n) / 8000,
      payload,
    });
  }
  return out;
}

/** Order of appends: [stream index, packet] pairs. */
export type AppendOrder = (a: [number, TestPacket], b: [number, TestPacket]) => number;

/**
 * Writes streams through SpoolDirectory/CallSpool, appending in the order given by `order`
 * (default: by capture time, ties by stream), and closes the spool unless `finalize` is false.
 * Returns the call's spool directory.
 */
export async function writeSpool(
  root: string,
  id: string,
  streams: TestStream[],
  opts: { finalize?: boolean; order?: AppendOrder; spool?: SpoolOptions } = {},
): Promise<string> {
  const dir = new SpoolDirectory(root, new Counters(), opts.spool);
  const spool = dir.open({ id, callId: `${id}@test`, record: { id } });
  const idx = streams.map((s) => spool.addStream(s.info));
  const all: [number, TestPacket][] = [];
  streams.forEach((s, i) => s.packets.forEach((p) => all.push([idx[i]!, p])));
  if (opts.order) all.sort(opts.order);
  else all.sort((a, b) => a[1].cap - b[1].cap || a[0] - b[0]);
  for (const [s, p] of all) spool.append(s, p.seq, p.ts, p.marker ?? false, p.pt, capSec(p.cap), capNsec(p.cap), p.payload, 0, p.payload.length);
  if (opts.finalize === false) {
    spool.flush();
    await spool.whenWritten();
  }
  else await spool.close({ id, callId: `${id}@test`, record: { id, final: true } });
  return spool.dir;
}

/** CRC-32C one bit at a time, straight from its definition (RFC 3720 §B.4): the reference. */
export function crc32cBitwise(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
