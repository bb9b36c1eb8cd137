/**
 * Builders for generated test frames (layers nested inside out). Only the IPv4 header checksum
 * is computed: tshark, our oracle, does not validate transport checksums by default.
 */

export const mac = (n: number): Buffer => Buffer.from([0x02, 0, 0, 0, 0, n & 255]);

export function ipv4Addr(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

/** IPv6 text (full or with one `::`) to 16 bytes. */
export function ipv6Addr(text: string): Buffer {
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

export function ethernet(payload: Buffer, etherType = 0x0800, vlans: number[] = [], tpids: number[] = []): Buffer {
  const tags = vlans.map((v, i) => {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(tpids[i] ?? (i === 0 && vlans.length > 1 ? 0x88a8 : 0x8100), 0);
    t.writeUInt16BE(v & 0xfff, 2);
    return t;
  });
  // Each tag's TPID sits where the EtherType would be: rebuild as dst, src, [TPID, TCI]..., type.
  const head = Buffer.concat([mac(1), mac(2)]);
  const parts: Buffer[] = [head];
  for (const t of tags) parts.push(t);
  const et = Buffer.alloc(2);
  et.writeUInt16BE(etherType, 0);
  parts.push(et, payload);
  return Buffer.concat(parts);
}

export function sll(payload: Buffer, protocol = 0x0800): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0); // to us
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  mac(3).copy(h, 6);
  h.writeUInt16BE(protocol, 14);
  return Buffer.concat([h, payload]);
}

export function sll2(payload: Buffer, protocol = 0x0800): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(protocol, 0);
  h.writeUInt32BE(2, 4); // ifindex
  h.writeUInt16BE(1, 8); // ARPHRD_ETHER
  h[10] = 0;
  h[11] = 6;
  mac(4).copy(h, 12);
  return Buffer.concat([h, payload]);
}

export interface Ipv4Options {
  id?: number;
  fragOffset?: number; // bytes, multiple of 8
  more?: boolean;
  ttl?: number;
  options?: Buffer; // multiple of 4 bytes
  totalLength?: number; // override (lying length tests)
}

export function ipv4(src: string, dst: string, proto: number, payload: Buffer, o: Ipv4Options = {}): Buffer {
  const opt = o.options ?? Buffer.alloc(0);
  const ihl = 20 + opt.length;
  const h = Buffer.alloc(ihl);
  h[0] = 0x40 | (ihl / 4);
  h.writeUInt16BE(o.totalLength ?? ihl + payload.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE(((o.more ? 1 : 0) << 13) | ((o.fragOffset ?? 0) / 8), 6);
  h[8] = o.ttl ?? 64;
  h[9] = proto;
  ipv4Addr(src).copy(h, 12);
  ipv4Addr(dst).copy(h, 16);
  opt.copy(h, 20);
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  h.writeUInt16BE(~sum & 0xffff, 10);
  return Buffer.concat([h, payload]);
}

/** IPv6 with optional extension headers given as [nextHeaderType, body] (body padded to 8n-2). */
export function ipv6(src: string, dst: string, proto: number, payload: Buffer, ext: { type: number; body: Buffer }[] = []): Buffer {
  const exts: Buffer[] = [];
  for (let i = 0; i < ext.length; i++) {
    const e = ext[i]!;
    const next = i + 1 < ext.length ? ext[i + 1]!.type : proto;
    if (e.type === 44) {
      const f = Buffer.alloc(8);
      f[0] = next;
      e.body.copy(f, 2, 0, 6);
      exts.push(f);
      continue;
    }
    const len = Math.ceil((e.body.length + 2) / 8) * 8;
    const b = Buffer.alloc(len);
    b[0] = next;
    b[1] = len / 8 - 1;
    e.body.copy(b, 2);
    exts.push(b);
  }
  const first = ext.length ? ext[0]!.type : proto;
  const body = Buffer.concat([...exts, payload]);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(body.length, 4);
  h[6] = first;
  h[7] = 64;
  ipv6Addr(src).copy(h, 8);
  ipv6Addr(dst).copy(h, 24);
  return Buffer.concat([h, body]);
}

/** Fragment header body for ipv6(): offset (bytes), more flag, identification. */
export function ipv6FragBody(offset: number, more: boolean, id: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUInt16BE((offset & 0xfff8) | (more ? 1 : 0), 0);
  b.writeUInt32BE(id >>> 0, 2);
  return b;
}

export function udp(srcPort: number, dstPort: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(srcPort, 0);
  h.writeUInt16BE(dstPort, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export const TCP = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;

export function tcp(srcPort: number, dstPort: number, seq: number, ack: number, flags: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(srcPort, 0);
  h.writeUInt16BE(dstPort, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(ack >>> 0, 8);
  h[12] = 5 << 4;
  h[13] = flags;
  h.writeUInt16BE(65535, 14);
  return Buffer.concat([h, payload]);
}

export function gre(protocol: number, payload: Buffer, o: { key?: number; seq?: number } = {}): Buffer {
  let flags = 0;
  const extra: Buffer[] = [];
  if (o.key !== undefined) {
    flags |= 0x2000;
    const k = Buffer.alloc(4);
    k.writeUInt32BE(o.key, 0);
    extra.push(k);
  }
  if (o.seq !== undefined) {
    flags |= 0x1000;
    const s = Buffer.alloc(4);
    s.writeUInt32BE(o.seq, 0);
    extra.push(s);
  }
  const h = Buffer.alloc(4);
  h.writeUInt16BE(flags, 0);
  h.writeUInt16BE(protocol, 2);
  return Buffer.concat([h, ...extra, payload]);
}

/** ERSPAN type II header (8 bytes) for session `session`, then the mirrored frame. */
export function erspanII(session: number, frame: Buffer, vlan = 0): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x1000 | (vlan & 0xfff), 0);
  h.writeUInt16BE(session & 0x3ff, 2);
  return Buffer.concat([h, frame]);
}

/** ERSPAN type III header (12 bytes, optionally + 8-byte platform sub-header). */
export function erspanIII(session: number, frame: Buffer, platform = false): Buffer {
  const h = Buffer.alloc(12 + (platform ? 8 : 0));
  h.writeUInt16BE(0x2000, 0);
  h.writeUInt16BE(session & 0x3ff, 2);
  h.writeUInt32BE(123456, 4);
  h.writeUInt16BE(platform ? 1 : 0, 10); // FT=0 (Ethernet), O bit
  return Buffer.concat([h, frame]);
}

export function vxlan(vni: number, frame: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 0x08;
  h.writeUIntBE(vni, 4, 3);
  return Buffer.concat([h, frame]);
}

/** A minimal RTP packet (RFC 3550) with `payloadLen` bytes of payload. */
export function rtp(seq: number, ts: number, ssrc: number, pt = 0, payloadLen = 160): Buffer {
  const b = Buffer.alloc(12 + payloadLen, 0xd5);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

export function sipInvite(callId: string, body = ''): Buffer {
  const msg =
    `INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK${callId}\r\n` +
    `From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  return Buffer.from(msg);
}
