import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CaptureFileError, openCaptureFile, type CaptureFile } from '../../../recorder/capture/file-source.js';
import { formatEpochNs, LinkType, type Frame } from '../../../recorder/capture/frame.js';
import { SplitTime, splitTicks, tsResolution } from '../../../recorder/capture/pcapng-timestamp.js';
import { Counters } from '../../../recorder/core/counters.js';
import {
  encodePcap,
  encodePcapng,
  fromTicks,
  toTicks,
  type PcapngInterface,
  type PcapngRecord,
  type WriterFrame,
} from '../../support/capture-writer.js';
import { tshark } from '../../support/tshark.js';
import { prng as rng } from '../../support/random.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir('file-source-');
after(() => rmSync(dir, { recursive: true, force: true }));

const randomBytes = (rand: () => number, n: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
};

/** Wireshark's WTAP_ENCAP_* for the link types we write (as tshark 4.0 prints frame.encap_type). */
const WTAP_ENCAP: Record<number, number> = {
  [LinkType.Null]: 15,
  [LinkType.Ethernet]: 1,
  [LinkType.Raw]: 7,
  [LinkType.Loop]: 174,
  [LinkType.LinuxSll]: 25,
  [LinkType.Ipv4]: 129,
  [LinkType.Ipv6]: 130,
  [LinkType.LinuxSll2]: 210,
};

interface Row {
  time: string;
  len: number;
  caplen: number;
  /** Interface id within its pcapng section (tshark 4.0 numbers per section). */
  iface: number;
  encap: number;
  md5: string;
}

interface ReadResult {
  cap: CaptureFile;
  frames: Frame[];
  counters: Counters;
  batchSizes: number[];
}

/** Reads a whole file, copying each frame's bytes (views are only valid within their batch). */
async function readAll(path: string, chunkSize?: number): Promise<ReadResult> {
  const counters = new Counters();
  const cap = await openCaptureFile(path, counters, chunkSize === undefined ? {} : { chunkSize });
  const frames: Frame[] = [];
  const batchSizes: number[] = [];
  try {
    for await (const batch of cap.batches()) {
      batchSizes.push(batch.length);
      for (const f of batch) {
        assert.equal(f.data.length, f.caplen);
        // The reader's view of its memory (the spool copies payloads through it) holds the frame's bytes.
        const { view, viewAt, ...rest } = f;
        assert.ok(view !== undefined && viewAt !== undefined, 'file frames carry their reader view');
        assert.ok(Buffer.from(view.buffer, view.byteOffset + viewAt, f.caplen).equals(f.data), 'the view holds the frame at viewAt');
        frames.push({ ...rest, data: Buffer.from(f.data) });
      }
    }
  } finally {
    await cap.close();
  }
  return { cap, frames, counters, batchSizes };
}

function ourRows(r: ReadResult): Row[] {
  const ifaces = r.cap.interfaces;
  return r.frames.map((f) => {
    const section = ifaces[f.iface]?.section ?? 0;
    const first = ifaces.findIndex((i) => i.section === section);
    return {
      time: formatEpochNs(f.tsSec, f.tsNsec),
      len: f.len,
      caplen: f.caplen,
      iface: f.iface - Math.max(first, 0),
      encap: WTAP_ENCAP[f.linkType] ?? -f.linkType,
      md5: createHash('md5').update(f.data).digest('hex'),
    };
  });
}

function tsharkRows(path: string): Row[] {
  const out = tshark([
    '-o', 'frame.generate_md5_hash:TRUE', '-r', path, '-T', 'fields',
    '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len',
    '-e', 'frame.interface_id', '-e', 'frame.encap_type', '-e', 'frame.md5_hash',
  ]); // prettier-ignore
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'))
    // tshark 4.0 also lists custom blocks as records, with no encapsulation: not packets.
    .filter((cols) => cols[4] !== '')
    .map((cols) => {
      const [time, len, caplen, iface, encap, md5] = cols as [string, string, string, string, string, string];
      return {
        // A Simple Packet Block has no timestamp: tshark prints none, we give 0.
        time: time === '' ? formatEpochNs(0, 0) : time,
        len: Number(len),
        caplen: Number(caplen),
        iface: iface === '' ? 0 : Number(iface),
        encap: Number(encap),
        md5,
      };
    });
}

