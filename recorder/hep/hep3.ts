/**
 * HEPv3 / EEP (Homer Encapsulation Protocol), sipcapture "HEP3 Network Protocol Specification":
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |              "HEP3" (0x48 0x45 0x50 0x33)                     |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  Total length (incl. these 6) |  chunks ...
 *
 * each chunk:
 *
 *    |      Chunk vendor id          |        Chunk type id          |
 *    |  Chunk length (incl. these 6) |  Chunk value ...
 *
 * Vendor 0x0000 is the generic chunk space (types in HepChunk). All integers are big-endian.
 * Unknown chunks are skipped by their length, so a collector ignores vendor chunks it does not know.
 */
import { u16, u32 } from '../core/bytes.js';
import { Status } from '../core/status.js';

export const HEP3_HEADER_LEN = 6;
const CHUNK_HEADER_LEN = 6;
const MAGIC = 0x48455033; // "HEP3"
const MAX_TOTAL = 0xffff;
const EMPTY = Buffer.alloc(0);

/** Generic chunk types (vendor 0x0000). */
export const HepChunk = {
  IpFamily: 0x0001,
  IpProto: 0x0002,
  Ipv4Src: 0x0003,
  Ipv4Dst: 0x0004,
  Ipv6Src: 0x0005,
  Ipv6Dst: 0x0006,
  SrcPort: 0x0007,
  DstPort: 0x0008,
  TsSec: 0x0009,
  TsUsec: 0x000a,
  ProtoType: 0x000b,
  CaptureId: 0x000c,
  AuthKey: 0x000e,
  Payload: 0x000f,
  CorrelationId: 0x0011,
} as const;

/** IP family values of chunk 0x0001: the BSD AF_INET / AF_INET6 numbers. */
export const HepFamily = { IPv4: 2, IPv6: 10 } as const;

/**
 * Protocol type values of chunk 0x000b (HEP3 spec, "capture protocol types"): 0x01 SIP, 0x04 RTP,
 * 0x05 RTCP. Checked against two independent implementations' tables (SIPSorcery's
 * CaptureProtocolTypeEnum and VoIPmonitor's eHEP_ProtocolType: SIP 1, XMPP 2, SDP 3, RTP 4,
 * RTCP(_JSON) 5). Homer's own agents send RTCP type 5 as JSON reports; we send the raw RTCP bytes,
 * which our recorder classifies by content, so a collector expecting JSON simply ignores them.
 */
export const HepProtoType = { SIP: 1, RTP: 4, RTCP: 5 } as const;

/**
 * Our vendor chunk. No vendor id is registered for this project with sipcapture; 0x7F10 is an
 * unregistered value far above the allocated ones (which are small integers), chosen so that
 * collectors skip it as an unknown vendor chunk. Request a real id before deploying widely.
 * Our chunk types are numbered from 0x7F01, outside the generic types (0x0001–0x00ff): decoders
 * that switch on the chunk type and ignore the vendor id (sipcapture's hep-js does) would otherwise
 * read our sequence number as the IP family (type 0x0001).
 */
export const OUR_VENDOR_ID = 0x7f10;
/**
 * Our chunk types (vendor OUR_VENDOR_ID):
 * - 0x7F01 Sequence: u32 per-destination sequence number (loss counting at the collector).
 * - 0x7F02 Turn: u8 flags (TurnFlag), u8 reserved, u16 channel number (0 when none). Present only
 *   when the agent could not fully resolve a TURN-relayed packet (agent started mid-call).
 * - 0x7F03 Ack: u32, the highest sequence number processed; sent by our recorder back to our agent
 *   on a TCP connection, so the agent keeps (and resends after a reconnect) only what is unacknowledged.
 */
export const OurChunk = { Sequence: 0x7f01, Turn: 0x7f02, Ack: 0x7f03 } as const;

/**
 * Turn chunk flags. RelayUnknown: the agent did not see the Allocate response, so the address on the
 * TURN client's side of the 5-tuple is the client's own transport address as the TURN server sees it
 * (the `raddr`/`rport` of its SDP relay candidate), standing in for the relay address. PeerUnknown:
 * the channel binding was not seen, so the far side of the 5-tuple is the TURN server itself.
 * ToClient: the packet went from the peer to the TURN client (else from the client to the peer).
 */
