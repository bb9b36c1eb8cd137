/**
 * SIP server transactions (RFC 3261 §17.2), as a UAS needs them:
 *
 *   INVITE:     Proceeding --1xx--> Proceeding --2xx--> Accepted (RFC 6026 §7.1) --ACK--> gone
 *                                              --3xx-6xx--> Completed --ACK--> Confirmed --> gone
 *   non-INVITE: Trying --final--> Completed (answers retransmissions for Timer J) --> gone
 *
 * A retransmitted request gets the last response again (§17.2.1, §17.2.2). Over UDP, a non-2xx
 * final INVITE response is retransmitted at Timer G (T1 doubling to T2) until the ACK, for at most
 * Timer H (64·T1). A 2xx is retransmitted by the UAS core the same way until its ACK (§13.3.1.4);
 * it is done here too, and the owner hears when the ACK never came (it then ends the session).
 *
 * Time is passed in (milliseconds), and `tick(now)` runs the timers, so tests drive it exactly.
 */
import type { Counters } from '../core/counters.js';
import type { SipMessage } from '../sip/message.js';

/** RFC 3261 §17.1.1.1 timer values. */
export const T1_MS = 500;
export const T2_MS = 4000;
export const T4_MS = 5000;
const TIMER_64T1 = 64 * T1_MS;

/** §17.2.3: branches of RFC 3261 stacks start with this magic cookie. */
const MAGIC = 'z9hG4bK';

export type TxnState = 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';

/** How responses go back: the datagram's source (UDP) or the connection (TCP). */
export interface ResponseRoute {
  readonly reliable: boolean;
  send(data: Buffer): void;
}

export interface ServerTxn {
  readonly key: string;
  readonly method: string;
  readonly route: ResponseRoute;
  readonly callId: string;
  state: TxnState;
  lastResponse: Buffer | null;
  lastStatus: number;
  /** Next retransmission (ms), 0 when none is due. */
  retransmitAt: number;
  interval: number;
  /** When the transaction ends on its own (Timers H, I, J, or the 2xx give-up). */
  expiresAt: number;
  /** Called when a 2xx was never acknowledged (§13.3.1.4: the UAS then ends the dialog). */
  onNoAck: (() => void) | null;
}

export interface TransactionLimits {
  /** Transactions held at once; a request beyond is refused statelessly (503). */
  maxTransactions: number;
}

export class ServerTransactions {
  private readonly table = new Map<string, ServerTxn>();

  constructor(
    private readonly counters: Counters,
    private readonly limits: TransactionLimits = { maxTransactions: 20_000 },
  ) {}

  get size(): number {
    return this.table.size;
  }

  /** §17.2.3 matching key of a request; ACK and CANCEL name the INVITE they belong to with `as`. */
  static key(msg: SipMessage, as: string = msg.method): string {
    const method = as === 'ACK' ? 'INVITE' : as;
    const via = msg.headerAll('via')[0] ?? '';
    if (msg.topViaBranch.startsWith(MAGIC)) return `${msg.topViaBranch}|${sentBy(via)}|${method}`;
    // RFC 2543 peers: Request-URI, From tag, Call-ID, CSeq number and top Via identify it (the To
    // tag is left out: the ACK of a non-2xx carries ours, the INVITE did not).
    return `2543|${msg.callId}|${msg.cseq}|${msg.from.tag}|${via}|${method}`;
  }

  find(key: string): ServerTxn | undefined {
    return this.table.get(key);
  }

  /** A new transaction for a request not seen before; null when the table is full (counted). */
  create(msg: SipMessage, route: ResponseRoute, key = ServerTransactions.key(msg)): ServerTxn | null {
    if (this.table.size >= this.limits.maxTransactions) {
      this.counters.inc('siprec.transactions_full');
      return null;
    }
    const txn: ServerTxn = {
      key,
      method: msg.method,
      route,
      callId: msg.callId,
      state: 'proceeding',
      lastResponse: null,
      lastStatus: 0,
      retransmitAt: 0,
      interval: T1_MS,
      expiresAt: 0,
      onNoAck: null,
    };
    this.table.set(key, txn);
    return txn;
  }

