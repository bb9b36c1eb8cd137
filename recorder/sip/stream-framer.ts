import type { Counters } from '../core/counters.js';
import type { TcpConnection, TcpDir, TcpStreamConsumer } from '../tcp/stream-reassembler.js';
import { DEFAULT_SIP_LIMITS, parseSipMessage, type SipMessage } from './message.js';
import { isStartLine, MAX_START_LINE, startLineInside } from './start-line.js';

/**
 * SIP over a stream transport (RFC 3261 §18.3): messages follow each other on the byte
 * stream, each one's end given by its Content-Length (§20.14, mandatory on streams):
 *
 *   start-line CRLF *(message-header CRLF) CRLF body(Content-Length bytes)
 *
 * Between messages a peer may send CRLF keep-alives ("\r\n\r\n" ping, "\r\n" pong, RFC 5626
 * §3.5.1); they are skipped.
 *
 * A passive observer also meets streams joined mid-message, bytes lost in capture (gap()) and
 * non-SIP data. Then the framer resynchronises: it skips lines until one is a plausible start
 * line (start-line.ts isStartLine), counting `sip.tcp_resync` once per episode. A message over
 * maxMessage (or a header block that does not end within it) is discarded the same way
 * (`sip.tcp_too_large`): its Content-Length may be the lie that made it big, so skipping by it
 * could swallow good messages.
 *
 * Memory: bytes are copied only when a message (or a start line being checked) continues into
 * the next push, and never more than maxMessage per direction. A message that lies inside one
 * push is delivered straight from the caller's buffer. Delivered buffers are valid only during
 * the onMessage call.
 *
 * A missing Content-Length on a stream means an empty body (counted `sip.tcp_no_content_length`);
 * a bad one too (`sip.tcp_bad_content_length`).
 *
 * A direction whose first maxMessage bytes hold no message at all is not SIP (HTTP or TLS on a
 * SIP port, any TCP the pipeline hands over): it is given up (`sip.tcp_not_sip`) and its bytes
 * are no longer scanned.
 */

const LF = 0x0a;
const CR = 0x0d;

/** frame() results besides a message length. */
const NEED_MORE = 0;
const BAD = -1;
const TOO_BIG = -2;

export class SipStreamFramer {
  /** Bytes kept across pushes: the start of a message, or of a line still to be checked. */
  private acc: Buffer | null = null;
  private accLen = 0;
  /** Length of the message in acc once its header block was read; -1 before. */
  private total = -1;
  /** Resynchronising: lines that are not start lines are skipped. */
  private sync = false;
  /** While resynchronising: the next byte starts a line. */
  private lineStart = true;
  /** The current resynchronisation was counted. */
  private counted = false;
  /** Set by frame() for BAD and TOO_BIG: where scanning resumes, and whether a line starts there. */
  private resume = 0;
  private resumeAtLineStart = false;
  /** The message being framed passed the start-line check. */
  private startOk = false;
  /** A message was delivered (or one too large was skipped): this direction carries SIP. */
  private seen = false;
  /** Bytes skipped before the first message. */
  private junk = 0;
  /** Given up: maxMessage bytes without a single message is not SIP (HTTP or TLS on a SIP port). */
  private notSip = false;

  constructor(
    private readonly onMessage: (buf: Buffer, off: number, len: number) => void,
    private readonly counters: Counters,
    private readonly maxMessage: number = DEFAULT_SIP_LIMITS.maxSize,
  ) {}

  /** Bytes held for a message (or a line to check) not complete yet. */
  get pendingBytes(): number {
    return this.accLen;
  }

  /** Held bytes are the start of a message (its start line was seen), not a line being checked. */
  get pendingMessage(): boolean {
    return this.accLen > 0 && this.startOk;
  }

  /** This direction was given up as not SIP. */
  get ignored(): boolean {
    return this.notSip;
  }

  /** The next bytes of the stream: buf[off, off + len), valid only during the call. */
  push(buf: Buffer, off: number, len: number): void {
    if (!(off >= 0 && len >= 0 && off + len <= buf.length)) {
      this.counters.inc('sip.bad_bounds');
      return;
    }
    if (this.notSip) return;
    const end = off + len;
    let p = off;
    while (this.accLen > 0) {
      p = this.continueAcc(buf, p, end);
      if (p >= end) return;
    }
    this.run(buf, p, end);
  }

