import type { WriterFrame } from './capture-writer.js';
import * as B from './packets.js';
import { prng } from './random.js';

/**
 * Builds generated captures of SIP calls: SIP over UDP (or TCP, optionally split), RTP with
 * random G.711 payloads (every byte is a valid G.711 code), at chosen capture times. Used for the
 * scenarios the public captures lack (hold, re-INVITE, forking, loss, NAT…).
 */
export interface Endpoint {
  ip: string;
  sipPort: number;
}

export interface SdpOptions {
  ip: string;
  port: number;
  /** Payload types offered, e.g. [0, 101]; 101 is mapped to telephone-event. */
  pts?: number[];
  direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  /** Extra a= lines (candidates…). */
  extra?: string[];
}

export interface RtpOptions {
  from: 'caller' | 'callee';
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  ssrc: number;
  pt?: number;
  /** Capture time of the first packet (seconds from the scenario start). */
  at: number;
  count: number;
  seq0?: number;
  ts0?: number;
  /** Sequence offsets (0-based packet numbers) not put on the wire. */
  drop?: number[];
  /** Pairs of packet numbers whose capture order is swapped. */
  swap?: [number, number][];
  /** Payload of packet i (default: 160 random G.711 codes). */
  payload?: (i: number) => Buffer;
  /** RTP timestamp step per packet (default 160: 20 ms at 8000 Hz). */
  tsStep?: number;
}

const RTPMAP: Record<number, string> = { 0: 'PCMU/8000', 8: 'PCMA/8000', 9: 'G722/8000', 18: 'G729/8000', 101: 'telephone-event/8000' };