export const TurnFlag = { RelayUnknown: 0x01, PeerUnknown: 0x02, ToClient: 0x04 } as const;

/**
 * A HEP packet, filled in place by decodeHep3 and read by encodeHep3. Variable fields point into a
 * buffer (xxxBuf[xxxOff, xxxOff + xxxLen)) so decoding copies nothing; length 0 means absent.
 */
export class HepPacket {
  family: number = HepFamily.IPv4;
  ipProto = 17;
  /** IPv4 addresses as unsigned 32-bit numbers (family IPv4). */
  src4 = 0;
  dst4 = 0;
  /** IPv6 addresses (family IPv6). */
  readonly src6 = Buffer.alloc(16);
  readonly dst6 = Buffer.alloc(16);
  srcPort = 0;
  dstPort = 0;
  tsSec = 0;
  tsUsec = 0;
  protoType: number = HepProtoType.SIP;
  captureId = 0;
  payloadBuf: Buffer = EMPTY;
  payloadOff = 0;
  payloadLen = 0;
  authKeyBuf: Buffer = EMPTY;
  authKeyOff = 0;
  authKeyLen = 0;
  correlationBuf: Buffer = EMPTY;
  correlationOff = 0;
  correlationLen = 0;
  /** Our sequence chunk; -1 when absent. */
  seq = -1;
  /** Our Turn chunk: flags (0 = chunk absent) and channel number. */
  turnFlags = 0;
  turnChannel = 0;
  /** Our Ack chunk; -1 when absent. */
  ack = -1;
  /** Chunks skipped on decode (unknown type or vendor). */
  unknownChunks = 0;
}

/** Encoded size of `pkt`, or -1 when it exceeds HEP's 16-bit total length. */
export function hep3Size(pkt: HepPacket): number {
  const v6 = pkt.family === HepFamily.IPv6;
  let n = HEP3_HEADER_LEN;
  n += 2 * (CHUNK_HEADER_LEN + 1); // family, proto
  n += 2 * (CHUNK_HEADER_LEN + (v6 ? 16 : 4));
  n += 2 * (CHUNK_HEADER_LEN + 2); // ports
  n += 2 * (CHUNK_HEADER_LEN + 4); // timestamp
  n += CHUNK_HEADER_LEN + 1; // proto type
  n += CHUNK_HEADER_LEN + 4; // capture id
  if (pkt.authKeyLen > 0) n += CHUNK_HEADER_LEN + pkt.authKeyLen;
  if (pkt.correlationLen > 0) n += CHUNK_HEADER_LEN + pkt.correlationLen;
  if (pkt.seq >= 0) n += CHUNK_HEADER_LEN + 4;
  if (pkt.turnFlags !== 0) n += CHUNK_HEADER_LEN + 4;
  if (pkt.ack >= 0) n += CHUNK_HEADER_LEN + 4;
  n += CHUNK_HEADER_LEN + pkt.payloadLen;
  return n > MAX_TOTAL ? -1 : n;
}

// Chunk writers: each writes one chunk at out[p] and returns the offset after it. Plain functions,
// not closures, so encoding allocates nothing per packet (the agent encodes every forwarded packet).
function head(out: Buffer, p: number, vendor: number, type: number, valueLen: number): number {
  out[p] = vendor >>> 8;
  out[p + 1] = vendor & 0xff;
  out[p + 2] = type >>> 8;
  out[p + 3] = type & 0xff;
  const len = CHUNK_HEADER_LEN + valueLen;
  out[p + 4] = len >>> 8;
  out[p + 5] = len & 0xff;
  return p + CHUNK_HEADER_LEN;
}

function u8Chunk(out: Buffer, p: number, type: number, v: number): number {
  p = head(out, p, 0, type, 1);
  out[p] = v & 0xff;
  return p + 1;
}

function u16Chunk(out: Buffer, p: number, type: number, v: number): number {
  p = head(out, p, 0, type, 2);
  out[p] = (v >>> 8) & 0xff;
  out[p + 1] = v & 0xff;
  return p + 2;
}

function u32Chunk(out: Buffer, p: number, vendor: number, type: number, v: number): number {
  p = head(out, p, vendor, type, 4);
  out[p] = (v >>> 24) & 0xff;
  out[p + 1] = (v >>> 16) & 0xff;
  out[p + 2] = (v >>> 8) & 0xff;
  out[p + 3] = v & 0xff;
  return p + 4;
}

