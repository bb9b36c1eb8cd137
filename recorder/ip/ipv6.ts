import { u16, u32 } from '../core/bytes.js';
import { IpProto } from '../core/packet.js';
import { Status } from '../core/status.js';
import type { IpResult } from './ip-result.js';

/**
 * IPv6 (RFC 8200 §3) and its extension headers (§4): hop-by-hop, routing and destination
 * options are skipped by their length, the Fragment header (§4.5) is reported for reassembly,
 * AH (RFC 4302) is skipped by its own length unit; ESP ends decoding (encrypted).
 *
 *  |Version| Traffic Class |           Flow Label                  |
 *  |         Payload Length        |  Next Header  |   Hop Limit   |
 *  |                 Source Address (16 bytes)                      |
 *  |              Destination Address (16 bytes)                    |
 */
const HEADER = 40;
const OFF_PAYLOAD_LEN = 4;
const OFF_NEXT = 6;
const OFF_SRC = 8;
const OFF_DST = 24;
const FRAG_HEADER = 8;
/** A chain longer than this is an attack or garbage, not a real packet. */
const MAX_EXTENSIONS = 16;

export function decodeIpv6(buf: Buffer, off: number, end: number, out: IpResult): Status {
  if (end - off < HEADER) return Status.Truncated;
  if (buf[off]! >> 4 !== 6) return Status.Malformed;
  const payloadLen = u16(buf, off + OFF_PAYLOAD_LEN);
  // Jumbograms (RFC 2675) carry 0 here; they do not occur on Ethernet SPAN ports.
  if (payloadLen === 0 && buf[off + OFF_NEXT] !== IpProto.NoNext) return Status.Unsupported;
  out.version = 6;
  out.srcOff = off + OFF_SRC;
  out.dstOff = off + OFF_DST;
  out.isFragment = false;
  out.fragOffset = 0;
  out.moreFragments = false;
  out.fragId = 0;
  const payloadEnd = off + HEADER + payloadLen;
  const truncated = payloadEnd > end;
  const st = walkIpv6Extensions(buf, off + HEADER, Math.min(end, payloadEnd), buf[off + OFF_NEXT]!, out);
  if (st !== Status.Ok) return st;
  return truncated ? Status.Truncated : Status.Ok;
}

/**
 * Skip extension headers starting at `off` with next-header value `next`, stopping at an
 * upper-layer protocol or at a Fragment header (then `out.isFragment` is set and the payload
 * is the fragment's data). Also used on a reassembled payload, whose chain goes on.
 */
export function walkIpv6Extensions(buf: Buffer, off: number, end: number, next: number, out: IpResult): Status {
  let p = off;
  for (let i = 0; i < MAX_EXTENSIONS; i++) {
    switch (next) {
      case IpProto.HopByHop:
      case IpProto.Routing:
      case IpProto.DestOpts:
      case IpProto.Mobility: {
        if (end - p < 8) return Status.Truncated;
        const len = (buf[p + 1]! + 1) * 8;
        if (end - p < len) return Status.Truncated;
        next = buf[p]!;
        p += len;
        break;
      }
      case IpProto.Ah: {
        if (end - p < 8) return Status.Truncated;
        const len = (buf[p + 1]! + 2) * 4;
        if (end - p < len) return Status.Truncated;
        next = buf[p]!;
        p += len;
        break;
      }
      case IpProto.Fragment: {
        if (end - p < FRAG_HEADER) return Status.Truncated;
        const fo = u16(buf, p + 2);
        out.proto = buf[p]!;
        out.fragOffset = fo & 0xfff8;
        out.moreFragments = (fo & 1) !== 0;
        out.fragId = u32(buf, p + 4);
        // An atomic fragment (offset 0, M=0; RFC 6946) is a whole packet: decode it as such.
        if (out.fragOffset === 0 && !out.moreFragments) {
          next = out.proto;
          p += FRAG_HEADER;
          break;
        }
        out.isFragment = true;
        out.payloadOff = p + FRAG_HEADER;
        out.payloadEnd = end;
        return Status.Ok;
      }
      default:
        out.proto = next;
        out.payloadOff = p;
        out.payloadEnd = end;
        return Status.Ok;
    }
  }
  return Status.Malformed;
}
