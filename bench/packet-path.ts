import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { openCaptureFile } from '../recorder/capture/file-source.js';
import { Counters } from '../recorder/core/counters.js';
import type { Packet } from '../recorder/core/packet.js';
import { PayloadKind } from '../recorder/demux/payload-kind.js';
import { Pipeline } from '../recorder/pipeline.js';
import * as B from '../test/support/packets.js';
import { pcapFileHeader, pcapRecord } from './pcap-stream.js';

export interface BenchRow {
  name: string;
  seconds: number;
  packetsPerSec: number;
  note?: string;
}

const FLOWS = 500;

/** 1,000,000 mixed frames: 200-byte Ethernet/IPv4/UDP/RTP frames on FLOWS flows, one SIP message in 50. */
export async function generateMixedCapture(path: string, packets: number): Promise<void> {
  if (existsSync(path) && statSync(path).size > packets * 200) return;
  const out = createWriteStream(path);
  out.write(pcapFileHeader());
  const rtpFrames = Array.from({ length: FLOWS }, (_, i) =>
    B.ethernet(B.ipv4(`10.1.${i >> 8}.${i & 255}`, `10.2.${i >> 8}.${i & 255}`, 17, B.udp(20000 + 2 * i, 30000 + 2 * i, B.rtp(0, 0, 0x1000 + i, 0, 200 - 14 - 20 - 8 - 12)))),
  );
  const sip = B.ethernet(B.ipv4('10.9.0.1', '10.9.0.2', 17, B.udp(5060, 5060, B.sipInvite('bench-call', 'v=0\r\no=- 1 1 IN IP4 10.9.0.1\r\n'))));
  const chunk: Buffer[] = [];
  let t = 1_700_000_000 * 1e6;
  for (let n = 0; n < packets; n++) {
    const isSip = n % 50 === 49;
    const f = isSip ? sip : rtpFrames[n % FLOWS]!;
    if (!isSip) f.writeUInt16BE((n / FLOWS) & 0xffff, 14 + 20 + 8 + 2);
    t += 40; // 25k packets/s of capture time
    const rec = pcapRecord(t, f);
    chunk.push(rec);
    if (chunk.length === 4096) {
      if (!out.write(Buffer.concat(chunk.splice(0)))) await once(out, 'drain');
    }
  }
  out.write(Buffer.concat(chunk));
  out.end();
  await once(out, 'finish');
}

async function timeIt(fn: () => Promise<number>): Promise<[number, number]> {
  let best = Infinity;
  let count = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    count = await fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s < best) best = s;
  }
  return [best, count];
}

async function readerOnly(path: string): Promise<number> {
  const cap = await openCaptureFile(path, new Counters());
  let n = 0;
  for await (const batch of cap.batches()) n += batch.length;
  await cap.close();
  return n;
}

interface Flow {
  packets: number;
  bytes: number;
}

async function fullPath(path: string): Promise<number> {
  // A flow table as the recorder's will be: numeric key ip * 65536 + port (exact in a double).
  const flows = new Map<number, Flow>();
  let rtp = 0;
  let matched = 0;
  const sink = {
    onUdp(p: Packet, kind: PayloadKind): void {
      if (kind !== PayloadKind.Rtp) return;
      rtp++;
      const key = p.dst4 * 65536 + p.dstPort;
      let f = flows.get(key);
      if (f === undefined) {
        f = { packets: 0, bytes: 0 };
        flows.set(key, f);
      } else matched++;
      f.packets++;
      f.bytes += p.payloadLen;
    },
  };
  const pipeline = new Pipeline(new Counters(), sink);
  const cap = await openCaptureFile(path, new Counters());
  let n = 0;
  for await (const batch of cap.batches()) {
    for (const f of batch) pipeline.push(f);
    n += batch.length;
  }
  pipeline.finish();
  await cap.close();
  if (rtp === 0 || matched === 0) throw new Error('bench: no RTP classified');
  return n;
}

function timeCommand(cmd: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'], shell: false });
  if (r.status !== 0) throw new Error(`bench: ${cmd} failed`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export async function benchPacketPath(path: string, packets: number): Promise<BenchRow[]> {
  await generateMixedCapture(path, packets);
  const [ra] = await timeIt(() => readerOnly(path));
  const [rb, nb] = await timeIt(() => fullPath(path));
  if (nb !== packets) throw new Error(`bench: read ${nb} of ${packets}`);
  const rc = Math.min(timeCommand('sh', ['-c', `cat '${path}' > /dev/null`]), timeCommand('sh', ['-c', `cat '${path}' > /dev/null`]));
  const rd = timeCommand('tshark', ['-r', path, '-q']);
  // `-q` alone lets tshark skip dissection (nothing asks for it); a conversation tap forces
  // dissection of every layer, which is the work (b) does.
  const re = timeCommand('tshark', ['-r', path, '-q', '-z', 'conv,udp']);
  const tsharkVersion = execFileSync('tshark', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? 'tshark';
  return [
    { name: '(a) file reader alone', seconds: ra, packetsPerSec: packets / ra },
    { name: '(b) reader + frames + IP + UDP + demux + flow lookup', seconds: rb, packetsPerSec: packets / rb },
    { name: '(c) cat FILE > /dev/null', seconds: rc, packetsPerSec: packets / rc },
    { name: '(d) tshark -r FILE -q (reads, does not dissect)', seconds: rd, packetsPerSec: packets / rd, note: tsharkVersion },
    { name: '(e) tshark -r FILE -q -z conv,udp (dissects)', seconds: re, packetsPerSec: packets / re },
  ];
}
