/**
 * HEP over TCP with reconnect and a bounded buffer, so that a recorder restart (up to the buffer's
 * worth, 30 s and more with the defaults) loses nothing.
 *
 * A write() that TCP accepted is not a packet the recorder processed: when a recorder is killed,
 * what sat in its socket buffers is gone. Our recorder therefore acknowledges (hep3 OurChunk.Ack,
 * the highest sequence number it processed, every ~100 ms) and the agent keeps every written packet
 * until acknowledged; after a reconnect the unacknowledged ones are sent again, ahead of the backlog.
 * A collector that never acknowledges (heplify-server, Homer) is detected: with no Ack within
 * ACK_WAIT_MS of the first write on a connection, packets are released once written, as plain TCP.
 */
import { connect, type Socket } from 'node:net';
import { Status } from '../../recorder/core/status.js';
import { seqDiff } from '../../recorder/core/serial.js';
import { decodeHep3, HepPacket } from '../../recorder/hep/hep3.js';
import { HepStreamFramer } from '../../recorder/hep/hep-stream.js';
import { newStats, type Destination, type DestinationSpec } from './destination.js';
import { SendQueue, type QueuedPacket, type SendQueueLimits } from './send-queue.js';

export interface TcpOptions extends SendQueueLimits {
  /** First reconnect delay; doubles up to MAX_BACKOFF_MS. */
  reconnectMs: number;
  /** Expect acknowledgements (our recorder). 'auto' detects them per connection. */
  ack: 'auto' | 'off';
}

const MAX_BACKOFF_MS = 2000;
const ACK_WAIT_MS = 3000;
/** Bytes handed to the socket beyond which we wait for 'drain' (keeps Node's own buffer small). */
const HIGH_WATER = 512 * 1024;

type AckMode = 'unknown' | 'on' | 'off';

export class TcpDestination implements Destination {
  seq = 0;
  readonly stats = newStats();
  private socket: Socket | null = null;
  private connected = false;
  private closing = false;
  private backoff: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly queue: SendQueue;
  /** Written on this connection, not yet acknowledged (oldest first). */
  private unacked: QueuedPacket[] = [];
  private unackedHead = 0;
  private unackedBytes = 0;
  private ackMode: AckMode = 'unknown';
  private firstWriteAt = 0;
  private ackOnConn = false;
  private connections = 0;
  private readonly ackPkt = new HepPacket();

  constructor(
    readonly spec: DestinationSpec,
    private readonly opts: TcpOptions,
  ) {
    this.queue = new SendQueue(opts, `${spec.transport}-${spec.host}-${spec.port}`);
    this.backoff = opts.reconnectMs;
    this.open();
  }

  get up(): boolean {
    return this.connected;
  }

  private updateStats(): void {
    const pending = this.unacked.length - this.unackedHead;
    this.stats.queued = this.queue.length + pending;
    this.stats.queuedBytes = this.queue.memBytes + this.queue.diskBytes;
    this.stats.overflow = this.queue.overflow;
  }

  send(buf: Buffer, seq: number): void {
    this.queue.push({ seq, buf });
    // One pump per event-loop turn: a capture batch goes out in one writev, not a syscall per packet.
    if (this.connected && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.pumpLater);
    }
  }

  private scheduled = false;
  private readonly pumpLater = (): void => {
    this.scheduled = false;
    this.pump();
  };

  private open(): void {
    if (this.closing) return;
    const s = connect({ host: this.spec.host, port: this.spec.port });
    this.socket = s;
    s.setNoDelay(true);
    const framer = new HepStreamFramer((b, off, len) => this.onAck(b, off, len));
    s.on('connect', () => {
      this.connected = true;
      this.backoff = this.opts.reconnectMs;
      if (this.connections++ > 0) this.stats.reconnects++;
      // A collector found not to acknowledge stays so (an Ack turns it back on); one that did must
      // prove it again on the new connection (the address may now be another collector).
      if (this.opts.ack === 'off') this.ackMode = 'off';
      this.ackOnConn = false;
      this.firstWriteAt = 0;
      // Whatever the last connection did not get acknowledged goes first, in order.
      const again = this.unacked.slice(this.unackedHead);
      this.unacked = [];
      this.unackedHead = 0;
      this.queue.release(this.unackedBytes);
      this.unackedBytes = 0;
      this.queue.unshiftAll(again);
      this.pump();
    });
    s.on('data', (d: Buffer) => framer.push(d));
    s.on('drain', () => this.pump());
    s.on('error', () => {
      this.stats.errors++;
    });
    s.on('close', () => {
      this.connected = false;
      this.socket = null;
      if (this.closing) return;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.open();
      }, this.backoff);
      this.backoff = Math.min(MAX_BACKOFF_MS, this.backoff * 2);
    });
  }

  private pump(): void {
    const s = this.socket;
    if (!s || !this.connected) return;
    if (this.ackMode !== 'off' && !this.ackOnConn && this.firstWriteAt > 0 && Date.now() - this.firstWriteAt > ACK_WAIT_MS) this.noAcks();
    s.cork();
    while (s.writableLength < HIGH_WATER) {
      const p = this.queue.shift();
      if (!p) break;
      if (this.firstWriteAt === 0) this.firstWriteAt = Date.now();
      s.write(p.buf);
      this.stats.sent++;
      if (this.ackMode !== 'off') {
        this.unacked.push(p);
        this.unackedBytes += p.buf.length;
        this.queue.charge(p.buf.length);
      }
    }
    s.uncork();
    this.updateStats();
  }

  /** The collector does not acknowledge: stop keeping written packets. */
  private noAcks(): void {
    this.ackMode = 'off';
    this.queue.release(this.unackedBytes);
    this.unacked = [];
    this.unackedHead = 0;
    this.unackedBytes = 0;
  }

  private onAck(b: Buffer, off: number, len: number): void {
    const h = this.ackPkt;
    if (decodeHep3(b, off, len, h) !== Status.Ok || h.ack < 0) return;
    this.ackMode = 'on';
    this.ackOnConn = true;
    let n = 0;
    while (this.unackedHead < this.unacked.length) {
      const p = this.unacked[this.unackedHead]!;
      if (seqDiff(p.seq, h.ack) > 0) break;
      this.unacked[this.unackedHead++] = undefined as unknown as QueuedPacket;
      this.unackedBytes -= p.buf.length;
      this.queue.release(p.buf.length);
      n++;
    }
    if (this.unackedHead > 1024 && this.unackedHead * 2 > this.unacked.length) {
      this.unacked = this.unacked.slice(this.unackedHead);
      this.unackedHead = 0;
    }
    this.stats.acked += n;
    this.updateStats();
    this.pump();
  }

  private get idle(): boolean {
    return this.queue.empty && (this.ackMode === 'off' || this.unackedHead === this.unacked.length) && (this.socket?.writableLength ?? 0) === 0;
  }

  async drain(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (!(this.connected && this.idle) && Date.now() < until) {
      if (this.connected) this.pump();
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.connected && this.idle;
  }

  close(): Promise<void> {
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    this.queue.close();
    const s = this.socket;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => {
      s.once('close', () => resolve());
      s.end();
      setTimeout(() => s.destroy(), 1000).unref();
    });
  }
}
