/** Runs captures through the agent's Forwarder in-process and keeps every HEP packet it emits. */
import { openCaptureFile } from '../../recorder/capture/file-source.js';
import { formatIpv4, formatIpv6, parseIpv4 } from '../../recorder/core/address.js';
import { Counters } from '../../recorder/core/counters.js';
import { HepFamily, type HepPacket } from '../../recorder/hep/hep3.js';
import { Pipeline } from '../../recorder/pipeline.js';
import { Interest } from '../../agent/capture/interest.js';
import { Forwarder, type HepOutput } from '../../agent/forwarder.js';

export interface Forwarded {
  src: string;
  dst: string;
  proto: number;
  ipProto: number;
  protoType: number;
  ts: string;
  flags: number;
  channel: number;
  payload: Buffer;
}

const ep = (v6: boolean, a4: number, a6: Buffer, port: number): string => (v6 ? `[${formatIpv6(a6, 0)}]:${port}` : `${formatIpv4(a4)}:${port}`);

export class Collect implements HepOutput {
  readonly got: Forwarded[] = [];
  send(h: HepPacket): void {
    const v6 = h.family === HepFamily.IPv6;
    this.got.push({
      src: ep(v6, h.src4, h.src6, h.srcPort),
      dst: ep(v6, h.dst4, h.dst6, h.dstPort),
      proto: h.protoType,
      ipProto: h.ipProto,
      protoType: h.protoType,
      ts: `${h.tsSec}.${String(h.tsUsec).padStart(6, '0')}`,
      flags: h.turnFlags,
      channel: h.turnChannel,
      payload: Buffer.from(h.payloadBuf.subarray(h.payloadOff, h.payloadOff + h.payloadLen)),
    });
  }
}

export async function forwardFile(
  files: string[],
  rules: ConstructorParameters<typeof Interest>[0] = { ips: [], udpPorts: [], tcpPorts: [] },
): Promise<{ out: Collect; fwd: Forwarder; counters: Counters }> {
  const counters = new Counters();
  const out = new Collect();
  const demuxPorts = { sip: new Set([5060, 5061, 5080]) };
  const fwd = new Forwarder(counters, out, { interest: new Interest(rules), agentId: 7, authKey: '', turnServerPorts: [3478, 3479, 443, 5349], demuxPorts });
  const pipeline = new Pipeline(counters, fwd, { demuxPorts });
  for (const f of files) {
    const cap = await openCaptureFile(f, counters);
    for await (const batch of cap.batches()) for (const fr of batch) pipeline.push(fr);
    await cap.close();
  }
  pipeline.finish();
  return { out, fwd, counters };
}

/** Fills `h` with a forwarded IPv4 packet as the agent sent it (addresses, ports, time, type, TURN flags, payload). */
export function fillHep(h: HepPacket, x: Forwarded): HepPacket {
  const [src, sp] = x.src.split(':');
  const [dst, dp] = x.dst.split(':');
  Object.assign(h, { family: HepFamily.IPv4, ipProto: x.ipProto, src4: parseIpv4(src!), dst4: parseIpv4(dst!), srcPort: Number(sp), dstPort: Number(dp), protoType: x.protoType, turnFlags: x.flags, turnChannel: x.channel });
  [h.tsSec, h.tsUsec] = x.ts.split('.').map(Number) as [number, number];
  h.payloadBuf = x.payload;
  h.payloadOff = 0;
  h.payloadLen = x.payload.length;
  return h;
}