async function assertSameAsTshark(path: string, chunkSize?: number): Promise<ReadResult> {
  const r = await readAll(path, chunkSize);
  const theirs = tsharkRows(path);
  const ours = ourRows(r);
  assert.equal(ours.length, theirs.length, `${path}: frame count`);
  for (let i = 0; i < ours.length; i++) assert.deepEqual(ours[i], theirs[i], `${path}: frame ${i + 1}`);
  assert.equal(r.counters.get('capture.packets'), ours.length);
  assert.equal(r.counters.get('capture.truncated'), 0);
  assert.equal(r.counters.get('capture.malformed'), 0);
  for (const n of r.batchSizes) assert.ok(n >= 1 && n <= 1024, `batch size ${n}`);
  return r;
}

describe('capture file reader against tshark on public captures', () => {
  const files = [
    { file: 'sipp__g711a.pcap', format: 'pcap', links: [LinkType.Ethernet] },
    { file: 'nDPI__rtcp_multiple_pkts_in_the_same_datagram.pcap', format: 'pcap', links: [LinkType.LinuxSll] },
    { file: 'lundgrel-sipp__RTP_pcma_2min_cisco_hold.pcapng', format: 'pcapng', links: [LinkType.Ethernet] },
    { file: 'nDPI__sccp_hw_conf_register.pcapng', format: 'pcapng', links: [LinkType.Ethernet] },
    // Named .pcap but pcapng: five interfaces, one of them at ns resolution.
    { file: 'nDPI__stun.pcap', format: 'pcapng', links: [1, 1, 1, 1, 1] },
  ] as const;
  for (const { file, format, links } of files) {
    it(file, async () => {
      const path = join('fixtures', file);
      const r = await assertSameAsTshark(path);
      assert.equal(r.cap.format, format);
      assert.deepEqual(
        r.cap.interfaces.map((i) => i.linkType),
        links,
      );
      // Tiny reads reach the refill, compaction and growth paths; the result must not change.
      const small = await readAll(path, 100);
      assert.deepEqual(small.frames, r.frames);
    });
  }

  it('nDPI__stun.pcap interfaces are known at open, with their resolutions', async () => {
    const cap = await openCaptureFile('fixtures/nDPI__stun.pcap', new Counters());
    await cap.close();
    assert.deepEqual(
      cap.interfaces.map((i) => i.tsUnitsPerSec),
      [1e6, 1e9, 1e6, 1e6, 1e6],
    );
  });
});

/** Frames with edge-case sizes and times, random contents. */
function sampleFrames(seed: number, n: number, maxSec = 0xffffffff): WriterFrame[] {
  const rand = rng(seed);
  const secs = [0, 1, 1_700_000_000, maxSec];
  const nsecs = [0, 999_999_999, 1000, 999_999, 1];
  const frames: WriterFrame[] = [];
  for (let i = 0; i < n; i++) {
    const size = i === 0 ? 0 : i % 7 === 0 ? 1514 : Math.floor(rand() * 300);
    frames.push({
      tsSec: secs[i] ?? 1_600_000_000 + Math.floor(rand() * 200_000_000),
      tsNsec: nsecs[i] ?? Math.floor(rand() * 1e9),
      data: randomBytes(rand, size),
      // Some frames cut by a snaplen: the wire length is larger.
      ...(i % 5 === 3 ? { len: size + 100 } : {}),
    });
  }
  return frames;
}

