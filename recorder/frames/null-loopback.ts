import { Status } from '../core/status.js';
import { EtherType, type LinkResult } from './ethernet.js';

/**
 * BSD loopback (LINKTYPE_NULL = 0: 4-byte address family in the *capturing host's* byte order;
 * LINKTYPE_LOOP = 108: always network order). AF_INET is 2 everywhere; AF_INET6 is 24, 28 or 30
 * depending on the BSD, 10 on Linux (tcpdump.org/linktypes/LINKTYPE_NULL.html).
 */
const HEADER = 4;

export function decodeNullLoopback(buf: Buffer, off: number, end: number, bigEndian: boolean, out: LinkResult): Status {
  if (end - off < HEADER) return Status.Truncated;
  let af = bigEndian ? buf.readUInt32BE(off) : buf.readUInt32LE(off);
  // Host order is unknown for DLT_NULL: a value above 0xffff means the other byte order.
  if (af > 0xffff) af = buf.readUInt32BE(off) > 0xffff ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
  out.vlan = -1;
  out.tags = 0;
  out.off = off + HEADER;
  if (af === 2) out.etherType = EtherType.Ipv4;
  else if (af === 10 || af === 24 || af === 28 || af === 30) out.etherType = EtherType.Ipv6;
  else return Status.Unsupported;
  return Status.Ok;
}
