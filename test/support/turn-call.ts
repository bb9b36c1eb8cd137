/**
 * Generated captures of a SIP call whose caller's media runs through a TURN relay, in each wrapping
 * the agent unwraps, plus the same call "captured unwrapped" (the relay's external side: relay
 * address R ↔ peer P), with identical capture times and RTP bytes, for sample-exact comparisons.
 *
 *   caller C (TURN client) ── wrapped ── TURN server S ── relay R ⇄ peer P (callee)
 *
 * The caller's SDP offers a host candidate and `a=candidate … typ relay R raddr C rport …`; its
 * c=/m= line is the host address, so the callee's media only reaches the call through the relay
 * candidate.
 */
import { join } from 'node:path';
import { writePcap, type WriterFrame } from './capture-writer.js';
import { CallScenario, sdp } from './call-scenario.js';
import * as B from './packets.js';
import { prng } from './random.js';

export type Wrapping = 'channel-udp' | 'channel-tcp' | 'indications' | 'ms-turn' | 'ms-turn-tcp' | 'ms-turn-tls' | 'ms-turn-mux' | 'mid-call';

export const MAGIC = 0x2112a442;
export const MS_MAGIC = 0x72c64bc6;

export interface Addr {
  ip: string;
  port: number;
}

/** STUN attribute: type and value (padding added by stunMessage). */
export type Attr = [number, Buffer];

/** A STUN-format message; `magic` false gives the [MS-TURN]/RFC 3489 header with a 16-byte transaction id. */
export function stunMessage(type: number, txid: Buffer, attrs: Attr[], magic = true): Buffer {
  const body = Buffer.concat(
    attrs.map(([t, v]) => {
      const h = Buffer.alloc(4);
      h.writeUInt16BE(t, 0);
      h.writeUInt16BE(v.length, 2);
      return Buffer.concat([h, v, Buffer.alloc((4 - (v.length % 4)) % 4)]);
    }),
  );
  const head = Buffer.alloc(magic ? 8 : 4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(body.length, 2);
  if (magic) head.writeUInt32BE(MAGIC, 4);
  return Buffer.concat([head, txid, body]);
}

/** (XOR-)MAPPED-ADDRESS value for IPv4 (RFC 8489 §14.1/§14.2). */
export function addressValue(a: Addr, xor: boolean): Buffer {
  const v = Buffer.alloc(8);
  v[1] = 1;
  v.writeUInt16BE(xor ? a.port ^ (MAGIC >>> 16) : a.port, 2);
  const ip = B.ipv4Addr(a.ip).readUInt32BE(0);
  v.writeUInt32BE(xor ? (ip ^ MAGIC) >>> 0 : ip, 4);
  return v;
}

export function channelData(channel: number, data: Buffer, pad: boolean): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(channel, 0);
  h.writeUInt16BE(data.length, 2);
  return Buffer.concat([h, data, Buffer.alloc(pad ? (4 - (data.length % 4)) % 4 : 0)]);
}

