/**
 * Datagrams gathered into one pooled buffer and handed to the kernel with sendmmsg(2) (native/pcap/
 * batch_send.c): one syscall per batch instead of one syscall and one libuv request per datagram.
 * Used by the agent's HEP-over-UDP output and by the capacity load generator (raw frames on a veth).
 * Linux only: `openUdpBatch` returns null where the addon has no batch sender, and callers keep dgram.
 */
import { loadAddon, type NativeAddon } from './live-source.js';

type BatchAddon = Required<Pick<NativeAddon, 'openUdp' | 'openPacket' | 'sendBatch' | 'closeFd'>>;

function batchAddon(): BatchAddon | null {
  let a: NativeAddon;
  try {
    a = loadAddon();
  } catch {
    return null;
  }
  const { openUdp, openPacket, sendBatch, closeFd } = a;
  return openUdp && openPacket && sendBatch && closeFd ? { openUdp, openPacket, sendBatch, closeFd } : null;
}

export interface FlushResult {
  sent: number;
  /** Datagrams the kernel would not take (socket buffer full): dropped, for the caller to count. */
  dropped: number;
}

export class BatchSender {
  private readonly buf: Buffer;
  private readonly ends: Uint32Array;
  private count = 0;
  private used = 0;
  private closed = false;

  private constructor(
    private readonly addon: BatchAddon,
    private readonly fd: number,
    bytes: number,
    maxCount: number,
    /** UDP segmentation offload for runs of equal-size datagrams (UDP sockets only). */
    private readonly gso: boolean,
  ) {
    this.buf = Buffer.allocUnsafe(bytes);
    this.ends = new Uint32Array(maxCount);
  }

  /** Datagrams waiting for flush(). */
  get pending(): number {
    return this.count;
  }

  /**
   * Room for one datagram of `len` bytes: write it at `buffer[offset ..]` before the next call.
   * Returns -1 when the batch is full (flush first).
   */
  reserve(len: number): number {
    if (this.count === this.ends.length || this.used + len > this.buf.length) return -1;
    const off = this.used;
    this.used += len;
    this.ends[this.count++] = this.used;
    return off;
  }

  /** The buffer `reserve` offsets point into (stable until flush). */
  get buffer(): Buffer {
    return this.buf;
  }

  /** Copies one datagram in; false when the batch is full (flush first) or it cannot fit at all. */
  push(data: Buffer): boolean {
    const off = this.reserve(data.length);
    if (off < 0) return false;
    data.copy(this.buf, off);
    return true;
  }

  flush(): FlushResult {
    const n = this.count;
    if (n === 0 || this.closed) return { sent: 0, dropped: n };
    const r = this.addon.sendBatch(this.fd, this.buf, this.ends, n, this.gso);
    this.count = 0;
    this.used = 0;
    const sent = r < 0 ? 0 : r;
    return { sent, dropped: n - sent };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.addon.closeFd(this.fd);
  }

  /**
   * A connected UDP socket to host:port (an IP literal), or null without the native batch sender.
   * `gso` (default on): runs of equal-size datagrams go down the stack as one UDP GSO message and
   * are split into datagrams by the kernel (or the NIC); a kernel without it is detected and skipped.
   */
  static udp(host: string, port: number, opts: { sndbuf?: number; bytes?: number; maxCount?: number; gso?: boolean } = {}): BatchSender | null {
    const a = batchAddon();
    if (a === null) return null;
    return new BatchSender(a, a.openUdp(host, port, opts.sndbuf ?? 4 << 20), opts.bytes ?? 1 << 20, opts.maxCount ?? 1024, opts.gso ?? true);
  }

  /** An AF_PACKET socket sending whole link-layer frames on `ifname` (needs CAP_NET_RAW). */
  static packet(ifname: string, opts: { bytes?: number; maxCount?: number } = {}): BatchSender {
    const a = batchAddon();
    if (a === null) throw new Error('the native batch sender is not available (Linux, native/build/Release/pcap_capture.node)');
    return new BatchSender(a, a.openPacket(ifname), opts.bytes ?? 4 << 20, opts.maxCount ?? 8192, false);
  }
}
