/**
 * Transport addresses the agent handles: a packet's source or destination, a TURN peer or relay
 * address. They reuse the TURN decoder's StunAddress (family 1 = IPv4, 2 = IPv6, RFC 8489 §14.1).
 */
import type { Packet } from '../../recorder/core/packet.js';
import { StunAddress, StunFamily } from '../../recorder/turn/stun-message.js';

/** A Map key for an endpoint: IPv4 as ip * 65536 + port (exact in a double), IPv6 as text. */
export type EndpointKey = number | string;

export function keyOf(a: StunAddress): EndpointKey {
  return a.family === StunFamily.IPv4 ? a.ipv4 * 65536 + a.port : `${a.ipv6.toString('hex')}/${a.port}`;
}

export const srcKeyOf = (p: Packet): EndpointKey =>
  p.ipVersion === 4 ? p.src4 * 65536 + p.srcPort : `${p.addrBuf.toString('hex', p.srcOff, p.srcOff + 16)}/${p.srcPort}`;

export const dstKeyOf = (p: Packet): EndpointKey =>
  p.ipVersion === 4 ? p.dst4 * 65536 + p.dstPort : `${p.addrBuf.toString('hex', p.dstOff, p.dstOff + 16)}/${p.dstPort}`;

/** Copies the packet's source (or destination) into `out`. */
export function fromPacket(p: Packet, src: boolean, out: StunAddress): StunAddress {
  out.port = src ? p.srcPort : p.dstPort;
  if (p.ipVersion === 4) {
    out.family = StunFamily.IPv4;
    out.ipv4 = src ? p.src4 : p.dst4;
  } else {
    out.family = StunFamily.IPv6;
    const off = src ? p.srcOff : p.dstOff;
    p.addrBuf.copy(out.ipv6, 0, off, off + 16);
  }
  return out;
}

export function copyAddress(from: StunAddress, to: StunAddress): StunAddress {
  to.family = from.family;
  to.port = from.port;
  to.ipv4 = from.ipv4;
  if (from.family === StunFamily.IPv6) from.ipv6.copy(to.ipv6);
  return to;
}

export const cloneAddress = (a: StunAddress): StunAddress => copyAddress(a, new StunAddress());