describe('generated pcap files', () => {
  for (const nanosecond of [false, true]) {
    for (const bigEndian of [false, true]) {
      it(`${nanosecond ? 'ns' : 'µs'} ${bigEndian ? 'big' : 'little'}-endian`, async () => {
        const frames = sampleFrames(nanosecond ? 11 : 12, 300);
        const path = join(dir, `gen-${nanosecond ? 'ns' : 'us'}-${bigEndian ? 'be' : 'le'}.pcap`);
        writeFileSync(path, encodePcap(frames, { linkType: LinkType.Raw, nanosecond, bigEndian }));
        const r = await assertSameAsTshark(path);
        assert.equal(r.cap.format, 'pcap');
        assert.deepEqual(r.cap.interfaces, [
          { linkType: LinkType.Raw, snaplen: 262144, tsUnitsPerSec: nanosecond ? 1e9 : 1e6, section: 0 },
        ]);
        assert.equal(r.frames.length, frames.length);
        r.frames.forEach((f, i) => {
          const w = frames[i]!;
          assert.equal(f.tsSec, w.tsSec);
          assert.equal(f.tsNsec, nanosecond ? w.tsNsec : Math.floor(w.tsNsec / 1000) * 1000);
          assert.equal(f.len, w.len ?? w.data.length);
          assert.equal(f.iface, 0);
          assert.equal(f.linkType, LinkType.Raw);
          assert.deepEqual(f.data, w.data);
        });
        assert.ok(r.batchSizes.length === 1 && r.batchSizes[0] === 300);
      });
    }
  }

  it('batches hold at most 1024 frames, each valid until the next batch', async () => {
    const frames = sampleFrames(13, 3000);
    const path = join(dir, 'gen-3000.pcap');
    writeFileSync(path, encodePcap(frames, { linkType: LinkType.Ethernet, nanosecond: true }));
    for (const chunkSize of [undefined, 4096]) {
      const r = await readAll(path, chunkSize);
      assert.ok(r.batchSizes.every((n) => n <= 1024));
      assert.equal(r.frames.length, 3000);
      r.frames.forEach((f, i) => assert.deepEqual(f.data, frames[i]!.data));
    }
  });
});

/** Interfaces of the big pcapng test: link types and resolutions all differ. */
const IFACES: PcapngInterface[] = [
  { linkType: LinkType.Ethernet, snaplen: 1600 }, // no if_tsresol: the default 10^-6
  { linkType: LinkType.Raw, tsresol: 9, name: 'raw0' },
  { linkType: LinkType.Ipv4, tsresolBinary: 20 },
  { linkType: LinkType.LinuxSll, tsresol: 6, tsoffset: 1000, name: 'sll with offset' },
  { linkType: LinkType.Ipv6, tsresolBinary: 32 },
  { linkType: LinkType.Null, tsresol: 3 },
];

/** Records for one section: EPBs on every interface, SPBs, an obsolete PB and blocks to skip. */
function sectionRecords(seed: number, ifaces: readonly PcapngInterface[]): PcapngRecord[] {
  const frames = sampleFrames(seed, 120, 17_000_000_000);
  const rand = rng(seed + 1);
  const records: PcapngRecord[] = [];
  frames.forEach((f, i) => {
    const iface = i % ifaces.length;
    if (f.data.length > (ifaces[iface]!.snaplen ?? 262144)) f.data = f.data.subarray(0, ifaces[iface]!.snaplen);
    records.push({ ...f, iface, ...(i % 17 === 5 ? { block: 'pb' as const } : {}) });
    if (i === 10) records.push({ block: 'raw', type: 4, body: Buffer.alloc(4) }); // NRB, end-of-records only
    if (i === 20) records.push({ block: 'raw', type: 0xbad, body: randomBytes(rand, 37) }); // custom block
    if (i === 30) records.push({ block: 'raw', type: 0x12345678, body: randomBytes(rand, 5000) }); // unknown
    if (i === 40) records.push({ block: 'raw', type: 5, body: Buffer.alloc(20) }); // ISB
    if (i === 50) records.push({ block: 'raw', type: 0x0a, body: Buffer.alloc(12) }); // DSB
    // SPBs use interface 0; a long one holds snaplen bytes (§4.4), its original length kept.
    if (i === 60) records.push({ block: 'spb', tsSec: 0, tsNsec: 0, data: randomBytes(rand, 61) });
    const cut = Math.min(9000, ifaces[0]!.snaplen ?? 262144);
    if (i === 61) records.push({ block: 'spb', tsSec: 0, tsNsec: 0, data: randomBytes(rand, cut), len: 9000 });
  });
  return records;
}