/** [MS-TURN] §2.1.4 TCP frame. */
export function msTcpFrame(type: 2 | 3, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

export const msCookie: Attr = [0x000f, Buffer.from('72c64bc6', 'hex')];

/** An SSLv2-compatible ClientHello record (RFC 2246 Appendix E.1), as [MS-TURN] §2.1.3 clients send it. */
export function pseudoTlsClientHello(challenge: Buffer): Buffer {
  const ciphers = Buffer.from('000004', 'hex'); // one 3-byte cipher spec: TLS_RSA_WITH_RC4_128_MD5
  const body = Buffer.concat([Buffer.from([1, 3, 1]), u16be(ciphers.length), u16be(0), u16be(challenge.length), ciphers, challenge]);
  return Buffer.concat([u16be(0x8000 | body.length), body]);
}

/** ServerHello and ServerHelloDone in one TLS 1.0 Handshake record ([MS-TURN] §2.1.3). */
export function pseudoTlsServerHello(random: Buffer): Buffer {
  const hello = Buffer.concat([Buffer.from([3, 1]), random, Buffer.from([0]), Buffer.from('0004', 'hex'), Buffer.from([0])]);
  const msgs = Buffer.concat([Buffer.from([2, 0, hello.length >> 8, hello.length & 255]), hello, Buffer.from([14, 0, 0, 0])]);
  return Buffer.concat([Buffer.from([0x16, 3, 1]), u16be(msgs.length), msgs]);
}

function u16be(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}

/** [MS-TURN] §2.2.3 Multiplexed TURN frame: 0xFF10, length, 8-byte MTURN_Session_ID, data. */
export function muxFrame(sid: Buffer, m: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(0xff10, 0);
  h.writeUInt16BE(8 + m.length, 2);
  return Buffer.concat([h, sid, m]);
}

export interface TurnCallOptions {
  callId: string;
  wrapping: Wrapping;
  t0?: number;
  /** RTP packets each way. */
  packets?: number;
  seed?: number;
  /** Base of the last address octet / ports, so several calls can share one recorder. */
  slot?: number;
}

export interface TurnCall {
  /** What the agent captures: SIP in the clear, media wrapped. */
  wrapped: WriterFrame[];
  /** The same call with the media as the relay exchanges it with the peer. */
  unwrapped: WriterFrame[];
  client: Addr;
  server: Addr;
  relay: Addr;
  peer: Addr;
}

export function turnCall(o: TurnCallOptions): TurnCall {
  const slot = o.slot ?? 0;
  const t0 = o.t0 ?? 1_700_000_000;
  const n = o.packets ?? 50;
  const client: Addr = { ip: `10.0.${slot}.5`, port: 40000 + slot * 10 };
  const server: Addr = { ip: `10.0.${slot}.1`, port: o.wrapping === 'channel-tcp' || o.wrapping === 'ms-turn-tcp' || o.wrapping === 'ms-turn-tls' ? 443 : 3478 };
  const relay: Addr = { ip: `192.0.2.${slot + 1}`, port: 55000 + slot * 10 };
  const peer: Addr = { ip: `198.51.100.${slot + 7}`, port: 30000 + slot * 10 };
  const sc = new CallScenario(o.callId, { ip: client.ip, sipPort: 5060 }, { ip: peer.ip, sipPort: 5060 }, t0, o.seed ?? 1);
  const offer = sdp({
    ip: client.ip,
    port: client.port,
    pts: [0],
    extra: [`a=candidate:1 1 UDP 2130706431 ${client.ip} ${client.port} typ host`, `a=candidate:2 1 UDP 16777215 ${relay.ip} ${relay.port} typ relay raddr ${client.ip} rport ${client.port}`],
  });
  sc.sip(0, 'caller', sc.request('INVITE', 'caller', { body: offer, cseq: 1 }));
  sc.sip(0.05, 'callee', sc.response(200, 'OK', 'callee', 1, 'INVITE', { toTag: 'callee-tag', body: sdp({ ip: peer.ip, port: peer.port, pts: [0] }) }));
  sc.sip(0.06, 'caller', sc.request('ACK', 'caller', { toTag: 'callee-tag', cseq: 1, branch: 'z9hG4bK-ack' }));
  const end = 0.2 + n * 0.02 + 0.1;
  sc.sip(end, 'caller', sc.request('BYE', 'caller', { toTag: 'callee-tag', cseq: 2 }));
  sc.sip(end + 0.01, 'callee', sc.response(200, 'OK', 'callee', 2, 'BYE', { toTag: 'callee-tag' }));
  const sip = sc.sorted();

  const at = (t: number, data: Buffer): WriterFrame => {
    const ns = Math.round(t * 1e9);
    return { tsSec: t0 + Math.floor(ns / 1e9), tsNsec: ns % 1e9, data };
  };
  const udp = (a: Addr, b: Addr, payload: Buffer): Buffer => B.ethernet(B.ipv4(a.ip, b.ip, 17, B.udp(a.port, b.port, payload)));
  const rnd = prng(o.seed ?? 1);
  const tx = (len: number): Buffer => Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256)));

  const wrapped: WriterFrame[] = [...sip];
  const unwrapped: WriterFrame[] = [...sip];
  const msTcp = o.wrapping === 'ms-turn-tcp' || o.wrapping === 'ms-turn-tls';
  const tcp = o.wrapping === 'channel-tcp' || msTcp;
  const seq = { c: 1000, s: 5000 };
  /** A wrapped message from the client (or server) at time t, over UDP or a TCP segment. */
  const mux = o.wrapping === 'ms-turn-mux';
  // [MS-TURN] §2.2.3: a server-to-server link multiplexes sessions; this call is session 0x..<slot>.
  const session = Buffer.from([0x5e, 0x55, 0x10, 0x4e, 0, 0, 0, slot + 1]);
  const wire = (t: number, fromClient: boolean, payload: Buffer): void => {
    const [a, b] = fromClient ? [client, server] : [server, client];
    if (mux) payload = muxFrame(session, payload);
    if (!tcp) {
      wrapped.push(at(t, udp(a, b, payload)));
      return;
    }
    const s = fromClient ? seq.c : seq.s;
    wrapped.push(at(t, B.ethernet(B.ipv4(a.ip, b.ip, 6, B.tcp(a.port, b.port, s, fromClient ? seq.s : seq.c, B.TCP.ACK | B.TCP.PSH, payload)))));
    if (fromClient) seq.c += payload.length;
    else seq.s += payload.length;
  };
  if (tcp) {
    wrapped.push(at(0.09, B.ethernet(B.ipv4(client.ip, server.ip, 6, B.tcp(client.port, server.port, seq.c - 1, 0, B.TCP.SYN)))));
    wrapped.push(at(0.0901, B.ethernet(B.ipv4(server.ip, client.ip, 6, B.tcp(server.port, client.port, seq.s - 1, seq.c, B.TCP.SYN | B.TCP.ACK)))));
  }
  const ms = o.wrapping === 'ms-turn' || msTcp || mux;
  const ctl = (m: Buffer): Buffer => (msTcp ? msTcpFrame(2, m) : m);
  if (o.wrapping === 'ms-turn-tls') {
    // [MS-TURN] §2.1.3 pseudo-TLS: an SSLv2-format ClientHello, then ServerHello + ServerHelloDone
    // in one TLS record; framed MS-TURN in the clear after that.
    wire(0.092, true, pseudoTlsClientHello(tx(32)));
    wire(0.093, false, pseudoTlsServerHello(tx(32)));
  }
  const CH = 0x4001;
  if (o.wrapping !== 'mid-call') {
    if (ms) {
      wire(0.1, false, ctl(stunMessage(0x0103, tx(16), [msCookie, [0x0001, addressValue(relay, false)]], false)));
    } else {
      const t = tx(12);
      wire(0.1, false, stunMessage(0x0103, t, [[0x0016, addressValue(relay, true)], [0x0020, addressValue(client, true)]]));
      if (o.wrapping !== 'indications') {
        const b = tx(12);
        const bind = stunMessage(0x0009, b, [[0x000c, Buffer.from([CH >> 8, CH & 255, 0, 0])], [0x0012, addressValue(peer, true)]]);
        wire(0.11, true, bind);
        wire(0.12, false, stunMessage(0x0109, b, []));
      }
    }
  }
  // A STUN Binding through the relay (an ICE check): not media, never forwarded.
  if (!ms && o.wrapping !== 'mid-call') wire(0.15, true, stunMessage(0x0016, tx(12), [[0x0012, addressValue(peer, true)], [0x0013, stunMessage(0x0001, tx(12), [])]]));

  for (let i = 0; i < n; i++) {
    for (const fromCaller of [true, false]) {
      const ssrc = fromCaller ? 0x11110000 + slot : 0x22220000 + slot;
      const payload = Buffer.alloc(160);
      for (let j = 0; j < 160; j++) payload[j] = Math.floor(rnd() * 256);
      const rtp = Buffer.concat([B.rtp(1000 + i, 8000 + i * 160, ssrc, 0, 0), payload]);
      const t = 0.2 + i * 0.02 + (fromCaller ? 0 : 0.005);
      unwrapped.push(at(t, fromCaller ? udp(relay, peer, rtp) : udp(peer, relay, rtp)));
      let m: Buffer;
      switch (o.wrapping) {
        case 'channel-udp':
        case 'mid-call':
          m = channelData(CH, rtp, false);
          break;
        case 'channel-tcp':
          m = channelData(CH, rtp, true);
          break;
        case 'indications':
          m = stunMessage(fromCaller ? 0x0016 : 0x0017, tx(12), [[0x0012, addressValue(peer, true)], [0x0013, rtp]]);
          break;
        case 'ms-turn':
        case 'ms-turn-tcp':
        case 'ms-turn-tls':
        case 'ms-turn-mux':
          m = ctl(stunMessage(fromCaller ? 0x0004 : 0x0115, tx(16), [msCookie, [fromCaller ? 0x0011 : 0x0012, addressValue(peer, false)], [0x0013, rtp]], false));
          break;
      }
      wire(t, fromCaller, m);
    }
  }
  const byTime = (a: WriterFrame, b: WriterFrame): number => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec;
  return { wrapped: wrapped.sort(byTime), unwrapped: unwrapped.sort(byTime), client, server, relay, peer };
}

/**
 * One call per wrapping (slot i, 10 s apart, seed seed0 + i, Call-ID `WRAPPING@tag`), each written
 * to DIR/WRAPPING.pcap (as captured, wrapped) and DIR/WRAPPING-ref.pcap (the same call unwrapped).
 */
export function writeTurnCalls(dir: string, wrappings: readonly Wrapping[], tag: string, seed0: number): Map<Wrapping, { wrapped: string; ref: string }> {
  const files = new Map<Wrapping, { wrapped: string; ref: string }>();
  wrappings.forEach((w, i) => {
    const call = turnCall({ callId: `${w}@${tag}`, wrapping: w, slot: i, t0: 1_700_000_000 + i * 10, seed: seed0 + i });
    const wrapped = join(dir, `${w}.pcap`);
    const ref = join(dir, `${w}-ref.pcap`);
    writePcap(wrapped, call.wrapped, { linkType: 1 });
    writePcap(ref, call.unwrapped, { linkType: 1 });
    files.set(w, { wrapped, ref });
  });
  return files;
}
