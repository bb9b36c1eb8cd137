/**
 * The native fast path for known RTP flows (native/fastpath/rtp_fast_path.c) must change nothing
 * but speed: every capture replayed with it and without it gives the same call records (the
 * RTP statistics included), the same counters and layer counts, and the same spool bytes. The
 * generated capture puts in front of it what it must leave to TypeScript or get exactly right:
 * loss, reordering, duplicates, an SSRC change, DTMF events inside the stream, RTCP on the RTP
 * port, RTP padding, extensions and CSRCs, 802.1Q tags, IPv4 options, a snaplen cut, fragments, a
 * sequence wrap, calls across sweeps, a re-INVITE to another port and RTP after the BYE.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openCaptureFile } from '../../../recorder/capture/file-source.js';
import { LinkType } from '../../../recorder/capture/frame.js';
import { CallRecorder } from '../../../recorder/call-recorder.js';
import { Counters } from '../../../recorder/core/counters.js';
import { Pipeline } from '../../../recorder/pipeline.js';
import { SpoolDirectory } from '../../../recorder/spool/spool-directory.js';
import { MEDIA_FILE } from '../../../recorder/spool/spool-meta.js';
import { CallScenario, sdp } from '../../support/call-scenario.js';
import { writePcap, type WriterFrame } from '../../support/capture-writer.js';
import * as B from '../../support/packets.js';
import { tempDir } from '../../support/temp-dir.js';

interface Outcome {
  records: string;
  counters: Record<string, number>;
  layers: string;
  spools: Map<string, Buffer>;
  taken: number;
}

async function replay(path: string, fast: boolean, turnPorts: number[] = []): Promise<Outcome> {
  const root = join(tempDir('fastpath-'), 'spool');
  const counters = new Counters();
  const spool = new SpoolDirectory(root, counters, { lossless: true });
  const recorder = new CallRecorder({ counters, spool, pool: null, fastPath: fast, ...(turnPorts.length > 0 ? { turn: { serverPorts: turnPorts } } : {}) });
  if (fast) assert.notEqual(recorder.fastPath, null, 'the capture addon with rtpFastPath must be loadable in tests');
  const pipeline = new Pipeline(counters, recorder);
  const cap = await openCaptureFile(path, counters);
  try {
    for await (const batch of cap.batches()) pipeline.pushBatch(batch);
  } finally {
    await cap.close();
  }
  pipeline.finish();
  const records = await recorder.finish(pipeline.now, 'capture-end');
  await spool.closeAll();
  const spools = new Map<string, Buffer>();
  for (const d of readdirSync(root)) {
    const f = join(root, d, MEDIA_FILE);
    if (existsSync(f)) spools.set(d, readFileSync(f));
  }
  // The spool writer's batching follows wall-clock ticks too: its own counters are left out.
  const c = Object.fromEntries(Object.entries(counters.toJSON()).filter(([k]) => !k.startsWith('spool.')));
  return {
    // In the order their spools were closed (the writer thread's timing): sorted for comparison.
    records: JSON.stringify([...records].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))).replaceAll(root, '<root>'),
    counters: c,
    layers: JSON.stringify(pipeline.decoder.layers),
    spools,
    taken: recorder.fastPath?.taken ?? 0,
  };
}

async function same(path: string, turnPorts: number[] = []): Promise<Outcome> {
  const ts = await replay(path, false, turnPorts);
  const c = await replay(path, true, turnPorts);
  assert.equal(c.records, ts.records, `${path}: call records differ`);
  assert.deepEqual(c.counters, ts.counters, `${path}: counters differ`);
  assert.equal(c.layers, ts.layers, `${path}: layer counts differ`);
  assert.deepEqual([...c.spools.keys()], [...ts.spools.keys()]);
  for (const [k, b] of c.spools) assert.ok(b.equals(ts.spools.get(k)!), `${path}: spool ${k} differs`);
  return c;
}

/** RTP with every header feature: CSRCs, an extension, padding, the marker. */
function fancyRtp(seq: number, ts: number, ssrc: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(12 + 8 + 8);
  h[0] = 0x80 | 0x20 | 0x10 | 2; // padding, extension, 2 CSRCs
  h[1] = 0x80; // marker, PT 0
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(ts, 4);
  h.writeUInt32BE(ssrc, 8);
  h.writeUInt32BE(0x11111111, 12);
  h.writeUInt32BE(0x22222222, 16);
  h.writeUInt16BE(0xbede, 20);
  h.writeUInt16BE(1, 22);
  h.writeUInt32BE(0x10ff0000, 24);
  const pad = Buffer.from([0, 0, 3]);
  return Buffer.concat([h, payload, pad]);
}