/** What a reader must produce for records written with these interfaces (BigInt reference). */
function expectedFrames(records: readonly PcapngRecord[], ifaces: readonly PcapngInterface[], base = 0) {
  const out: { iface: number; tsSec: number; tsNsec: number; len: number; data: Buffer }[] = [];
  for (const r of records) {
    if (r.block === 'raw') continue;
    if (r.block === 'spb') {
      out.push({ iface: base, tsSec: 0, tsNsec: 0, len: r.len ?? r.data.length, data: r.data });
      continue;
    }
    const i = ifaces[r.iface ?? 0]!;
    out.push({
      iface: base + (r.iface ?? 0),
      ...fromTicks(i, toTicks(i, r.tsSec, r.tsNsec)),
      len: r.len ?? r.data.length,
      data: r.data,
    });
  }
  return out;
}

describe('generated pcapng files', () => {
  for (const bigEndian of [false, true]) {
    it(`${bigEndian ? 'big' : 'little'}-endian, six interfaces, SPB, PB and skipped blocks`, async () => {
      const records = sectionRecords(bigEndian ? 21 : 22, IFACES);
      const path = join(dir, `gen-${bigEndian ? 'be' : 'le'}.pcapng`);
      writeFileSync(path, encodePcapng(records, { interfaces: IFACES, bigEndian }));
      const r = await assertSameAsTshark(path);
      assert.equal(r.cap.format, 'pcapng');
      assert.deepEqual(r.cap.interfaces, [
        { linkType: LinkType.Ethernet, snaplen: 1600, tsUnitsPerSec: 1e6, section: 0 },
        { linkType: LinkType.Raw, snaplen: 262144, tsUnitsPerSec: 1e9, section: 0, name: 'raw0' },
        { linkType: LinkType.Ipv4, snaplen: 262144, tsUnitsPerSec: 2 ** 20, section: 0 },
        { linkType: LinkType.LinuxSll, snaplen: 262144, tsUnitsPerSec: 1e6, section: 0, tsOffsetSec: 1000, name: 'sll with offset' },
        { linkType: LinkType.Ipv6, snaplen: 262144, tsUnitsPerSec: 2 ** 32, section: 0 },
        { linkType: LinkType.Null, snaplen: 262144, tsUnitsPerSec: 1e3, section: 0 },
      ]); // prettier-ignore
      const want = expectedFrames(records, IFACES);
      assert.equal(r.frames.length, want.length);
      r.frames.forEach((f, k) => {
        const w = want[k]!;
        assert.deepEqual({ iface: f.iface, tsSec: f.tsSec, tsNsec: f.tsNsec, len: f.len, data: f.data }, w, `frame ${k + 1}`);
        assert.equal(f.linkType, IFACES[f.iface]!.linkType);
      });
      const small = await readAll(path, 64);
      assert.deepEqual(small.frames, r.frames);
    });
  }

  it('several sections with different byte orders and interfaces', async () => {
    const second: PcapngInterface[] = [
      { linkType: LinkType.LinuxSll2, tsresol: 9 },
      { linkType: LinkType.Ethernet, tsresolBinary: 10 },
    ];
    const third: PcapngInterface[] = [{ linkType: LinkType.Loop }];
    const r1 = sectionRecords(31, IFACES);
    const r2 = sectionRecords(32, second);
    const r3 = sectionRecords(33, third);
    const path = join(dir, 'gen-sections.pcapng');
    writeFileSync(
      path,
      Buffer.concat([
        encodePcapng(r1, { interfaces: IFACES }),
        encodePcapng(r2, { interfaces: second, bigEndian: true }),
        encodePcapng(r3, { interfaces: third }),
      ]),
    );
    const r = await assertSameAsTshark(path);
    assert.deepEqual(
      r.cap.interfaces.map((i) => [i.section, i.linkType]),
      [...IFACES.map((i) => [0, i.linkType]), [1, LinkType.LinuxSll2], [1, LinkType.Ethernet], [2, LinkType.Loop]],
    );
    const want = [...expectedFrames(r1, IFACES), ...expectedFrames(r2, second, 6), ...expectedFrames(r3, third, 8)];
    assert.deepEqual(
      r.frames.map((f) => [f.iface, f.tsSec, f.tsNsec]),
      want.map((w) => [w.iface, w.tsSec, w.tsNsec]),
    );
    assert.deepEqual((await readAll(path, 50)).frames, r.frames);
  });

  it('timestamps beyond 2^53 ticks and exotic resolutions match exact BigInt arithmetic', () => {
    const rand = rng(41);
    const out = new SplitTime();
    const codes = [0, 1, 3, 6, 9, 10, 12, 15, 18, 0x80, 0x81, 0x89, 0x8a, 0x94, 0x9f, 0xa0, 0xa1, 0xbf];
    for (const code of codes) {
      const res = tsResolution(code, code === 6 ? -3600 : 0);
      const units = (code & 0x80 ? 2n : 10n) ** BigInt(code & 0x7f);
      for (let k = 0; k < 2000; k++) {
        // Mix of edge values and random 64-bit counts.
        const hi = k === 0 ? 0xffffffff : k === 1 ? 0 : k === 2 ? 0x100000 : Math.floor(rand() * 2 ** 32);
        const lo = k === 0 ? 0xffffffff : k === 3 ? 0 : Math.floor(rand() * 2 ** 32);
        const ticks = (BigInt(hi) << 32n) | BigInt(lo);
        splitTicks(hi, lo, res, out);
        const sec = ticks / units + BigInt(res.offsetSec);
        const nsec = ((ticks % units) * 1_000_000_000n) / units;
        // Seconds beyond 2^53 cannot be exact in a double (only at 1-second resolution, year 285 million).
        if (sec < 2n ** 53n) assert.equal(BigInt(out.sec), sec, `code ${code} ticks ${ticks}`);
        assert.equal(BigInt(out.nsec), nsec, `code ${code} ticks ${ticks}`);
      }
    }
  });
});

