/**
 * One feed connection on the recorder's side, without the socket (so tests and the benchmark
 * drive it with bytes): challenge, the sender's HELLO checked against the shared key, then SIP
 * and keep-alive frames each checked for their mac and sequence number.
 *
 * A sender that fails authentication, sends an oversized frame, a bad mac or a sequence gap is
 * disconnected (it cannot be trusted to be the Front End, or frames were lost or injected);
 * a well-authenticated frame with a malformed body is counted and skipped.
 *
 * Counters: netfeed.connections, netfeed.authenticated, netfeed.auth_failed, netfeed.too_large,
 * netfeed.bad_mac, netfeed.bad_sequence, netfeed.unauthenticated, netfeed.malformed,
 * netfeed.truncated, netfeed.messages, netfeed.keepalives, netfeed.unknown_frame.
 */
import type { Counters } from '../core/counters.js';
import { Status } from '../core/status.js';
import { frameMacValid, helloProof, proofMatches, sessionKey } from './feed-auth.js';
import { decodeFeedSip, encodeChallenge, encodeFrame, FEED_VERSION, FeedSip, FrameType, MAC_LEN, MAX_FRAME_LEN, NONCE_LEN, PROOF_LEN } from './feed-frame.js';

export interface FeedSessionEvents {
  /** Bytes for the sender (challenge, accept, reject). */
  send(frame: Buffer): void;
  /** The session is over: close the connection. */
  close(reason: string): void;
  /** An authenticated SIP frame; `buf[f.msgOff, f.msgOff + f.msgLen)` is the message, valid during the call. */
  onSip(frontEnd: string, f: FeedSip, buf: Buffer): void;
}

export class FeedSession {
  private pending: Buffer | null = null;
  private state: 'challenged' | 'accepted' | 'closed' = 'challenged';
  private session: Buffer | null = null;
  private nextSeq = 1;
  private readonly sip = new FeedSip();
  frontEnd = '';
  messages = 0;

  constructor(
    private readonly key: string,
    private readonly nonce: Buffer,
    private readonly counters: Counters,
    private readonly events: FeedSessionEvents,
    private readonly maxFrame = MAX_FRAME_LEN,
  ) {
    if (nonce.length !== NONCE_LEN) throw new Error(`nonce must be ${NONCE_LEN} bytes`);
  }

  /** Sends the challenge; call once, when the connection opens. */
  start(): void {
    this.counters.inc('netfeed.connections');
    this.events.send(encodeChallenge(this.nonce));
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  get authenticated(): boolean {
    return this.state === 'accepted';
  }

  push(chunk: Buffer): void {
    if (this.state === 'closed') return;
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let p = 0;
    while (p + 4 <= buf.length && !this.closed) {
      const len = buf.readUInt32BE(p);
      if (len < 1 || len + 4 > this.maxFrame) {
        this.counters.inc('netfeed.too_large');
        this.fail('frame length out of range');
        return;
      }
      if (p + 4 + len > buf.length) break;
      this.frame(buf, p, len + 4);
      p += len + 4;
    }
    if (!this.closed && p < buf.length) this.pending = Buffer.from(buf.subarray(p));
  }

  private frame(buf: Buffer, off: number, len: number): void {
    const type = buf[off + 4]!;
    if (this.state === 'challenged') {
      if (type !== FrameType.Hello) {
        this.counters.inc('netfeed.unauthenticated');
        this.fail('expected HELLO');
        return;
      }
      this.hello(buf, off, len);
      return;
    }
    if (type !== FrameType.Sip && type !== FrameType.KeepAlive) {
      this.counters.inc('netfeed.unknown_frame');
      this.fail(`unexpected frame type ${type}`);
      return;
    }
    if (len < 5 + 4 + MAC_LEN || !frameMacValid(this.session!, buf, off, len)) {
      this.counters.inc('netfeed.bad_mac');
      this.fail('bad mac');
      return;
    }
    const seq = buf.readUInt32BE(off + 5);
    if (seq !== this.nextSeq) {
      this.counters.inc('netfeed.bad_sequence');
      this.fail(`sequence ${seq}, expected ${this.nextSeq}`);
      return;
    }
    this.nextSeq = (this.nextSeq + 1) >>> 0;
    if (type === FrameType.KeepAlive) {
      this.counters.inc('netfeed.keepalives');
      return;
    }
    const f = this.sip;
    const s = decodeFeedSip(buf, off, len, f);
    if (s !== Status.Ok) {
      this.counters.inc(s === Status.Truncated ? 'netfeed.truncated' : 'netfeed.malformed');
      return;
    }
    this.messages++;
    this.counters.inc('netfeed.messages');
    this.events.onSip(this.frontEnd, f, buf);
  }

  private hello(buf: Buffer, off: number, len: number): void {
    const end = off + len;
    const idLen = len >= 7 ? buf[off + 6]! : -1;
    if (idLen < 1 || buf[off + 5] !== FEED_VERSION || off + 7 + idLen + PROOF_LEN !== end) {
      this.counters.inc('netfeed.auth_failed');
      this.fail(buf[off + 5] !== FEED_VERSION ? 'unsupported feed version' : 'malformed HELLO');
      return;
    }
    const id = buf.toString('utf8', off + 7, off + 7 + idLen);
    const proof = buf.subarray(off + 7 + idLen, end);
    if (!proofMatches(helloProof(this.key, this.nonce, id), proof)) {
      this.counters.inc('netfeed.auth_failed');
      this.fail('authentication failed');
      return;
    }
    this.frontEnd = id;
    this.session = sessionKey(this.key, this.nonce, id);
    this.state = 'accepted';
    this.counters.inc('netfeed.authenticated');
    this.events.send(encodeFrame(FrameType.Accept, Buffer.alloc(0), false));
  }

  private fail(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.pending = null;
    this.events.send(encodeFrame(FrameType.Reject, Buffer.from(reason, 'utf8'), false));
    this.events.close(reason);
  }
}
