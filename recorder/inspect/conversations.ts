import { formatEpochNs } from '../capture/frame.js';
import { dstAddress, formatEndpoint, srcAddress } from '../core/address.js';
import { TcpFlag, type Packet } from '../core/packet.js';
import { PayloadKind, payloadKindName } from '../demux/payload-kind.js';
import type { PacketSink } from '../pipeline.js';

export interface ConversationSide {
  addr: string;
  port: number;
}

export interface Conversation {
  proto: 'udp' | 'tcp';
  /** Source of the first packet seen (tshark's "Address A"). */
  a: ConversationSide;
  b: ConversationSide;
  packetsAtoB: number;
  bytesAtoB: number;
  packetsBtoA: number;
  bytesBtoA: number;
  /** Capture times, `sec.nanoseconds`. */
  first: string;
  last: string;
  /** UDP: demux classes seen, by count. TCP: empty. */
  kinds: Record<string, number>;
  /** The most frequent demux class. */
  kind: string;
}

interface Entry {
  conv: Conversation;
  /** TCP: a FIN or RST was seen, so a later SYN starts a new conversation (port reuse). */
  closed: boolean;
  kindCounts: number[];
}

/** Most conversations a support run keeps; more are counted, not listed. */
const MAX_CONVERSATIONS = 1_000_000;

/**
 * Conversation table for `recorder inspect`, counted the way tshark's `-z conv,udp` and
 * `-z conv,tcp` count: one row per address/port pair (TCP: per connection, so a reused port
 * pair after FIN/RST is a new row), frames and on-the-wire bytes per direction.
 * Keys are strings: this is a support tool, not the recording hot path.
 */
export class ConversationTable implements PacketSink {
  private readonly udp = new Map<string, Entry>();
  private readonly tcp = new Map<string, Entry>();
  private readonly done: Entry[] = [];
  overflow = 0;

  onUdp(p: Packet, kind: PayloadKind): void {
    const e = this.touch(this.udp, 'udp', p, false);
    if (e) e.kindCounts[kind] = (e.kindCounts[kind] ?? 0) + 1;
  }

  onTunnelUdp(p: Packet): void {
    this.touch(this.udp, 'udp', p, false);
  }

  onTcpSegment(p: Packet): void {
    const syn = (p.tcpFlags & (TcpFlag.Syn | TcpFlag.Ack)) === TcpFlag.Syn;
    const e = this.touch(this.tcp, 'tcp', p, syn);
    if (e && (p.tcpFlags & (TcpFlag.Fin | TcpFlag.Rst)) !== 0) e.closed = true;
  }

  private touch(map: Map<string, Entry>, proto: 'udp' | 'tcp', p: Packet, syn: boolean): Entry | null {
    const src = srcAddress(p);
    const dst = dstAddress(p);
    const s = formatEndpoint(src, p.srcPort);
    const d = formatEndpoint(dst, p.dstPort);
    const key = s < d ? `${s} ${d}` : `${d} ${s}`;
    let e = map.get(key);
    if (e && syn && e.closed) {
      this.done.push(e);
      map.delete(key);
      e = undefined;
    }
    const f = p.frame!;
    const t = formatEpochNs(f.tsSec, f.tsNsec);
    if (!e) {
      if (map.size + this.done.length >= MAX_CONVERSATIONS) {
        this.overflow++;
        return null;
      }
      e = {
        conv: {
          proto,
          a: { addr: src, port: p.srcPort },
          b: { addr: dst, port: p.dstPort },
          packetsAtoB: 0,
          bytesAtoB: 0,
          packetsBtoA: 0,
          bytesBtoA: 0,
          first: t,
          last: t,
          kinds: {},
          kind: proto === 'tcp' ? 'tcp' : 'unknown',
        },
        closed: false,
        kindCounts: [],
      };
      map.set(key, e);
    }
    const c = e.conv;
    if (c.a.port === p.srcPort && c.a.addr === src) {
      c.packetsAtoB++;
      c.bytesAtoB += f.len;
    } else {
      c.packetsBtoA++;
      c.bytesBtoA += f.len;
    }
    c.last = t;
    return e;
  }

  /** All conversations, in order of first packet. */
  list(): Conversation[] {
    const all = [...this.done, ...this.udp.values(), ...this.tcp.values()];
    for (const e of all) {
      if (e.conv.proto !== 'udp') continue;
      let best = -1;
      let bestKind: number = PayloadKind.Unknown;
      e.conv.kinds = {};
      e.kindCounts.forEach((n, k) => {
        if (n === undefined || n === 0) return;
        e.conv.kinds[payloadKindName[k] ?? String(k)] = n;
        if (n > best) {
          best = n;
          bestKind = k;
        }
      });
      e.conv.kind = payloadKindName[bestKind] ?? 'unknown';
    }
    return all.map((e) => e.conv).sort((x, y) => compareTime(x.first, y.first));
  }
}

function compareTime(a: string, b: string): number {
  const [as = '', an = ''] = a.split('.');
  const [bs = '', bn = ''] = b.split('.');
  return Number(as) - Number(bs) || Number(an) - Number(bn);
}