/** The frame's network layer and its EtherType, past the Ethernet header and any 802.1Q tags. */
function networkLayer(frame: Buffer): { type: number; ip: Buffer } {
  let off = 12;
  let type = frame.readUInt16BE(off);
  while (type === 0x8100 || type === 0x88a8) {
    off += 4;
    type = frame.readUInt16BE(off);
  }
  return { type, ip: frame.subarray(off + 2) };
}

/** The same frames in another link layer: Linux cooked v1 or v2 (captures on `any`), or raw IP. */
function relink(frames: WriterFrame[], linkType: number): WriterFrame[] {
  return frames.map((f) => {
    const { type, ip } = networkLayer(f.data);
    const cut = (f.len ?? f.data.length) - f.data.length;
    let data: Buffer;
    if (linkType === LinkType.LinuxSll) data = B.sll(ip, type);
    else if (linkType === LinkType.LinuxSll2) data = B.sll2(ip, type);
    else data = ip;
    return { ...f, data, ...(cut > 0 ? { len: data.length + cut } : {}) };
  });
}

function impairedCapture(linkType: number = LinkType.Ethernet): string {
  const a = { ip: '10.1.0.10', sipPort: 5060 };
  const b = { ip: '10.1.0.20', sipPort: 5060 };
  const sc = new CallScenario('impaired@test', a, b);
  sc.sip(0, 'caller', sc.request('INVITE', 'caller', { body: sdp({ ip: a.ip, port: 4000, pts: [0, 101] }), cseq: 1 }));
  sc.sip(0.2, 'callee', sc.response(200, 'OK', 'callee', 1, 'INVITE', { toTag: 't1', body: sdp({ ip: b.ip, port: 6000, pts: [0, 101] }) }));
  // Caller → callee: loss, reordering, a sequence wrap, across several sweeps.
  sc.rtp({ from: 'caller', srcIp: a.ip, srcPort: 4000, dstIp: b.ip, dstPort: 6000, ssrc: 0xa1, at: 0.3, count: 250, seq0: 65400, drop: [10, 11, 40, 200], swap: [[20, 21], [100, 103]] });
  // Callee → caller: DTMF events inside the stream, then an SSRC change.
  sc.rtp({ from: 'callee', srcIp: b.ip, srcPort: 6000, dstIp: a.ip, dstPort: 4000, ssrc: 0xb1, at: 0.31, count: 100 });
  sc.rtp({ from: 'callee', srcIp: b.ip, srcPort: 6000, dstIp: a.ip, dstPort: 4000, ssrc: 0xb1, pt: 101, at: 1.011, count: 5, seq0: 1100, ts0: 66_000, tsStep: 0, payload: () => Buffer.from([5, 0x0a, 0, 160]) });
  sc.rtp({ from: 'callee', srcIp: b.ip, srcPort: 6000, dstIp: a.ip, dstPort: 4000, ssrc: 0xb1, at: 1.13, count: 50, seq0: 1105, ts0: 68_000 });
  sc.rtp({ from: 'callee', srcIp: b.ip, srcPort: 6000, dstIp: a.ip, dstPort: 4000, ssrc: 0xb2, at: 2.2, count: 150, seq0: 7 });
  const extra: WriterFrame[] = [];
  const at = (t: number, data: Buffer, len?: number): void => {
    const ns = Math.round(t * 1e9);
    extra.push({ tsSec: sc.t0 + Math.floor(ns / 1e9), tsNsec: ns % 1e9, data, ...(len === undefined ? {} : { len }) });
  };
  const rtpFrom = (seq: number, ts: number, ssrc: number, o: { vlans?: number[]; ipOptions?: Buffer; body?: Buffer } = {}): Buffer =>
    B.ethernet(B.ipv4(a.ip, b.ip, 17, B.udp(4000, 6000, o.body ?? B.rtp(seq, ts, ssrc, 0, 160)), o.ipOptions ? { options: o.ipOptions } : {}), 0x0800, o.vlans ?? []);
  // A duplicate of a packet already sent (caller stream, seq 65400 + 50).
  at(1.31, rtpFrom((65400 + 50) & 0xffff, 50_000 + 50 * 160, 0xa1));
  // Caller stream continues after its 250 packets (5.3 s): 802.1Q-tagged, QinQ, IPv4 options, fancy RTP headers.
  let seq = (65400 + 250) & 0xffff;
  let ts = 50_000 + 250 * 160;
  for (let i = 0; i < 60; i++, seq = (seq + 1) & 0xffff, ts += 160) {
    const t = 5.3 + i * 0.02;
    if (i < 15) at(t, rtpFrom(seq, ts, 0xa1, { vlans: [42] }));
    else if (i < 25) at(t, rtpFrom(seq, ts, 0xa1, { vlans: [100, 200] }));
    else if (i < 35) at(t, rtpFrom(seq, ts, 0xa1, { ipOptions: Buffer.from([1, 1, 1, 0]) }));
    else if (i < 45) at(t, rtpFrom(seq, ts, 0xa1, { body: fancyRtp(seq, ts, 0xa1, Buffer.alloc(160, i)) }));
    else if (i === 45) at(t, rtpFrom(seq, ts, 0xa1).subarray(0, 100), 14 + 20 + 8 + 172); // cut by the snaplen
    else if (i === 46) {
      // An RTP packet sent as two IP fragments.
      const dgram = B.udp(4000, 6000, B.rtp(seq, ts, 0xa1, 0, 160));
      at(t, B.ethernet(B.ipv4(a.ip, b.ip, 17, dgram.subarray(0, 96), { id: 77, fragOffset: 0, more: true })));
      at(t + 0.0001, B.ethernet(B.ipv4(a.ip, b.ip, 17, dgram.subarray(96), { id: 77, fragOffset: 96, more: false })));
    } else if (i === 47) {
      // RTCP (a sender report) multiplexed on the RTP port (RFC 5761).
      const sr = Buffer.alloc(28);
      sr[0] = 0x80;
      sr[1] = 200;
      sr.writeUInt16BE(6, 2);
      sr.writeUInt32BE(0xa1, 4);
      at(t, B.ethernet(B.ipv4(a.ip, b.ip, 17, B.udp(4000, 6000, sr))));
    } else at(t, rtpFrom(seq, ts, 0xa1));
  }
  // A re-INVITE moves the callee's media to another port; then BYE, and RTP after it.
  sc.sip(6.8, 'caller', sc.request('INVITE', 'caller', { toTag: 't1', body: sdp({ ip: a.ip, port: 4000 }), cseq: 2 }));
  sc.sip(6.9, 'callee', sc.response(200, 'OK', 'callee', 2, 'INVITE', { toTag: 't1', body: sdp({ ip: b.ip, port: 6100 }) }));
  sc.rtp({ from: 'caller', srcIp: a.ip, srcPort: 4000, dstIp: b.ip, dstPort: 6100, ssrc: 0xa1, at: 7, count: 40, seq0: 100, ts0: 900_000 });
  sc.sip(8, 'caller', sc.request('BYE', 'caller', { toTag: 't1', cseq: 3 }));
  sc.rtp({ from: 'caller', srcIp: a.ip, srcPort: 4000, dstIp: b.ip, dstPort: 6100, ssrc: 0xa1, at: 8.1, count: 10, seq0: 140, ts0: 906_400 });
  const sorted = [...sc.frames, ...extra].sort((x, y) => x.tsSec - y.tsSec || x.tsNsec - y.tsNsec);
  const frames = linkType === LinkType.Ethernet ? sorted : relink(sorted, linkType);
  const path = join(tempDir('fastpath-cap-'), `impaired-${linkType}.pcap`);
  writePcap(path, frames, { linkType, snaplen: 65535 });
  return path;
}

