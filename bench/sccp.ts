/**
 * SCCP (Skinny) signaling on one core: messages of many generated calls (CallManager 7+ V20
 * headers, the message mix of the public nDPI capture: CallState, CallInfoV2, DialedNumber,
 * OpenReceiveChannel/Ack, StartMediaTransmission, KeypadButton…) streamed in 1,400-byte TCP
 * segments. Rows: framing + decoding of every message; the same plus the station tracker and
 * call registry (legs merged into calls, expectations registered); tshark dissecting a capture of
 * the same messages, as the reference.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CallRegistry } from '../recorder/calls/call-registry.js';
import { Counters } from '../recorder/core/counters.js';
import { Status } from '../recorder/core/status.js';
import { decodeSkinnyHeader, SkinnyHeader } from '../recorder/sccp/header.js';
import { decodeSkinnyBody, SkinnyMessage } from '../recorder/sccp/message.js';
import { StationTracker } from '../recorder/sccp/station-tracker.js';
import { SkinnyStreamFramer } from '../recorder/sccp/stream-framer.js';
import { writePcap, type WriterFrame } from '../test/support/capture-writer.js';
import * as B from '../test/support/packets.js';
import { sk, V20 } from '../test/support/skinny.js';

export interface SccpBenchRow {
  name: string;
  messages: number;
  seconds: number;
  perSec: number;
  note?: string;
}

/** The messages of call `i` between stations a and b, per direction of each station's connection. */
function callMessages(i: number): { a: Buffer[]; b: Buffer[] } {
  const ra = 1000 + 2 * i;
  const rb = ra + 1;
  const ipA = `10.${(i >> 8) & 255}.${i & 255}.10`;
  const ipB = `10.${(i >> 8) & 255}.${i & 255}.20`;
  const a = [
    sk.callState(V20, 1, 1, ra),
    sk.keypad(V20, 2, 1, ra),
    sk.keypad(V20, 0, 1, ra),
    sk.dialedNumber(V20, '2002', 1, ra),
    sk.callState(V20, 3, 1, ra),
    sk.callInfo(V20, { line: 1, callRef: ra, callType: 2, calling: '1001', callingName: 'Alice', called: '2002', calledName: 'Bob' }),
    sk.callState(V20, 5, 1, ra),
    sk.openReceiveChannel(V20, { conf: ra, passThru: ra, callRef: ra }),
    sk.openReceiveChannelAck(V20, { ip: ipA, port: 20000 + (i % 20000), passThru: ra, callRef: ra }),
    sk.startMediaTransmission(V20, { conf: ra, passThru: ra, ip: ipB, port: 30000 + (i % 20000), callRef: ra }),
    sk.keypad(V20, 5, 1, ra),
    sk.callState(V20, 2, 1, ra),
  ];
  const b = [
    sk.callState(V20, 4, 1, rb),
    sk.callInfo(V20, { line: 1, callRef: rb, callType: 1, calling: '1001', callingName: 'Alice', called: '2002', calledName: 'Bob' }),
    sk.callState(V20, 5, 1, rb),
    sk.openReceiveChannel(V20, { conf: rb, passThru: rb, callRef: rb }),
    sk.openReceiveChannelAck(V20, { ip: ipB, port: 30000 + (i % 20000), passThru: rb, callRef: rb }),
    sk.startMediaTransmission(V20, { conf: rb, passThru: rb, ip: ipA, port: 20000 + (i % 20000), callRef: rb }),
    sk.callState(V20, 2, 1, rb),
  ];
  return { a, b };
}

const segments = (bytes: Buffer, size = 1400): Buffer[] => {
  const out: Buffer[] = [];
  for (let off = 0; off < bytes.length; off += size) out.push(bytes.subarray(off, Math.min(bytes.length, off + size)));
  return out;
};