/** Offsets where each pcap record ends, and the file header length. */
function pcapRecordEnds(buf: Buffer): number[] {
  const ends: number[] = [];
  for (let off = 24; off + 16 <= buf.length; ) {
    off += 16 + buf.readUInt32LE(off + 8);
    ends.push(off);
  }
  return ends;
}

/** Block ends of a little-endian single-section pcapng, flagged when the block is a packet. */
function pcapngBlockEnds(buf: Buffer): { end: number; packet: boolean }[] {
  const ends: { end: number; packet: boolean }[] = [];
  for (let off = 0; off + 8 <= buf.length; ) {
    const type = buf.readUInt32LE(off);
    off += buf.readUInt32LE(off + 4);
    ends.push({ end: off, packet: type === 2 || type === 3 || type === 6 });
  }
  return ends;
}

describe('truncated files', () => {
  const path = join(dir, 'cut.bin');

  async function readCut(buf: Buffer, cut: number, chunkSize: number): Promise<ReadResult | CaptureFileError> {
    writeFileSync(path, buf.subarray(0, cut));
    try {
      return await readAll(path, chunkSize);
    } catch (e) {
      if (e instanceof CaptureFileError) return e;
      throw e;
    }
  }

  it('pcap cut at every length: the complete records, then capture.truncated', async () => {
    const frames = sampleFrames(51, 8).map((f) => ({ ...f, data: f.data.subarray(0, 40) }));
    const buf = encodePcap(frames, { linkType: LinkType.Ethernet });
    const ends = pcapRecordEnds(buf);
    for (const chunkSize of [16, 4096]) {
      for (let cut = 0; cut <= buf.length; cut++) {
        const r = await readCut(buf, cut, chunkSize);
        if (cut < 24) {
          assert.ok(r instanceof CaptureFileError, `cut ${cut}`);
          continue;
        }
        if (r instanceof CaptureFileError) assert.fail(`cut ${cut}: ${r.message}`);
        const complete = ends.filter((e) => e <= cut).length;
        assert.equal(r.frames.length, complete, `cut ${cut}`);
        r.frames.forEach((f, i) => assert.deepEqual(f.data, frames[i]!.data));
        const atBoundary = cut === 24 || ends.includes(cut);
        assert.equal(r.counters.get('capture.truncated'), atBoundary ? 0 : 1, `cut ${cut}`);
        assert.equal(r.counters.get('capture.malformed'), 0);
      }
    }
  });

  it('pcapng cut at every length: the complete blocks, then capture.truncated', async () => {
    const rand = rng(52);
    const records: PcapngRecord[] = [
      { iface: 0, tsSec: 1, tsNsec: 2000, data: randomBytes(rand, 30) },
      { block: 'raw', type: 0x77, body: randomBytes(rand, 90) },
      { iface: 1, tsSec: 3, tsNsec: 4, data: randomBytes(rand, 5) },
      { block: 'spb', tsSec: 0, tsNsec: 0, data: randomBytes(rand, 22) },
      { iface: 1, tsSec: 5, tsNsec: 6, data: randomBytes(rand, 0), block: 'pb' },
      { iface: 0, tsSec: 7, tsNsec: 8000, data: randomBytes(rand, 70) },
    ];
    const ifaces: PcapngInterface[] = [{ linkType: 1 }, { linkType: 101, tsresol: 9, name: 'x' }];
    const buf = encodePcapng(records, { interfaces: ifaces });
    const blocks = pcapngBlockEnds(buf);
    const shbLen = blocks[0]!.end;
    const packets = records.filter((r) => r.block !== 'raw');
    for (const chunkSize of [8, 40, 4096]) {
      for (let cut = 0; cut <= buf.length; cut++) {
        const r = await readCut(buf, cut, chunkSize);
        if (cut < shbLen) {
          assert.ok(r instanceof CaptureFileError, `cut ${cut}`);
          continue;
        }
        if (r instanceof CaptureFileError) assert.fail(`cut ${cut}: ${r.message}`);
        const complete = blocks.filter((b) => b.packet && b.end <= cut).length;
        assert.equal(r.frames.length, complete, `cut ${cut} chunk ${chunkSize}`);
        r.frames.forEach((f, i) => assert.deepEqual(f.data, packets[i]!.data));
        const atBoundary = blocks.some((b) => b.end === cut);
        assert.equal(r.counters.get('capture.truncated'), atBoundary ? 0 : 1, `cut ${cut} chunk ${chunkSize}`);
        assert.equal(r.counters.get('capture.malformed'), 0);
      }
    }
  });
});

