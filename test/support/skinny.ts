/**
 * Builders for generated Skinny (SCCP) messages and captures: the layouts of packet-skinny.c
 * (see recorder/sccp/*.ts) for the basic header (version 0, 4-byte IPv4 fields, 24-byte numbers,
 * the fixed CallInfo) and the CallManager 7+ headers (V17+: `ipv4or6` fields, V18+: 25-byte
 * numbers, CallInfoV2 with NUL-terminated strings). tshark dissects what these write (the tests
 * compare), so they are an independent check of the decoders.
 */
import { encodeSkinnyHeader } from '../../recorder/sccp/header.js';
import { MessageId } from '../../recorder/sccp/message-ids.js';
import { CallScenario, type RtpOptions } from './call-scenario.js';
import type { WriterFrame } from './capture-writer.js';
import * as B from './packets.js';

export const V_BASIC = 0;
export const V20 = 0x14;

const u32 = (...values: number[]): Buffer => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32LE(v >>> 0, i * 4));
  return b;
};

const fixed = (text: string, size: number): Buffer => {
  const b = Buffer.alloc(size);
  b.write(text, 0, Math.min(size - 1, Buffer.byteLength(text)), 'utf8');
  return b;
};

const nul = (text: string): Buffer => Buffer.concat([Buffer.from(text, 'utf8'), Buffer.alloc(1)]);

const dirnum = (version: number): number => (version >= 0x12 ? 25 : 24);

/** An IP field: 4 bytes (network order) before V17, then type + 16 bytes (IPv4 first, or IPv6). */
export function ipField(version: number, ip: string): Buffer {
  const v6 = ip.includes(':');
  if (version < 0x11) {
    if (v6) throw new Error('IPv6 needs a V17+ header');
    return B.ipv4Addr(ip);
  }
  const area = Buffer.alloc(16);
  (v6 ? B.ipv6Addr(ip) : B.ipv4Addr(ip)).copy(area, 0);
  return Buffer.concat([u32(v6 ? 1 : 0), area]);
}

const msg = (version: number, id: number, body: Buffer): Buffer => encodeSkinnyHeader(version, id, body);

