import type { Frame } from '../capture/frame.js';

export const EMPTY = Buffer.alloc(0);

/** IP protocol numbers (IANA) the packet path looks at. */
export const IpProto = {
  HopByHop: 0,
  Icmp: 1,
  IpInIp: 4,
  Tcp: 6,
  Udp: 17,
  Ipv6: 41,
  Routing: 43,
  Fragment: 44,
  Gre: 47,
  Esp: 50,
  Ah: 51,
  Icmpv6: 58,
  NoNext: 59,
  DestOpts: 60,
  Mobility: 135,
  Sctp: 132,
} as const;

/** TCP flag bits (RFC 9293 §3.1). */
export const TcpFlag = { Fin: 0x01, Syn: 0x02, Rst: 0x04, Psh: 0x08, Ack: 0x10, Urg: 0x20 } as const;

/**
 * The decoded view of one frame, filled in place by the layer decoders (one instance reused
 * for every frame, as gopacket's DecodingLayerParser does) so decoding allocates nothing.
 * Fields describe the innermost IP/transport layer (after tunnels and reassembly).
 */
export class Packet {
  frame: Frame | null = null;
  /** Capture time in seconds (see frameTime). */
  time = 0;
  /** 0 until an IP layer was decoded. */
  ipVersion: 0 | 4 | 6 = 0;
  /** IPv4 addresses as unsigned 32-bit numbers. */
  src4 = 0;
  dst4 = 0;
  /** IPv6 addresses: 16 bytes each at addrBuf[srcOff] / addrBuf[dstOff]. */
  addrBuf: Buffer = EMPTY;
  srcOff = 0;
  dstOff = 0;
  ipProto = 0;
  /** True when the IP datagram was rebuilt from fragments (payload is then a new buffer). */
  reassembled = false;
  srcPort = 0;
  dstPort = 0;
  tcpSeq = 0;
  tcpAck = 0;
  tcpFlags = 0;
  /** Transport payload: bytes payload[payloadOff, payloadOff + payloadLen). */
  payload: Buffer = EMPTY;
  payloadOff = 0;
  payloadLen = 0;
  /** Number of tunnel headers (GRE, IP-in-IP, VXLAN, ERSPAN) peeled off. */
  tunnels = 0;
  /** Outermost 802.1Q VLAN id, -1 when untagged. */
  vlan = -1;
  /** The transport payload was cut short (snaplen or a lying length field): headers are valid. */
  truncated = false;

  reset(frame: Frame, time: number): void {
    this.frame = frame;
    this.time = time;
    this.ipVersion = 0;
    this.src4 = 0;
    this.dst4 = 0;
    this.addrBuf = EMPTY;
    this.srcOff = 0;
    this.dstOff = 0;
    this.ipProto = 0;
    this.reassembled = false;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpSeq = 0;
    this.tcpAck = 0;
    this.tcpFlags = 0;
    this.payload = EMPTY;
    this.payloadOff = 0;
    this.payloadLen = 0;
    this.tunnels = 0;
    this.vlan = -1;
    this.truncated = false;
  }
}
