/**
 * What the agent is told to look at: IP addresses or networks and UDP/TCP port ranges (the config's
 * `filter`). The same rules become the kernel BPF for live capture (bpf.ts) and are checked here
 * for capture files, which have no kernel filter, so `--read` forwards exactly what `--iface` would.
 * An empty list means "any".
 */
import { isIP } from 'node:net';
import type { Packet } from '../../recorder/core/packet.js';
import { parseIpv4 } from '../../recorder/core/address.js';
import { parseIpv6 } from '../../recorder/calls/endpoint-key.js';

export interface PortRange {
  from: number;
  to: number;
}

/** An address or network: IPv4/IPv6 bytes and a prefix length. */
export interface Network {
  text: string;
  v6: boolean;
  bytes: Buffer;
  prefix: number;
}

/** `10.0.0.5`, `10.0.0.0/8`, `2001:db8::/32`; a string describing the problem when it is none of these. */
export function parseNetwork(text: string): Network | string {
  const [addr = '', len] = text.trim().split('/');
  const family = isIP(addr);
  if (family === 0) return `"${addr}" is not an IPv4 or IPv6 address`;
  const v6 = family === 6;
  const max = v6 ? 128 : 32;
  const prefix = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return `bad prefix length in "${text}" (0-${max})`;
  let bytes: Buffer;
  if (v6) bytes = parseIpv6(addr) ?? Buffer.alloc(16);
  else {
    bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(parseIpv4(addr) >>> 0);
  }
  return { text: text.trim(), v6, bytes, prefix };
}

function matchBytes(n: Network, buf: Buffer, off: number): boolean {
  let bits = n.prefix;
  let i = 0;
  while (bits >= 8) {
    if (buf[off + i] !== n.bytes[i]) return false;
    bits -= 8;
    i++;
  }
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((buf[off + i]! ^ n.bytes[i]!) & mask) === 0;
}

/** IPv4 networks as (value, mask) pairs for a number compare on the hot path. */
class V4Set {
  private readonly values: number[] = [];
  private readonly masks: number[] = [];
  add(n: Network): void {
    const mask = n.prefix === 0 ? 0 : (0xffffffff << (32 - n.prefix)) >>> 0;
    this.values.push((n.bytes.readUInt32BE(0) & mask) >>> 0);
    this.masks.push(mask);
  }
  get empty(): boolean {
    return this.values.length === 0;
  }
  has(ip: number): boolean {
    for (let i = 0; i < this.values.length; i++) if (((ip & this.masks[i]!) >>> 0) === this.values[i]) return true;
    return false;
  }
}

/** A set of networks, matched against either address of a packet. */
export class AddressSet {
  private readonly v4 = new V4Set();
  private readonly v6: Network[] = [];

  constructor(readonly networks: readonly Network[]) {
    for (const n of networks) if (n.v6) this.v6.push(n);
    else this.v4.add(n);
  }

  get empty(): boolean {
    return this.networks.length === 0;
  }

  hasV4(ip: number): boolean {
    return this.v4.has(ip);
  }

  hasV6(buf: Buffer, off: number): boolean {
    for (const n of this.v6) if (matchBytes(n, buf, off)) return true;
    return false;
  }

  /** Either address of the packet is in the set (an empty set matches everything). */
  matchesPacket(p: Packet): boolean {
    if (this.empty) return true;
    if (p.ipVersion === 4) return this.v4.has(p.src4) || this.v4.has(p.dst4);
    return this.hasV6(p.addrBuf, p.srcOff) || this.hasV6(p.addrBuf, p.dstOff);
  }
}

/** Ports as a 64 Ki lookup table (one byte each: cheaper per packet than walking ranges). */
export class PortSet {
  private readonly table = new Uint8Array(65536);
  readonly empty: boolean;

  constructor(readonly ranges: readonly PortRange[]) {
    for (const r of ranges) this.table.fill(1, r.from, r.to + 1);
    this.empty = ranges.length === 0;
  }

  has(port: number): boolean {
    return this.table[port] === 1;
  }

  /** Either port in the set (an empty set matches everything). */
  matches(a: number, b: number): boolean {
    return this.empty || this.table[a] === 1 || this.table[b] === 1;
  }
}

export interface InterestRules {
  ips: readonly Network[];
  udpPorts: readonly PortRange[];
  tcpPorts: readonly PortRange[];
}

/** The outer-packet filter: address first, then the port ranges of its transport. */
export class Interest {
  readonly ips: AddressSet;
  readonly udp: PortSet;
  readonly tcp: PortSet;

  constructor(rules: InterestRules) {
    this.ips = new AddressSet(rules.ips);
    this.udp = new PortSet(rules.udpPorts);
    this.tcp = new PortSet(rules.tcpPorts);
  }

  udpPacket(p: Packet): boolean {
    return this.udp.matches(p.srcPort, p.dstPort) && this.ips.matchesPacket(p);
  }

  tcpPacket(p: Packet): boolean {
    return this.tcp.matches(p.srcPort, p.dstPort) && this.ips.matchesPacket(p);
  }
}
