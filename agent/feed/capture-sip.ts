/**
 * The SIP messages of a capture of cleartext SIP, in capture order, with their capture time and
 * endpoints: UDP datagrams the demux classifies as SIP, and SIP over TCP framed per connection
 * direction by the recorder's SIP stream framer. This is what a Front End's feed sender would
 * forward; reading it from a capture lets tests and demos exercise the feed end to end.
 */
import { openCaptureFile } from '../../recorder/capture/file-source.js';
import { formatIpv4, formatIpv6 } from '../../recorder/core/address.js';
import type { Counters } from '../../recorder/core/counters.js';
import type { Packet } from '../../recorder/core/packet.js';
import { PayloadKind } from '../../recorder/demux/payload-kind.js';
import { Pipeline, type PacketSink } from '../../recorder/pipeline.js';
import { SipStreamFramer } from '../../recorder/sip/stream-framer.js';
import type { TcpConnection, TcpDir } from '../../recorder/tcp/stream-reassembler.js';

export interface CapturedSip {
  sec: number;
  nsec: number;
  /** 0 UDP, 1 TCP (feed-frame.ts FeedTransport). */
  transport: number;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  message: Buffer;
}

const srcIpOf = (p: Packet): string => (p.ipVersion === 4 ? formatIpv4(p.src4) : formatIpv6(p.addrBuf, p.srcOff));
const dstIpOf = (p: Packet): string => (p.ipVersion === 4 ? formatIpv4(p.dst4) : formatIpv6(p.addrBuf, p.dstOff));

/** Reads every SIP message of the capture files, in capture order per batch. */
export async function* captureSip(files: readonly string[], counters: Counters): AsyncGenerator<CapturedSip[]> {
  let out: CapturedSip[] = [];
  let current: Packet | null = null;
  const stamp = (now: number): { sec: number; nsec: number } => {
    const f = current?.frame;
    if (current && f && current.time === now) return { sec: f.tsSec, nsec: f.tsNsec };
    return { sec: Math.floor(now), nsec: Math.round((now % 1) * 1e9) % 1e9 };
  };
  const framers = new WeakMap<TcpConnection, [SipStreamFramer, SipStreamFramer]>();
  const framerOf = (c: TcpConnection, dir: TcpDir, now: number): SipStreamFramer => {
    let pair = framers.get(c);
    if (pair === undefined) {
      const make = (d: TcpDir): SipStreamFramer =>
        new SipStreamFramer(
          (b, o, l) => {
            const [srcIp, srcPort, dstIp, dstPort] = d === 0 ? [c.clientAddr, c.clientPort, c.serverAddr, c.serverPort] : [c.serverAddr, c.serverPort, c.clientAddr, c.clientPort];
            out.push({ ...stamp(lastNow), transport: 1, srcIp, srcPort, dstIp, dstPort, message: Buffer.from(b.subarray(o, o + l)) });
          },
          counters,
        );
      pair = [make(0), make(1)];
      framers.set(c, pair);
    }
    lastNow = now;
    return pair[dir];
  };
  let lastNow = 0;
  const sink: PacketSink = {
    onUdp(p, kind) {
      if (kind !== PayloadKind.Sip || p.truncated || !p.frame) return;
      out.push({ sec: p.frame.tsSec, nsec: p.frame.tsNsec, transport: 0, srcIp: srcIpOf(p), srcPort: p.srcPort, dstIp: dstIpOf(p), dstPort: p.dstPort, message: Buffer.from(p.payload.subarray(p.payloadOff, p.payloadOff + p.payloadLen)) });
    },
    onTcpSegment(p) {
      current = p;
    },
    tcpStreams: {
      onData(c, dir, buf, off, len, now) {
        framerOf(c, dir, now).push(buf, off, len);
      },
      onGap(c, dir, _missing, now) {
        framerOf(c, dir, now).gap();
      },
    },
  };
  const pipeline = new Pipeline(counters, sink);
  for (const file of files) {
    const cap = await openCaptureFile(file, counters);
    try {
      for await (const batch of cap.batches()) {
        for (const f of batch) pipeline.push(f);
        if (out.length) {
          yield out;
          out = [];
        }
      }
    } finally {
      await cap.close();
    }
  }
  pipeline.finish();
  if (out.length) yield out;
}
