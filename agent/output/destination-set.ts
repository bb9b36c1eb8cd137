/**
 * The agent's output: the configured destinations, in fan-out (every destination gets its own
 * stream, each optionally limited to its tenants' addresses) or failover (the first destination
 * that is up gets everything; while none is, the first one buffers). Each destination numbers its
 * own stream (hep3 OurChunk.Sequence), so every recorder can count what it missed.
 */
import { encodeHep3, HepFamily, hep3Size, type HepPacket } from '../../recorder/hep/hep3.js';
import type { HepOutput } from '../forwarder.js';
import type { Destination } from './destination.js';

export type OutputMode = 'fanout' | 'failover';

export class DestinationSet implements HepOutput {
  /** Packets no destination took (filtered out everywhere, or too large to encode). */
  unsent = 0;
  tooLarge = 0;

  constructor(
    readonly destinations: readonly Destination[],
    readonly mode: OutputMode,
  ) {}

  send(pkt: HepPacket): void {
    if (this.mode === 'failover') {
      const d = this.destinations.find((x) => x.up) ?? this.destinations[0];
      if (d && this.accepts(d, pkt)) this.deliver(d, pkt);
      else this.unsent++;
      return;
    }
    let any = false;
    for (const d of this.destinations) {
      if (!this.accepts(d, pkt)) continue;
      this.deliver(d, pkt);
      any = true;
    }
    if (!any) this.unsent++;
  }

  private accepts(d: Destination, pkt: HepPacket): boolean {
    const ips = d.spec.ips;
    if (ips.empty) return true;
    if (pkt.family === HepFamily.IPv4) return ips.hasV4(pkt.src4) || ips.hasV4(pkt.dst4);
    return ips.hasV6(pkt.src6, 0) || ips.hasV6(pkt.dst6, 0);
  }

  private deliver(d: Destination, pkt: HepPacket): void {
    pkt.seq = d.seq;
    const size = hep3Size(pkt);
    if (size < 0) {
      this.tooLarge++;
      return;
    }
    d.seq = (d.seq + 1) >>> 0;
    // A batching UDP destination takes the bytes in place (encoded straight into its sendmmsg batch).
    const room = d.reserve?.(size) ?? null;
    if (room !== null) {
      encodeHep3(pkt, room.buf, room.off);
      return;
    }
    // Otherwise each destination owns its bytes (queued, resent after a reconnect): one allocation per send.
    const buf = Buffer.allocUnsafe(size);
    encodeHep3(pkt, buf);
    d.send(buf, pkt.seq);
  }

  async drain(timeoutMs: number): Promise<boolean> {
    const r = await Promise.all(this.destinations.map((d) => d.drain(timeoutMs)));
    return r.every(Boolean);
  }

  async close(): Promise<void> {
    await Promise.all(this.destinations.map((d) => d.close()));
  }
}