function bytesChunk(out: Buffer, p: number, type: number, b: Buffer, off: number, len: number): number {
  p = head(out, p, 0, type, len);
  b.copy(out, p, off, off + len);
  return p + len;
}

/** Writes `pkt` at out[at..]; returns the bytes written, or -1 if it does not fit `out` or 64 KiB. */
export function encodeHep3(pkt: HepPacket, out: Buffer, at = 0): number {
  const size = hep3Size(pkt);
  if (size < 0 || at < 0 || at + size > out.length) return -1;
  const v6 = pkt.family === HepFamily.IPv6;
  out.writeUInt32BE(MAGIC, at);
  out.writeUInt16BE(size, at + 4);
  let p = at + HEP3_HEADER_LEN;
  p = u8Chunk(out, p, HepChunk.IpFamily, pkt.family);
  p = u8Chunk(out, p, HepChunk.IpProto, pkt.ipProto);
  if (v6) {
    p = bytesChunk(out, p, HepChunk.Ipv6Src, pkt.src6, 0, 16);
    p = bytesChunk(out, p, HepChunk.Ipv6Dst, pkt.dst6, 0, 16);
  } else {
    p = u32Chunk(out, p, 0, HepChunk.Ipv4Src, pkt.src4);
    p = u32Chunk(out, p, 0, HepChunk.Ipv4Dst, pkt.dst4);
  }
  p = u16Chunk(out, p, HepChunk.SrcPort, pkt.srcPort);
  p = u16Chunk(out, p, HepChunk.DstPort, pkt.dstPort);
  p = u32Chunk(out, p, 0, HepChunk.TsSec, pkt.tsSec);
  p = u32Chunk(out, p, 0, HepChunk.TsUsec, pkt.tsUsec);
  p = u8Chunk(out, p, HepChunk.ProtoType, pkt.protoType);
  p = u32Chunk(out, p, 0, HepChunk.CaptureId, pkt.captureId);
  if (pkt.authKeyLen > 0) p = bytesChunk(out, p, HepChunk.AuthKey, pkt.authKeyBuf, pkt.authKeyOff, pkt.authKeyLen);
  if (pkt.correlationLen > 0) p = bytesChunk(out, p, HepChunk.CorrelationId, pkt.correlationBuf, pkt.correlationOff, pkt.correlationLen);
  if (pkt.seq >= 0) p = u32Chunk(out, p, OUR_VENDOR_ID, OurChunk.Sequence, pkt.seq);
  if (pkt.turnFlags !== 0) p = u32Chunk(out, p, OUR_VENDOR_ID, OurChunk.Turn, ((pkt.turnFlags & 0xff) << 24) | (pkt.turnChannel & 0xffff));
  if (pkt.ack >= 0) p = u32Chunk(out, p, OUR_VENDOR_ID, OurChunk.Ack, pkt.ack);
  p = bytesChunk(out, p, HepChunk.Payload, pkt.payloadBuf, pkt.payloadOff, pkt.payloadLen);
  return p - at;
}

/**
 * Decodes the HEP3 packet at buf[off, off + len) into `out` (fields not present keep the reset
 * values: 0, empty, seq -1). Truncated: fewer bytes than the total length. Malformed: not "HEP3",
 * a total or chunk length below its header, a chunk past the total length, or a fixed-size generic
 * chunk of the wrong size. Unsupported: a compressed payload chunk (0x0010), which we do not inflate.
 */