export function benchSccp(calls = 20_000): SccpBenchRow[] {
  const perCall = calls > 0 ? callMessages(0) : { a: [], b: [] };
  const messages = (perCall.a.length + perCall.b.length) * calls;
  // One stream of all calls' messages (framing and decoding do not care whose they are).
  const all: Buffer[] = [];
  for (let i = 0; i < calls; i++) {
    const m = callMessages(i);
    all.push(...m.a, ...m.b);
  }
  const stream = segments(Buffer.concat(all));
  const rows: SccpBenchRow[] = [];

  // 1. Framing + header + body decode.
  {
    const counters = new Counters();
    const h = new SkinnyHeader();
    const m = new SkinnyMessage();
    let decoded = 0;
    const framer = new SkinnyStreamFramer((buf, off, len) => {
      if (decodeSkinnyHeader(buf, off, len, h) === Status.Ok && decodeSkinnyBody(h.messageId, h.version, buf, h.bodyOff, h.bodyLen, m) !== Status.Malformed) decoded++;
    }, counters);
    const t0 = performance.now();
    for (const seg of stream) framer.push(seg, 0, seg.length);
    const s = (performance.now() - t0) / 1000;
    if (decoded !== messages) throw new Error(`decoded ${decoded} of ${messages}`);
    rows.push({ name: 'framing + decoding', messages, seconds: s, perSec: messages / s });
  }

  // 2. The same through the station tracker into the call registry (two stations per call, their
  // messages in causal order: the answering phone's media messages before the caller's far end).
  {
    const counters = new Counters();
    const registry = new CallRegistry(counters);
    const tracker = new StationTracker(registry, counters);
    const work: { framer: SkinnyStreamFramer; bytes: Buffer }[] = [];
    for (let i = 0; i < calls; i++) {
      const m = callMessages(i);
      const t = { time: 1_700_000_000 + i * 0.01, frame: null };
      const [fa, fb] = [0, 1].map((k) => {
        const st = tracker.station(`10.${(i >> 8) & 255}.${i & 255}.${k ? 20 : 10}`, 50000, 0);
        return new SkinnyStreamFramer((buf, off, len) => tracker.onMessage(st, buf, off, len, t), counters);
      }) as [SkinnyStreamFramer, SkinnyStreamFramer];
      // a: up to its own ORC ack; b: up to its media; a: the rest but on hook; then both on hook.
      const order: [SkinnyStreamFramer, Buffer[]][] = [[fa, m.a.slice(0, 9)], [fb, m.b.slice(0, 6)], [fa, m.a.slice(9, 11)], [fa, m.a.slice(11)], [fb, m.b.slice(6)]];
      for (const [framer, list] of order) work.push({ framer, bytes: Buffer.concat(list) });
    }
    const t0 = performance.now();
    for (const w of work) w.framer.push(w.bytes, 0, w.bytes.length);
    const s = (performance.now() - t0) / 1000;
    rows.push({ name: 'framing + decoding + stations + registry', messages, seconds: s, perSec: messages / s, note: `${counters.get('calls.ended_onhook')} calls recorded, ${counters.get('sccp.legs_merged') + counters.get('sccp.legs_moved')} second legs joined` });
  }

  // 3. tshark dissecting the same messages (one message per TCP segment, like packet-skinny sees them).
  const n = Math.min(calls, 5000);
  const dir = mkdtempSync(join(tmpdir(), 'bench-sccp-'));
  try {
    const frames: WriterFrame[] = [];
    let seq = 1;
    for (let i = 0; i < n; i++) {
      const m = callMessages(i);
      for (const msg of [...m.a, ...m.b]) {
        frames.push({ tsSec: 1_700_000_000 + frames.length, tsNsec: 0, data: B.ethernet(B.ipv4('10.1.0.1', '10.1.1.10', 6, B.tcp(2000, 50000, seq, 1, B.TCP.ACK | B.TCP.PSH, msg))) });
        seq += msg.length;
      }
    }
    const file = join(dir, 'sccp.pcap');
    writePcap(file, frames, { linkType: 1 });
    const t0 = performance.now();
    const r = spawnSync('tshark', ['-r', file, '-Y', 'skinny', '-T', 'fields', '-e', 'skinny.messageId'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const s = (performance.now() - t0) / 1000;
    if (r.status === 0) rows.push({ name: 'tshark -T fields -e skinny.messageId (reference)', messages: frames.length, seconds: s, perSec: frames.length / s, note: 'tshark 4.0, process start included' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