  /**
   * Bytes before the next push were lost: what is held cannot be completed, and the next
   * bytes may start anywhere, so resynchronise (a start line right at the gap is taken, as
   * segments often end at message boundaries).
   */
  gap(): void {
    this.counters.inc('sip.tcp_gap');
    this.discard(this.accLen);
    this.clearAcc();
    this.sync = true;
    this.lineStart = true;
    this.counted = false;
  }

  private clearAcc(): void {
    this.acc = null;
    this.accLen = 0;
    this.total = -1;
    this.startOk = false;
  }

  /** n bytes skipped; before any message, they count towards giving up on the direction. */
  private discard(n: number): void {
    if (n <= 0) return;
    this.counters.inc('sip.tcp_discarded_bytes', n);
    if (this.seen) return;
    this.junk += n;
    if (this.junk >= this.maxMessage) {
      this.counters.inc('sip.tcp_not_sip');
      this.notSip = true;
      this.clearAcc();
    }
  }

  /** Frame messages in the contiguous bytes b[p, end), nothing held from earlier pushes. */
  private run(b: Buffer, p: number, end: number): void {
    while (p < end && !this.notSip) {
      if (this.sync && !this.lineStart) {
        const lf = b.indexOf(LF, p);
        const upto = lf < 0 || lf >= end ? end : lf + 1;
        this.discard(upto - p);
        p = upto;
        if (lf < 0 || lf >= end) return;
        this.lineStart = true;
        continue;
      }
      // Keep-alives between messages; empty lines while resynchronising.
      let q = p;
      while (q < end && (b[q] === CR || b[q] === LF)) q++;
      if (q > p) {
        if (this.sync) this.discard(q - p);
        else this.counters.inc('sip.tcp_keepalive');
        p = q;
        if (p >= end) return;
      }
      const r = this.frame(b, p, end);
      if (r > 0) {
        this.deliver(b, p, r);
        p += r;
      } else if (r === NEED_MORE) {
        this.stash(b, p, end);
        return;
      } else {
        const from = p;
        this.skip(r);
        p = this.resume;
        this.discard(p - from);
      }
    }
  }

  /** After BAD or TOO_BIG from frame(): count, and resynchronise from this.resume. */
  private skip(r: number): void {
    if (r === TOO_BIG) {
      this.counters.inc('sip.tcp_too_large');
      this.counted = true;
      // It had a SIP start line: the direction is SIP, its skipped bytes are no reason to give up.
      this.seen = true;
    } else if (!this.counted) {
      this.counters.inc('sip.tcp_resync');
      this.counted = true;
    }
    this.sync = true;
    this.lineStart = this.resumeAtLineStart;
  }

  private deliver(b: Buffer, off: number, len: number): void {
    this.seen = true;
    this.sync = false;
    this.counted = false;
    this.lineStart = true;
    this.onMessage(b, off, len);
  }

  /** Keep b[p, end), the start of a message (or of its first line), for the next push. */
  private stash(b: Buffer, p: number, end: number): void {
    const n = end - p;
    const cap = this.total > 0 ? this.total : Math.min(this.maxMessage, Math.max(2 * n, 2048));
    // Pooled (allocUnsafe): a message split across segments is common and held only until
    // its next segment, so the pool's speed wins over the 8 KiB slab a slice may pin (measured:
    // allocUnsafeSlow made framing 1448-byte segments 1.5x slower).
    const acc = Buffer.allocUnsafe(cap);
    b.copy(acc, 0, p, end);
    this.acc = acc;
    this.accLen = n;
  }

