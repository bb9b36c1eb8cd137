/**
 * HEPv1 and HEPv2, the fixed-header predecessors of HEP3 still sent by old captagent, Kamailio and
 * OpenSIPS `sipcapture` setups (`hep_version 1|2`):
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  Version 1|2  |    Length     |    Family     |   Protocol    |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |        Source port            |      Destination port         |   big-endian
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  Source IP, Destination IP: 4 + 4 bytes (AF_INET 2) or 16 + 16 bytes (AF_INET6 10)
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  v2 only: seconds (4), microseconds (4), capture id (2)         |   sender's byte order
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  payload (the SIP message) up to the end of the datagram
 *
 * Layout as in the `struct hep_hdr` / `hep_iphdr` / `hep_ip6hdr` / `hep_timehdr` declarations of
 * Kamailio's and OpenSIPS's `modules/sipcapture/sipcapture.h`; Length is the fixed header plus the
 * addresses (8 + 8 or 8 + 32), without the v2 time header, as captagent's and Kamailio's senders fill
 * it and OpenSIPS's `proto_hep` reads it. The time header is written with the host's byte order
 * (`struct timeval` copied as is) and every sender of note runs on little-endian x86/ARM, so it is
 * read little-endian; a v1 packet carries no time, so the caller's arrival time stands in.
 *
 * No auth key, no protocol type and no length field covering the payload: a datagram is one packet
 * (there is no HEPv1/v2 framing over TCP).
 */
import { u16 } from '../core/bytes.js';
import { Status } from '../core/status.js';
import { HepFamily, type HepPacket, HepProtoType, resetHepPacket } from './hep3.js';

const FIXED_LEN = 8;
const OFF_LENGTH = 1;
const OFF_FAMILY = 2;
const OFF_PROTO = 3;
const OFF_SPORT = 4;
const OFF_DPORT = 6;
const TIME_LEN = 10;

/** True when buf[off] is a HEPv1/v2 version byte (HEP3 starts with 'H'). */
export const isHep12 = (buf: Buffer, off: number, len: number): boolean => len >= 1 && (buf[off] === 1 || buf[off] === 2);

/**
 * Decodes a HEPv1/v2 datagram buf[off, off + len) into `out` (protoType SIP, no auth key, no vendor
 * chunks). `arrivalSec` is the time given to v1 packets. Truncated: shorter than its headers.
 * Malformed: not version 1/2, a family other than AF_INET/AF_INET6, a length field that disagrees with
 * the family, or microseconds ≥ 10^6. Unsupported: nothing.
 */
export function decodeHep12(buf: Buffer, off: number, len: number, arrivalSec: number, out: HepPacket): Status {
  if (len < FIXED_LEN || off < 0 || off + len > buf.length) return Status.Truncated;
  const version = buf[off]!;
  if (version !== 1 && version !== 2) return Status.Malformed;
  const family = buf[off + OFF_FAMILY]!;
  const addrLen = family === HepFamily.IPv4 ? 4 : family === HepFamily.IPv6 ? 16 : -1;
  if (addrLen < 0) return Status.Malformed;
  const headerLen = FIXED_LEN + 2 * addrLen;
  if (buf[off + OFF_LENGTH] !== headerLen) return Status.Malformed;
  const payloadOff = headerLen + (version === 2 ? TIME_LEN : 0);
  if (len < payloadOff) return Status.Truncated;
  const t = off + headerLen;
  const usec = version === 2 ? buf.readUInt32LE(t + 4) : 0;
  if (usec > 999_999) return Status.Malformed;

  resetHepPacket(out);
  out.family = family;
  out.ipProto = buf[off + OFF_PROTO]!;
  out.srcPort = u16(buf, off + OFF_SPORT);
  out.dstPort = u16(buf, off + OFF_DPORT);
  const a = off + FIXED_LEN;
  if (addrLen === 4) {
    out.src4 = buf.readUInt32BE(a);
    out.dst4 = buf.readUInt32BE(a + 4);
  } else {
    buf.copy(out.src6, 0, a, a + 16);
    buf.copy(out.dst6, 0, a + 16, a + 32);
  }
  if (version === 2) {
    out.tsSec = buf.readUInt32LE(t);
    out.tsUsec = usec;
    out.captureId = buf.readUInt16LE(t + 8);
  } else {
    out.tsSec = Math.floor(arrivalSec);
    out.tsUsec = Math.min(999_999, Math.round((arrivalSec - out.tsSec) * 1e6));
  }
  out.protoType = HepProtoType.SIP;
  out.payloadBuf = buf;
  out.payloadOff = off + payloadOff;
  out.payloadLen = len - payloadOff;
  return Status.Ok;
}
