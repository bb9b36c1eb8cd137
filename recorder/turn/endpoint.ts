/**
 * Transport addresses of TURN unwrapping: a packet's source or destination, a TURN peer or relay
 * address. They reuse the TURN decoder's StunAddress (family 1 = IPv4, 2 = IPv6, RFC 8489 §14.1).
 */
import { parseIpv4 } from '../core/address.js';
import type { Packet } from '../core/packet.js';
import { parseIpv6 } from '../calls/endpoint-key.js';
import { StunAddress, StunFamily } from './stun-message.js';

/** A Map key for an endpoint: IPv4 as ip * 65536 + port (exact in a double), IPv6 as text. */
export type EndpointKey = number | string;

export function keyOf(a: StunAddress): EndpointKey {
  return a.family === StunFamily.IPv4 ? a.ipv4 * 65536 + a.port : `${a.ipv6.toString('hex')}/${a.port}`;
}

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

/** A textual address (as the TCP reassembler names connection ends) into `out`; null when it does not parse. */
export function parseAddress(text: string, port: number, out: StunAddress): StunAddress | null {
  const v4 = parseIpv4(text);
  out.port = port;
  if (v4 >= 0) {
    out.family = StunFamily.IPv4;
    out.ipv4 = v4;
    return out;
  }
  const v6 = parseIpv6(text);
  if (!v6) return null;
  out.family = StunFamily.IPv6;
  v6.copy(out.ipv6);
  return out;
}