describe('damaged files', () => {
  it('pcap: an absurd captured length stops the file after the frames before it', async () => {
    const frames = sampleFrames(61, 5);
    const buf = encodePcap(frames, { linkType: 1 });
    const third = pcapRecordEnds(buf)[1]!;
    buf.writeUInt32LE(300 * 1024, third + 8);
    const path = join(dir, 'bad-caplen.pcap');
    writeFileSync(path, buf);
    const r = await readAll(path);
    assert.equal(r.frames.length, 2);
    assert.equal(r.counters.get('capture.malformed'), 1);
    assert.equal(r.counters.get('capture.truncated'), 0);
  });

  it('pcapng: bad packet blocks are skipped by length, a broken block length stops', async () => {
    const rand = rng(62);
    const records: PcapngRecord[] = [0, 1, 2, 3, 4].map((i) => ({ tsSec: i, tsNsec: 0, data: randomBytes(rand, 20) }));
    const buf = encodePcapng(records, { interfaces: [{ linkType: 1 }] });
    const blocks = pcapngBlockEnds(buf);
    // Block 2 is the first EPB (after SHB and IDB): captured length beyond its block.
    buf.writeUInt32LE(1000, blocks[1]!.end + 20);
    // Next EPB: an interface that does not exist.
    buf.writeUInt32LE(7, blocks[2]!.end + 8);
    let path = join(dir, 'bad-epb.pcapng');
    writeFileSync(path, buf);
    let r = await readAll(path);
    assert.deepEqual(
      r.frames.map((f) => f.tsSec),
      [2, 3, 4],
    );
    assert.equal(r.counters.get('capture.malformed'), 2);
    // Trailing length that disagrees with the leading one: no way to find the next block.
    buf.writeUInt32LE(99, blocks[5]!.end - 4);
    path = join(dir, 'bad-trailer.pcapng');
    writeFileSync(path, buf);
    r = await readAll(path);
    assert.deepEqual(
      r.frames.map((f) => f.tsSec),
      [2],
    );
    assert.equal(r.counters.get('capture.malformed'), 3);
  });
});

