/**
 * The call-event feed's wire format (ours; README "Skype for Business / Lync call-event feed").
 * A Front End's sender streams the SIP messages it sees to the recorder over TCP (default port
 * 8008), one frame per message, after a challenge-response with a shared key. All integers are
 * big-endian.
 *
 *   frame    = length:u32 type:u8 body [mac:16]      length counts type, body and mac
 *
 *   1 CHALLENGE  recorder → sender, first:  version:u8 (1) nonce:16
 *   2 HELLO      sender → recorder:         version:u8 idLen:u8 frontEnd:idLen proof:32
 *                proof = HMAC-SHA256(key, "netfeed-hello" | nonce | frontEnd)
 *   3 ACCEPT     recorder → sender:         (empty)
 *   4 REJECT     recorder → sender:         reason (UTF-8); the recorder closes the connection
 *   5 SIP        sender → recorder:         seq:u32 sec:u32 nsec:u32 direction:u8 transport:u8
 *                                           src:endpoint dst:endpoint message (the rest) mac:16
 *   6 KEEPALIVE  sender → recorder:         seq:u32 mac:16
 *
 *   endpoint  = family:u8 (4 or 6) address:4|16 port:u16
 *   direction = 0 the Front End received the message, 1 it sent it
 *   transport = 0 UDP, 1 TCP, 2 TLS (as the Front End saw it)
 *   seq       = 1 for the first frame after ACCEPT, then +1 per frame
 *   mac       = first 16 bytes of HMAC-SHA256(sessionKey, the frame without its mac, length included)
 *   sessionKey = HMAC-SHA256(key, "netfeed-session" | nonce | frontEnd)
 *
 * The nonce makes every connection's keys new (a recorded session cannot be replayed), the
 * sequence number orders frames within it (none dropped, repeated or moved), and the MAC binds
 * each message to the key. This module only encodes and decodes; feed-auth.ts does the HMACs.
 */
import { formatIpv4, formatIpv6 } from '../core/address.js';
import { u16, u32 } from '../core/bytes.js';
import { Status } from '../core/status.js';