export const sk = {
  register(version: number, device: string, ip: string, deviceType = 7): Buffer {
    return msg(version, MessageId.Register, Buffer.concat([fixed(device, 16), u32(0, 1), B.ipv4Addr(ip), u32(deviceType, 5, 0)]));
  },
  registerAck(version: number): Buffer {
    return msg(version, MessageId.RegisterAck, u32(30, 0, 0, 0));
  },
  keepAlive(version: number): Buffer {
    return msg(version, MessageId.KeepAlive, Buffer.alloc(0));
  },
  lineStat(version: number, line: number, number: string, name: string): Buffer {
    if (version >= 0x11) return msg(version, MessageId.LineStatV2, Buffer.concat([u32(line, 0), nul(number), nul(name), nul(name)]));
    return msg(version, MessageId.LineStat, Buffer.concat([u32(line), fixed(number, 24), fixed(name, 40), fixed(name, 40), u32(0)]));
  },
  offHook(version: number, line = 0, callRef = 0): Buffer {
    return msg(version, MessageId.OffHook, line ? u32(line, callRef) : Buffer.alloc(0));
  },
  onHook(version: number, line = 0, callRef = 0): Buffer {
    return msg(version, MessageId.OnHook, line ? u32(line, callRef) : Buffer.alloc(0));
  },
  callState(version: number, state: number, line: number, callRef: number): Buffer {
    return msg(version, MessageId.CallState, u32(state, line, callRef, 0, 4, 0));
  },
  /** CallInfo (basic) or CallInfoV2 (V17+), callType 1 inbound / 2 outbound. */
  callInfo(version: number, o: { line: number; callRef: number; callType: number; calling: string; callingName?: string; called: string; calledName?: string; originalCalled?: string; lastRedirecting?: string }): Buffer {
    if (version >= 0x11) {
      const strings = [o.calling, '', o.called, o.originalCalled ?? '', o.lastRedirecting ?? '', '', '', '', '', o.callingName ?? '', o.calledName ?? '', '', ''];
      return msg(version, MessageId.CallInfoV2, Buffer.concat([u32(o.line, o.callRef, o.callType, 0, 0, 1, 1, 0), ...strings.map(nul)]));
    }
    return msg(
      version,
      MessageId.CallInfo,
      Buffer.concat([
        fixed(o.callingName ?? '', 40),
        fixed(o.calling, 24),
        fixed(o.calledName ?? '', 40),
        fixed(o.called, 24),
        u32(o.line, o.callRef, o.callType),
        fixed('', 40),
        fixed(o.originalCalled ?? '', 24),
        fixed('', 40),
        fixed(o.lastRedirecting ?? '', 24),
        u32(0, 0),
        Buffer.alloc(4 * 24),
        u32(1, 1, 0),
      ]),
    );
  },
  dialedNumber(version: number, number: string, line: number, callRef: number): Buffer {
    return msg(version, MessageId.DialedNumber, Buffer.concat([fixed(number, dirnum(version)), u32(line, callRef)]));
  },
  keypad(version: number, button: number, line = 0, callRef = 0): Buffer {
    return msg(version, MessageId.KeypadButton, line ? u32(button, line, callRef) : u32(button));
  },
  softKey(version: number, event: number, line: number, callRef: number): Buffer {
    return msg(version, MessageId.SoftKeyEvent, u32(event, line, callRef));
  },
  /** OpenReceiveChannel: compression 4 = G.711 µ-law, 2 = A-law. */
  openReceiveChannel(version: number, o: { conf: number; passThru: number; callRef: number; compression?: number }): Buffer {
    const body = [u32(o.conf, o.passThru, 20, o.compression ?? 4, 0, 0, o.callRef), Buffer.alloc(48), u32(0, 0, 101, 10)];
    if (version >= 0x0b) body.push(u32(0, 0), ipField(version, '0.0.0.0'), u32(0));
    if (version >= 0x10) body.push(u32(0));
    if (version >= 0x11) body.push(u32(0));
    return msg(version, MessageId.OpenReceiveChannel, Buffer.concat(body));
  },
  openReceiveChannelAck(version: number, o: { ip: string; port: number; passThru: number; callRef?: number; status?: number }): Buffer {
    const body = [u32(o.status ?? 0), ipField(version, o.ip), u32(o.port, o.passThru)];
    if (o.callRef !== undefined) body.push(u32(o.callRef));
    return msg(version, MessageId.OpenReceiveChannelAck, Buffer.concat(body));
  },
  startMediaTransmission(version: number, o: { conf: number; passThru: number; ip: string; port: number; callRef: number; compression?: number; mixingMode?: number; partyDirection?: number }): Buffer {
    const body = [u32(o.conf, o.passThru), ipField(version, o.ip), u32(o.port, 20, o.compression ?? 4), u32(184, 0, 0, 0), u32(o.callRef), Buffer.alloc(48), u32(0, 0, 101, 10, o.mixingMode ?? 0)];
    if (version >= 0x0f) body.push(u32(o.partyDirection ?? 0));
    return msg(version, MessageId.StartMediaTransmission, Buffer.concat(body));
  },
  stopMediaTransmission(version: number, o: { conf: number; passThru: number; callRef: number }): Buffer {
    return msg(version, MessageId.StopMediaTransmission, u32(o.conf, o.passThru, o.callRef, 0));
  },
  closeReceiveChannel(version: number, o: { conf: number; passThru: number; callRef: number }): Buffer {
    return msg(version, MessageId.CloseReceiveChannel, u32(o.conf, o.passThru, o.callRef, 0));
  },
  /** Any message id with an arbitrary body (unknown ids, hostile input). */
  raw(version: number, id: number, body: Buffer): Buffer {
    return msg(version, id, body);
  },
};