  /**
   * Continue the held message with b[p, end). Returns where the caller goes on in b: past
   * the bytes that completed the message or first line, or end when all were taken.
   */
  private continueAcc(b: Buffer, p: number, end: number): number {
    const acc = this.acc!;
    if (this.total > 0) {
      // Header block known: copy exactly what the body still needs.
      const take = Math.min(this.total - this.accLen, end - p);
      b.copy(acc, this.accLen, p, p + take);
      this.accLen += take;
      if (this.accLen === this.total) {
        const total = this.total;
        this.clearAcc();
        this.deliver(acc, 0, total);
      }
      return p + take;
    }
    // Header block (or first line) incomplete: append what may belong to it and look again.
    const old = this.accLen;
    const take = Math.min(end - p, this.maxMessage - old);
    let buf = acc;
    if (old + take > buf.length) {
      buf = Buffer.allocUnsafe(Math.min(this.maxMessage, Math.max(2 * buf.length, old + take)));
      acc.copy(buf, 0, 0, old);
      this.acc = buf;
    }
    b.copy(buf, old, p, p + take);
    this.accLen = old + take;
    const r = this.frame(buf, 0, this.accLen);
    if (r > 0) {
      // The held prefix did not hold the whole message, so r > old: the rest came from b.
      this.clearAcc();
      this.deliver(buf, 0, r);
      return p + (r - old);
    }
    if (r === NEED_MORE) {
      if (this.total > buf.length) {
        const exact = Buffer.allocUnsafe(this.total);
        buf.copy(exact, 0, 0, this.accLen);
        this.acc = exact;
      }
      return end;
    }
    this.skip(r);
    const resume = this.resume;
    if (resume < old) {
      // A start line begins inside the held bytes (startLineInside): keep it and go on from
      // there, with the new bytes still to come (push calls again).
      buf.copyWithin(0, resume, old);
      this.accLen = old - resume;
      this.discard(resume);
      return p;
    }
    this.clearAcc();
    this.discard(old);
    return p + (resume - old);
  }

  /**
   * Try to frame a message starting at b[p] (a line start, not CR/LF). Returns its length when
   * all of it is in b[p, end), or NEED_MORE (this.total set when its length is known), BAD
   * (not a start line) or TOO_BIG, with this.resume/resumeAtLineStart telling where to go on.
   */
  private frame(b: Buffer, p: number, end: number): number {
    this.startOk = false;
    // Start line.
    const lineLimit = Math.min(end, p + MAX_START_LINE);
    let lf = p;
    while (lf < lineLimit && b[lf] !== LF) lf++;
    if (lf >= lineLimit) {
      if (lineLimit < end || end - p >= MAX_START_LINE) {
        // A line longer than any start line: skip to its end.
        this.resume = lineLimit;
        this.resumeAtLineStart = false;
        return BAD;
      }
      return NEED_MORE;
    }
    const ok = isStartLine(b, p, lf - p);
    // While resynchronising, "bodyTailINVITE sip:..." passes as a request line with an odd
    // method: look for a start line inside it too.
    if (!ok || this.sync) {
      const inside = startLineInside(b, p, lf - p);
      if (inside > p || !ok) {
        this.resume = inside > p ? inside : lf + 1;
        this.resumeAtLineStart = true;
        return BAD;
      }
    }
    this.startOk = true;
    // Header block: up to the empty line, LF [CR] LF; Content-Length read on the way.
    const limit = Math.min(end, p + this.maxMessage);
    let hdrEnd = -1;
    let cl = CL_MISSING;
    let i = lf;
    while (i < limit) {
      // b[i] is an LF.
      let j = i + 1;
      if (j < limit && b[j] === CR) j++;
      if (j < limit && b[j] === LF) {
        hdrEnd = j + 1;
        break;
      }
      i = i + 1;
      if (cl === CL_MISSING && i < limit) {
        const c = b[i]! | 0x20;
        if (c === 0x63 || c === 0x6c) cl = contentLengthAt(b, i, limit);
      }
      while (i < limit && b[i] !== LF) i++;
    }
    if (hdrEnd < 0) {
      if (limit < end || end - p >= this.maxMessage) {
        this.resume = limit;
        this.resumeAtLineStart = b[limit - 1] === LF;
        return TOO_BIG;
      }
      return NEED_MORE;
    }
    if (cl < 0) {
      this.counters.inc(cl === CL_MISSING ? 'sip.tcp_no_content_length' : 'sip.tcp_bad_content_length');
      cl = 0;
    }
    const total = hdrEnd - p + cl;
    if (total > this.maxMessage) {
      this.resume = hdrEnd;
      this.resumeAtLineStart = true;
      return TOO_BIG;
    }
    if (total <= end - p) return total;
    this.total = total;
    return NEED_MORE;
  }
}

const CL_MISSING = -1;
const CL_BAD = -2;