export function sdp(o: SdpOptions): string {
  const pts = o.pts ?? [0, 101];
  const lines = [
    'v=0',
    `o=- 1 1 IN IP4 ${o.ip}`,
    's=-',
    `c=IN ${o.ip.includes(':') ? 'IP6' : 'IP4'} ${o.ip}`,
    't=0 0',
    `m=audio ${o.port} RTP/AVP ${pts.join(' ')}`,
    ...pts.map((pt) => `a=rtpmap:${pt} ${RTPMAP[pt] ?? `dyn/8000`}`),
    ...(pts.includes(101) ? ['a=fmtp:101 0-16'] : []),
    `a=${o.direction ?? 'sendrecv'}`,
    ...(o.extra ?? []),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

export class CallScenario {
  readonly frames: WriterFrame[] = [];
  /** Payloads actually put on the wire, by SSRC, for reference decoding. */
  readonly sent = new Map<number, { seq: number; ts: number; pt: number; payload: Buffer }[]>();
  private cseq = 1;
  private readonly rnd: () => number;
  private tcpSeq = new Map<string, number>();

  constructor(
    readonly callId: string,
    readonly caller: Endpoint,
    readonly callee: Endpoint,
    readonly t0 = 1_700_000_000,
    seed = 1,
  ) {
    this.rnd = prng(seed);
  }

  private at(t: number, data: Buffer): void {
    const ns = Math.round(t * 1e9);
    this.frames.push({ iface: 0, tsSec: this.t0 + Math.floor(ns / 1e9), tsNsec: ns % 1e9, data });
  }

  private ip(src: string, dst: string, proto: number, payload: Buffer): Buffer {
    return src.includes(':') ? B.ethernet(B.ipv6(src, dst, proto, payload), 0x86dd) : B.ethernet(B.ipv4(src, dst, proto, payload));
  }

  /** A SIP message from one side to the other over UDP. */
  sip(t: number, from: 'caller' | 'callee', text: string): void {
    const [a, b] = from === 'caller' ? [this.caller, this.callee] : [this.callee, this.caller];
    this.at(t, this.ip(a.ip, b.ip, 17, B.udp(a.sipPort, b.sipPort, Buffer.from(text))));
  }

  /** A SIP message over TCP, cut into segments of `segment` bytes (each its own frame). */
  sipTcp(t: number, from: 'caller' | 'callee', text: string, segment = 1e9): void {
    const [a, b] = from === 'caller' ? [this.caller, this.callee] : [this.callee, this.caller];
    const k = `${a.ip}:${a.sipPort}`;
    let seq = this.tcpSeq.get(k) ?? 1000;
    // Acknowledge everything the other side sent, as a real stack would.
    const ack = this.tcpSeq.get(`${b.ip}:${b.sipPort}`) ?? 1000;
    const bytes = Buffer.from(text);
    for (let off = 0; off < bytes.length; off += segment) {
      const part = bytes.subarray(off, Math.min(bytes.length, off + segment));
      this.at(t + off / 1e6, this.ip(a.ip, b.ip, 6, B.tcp(a.sipPort, b.sipPort, seq, ack, B.TCP.ACK | B.TCP.PSH, part)));
      seq += part.length;
    }
    this.tcpSeq.set(k, seq);
  }

  /** A SIP message over UDP/IPv4 sent as IP fragments of `size` bytes (a multiple of 8), last first. */
  sipFragmented(t: number, from: 'caller' | 'callee', text: string, size: number): void {
    const [a, b] = from === 'caller' ? [this.caller, this.callee] : [this.callee, this.caller];
    const dgram = B.udp(a.sipPort, b.sipPort, Buffer.from(text));
    const pieces: Buffer[] = [];
    for (let off = 0; off < dgram.length; off += size) {
      pieces.push(B.ethernet(B.ipv4(a.ip, b.ip, 17, dgram.subarray(off, Math.min(dgram.length, off + size)), { id: 4242, fragOffset: off, more: off + size < dgram.length })));
    }
    pieces.reverse().forEach((piece, k) => this.at(t + k / 1e6, piece));
  }

  request(method: string, from: 'caller' | 'callee', opts: { toTag?: string; fromTag?: string; body?: string; cseq?: number; branch?: string; headers?: string[] } = {}): string {
    const [a, b] = from === 'caller' ? [this.caller, this.callee] : [this.callee, this.caller];
    const cseq = opts.cseq ?? this.cseq++;
    const body = opts.body ?? '';
    const fromUri = from === 'caller' ? 'sip:1001@example.com' : 'sip:2002@example.com';
    const toUri = from === 'caller' ? 'sip:2002@example.com' : 'sip:1001@example.com';
    const fromTag = opts.fromTag ?? (from === 'caller' ? 'caller-tag' : 'callee-tag');
    return [
      `${method} ${toUri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${a.ip}:${a.sipPort};branch=${opts.branch ?? `z9hG4bK-${method}-${cseq}`}`,
      `From: "${from === 'caller' ? 'Alice' : 'Bob'}" <${fromUri}>;tag=${fromTag}`,
      `To: <${toUri}>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:${b.ip}:${a.sipPort}>`,
      ...(opts.headers ?? []),
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  }

  /** A response from the callee (or caller, for in-dialog requests it received). */
  response(status: number, reason: string, from: 'caller' | 'callee', cseq: number, method: string, opts: { toTag?: string; body?: string; branch?: string } = {}): string {
    const body = opts.body ?? '';
    // Responses keep the request's From/To: the caller's dialog view.
    const requestFromCaller = from === 'callee';
    const a = requestFromCaller ? this.caller : this.callee;
    return [
      `SIP/2.0 ${status} ${reason}`,
      `Via: SIP/2.0/UDP ${a.ip}:${a.sipPort};branch=${opts.branch ?? `z9hG4bK-${method}-${cseq}`}`,
      requestFromCaller ? `From: "Alice" <sip:1001@example.com>;tag=caller-tag` : `From: "Bob" <sip:2002@example.com>;tag=${opts.toTag ?? 'callee-tag'}`,
      requestFromCaller ? `To: <sip:2002@example.com>${opts.toTag ? `;tag=${opts.toTag}` : ''}` : `To: <sip:1001@example.com>;tag=caller-tag`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} ${method}`,
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  }

  /** `count` RTP packets at 20 ms, with random 160-byte G.711 payloads unless `payload` gives them. */
  rtp(o: RtpOptions): void {
    const pt = o.pt ?? 0;
    const list = this.sent.get(o.ssrc) ?? [];
    this.sent.set(o.ssrc, list);
    const packets: { t: number; data: Buffer }[] = [];
    for (let i = 0; i < o.count; i++) {
      const seq = ((o.seq0 ?? 1000) + i) & 0xffff;
      const ts = ((o.ts0 ?? 50_000) + i * (o.tsStep ?? 160)) >>> 0;
      let payload: Buffer;
      if (o.payload !== undefined) payload = o.payload(i);
      else {
        payload = Buffer.alloc(160);
        for (let j = 0; j < 160; j++) payload[j] = Math.floor(this.rnd() * 256);
      }
      if (o.drop?.includes(i)) continue;
      list.push({ seq, ts, pt, payload });
      const r = B.rtp(seq, ts, o.ssrc, pt, 0);
      packets.push({ t: o.at + i * 0.02, data: this.ip(o.srcIp, o.dstIp, 17, B.udp(o.srcPort, o.dstPort, Buffer.concat([r, payload]))) });
    }
    for (const [x, y] of o.swap ?? []) {
      const px = packets[x]!;
      const py = packets[y]!;
      [px.data, py.data] = [py.data, px.data];
    }
    for (const p of packets) this.at(p.t, p.data);
  }

  /** Frames sorted by capture time (stable). */
  sorted(): WriterFrame[] {
    return [...this.frames].sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
  }
}
