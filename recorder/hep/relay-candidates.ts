/**
 * Relay addresses by the TURN client's transport address, learned from SDP `a=candidate … typ relay
 * raddr A rport P` (RFC 8445 §5.1.1.2 / RFC 8839 §5.1: a relayed candidate's related address is the
 * mapped address the TURN server saw the client at, i.e. the client side of the TURN 5-tuple).
 *
 * A capture that started after a TURN allocation was made (the agent's, or the recorder's own on a
 * SPAN port: turn/turn-unwrapper.ts) unwraps relayed media with the client's transport address
 * standing in for the relay address (hep3 TurnFlag.RelayUnknown); this table turns it back into the
 * relay address the SDP advertised, so the packet joins its call through the relay candidate like
 * mirrored traffic does. Capped; the oldest entries go first.
 */
import { formatIpv6, parseIpv4 } from '../core/address.js';
import type { Packet } from '../core/packet.js';
import { endpointKey, parseIpv6, type EndpointKey } from '../calls/endpoint-key.js';
import type { SessionDescription } from '../sdp/session-description.js';

export interface RelayAddress {
  v6: boolean;
  ipv4: number;
  ipv6: Buffer | null;
  port: number;
}

const MAX_ENTRIES = 100_000;

export class RelayCandidates {
  private readonly byClient = new Map<EndpointKey, RelayAddress>();

  get size(): number {
    return this.byClient.size;
  }

  /** Every relay candidate with a related address in an offer or answer. */
  learn(sdp: SessionDescription): void {
    for (const m of sdp.audio) {
      for (const c of m.candidates) {
        if (c.type !== 'relay' || c.raddr === undefined || c.rport === undefined || c.rport === 0) continue;
        const key = endpointKey(c.raddr, c.rport);
        if (key === null) continue;
        const v4 = parseIpv4(c.ip);
        const v6 = v4 < 0 ? parseIpv6(c.ip) : null;
        if (v4 < 0 && !v6) continue;
        this.byClient.delete(key);
        this.byClient.set(key, { v6: v4 < 0, ipv4: v4 < 0 ? 0 : v4, ipv6: v6, port: c.port });
        if (this.byClient.size > MAX_ENTRIES) {
          const oldest = this.byClient.keys().next();
          if (!oldest.done) this.byClient.delete(oldest.value);
        }
      }
    }
  }

  lookup(key: EndpointKey): RelayAddress | undefined {
    return this.byClient.get(key);
  }

  /**
   * A packet whose TURN client address (its destination when `toClient`, else its source) stands for
   * the relay address gets the relay address instead, in place. IPv6 addresses are written into
   * p.addrBuf, which must be the caller's own buffer. False when no relay candidate names the client.
   */
  resolve(p: Packet, toClient: boolean): boolean {
    const port = toClient ? p.dstPort : p.srcPort;
    // IPv6 text as calls/endpoint-key writes it (RFC 5952), so SDP-learned keys match.
    const key = p.ipVersion === 4 ? (toClient ? p.dst4 : p.src4) * 65536 + port : `[${formatIpv6(p.addrBuf, toClient ? p.dstOff : p.srcOff)}]:${port}`;
    const r = this.byClient.get(key);
    if (!r || r.v6 !== (p.ipVersion === 6)) return false;
    if (toClient) {
      p.dstPort = r.port;
      if (r.v6) r.ipv6!.copy(p.addrBuf, p.dstOff);
      else p.dst4 = r.ipv4;
    } else {
      p.srcPort = r.port;
      if (r.v6) r.ipv6!.copy(p.addrBuf, p.srcOff);
      else p.src4 = r.ipv4;
    }
    return true;
  }
}