export const FEED_VERSION = 1;
export const FrameType = { Challenge: 1, Hello: 2, Accept: 3, Reject: 4, Sip: 5, KeepAlive: 6 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const MAC_LEN = 16;
export const NONCE_LEN = 16;
export const PROOF_LEN = 32;
/** Largest frame accepted: a SIP message with its SDP is a few KiB; 256 KiB is far beyond any. */
export const MAX_FRAME_LEN = 256 * 1024;
/** Offsets in a SIP frame (from the frame start, length word included). */
const SIP_SEQ = 5;
const SIP_SEC = 9;
const SIP_NSEC = 13;
const SIP_DIRECTION = 17;
const SIP_TRANSPORT = 18;
const SIP_ENDPOINTS = 19;

export const FeedDirection = { In: 0, Out: 1 } as const;
export const FeedTransport = { Udp: 0, Tcp: 1, Tls: 2 } as const;

/** Length of the whole frame at `off` (length word included), -1 if fewer than 4 bytes are there. */
export function feedFrameLength(buf: Buffer, off: number, len: number): number {
  return len < 4 ? -1 : u32(buf, off) + 4;
}

/** A decoded SIP frame; the message is a view into the frame buffer. */
export class FeedSip {
  seq = 0;
  sec = 0;
  nsec = 0;
  direction = 0;
  transport = 0;
  srcIp = '';
  srcPort = 0;
  dstIp = '';
  dstPort = 0;
  msgOff = 0;
  msgLen = 0;
}

/**
 * Decodes a SIP frame (`buf[off, off + len)` is the whole frame, mac included; the caller has
 * checked the mac). The message is buf[out.msgOff, out.msgOff + out.msgLen).
 */
export function decodeFeedSip(buf: Buffer, off: number, len: number, out: FeedSip): Status {
  const end = off + len - MAC_LEN;
  if (len < SIP_ENDPOINTS + 2 * 7 + MAC_LEN) return Status.Truncated;
  out.seq = u32(buf, off + SIP_SEQ);
  out.sec = u32(buf, off + SIP_SEC);
  out.nsec = u32(buf, off + SIP_NSEC);
  out.direction = buf[off + SIP_DIRECTION]!;
  out.transport = buf[off + SIP_TRANSPORT]!;
  if (out.nsec >= 1e9 || out.direction > 1 || out.transport > 2) return Status.Malformed;
  const src = readEndpoint(buf, off + SIP_ENDPOINTS, end, out, 'src');
  if (src < 0) return src === -1 ? Status.Truncated : Status.Malformed;
  const dst = readEndpoint(buf, src, end, out, 'dst');
  if (dst < 0) return dst === -1 ? Status.Truncated : Status.Malformed;
  out.msgOff = dst;
  out.msgLen = end - dst;
  return out.msgLen > 0 ? Status.Ok : Status.Truncated;
}

/** Reads an endpoint at p into out's src or dst: the offset after it, -1 if cut, -2 if the family is not 4 or 6. */
function readEndpoint(buf: Buffer, p: number, end: number, out: FeedSip, which: 'src' | 'dst'): number {
  if (p >= end) return -1;
  const family = buf[p]!;
  const size = family === 4 ? 4 : family === 6 ? 16 : -1;
  if (size < 0) return -2;
  if (p + 1 + size + 2 > end) return -1;
  const ip = family === 4 ? formatIpv4(u32(buf, p + 1)) : formatIpv6(buf, p + 1);
  const port = u16(buf, p + 1 + size);
  if (which === 'src') {
    out.srcIp = ip;
    out.srcPort = port;
  } else {
    out.dstIp = ip;
    out.dstPort = port;
  }
  return p + 1 + size + 2;
}

/** A frame with an empty mac area (the caller fills the last 16 bytes when it authenticates). */
export function encodeFrame(type: FrameType, body: Buffer, withMac: boolean): Buffer {
  const f = Buffer.alloc(5 + body.length + (withMac ? MAC_LEN : 0));
  f.writeUInt32BE(f.length - 4, 0);
  f[4] = type;
  body.copy(f, 5);
  return f;
}

export function encodeChallenge(nonce: Buffer): Buffer {
  return encodeFrame(FrameType.Challenge, Buffer.concat([Buffer.from([FEED_VERSION]), nonce]), false);
}

export function encodeHello(frontEnd: string, proof: Buffer): Buffer {
  const id = Buffer.from(frontEnd, 'utf8').subarray(0, 255);
  return encodeFrame(FrameType.Hello, Buffer.concat([Buffer.from([FEED_VERSION, id.length]), id, proof]), false);
}

export interface FeedSipFields {
  seq: number;
  sec: number;
  nsec: number;
  direction: number;
  transport: number;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
}

function endpoint(ip: string, port: number, parse: (ip: string) => Buffer | null): Buffer {
  const a = parse(ip);
  if (a === null) throw new Error(`not an IP address: ${ip}`);
  const b = Buffer.alloc(1 + a.length + 2);
  b[0] = a.length === 4 ? 4 : 6;
  a.copy(b, 1);
  b.writeUInt16BE(port, 1 + a.length);
  return b;
}

/** A SIP frame with room for its mac; `parse` turns address text into 4 or 16 bytes. */
export function encodeSip(f: FeedSipFields, message: Buffer, parse: (ip: string) => Buffer | null): Buffer {
  const head = Buffer.alloc(14);
  head.writeUInt32BE(f.seq >>> 0, 0);
  head.writeUInt32BE(f.sec >>> 0, 4);
  head.writeUInt32BE(f.nsec >>> 0, 8);
  head[12] = f.direction;
  head[13] = f.transport;
  return encodeFrame(FrameType.Sip, Buffer.concat([head, endpoint(f.srcIp, f.srcPort, parse), endpoint(f.dstIp, f.dstPort, parse), message]), true);
}

export function encodeKeepAlive(seq: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(seq >>> 0, 0);
  return encodeFrame(FrameType.KeepAlive, b, true);
}
