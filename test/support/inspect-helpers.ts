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

/** Relative start in ns from two `sec.nsec` strings, formatted as tshark's `s.nnnnnnnnn`. */
function relative(t: string, t0: string): string {
  const [s, n] = t.split('.').map(Number) as [number, number];
  const [s0, n0] = t0.split('.').map(Number) as [number, number];
  let ds = s - s0;
  let dn = n - n0;
  if (dn < 0) {
    dn += 1e9;
    ds -= 1;
  }
  return `${ds}.${String(dn).padStart(9, '0')}`;
}

export function compareConversations(ours: Conversation[], theirs: TsharkConversation[], firstFrame: string, label: string): void {
  assert.equal(ours.length, theirs.length, `${label}: number of conversations`);
  const key = (a: string, b: string, rel: string): string => [a, b].sort().join(' ') + ' ' + rel;
  const byKey = new Map(theirs.map((t) => [key(t.a, t.b, t.relStart), t]));
  for (const c of ours) {
    const a = ep(c.a.addr, c.a.port);
    const b = ep(c.b.addr, c.b.port);
    const rel = relative(c.first, firstFrame);
    const t = byKey.get(key(a, b, rel));
    assert.ok(t, `${label}: tshark has no conversation ${a} <-> ${b} starting at ${rel}`);
    const same = t.a === a;
    const [fAB, bAB, fBA, bBA] = same ? [t.framesAB, t.bytesAB, t.framesBA, t.bytesBA] : [t.framesBA, t.bytesBA, t.framesAB, t.bytesAB];
    assert.equal(c.packetsAtoB, fAB, `${label}: ${a} -> ${b} frames`);
    assert.equal(c.packetsBtoA, fBA, `${label}: ${b} -> ${a} frames`);
    if (bAB !== null) assert.equal(c.bytesAtoB, bAB, `${label}: ${a} -> ${b} bytes`);
    if (bBA !== null) assert.equal(c.bytesBtoA, bBA, `${label}: ${b} -> ${a} bytes`);
  }
}