describe('not a capture', () => {
  const cases: [string, Buffer | null, RegExp][] = [
    ['notes.txt', Buffer.from('hello world\n'), /^.*notes\.txt: not a pcap or pcapng capture \(starts with 68 65 6c 6c\)$/],
    ['empty.pcap', Buffer.alloc(0), /empty\.pcap: not a pcap or pcapng capture \(empty file\)$/],
    ['two.pcap', Buffer.from([0xd4, 0xc3]), /two\.pcap: not a pcap or pcapng capture \(starts with d4 c3\)$/],
    ['short.pcap', encodePcap([], { linkType: 1 }).subarray(0, 20), /short\.pcap: truncated pcap file header \(20 of 24 bytes\)$/],
    ['v3.pcap', Buffer.from('a1b2c3d40003000000000000000000000000ffff00000001', 'hex'), /v3\.pcap: unsupported pcap version 3\.0$/],
    ['ng-magic.pcapng', Buffer.from('0a0d0d0a1c00000011223344', 'hex'), /ng-magic\.pcapng: not a pcap or pcapng capture \(starts with 0a 0d 0d 0a\)$/],
    ['ng-short.pcapng', encodePcapng([], { interfaces: [] }).subarray(0, 20), /ng-short\.pcapng: truncated pcapng section header block$/],
    ['missing.pcap', null, /missing\.pcap: cannot open \(ENOENT\)$/],
  ];
  for (const [name, bytes, message] of cases) {
    it(name, async () => {
      const path = join(dir, name);
      if (bytes !== null) writeFileSync(path, bytes);
      await assert.rejects(openCaptureFile(path, new Counters()), (e: unknown) => {
        assert.ok(e instanceof CaptureFileError);
        assert.match(e.message, message);
        assert.ok(e.message.startsWith(path));
        return true;
      });
    });
  }

  it('a directory', async () => {
    const sub = join(dir, 'a-directory');
    mkdirSync(sub, { recursive: true });
    await assert.rejects(openCaptureFile(sub, new Counters()), CaptureFileError);
  });
});

describe('random bytes (fuzz): only CaptureFileError, always terminates', () => {
  const path = join(dir, 'fuzz.bin');
  const pcapHeader = encodePcap([], { linkType: 1 });
  const ngHeader = encodePcapng([], { interfaces: [{ linkType: 1 }, { linkType: 101, tsresol: 9 }] });
  const valid = [
    encodePcap(sampleFrames(71, 20), { linkType: 1, nanosecond: true }),
    encodePcapng(sectionRecords(72, IFACES), { interfaces: IFACES, bigEndian: true }),
  ];

  async function survive(bytes: Buffer, chunkSize: number): Promise<void> {
    writeFileSync(path, bytes);
    try {
      const r = await readAll(path, chunkSize);
      for (const f of r.frames) {
        assert.ok(f.tsNsec >= 0 && f.tsNsec < 1e9 && Number.isInteger(f.tsNsec));
        assert.ok(f.caplen <= 256 * 1024);
      }
    } catch (e) {
      if (!(e instanceof CaptureFileError)) throw e;
    }
  }

  it('valid headers followed by random bytes', async () => {
    const rand = rng(73);
    for (let k = 0; k < 400; k++) {
      const header = k % 2 === 0 ? pcapHeader : ngHeader;
      const tail = randomBytes(rand, Math.floor(rand() * 3000));
      await survive(Buffer.concat([header, tail]), k % 3 === 0 ? 32 : 4096);
    }
  });

  it('valid files with random bytes changed', async () => {
    const rand = rng(74);
    for (let k = 0; k < 400; k++) {
      const b = Buffer.from(valid[k % 2]!);
      const flips = 1 + Math.floor(rand() * 8);
      for (let j = 0; j < flips; j++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      await survive(b, k % 3 === 0 ? 64 : 4096);
    }
  });

  it('pcapng blocks with plausible lengths and random bodies', async () => {
    const rand = rng(75);
    for (let k = 0; k < 300; k++) {
      const parts = [ngHeader];
      for (let j = 0; j < 10; j++) {
        const body = randomBytes(rand, Math.floor(rand() * 64) * 4);
        const type = [1, 2, 3, 5, 6, 0x0a0d0d0a, 0xbad][Math.floor(rand() * 7)]!;
        const head = Buffer.alloc(8);
        head.writeUInt32LE(type, 0);
        head.writeUInt32LE(body.length + 12, 4);
        const tail = Buffer.alloc(4);
        tail.writeUInt32LE(body.length + 12);
        parts.push(head, body, tail);
      }
      await survive(Buffer.concat(parts), k % 2 === 0 ? 48 : 4096);
    }
  });
});
