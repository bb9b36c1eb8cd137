/**
 * Test helpers: RTP packets of a capture through our own packet path (file reader, Pipeline,
 * UDP demux, decodeRtpHeader), and tshark's view of the same capture for comparison.
 */
import { openCaptureFile } from '../../../recorder/capture/file-source.js';
import { dstAddress, formatEndpoint, srcAddress } from '../../../recorder/core/address.js';
import { Counters } from '../../../recorder/core/counters.js';
import type { Packet } from '../../../recorder/core/packet.js';
import { Status } from '../../../recorder/core/status.js';
import { PayloadKind } from '../../../recorder/demux/payload-kind.js';
import { Pipeline } from '../../../recorder/pipeline.js';
import { decodeRtpHeader, RtpHeader } from '../../../recorder/rtp/header.js';
import { tshark } from '../../support/tshark.js';

export interface CapturedRtp {
  /** `src -> dst ssrc`, one stream as tshark's rtp,streams tap keys it. */
  stream: string;
  time: number;
  seq: number;
  ts: number;
  pt: number;
  marker: boolean;
  ssrc: number;
  payload: Buffer;
}

export async function readRtp(path: string): Promise<{ packets: CapturedRtp[]; counters: Counters; notOk: number }> {
  const counters = new Counters();
  const h = new RtpHeader();
  const packets: CapturedRtp[] = [];
  let notOk = 0;
  const pipeline = new Pipeline(counters, {
    onUdp(p: Packet, kind: PayloadKind): void {
      if (kind !== PayloadKind.Rtp) return;
      if (decodeRtpHeader(p.payload, p.payloadOff, p.payloadLen, h, p.truncated) !== Status.Ok) {
        notOk++;
        return;
      }
      const stream = `${formatEndpoint(srcAddress(p), p.srcPort)} -> ${formatEndpoint(dstAddress(p), p.dstPort)} 0x${h.ssrc.toString(16).toUpperCase().padStart(8, '0')}`;
      packets.push({
        stream,
        time: p.time,
        seq: h.seq,
        ts: h.timestamp,
        pt: h.pt,
        marker: h.marker,
        ssrc: h.ssrc,
        payload: Buffer.from(p.payload.subarray(h.payloadOff, h.payloadOff + h.payloadLen)),
      });
    },
  });
  const cap = await openCaptureFile(path, counters);
  for await (const batch of cap.batches()) for (const f of batch) pipeline.push(f);
  await cap.close();
  pipeline.finish();
  return { packets, counters, notOk };
}

export interface TsharkRtpStream {
  stream: string;
  payload: string;
  packets: number;
  lost: number;
  maxDeltaMs: number;
  minJitterMs: number;
  meanJitterMs: number;
  maxJitterMs: number;
  problem: boolean;
}

const ROW =
  /^\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(0x[0-9A-F]+)\s+(.+?)\s+(\d+)\s+(-?\d+) \([-\d.]+%\)\s+[-\d.]+\s+[-\d.]+\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*(X)?\s*$/;

/** `tshark -z rtp,streams` (tshark 4.0 layout) with heuristic RTP on. */
export function tsharkRtpStreams(path: string): TsharkRtpStream[] {
  const out = tshark(['-r', path, '-q', '-o', 'rtp.heuristic_rtp:TRUE', '-z', 'rtp,streams']);
  const rows: TsharkRtpStream[] = [];
  for (const line of out.split('\n')) {
    const m = ROW.exec(line);
    if (!m) continue;
    rows.push({
      stream: `${formatEndpoint(m[1]!, Number(m[2]))} -> ${formatEndpoint(m[3]!, Number(m[4]))} ${m[5]!}`,
      payload: m[6]!,
      packets: Number(m[7]),
      lost: Number(m[8]),
      maxDeltaMs: Number(m[9]),
      minJitterMs: Number(m[10]),
      meanJitterMs: Number(m[11]),
      maxJitterMs: Number(m[12]),
      problem: m[13] === 'X',
    });
  }
  return rows;
}

/** Packets grouped by stream, in capture order. */
export function byStream(packets: readonly CapturedRtp[]): Map<string, CapturedRtp[]> {
  const m = new Map<string, CapturedRtp[]>();
  for (const p of packets) {
    let l = m.get(p.stream);
    if (!l) m.set(p.stream, (l = []));
    l.push(p);
  }
  return m;
}
