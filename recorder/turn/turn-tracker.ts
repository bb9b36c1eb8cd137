/**
 * TURN allocations seen in traffic (by the agent, or the recorder on a SPAN port), so that relayed media can be unwrapped to the packet the relay
 * exchanges with the peer (RFC 8656 §2.2: the relay transport address R ↔ the peer P).
 *
 * An allocation is named by its 5-tuple between the TURN client C and the server S (RFC 8656 §2.2);
 * it learns:
 *  - R from the Allocate success response (XOR-RELAYED-ADDRESS; [MS-TURN]: Mapped Address);
 *  - channel → peer from a ChannelBind request (CHANNEL-NUMBER, XOR-PEER-ADDRESS) once its success
 *    response with the same transaction id is seen (§12.2: the binding exists only after success);
 *  - the [MS-TURN] active destination from Set Active Destination request + response (§3.1.5: unframed
 *    data on the 5-tuple then goes to, or comes from, that peer).
 *
 * A tracker in the sense of STYLE.md: it runs on capture time and forgets in sweep(now); every table is
 * capped and what does not fit is counted. A capture started mid-call has seen none of this: the
 * unwrapper (turn-unwrapper.ts) then marks what it could not resolve (hep3 TurnFlag) and the recorder
 * resolves it through the SDP's relay candidate (hep/relay-candidates.ts).
 */
import type { Counters } from '../core/counters.js';
import type { StunAddress } from './stun-message.js';
import { cloneAddress, type EndpointKey } from './endpoint.js';

export interface TurnLimits {
  /** Allocations tracked at once. */
  maxAllocations: number;
  /** Seconds of capture time without traffic before an allocation is forgotten (RFC 8656 default lifetime: 600). */
  idleSec: number;
  /** Seconds a request waits for its response. */
  pendingSec: number;
}

export const DEFAULT_TURN_LIMITS: TurnLimits = { maxAllocations: 100_000, idleSec: 600, pendingSec: 30 };

/** At most this many requests wait for a response per allocation (a client sends a handful at a time). */
const MAX_PENDING = 32;
/** RFC 8656 §12: channels 0x4000–0x4FFF. */
const MAX_CHANNELS = 0x1000;

interface Pending {
  /** Channel of a ChannelBind, -1 for an [MS-TURN] Set Active Destination. */
  channel: number;
  peer: StunAddress;
  at: number;
}

export class Allocation {
  relay: StunAddress | null = null;
  readonly channels = new Map<number, StunAddress>();
  readonly pending = new Map<string, Pending>();
  active: StunAddress | null = null;
  /** Made up from relayed traffic alone (no TURN control message seen on this 5-tuple yet). */
  inferred = false;
  last: number;

  constructor(
    readonly clientKey: EndpointKey,
    readonly serverKey: EndpointKey,
    readonly tcp: boolean,
    now: number,
  ) {
    this.last = now;
  }
}

export class TurnTracker {
  private readonly byClient = new Map<EndpointKey, Allocation>();
  private readonly limits: TurnLimits;

  constructor(
    private readonly counters: Counters,
    limits: Partial<TurnLimits> = {},
  ) {
    this.limits = { ...DEFAULT_TURN_LIMITS, ...limits };
  }

  get size(): number {
    return this.byClient.size;
  }

  /** The allocation of this 5-tuple with the client on `clientKey`'s side, or undefined. */
  find(clientKey: EndpointKey, serverKey: EndpointKey): Allocation | undefined {
    const a = this.byClient.get(clientKey);
    return a !== undefined && a.serverKey === serverKey ? a : undefined;
  }

  /** Finds or creates the allocation of a 5-tuple; null when the table is full. */
  open(clientKey: EndpointKey, serverKey: EndpointKey, tcp: boolean, now: number): Allocation | null {
    const a = this.byClient.get(clientKey);
    if (a !== undefined && a.serverKey === serverKey) {
      a.last = now;
      return a;
    }
    if (a === undefined && this.byClient.size >= this.limits.maxAllocations) {
      this.counters.inc('turn.table_full');
      return null;
    }
    // One client transport address talks to one TURN server at a time; a new server replaces the old.
    if (a !== undefined) this.counters.inc('turn.allocation_replaced');
    const n = new Allocation(clientKey, serverKey, tcp, now);
    this.byClient.set(clientKey, n);
    return n;
  }

  /** A ChannelBind or Set Active Destination request: remembered until its response (by transaction id). */
  request(a: Allocation, txid: string, channel: number, peer: StunAddress, now: number): void {
    if (a.pending.size >= MAX_PENDING) {
      this.counters.inc('turn.pending_overflow');
      return;
    }
    a.pending.set(txid, { channel, peer: cloneAddress(peer), at: now });
  }

  /** A success response: the request it answers takes effect. Returns false when no request matched. */
  confirm(a: Allocation, txid: string): boolean {
    const r = a.pending.get(txid);
    if (r === undefined) return false;
    a.pending.delete(txid);
    a.inferred = false;
    if (r.channel < 0) {
      a.active = r.peer;
      return true;
    }
    if (!a.channels.has(r.channel) && a.channels.size >= MAX_CHANNELS) return false;
    // RFC 8656 §12.2: a channel stays bound to one peer; a re-bind refreshes it.
    a.channels.set(r.channel, r.peer);
    return true;
  }

  setRelay(a: Allocation, relay: StunAddress): void {
    a.relay = cloneAddress(relay);
    a.inferred = false;
  }

  sweep(now: number): void {
    const idle = now - this.limits.idleSec;
    const stale = now - this.limits.pendingSec;
    for (const [k, a] of this.byClient) {
      if (a.last < idle) {
        this.byClient.delete(k);
        this.counters.inc('turn.allocation_expired');
        continue;
      }
      for (const [t, r] of a.pending) if (r.at < stale) a.pending.delete(t);
    }
  }
}