describe('native RTP fast path', () => {
  it('an impaired call replays to the same records, counters, layers and spool bytes with it and without it', async () => {
    const out = await same(impairedCapture());
    const rec = JSON.parse(out.records) as { streams: { packets: number; lost: number; outOfOrder: number; duplicates: number }[] }[];
    assert.equal(rec.length, 1);
    // The fast path took most of the in-order packets: what it changes is speed.
    assert.ok(out.taken > 400, `${out.taken} frames taken`);
    const all = rec[0]!.streams;
    assert.ok(all.some((s) => s.lost > 0) && all.some((s) => s.outOfOrder > 0) && all.some((s) => s.duplicates > 0), JSON.stringify(all));
  });

  for (const [name, linkType] of [
    ['Linux cooked (SLL)', LinkType.LinuxSll],
    ['Linux cooked v2 (SLL2)', LinkType.LinuxSll2],
    ['raw IP', LinkType.Raw],
  ] as const) {
    it(`the impaired call as ${name} frames replays the same with it and without it`, async () => {
      const out = await same(impairedCapture(linkType));
      assert.ok(out.taken > 400, `${out.taken} frames taken`);
    });
  }

  it('never takes packets of a TURN server port (the unwrapper sees every one of them)', async () => {
    const path = impairedCapture();
    // Every RTP packet of the call is from or to port 4000 or 6000/6100; 4000 is a "TURN server port" here.
    const out = await same(path, [4000]);
    assert.equal(out.taken, 0);
    assert.ok((await same(path, [6000])).taken > 0, 'the flows to port 6100 after the re-INVITE are still taken');
  });

  for (const f of readdirSync('fixtures').filter((x) => /\.pcap(ng)?$/.test(x))) {
    it(`fixtures/${f} replays the same with it and without it`, async () => {
      await same(join('fixtures', f));
    });
  }
});
