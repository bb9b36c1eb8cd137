import assert from 'node:assert/strict';
import { openCaptureFile } from '../../recorder/capture/file-source.js';
import type { Conversation } from '../../recorder/inspect/conversations.js';
import { Inspector, type InspectReport } from '../../recorder/inspect/inspect.js';
import type { TsharkConversation } from './tshark.js';

export async function inspectFile(path: string): Promise<InspectReport> {
  const ins = new Inspector();
  const cap = await openCaptureFile(path, ins.counters);
  try {
    for await (const batch of cap.batches()) ins.push(batch);
  } finally {
    await cap.close();
  }
  return ins.report([path]);
}

/** tshark prints `addr:port` without brackets, also for IPv6. */
const ep = (addr: string, port: number): string => `${addr}:${port}`;

/** Seconds from `t0` to `t`, both `sec.nsec` strings. */
function relative(t: string, t0: string): number {
  const [s, n] = t.split('.').map(Number) as [number, number];
  const [s0, n0] = t0.split('.').map(Number) as [number, number];
  return s - s0 + (n - n0) / 1e9;
}

/**
 * Our conversations against tshark's: same rows (address/port pair and start time; tshark prints
 * the relative start through a double, so it is compared to the microsecond), frames per direction
 * exactly, bytes exactly where tshark printed them in bytes rather than a rounded unit.
 */
export function compareConversations(ours: Conversation[], theirs: TsharkConversation[], firstFrame: string, label: string): void {
  assert.equal(ours.length, theirs.length, `${label}: number of conversations`);
  const pair = (a: string, b: string): string => [a, b].sort().join(' ');
  const left = [...theirs];
  for (const c of ours) {
    const a = ep(c.a.addr, c.a.port);
    const b = ep(c.b.addr, c.b.port);
    const rel = relative(c.first, firstFrame);
    const i = left.findIndex((t) => pair(t.a, t.b) === pair(a, b) && Math.abs(Number(t.relStart) - rel) < 1e-6);
    assert.ok(i >= 0, `${label}: tshark has no conversation ${a} <-> ${b} starting at ${rel.toFixed(9)}`);
    const t = left.splice(i, 1)[0]!;
    const same = t.a === a;
    const [fAB, bAB, fBA, bBA] = same ? [t.framesAB, t.bytesAB, t.framesBA, t.bytesBA] : [t.framesBA, t.bytesBA, t.framesAB, t.bytesAB];
    assert.equal(c.packetsAtoB, fAB, `${label}: ${a} -> ${b} frames`);
    assert.equal(c.packetsBtoA, fBA, `${label}: ${b} -> ${a} frames`);
    if (bAB !== null) assert.equal(c.bytesAtoB, bAB, `${label}: ${a} -> ${b} bytes`);
    if (bBA !== null) assert.equal(c.bytesBtoA, bBA, `${label}: ${b} -> ${a} bytes`);
  }
}
