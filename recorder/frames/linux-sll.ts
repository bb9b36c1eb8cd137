import { u16 } from '../core/bytes.js';
import { Status } from '../core/status.js';
import type { LinkResult } from './ethernet.js';

/**
 * Linux "cooked" captures (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html, ..._SLL2.html).
 *
 * SLL (16 bytes):  packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2)
 * SLL2 (20 bytes): protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) addr len(1) addr(8)
 * The protocol field is an EtherType for the ARPHRD types that carry IP.
 */
const SLL_HEADER = 16;
const SLL2_HEADER = 20;

export function decodeSll(buf: Buffer, off: number, end: number, out: LinkResult): Status {
  if (end - off < SLL_HEADER) return Status.Truncated;
  out.etherType = u16(buf, off + 14);
  out.off = off + SLL_HEADER;
  out.vlan = -1;
  out.tags = 0;
  return Status.Ok;
}

export function decodeSll2(buf: Buffer, off: number, end: number, out: LinkResult): Status {
  if (end - off < SLL2_HEADER) return Status.Truncated;
  out.etherType = u16(buf, off);
  out.off = off + SLL2_HEADER;
  out.vlan = -1;
  out.tags = 0;
  return Status.Ok;
}