  /** Send a response in the transaction and move it on. */
  respond(txn: ServerTxn, status: number, data: Buffer, now: number): void {
    if (txn.state === 'terminated' || txn.state === 'confirmed') return;
    if (txn.state !== 'proceeding' && status >= 200) {
      // A final response was already sent (§17.2.1: the TU sends one final response).
      this.counters.inc('siprec.second_final_response');
      return;
    }
    txn.lastResponse = data;
    txn.lastStatus = status;
    txn.route.send(data);
    if (status < 200) return;
    if (txn.method === 'INVITE') {
      txn.state = status < 300 ? 'accepted' : 'completed';
      // 2xx: retransmitted whatever the transport (§13.3.1.4); non-2xx: only over UDP (Timer G).
      txn.retransmitAt = status < 300 || !txn.route.reliable ? now + T1_MS : 0;
      txn.interval = T1_MS;
      txn.expiresAt = now + TIMER_64T1;
    } else {
      txn.state = 'completed';
      // Timer J: 64·T1 over UDP to absorb retransmitted requests, zero over TCP.
      txn.expiresAt = txn.route.reliable ? now : now + TIMER_64T1;
    }
  }

  /** A retransmitted request: send the last response again (if any was sent). */
  retransmission(txn: ServerTxn): void {
    this.counters.inc('siprec.request_retransmission');
    if (txn.lastResponse !== null && txn.state !== 'confirmed') txn.route.send(txn.lastResponse);
  }

  /** The ACK for an INVITE transaction's final response arrived. */
  acknowledge(txn: ServerTxn, now: number): void {
    if (txn.state === 'completed') {
      // Timer I absorbs ACK retransmissions: T4 over UDP, zero over TCP.
      txn.state = 'confirmed';
      txn.retransmitAt = 0;
      txn.expiresAt = txn.route.reliable ? now : now + T4_MS;
    } else if (txn.state === 'accepted') {
      txn.onNoAck = null;
      this.drop(txn);
    }
  }

  drop(txn: ServerTxn): void {
    txn.state = 'terminated';
    txn.retransmitAt = 0;
    if (this.table.get(txn.key) === txn) this.table.delete(txn.key);
  }

  /** Run the timers: retransmissions and expiries due at `now` (ms). */
  tick(now: number): void {
    for (const txn of this.table.values()) {
      if (txn.expiresAt > 0 && now >= txn.expiresAt) {
        if (txn.state === 'accepted') {
          this.counters.inc('siprec.ack_timeout');
          const cb = txn.onNoAck;
          this.drop(txn);
          cb?.();
        } else {
          if (txn.state === 'completed' && txn.method === 'INVITE') this.counters.inc('siprec.ack_timeout');
          this.drop(txn);
        }
        continue;
      }
      if (txn.retransmitAt > 0 && now >= txn.retransmitAt && txn.lastResponse !== null) {
        txn.route.send(txn.lastResponse);
        this.counters.inc('siprec.response_retransmitted');
        txn.interval = Math.min(txn.interval * 2, T2_MS);
        txn.retransmitAt = now + txn.interval;
      }
    }
  }

  /** Every transaction of a call (when its session goes away). */
  dropCall(callId: string): void {
    for (const txn of [...this.table.values()]) if (txn.callId === callId && txn.state !== 'accepted') this.drop(txn);
  }
}

/** The sent-by (host[:port]) of a Via value: `SIP/2.0/UDP host:port;branch=…` → `host:port` (§20.42). */
export function sentBy(via: string): string {
  const m = /^\s*SIP\s*\/\s*[^/\s]+\s*\/\s*\S+\s+([^;,\s]+)/i.exec(via);
  return (m?.[1] ?? via.trim()).toLowerCase();
}