export function decodeHep3(buf: Buffer, off: number, len: number, out: HepPacket): Status {
  if (len < HEP3_HEADER_LEN || off < 0 || off + len > buf.length) return Status.Truncated;
  if (u32(buf, off) !== MAGIC) return Status.Malformed;
  const total = u16(buf, off + 4);
  if (total < HEP3_HEADER_LEN) return Status.Malformed;
  if (total > len) return Status.Truncated;
  resetHepPacket(out);
  const end = off + total;
  let p = off + HEP3_HEADER_LEN;
  while (p < end) {
    if (p + CHUNK_HEADER_LEN > end) return Status.Malformed;
    const vendor = u16(buf, p);
    const type = u16(buf, p + 2);
    const clen = u16(buf, p + 4);
    if (clen < CHUNK_HEADER_LEN || p + clen > end) return Status.Malformed;
    const v = p + CHUNK_HEADER_LEN;
    const vlen = clen - CHUNK_HEADER_LEN;
    p += clen;
    if (vendor === OUR_VENDOR_ID && type >= OurChunk.Sequence && type <= OurChunk.Ack) {
      if (vlen !== 4) return Status.Malformed;
      const x = u32(buf, v);
      if (type === OurChunk.Sequence) out.seq = x;
      else if (type === OurChunk.Ack) out.ack = x;
      else {
        out.turnFlags = x >>> 24;
        out.turnChannel = x & 0xffff;
      }
      continue;
    }
    if (vendor !== 0) {
      out.unknownChunks++;
      continue;
    }
    const want = FIXED_LEN[type] ?? -1;
    if (want >= 0 && vlen !== want) return Status.Malformed;
    switch (type) {
      case HepChunk.IpFamily: out.family = buf[v]!; break;
      case HepChunk.IpProto: out.ipProto = buf[v]!; break;
      case HepChunk.Ipv4Src: out.src4 = u32(buf, v); break;
      case HepChunk.Ipv4Dst: out.dst4 = u32(buf, v); break;
      case HepChunk.Ipv6Src: buf.copy(out.src6, 0, v, v + 16); break;
      case HepChunk.Ipv6Dst: buf.copy(out.dst6, 0, v, v + 16); break;
      case HepChunk.SrcPort: out.srcPort = u16(buf, v); break;
      case HepChunk.DstPort: out.dstPort = u16(buf, v); break;
      case HepChunk.TsSec: out.tsSec = u32(buf, v); break;
      case HepChunk.TsUsec: out.tsUsec = u32(buf, v); break;
      case HepChunk.ProtoType: out.protoType = buf[v]!; break;
      case HepChunk.CaptureId: out.captureId = u32(buf, v); break;
      case HepChunk.AuthKey: out.authKeyBuf = buf; out.authKeyOff = v; out.authKeyLen = vlen; break;
      case HepChunk.CorrelationId: out.correlationBuf = buf; out.correlationOff = v; out.correlationLen = vlen; break;
      case HepChunk.Payload: out.payloadBuf = buf; out.payloadOff = v; out.payloadLen = vlen; break;
      case COMPRESSED_PAYLOAD: return Status.Unsupported;
      default: out.unknownChunks++;
    }
  }
  return Status.Ok;
}

const COMPRESSED_PAYLOAD = 0x0010;

/** Value sizes of the fixed-size generic chunks. */
const FIXED_LEN: Partial<Record<number, number>> = {
  [HepChunk.IpFamily]: 1,
  [HepChunk.IpProto]: 1,
  [HepChunk.Ipv4Src]: 4,
  [HepChunk.Ipv4Dst]: 4,
  [HepChunk.Ipv6Src]: 16,
  [HepChunk.Ipv6Dst]: 16,
  [HepChunk.SrcPort]: 2,
  [HepChunk.DstPort]: 2,
  [HepChunk.TsSec]: 4,
  [HepChunk.TsUsec]: 4,
  [HepChunk.ProtoType]: 1,
  [HepChunk.CaptureId]: 4,
};

/** Every field absent (what a decoder starts from). */
export function resetHepPacket(out: HepPacket): void {
  out.family = 0;
  out.ipProto = 0;
  out.src4 = 0;
  out.dst4 = 0;
  out.src6.fill(0);
  out.dst6.fill(0);
  out.srcPort = 0;
  out.dstPort = 0;
  out.tsSec = 0;
  out.tsUsec = 0;
  out.protoType = 0;
  out.captureId = 0;
  out.payloadBuf = EMPTY;
  out.payloadOff = 0;
  out.payloadLen = 0;
  out.authKeyBuf = EMPTY;
  out.authKeyOff = 0;
  out.authKeyLen = 0;
  out.correlationBuf = EMPTY;
  out.correlationOff = 0;
  out.correlationLen = 0;
  out.seq = -1;
  out.turnFlags = 0;
  out.turnChannel = 0;
  out.ack = -1;
  out.unknownChunks = 0;
}