/** "content-length" in lower case, compared with bytes | 0x20 (letters) or exactly ('-'). */
const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');

/**
 * If the header line at b[ls] is Content-Length (or compact `l`, §7.3.3): its value or CL_BAD;
 * CL_MISSING for any other header. A value folded onto the next line is followed.
 */
function contentLengthAt(b: Buffer, ls: number, end: number): number {
  const c = b[ls]! | 0x20;
  let j = -1;
  if (c === 0x6c) {
    j = ls + 1;
  } else if (c === 0x63 && ls + 14 <= end) {
    j = ls + 1;
    for (let k = 1; k < 14; k++, j++) {
      const x = b[j]!;
      const want = CONTENT_LENGTH[k]!;
      if ((want === 0x2d ? x : x | 0x20) !== want) return CL_MISSING;
    }
  }
  if (j < 0) return CL_MISSING;
  while (j < end && (b[j] === 0x20 || b[j] === 0x09)) j++;
  return j < end && b[j] === 0x3a ? lengthValue(b, j + 1, end) : CL_MISSING;
}

/** Digits after the colon, white space (and folding, §7.3.1) around them allowed. */
function lengthValue(b: Buffer, i: number, end: number): number {
  i = skipLws(b, i, end);
  let v = 0;
  let digits = 0;
  while (i < end && b[i]! >= 0x30 && b[i]! <= 0x39) {
    v = v * 10 + (b[i]! - 0x30);
    digits++;
    i++;
  }
  if (digits === 0 || digits > 15) return CL_BAD;
  i = skipLws(b, i, end);
  if (i < end && b[i] === CR) i++;
  return i >= end || b[i] === LF ? v : CL_BAD;
}

/** SP/HTAB, and line ends followed by SP/HTAB (a folded value). */
function skipLws(b: Buffer, i: number, end: number): number {
  for (;;) {
    while (i < end && (b[i] === 0x20 || b[i] === 0x09)) i++;
    let j = i;
    if (j < end && b[j] === CR) j++;
    if (j < end && b[j] === LF && j + 1 < end && (b[j + 1] === 0x20 || b[j + 1] === 0x09)) i = j + 1;
    else return i;
  }
}

/** Per-connection state of sipTcpConsumer, kept in TcpConnection.user. */
class SipTcpState {
  /** Capture time of the bytes being pushed. */
  now = 0;
  readonly framers: readonly [SipStreamFramer, SipStreamFramer];

  constructor(
    conn: TcpConnection,
    onMessage: (msg: SipMessage, conn: TcpConnection, dir: TcpDir, now: number) => void,
    counters: Counters,
    maxMessage: number,
  ) {
    const framer = (dir: TcpDir): SipStreamFramer =>
      new SipStreamFramer(
        (b, o, l) => {
          const msg = parseSipMessage(b, o, l, counters, maxMessage);
          if (msg !== null) onMessage(msg, conn, dir, this.now);
        },
        counters,
        maxMessage,
      );
    this.framers = [framer(0), framer(1)];
  }
}

/**
 * A TcpStreamConsumer that frames and parses SIP on both directions of each connection (one
 * framer per direction in `conn.user`) and hands every message to onMessage with the capture
 * time its last bytes arrived. Message bodies are valid only during the call.
 */
export function sipTcpConsumer(
  onMessage: (msg: SipMessage, conn: TcpConnection, dir: TcpDir, now: number) => void,
  counters: Counters,
  maxMessage: number = DEFAULT_SIP_LIMITS.maxSize,
): TcpStreamConsumer {
  const stateOf = (c: TcpConnection): SipTcpState => {
    if (c.user instanceof SipTcpState) return c.user;
    const st = new SipTcpState(c, onMessage, counters, maxMessage);
    c.user = st;
    return st;
  };
  return {
    onData(c, dir, buf, off, len, now) {
      const st = stateOf(c);
      st.now = now;
      st.framers[dir].push(buf, off, len);
    },
    onGap(c, dir, _missing, now) {
      const st = stateOf(c);
      st.now = now;
      st.framers[dir].gap();
    },
    onClose(c) {
      if (!(c.user instanceof SipTcpState)) return;
      for (const f of c.user.framers) if (f.pendingMessage) counters.inc('sip.tcp_unfinished');
      c.user = undefined;
    },
  };
}