export interface SkinnyStation {
  device: string;
  ip: string;
  port: number;
  /** Next sequence numbers of station → CM and CM → station. */
  up: number;
  down: number;
}

/**
 * A generated capture of Skinny stations talking to one CallManager (TCP 2000), with RTP
 * between them. Messages sent together share a segment; `segments` cuts the bytes of one send
 * into segments of those sizes (a message across segments, several per segment).
 */
export class SkinnyScenario {
  readonly media: CallScenario;
  private readonly extra: WriterFrame[] = [];

  constructor(
    readonly cm: { ip: string; port: number } = { ip: '10.1.0.1', port: 2000 },
    readonly t0 = 1_700_000_000,
  ) {
    this.media = new CallScenario('skinny', { ip: cm.ip, sipPort: 5060 }, { ip: cm.ip, sipPort: 5060 }, t0, 7);
  }

  private at(t: number, data: Buffer): void {
    const ns = Math.round(t * 1e9);
    this.extra.push({ iface: 0, tsSec: this.t0 + Math.floor(ns / 1e9), tsNsec: ns % 1e9, data });
  }

  private frame(src: string, dst: string, sport: number, dport: number, seq: number, ack: number, flags: number, payload: Buffer): Buffer {
    const seg = B.tcp(sport, dport, seq, ack, flags, payload);
    return src.includes(':') ? B.ethernet(B.ipv6(src, dst, 6, seg), 0x86dd) : B.ethernet(B.ipv4(src, dst, 6, seg));
  }

  /** Opens the station's connection (SYN, SYN-ACK, ACK). */
  station(t: number, device: string, ip: string, port: number): SkinnyStation {
    const s: SkinnyStation = { device, ip, port, up: 1000, down: 5000 };
    this.at(t, this.frame(ip, this.cm.ip, port, this.cm.port, s.up - 1, 0, B.TCP.SYN, Buffer.alloc(0)));
    this.at(t + 1e-5, this.frame(this.cm.ip, ip, this.cm.port, port, s.down - 1, s.up, B.TCP.SYN | B.TCP.ACK, Buffer.alloc(0)));
    this.at(t + 2e-5, this.frame(ip, this.cm.ip, port, this.cm.port, s.up, s.down, B.TCP.ACK, Buffer.alloc(0)));
    return s;
  }

  /** Messages from the station to CallManager ('up') or back ('down'). */
  send(t: number, s: SkinnyStation, way: 'up' | 'down', messages: Buffer[], segments?: number[]): void {
    const bytes = Buffer.concat(messages);
    const sizes = segments ?? [bytes.length];
    let off = 0;
    let i = 0;
    while (off < bytes.length) {
      const n = Math.min(sizes[Math.min(i, sizes.length - 1)]!, bytes.length - off);
      const part = bytes.subarray(off, off + n);
      if (way === 'up') {
        this.at(t + i * 1e-6, this.frame(s.ip, this.cm.ip, s.port, this.cm.port, s.up, s.down, B.TCP.ACK | B.TCP.PSH, part));
        s.up += n;
      } else {
        this.at(t + i * 1e-6, this.frame(this.cm.ip, s.ip, this.cm.port, s.port, s.down, s.up, B.TCP.ACK | B.TCP.PSH, part));
        s.down += n;
      }
      off += n;
      i++;
    }
  }

  /** Closes the station's connection (FIN both ways). */
  close(t: number, s: SkinnyStation): void {
    this.at(t, this.frame(s.ip, this.cm.ip, s.port, this.cm.port, s.up, s.down, B.TCP.FIN | B.TCP.ACK, Buffer.alloc(0)));
    this.at(t + 1e-5, this.frame(this.cm.ip, s.ip, this.cm.port, s.port, s.down, s.up + 1, B.TCP.FIN | B.TCP.ACK, Buffer.alloc(0)));
  }

  rtp(o: RtpOptions): void {
    this.media.rtp(o);
  }

  sorted(): WriterFrame[] {
    return [...this.media.frames, ...this.extra].sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
  }
}
