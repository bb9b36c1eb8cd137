import type { Frame } from './capture/frame.js';
import type { RtpFastPath } from './fastpath/rtp-fast-path.js';
import type { Counters } from './core/counters.js';
import { IpProto, Packet } from './core/packet.js';
import { classifyUdp, DEFAULT_DEMUX_PORTS, type DemuxPorts } from './demux/classify.js';
import type { PayloadKind } from './demux/payload-kind.js';
import { Decoded, FrameDecoder, type FrameDecoderOptions } from './frames/frame-decoder.js';
import { TcpReassembler, type TcpLimits, type TcpStreamConsumer } from './tcp/stream-reassembler.js';

/** Where decoded traffic goes. Every hook is optional: a stage nobody listens to costs nothing. */
export interface PacketSink {
  /** Each UDP datagram (after tunnels and reassembly) with its demux class. */
  onUdp?(p: Packet, kind: PayloadKind): void;
  /** Each TCP segment as captured (conversation tables, before reassembly). */
  onTcpSegment?(p: Packet): void;
  /** Ordered byte streams per TCP connection (SIP, SCCP framers). */
  tcpStreams?: TcpStreamConsumer;
  /** Outer UDP layers of tunnels (VXLAN): counted as flows of their own. */
  onTunnelUdp?(p: Packet): void;
  /** Capture time moved on: expire state (called about once per second of capture time). */
  sweep?(now: number): void;
  /** A native path that takes some frames whole (known RTP flows; pushBatch runs it). */
  readonly fastPath?: RtpFastPath | null;
}

export interface PipelineOptions {
  decoder?: Omit<FrameDecoderOptions, 'onTunnelUdp'>;
  tcp?: Partial<TcpLimits>;
  demuxPorts?: DemuxPorts;
  /** Capture-time seconds between sweeps of the trackers' tables. */
  sweepIntervalSec?: number;
}

/** Frames that hit a decoder bug are kept (copied) for a regression fixture, up to this many. */
const MAX_BUG_FRAMES = 16;

/** A frame's own copy: its bytes copied, without the reader's view (stale at the next read). */
function keepFrame(f: Frame): Frame {
  return { linkType: f.linkType, iface: f.iface, tsSec: f.tsSec, tsNsec: f.tsNsec, caplen: f.caplen, len: f.len, data: Buffer.from(f.data) };
}

/**
 * The packet path: Frame → FrameDecoder → UDP demux / TCP reassembly → sink.
 * Time is the frames' capture time throughout; tables are swept as that time advances.
 */
export class Pipeline {
  readonly decoder: FrameDecoder;
  readonly tcp: TcpReassembler | null;
  /** Copies of frames that made a stage throw (a bug, not bad input). */
  readonly bugFrames: Frame[] = [];
  private readonly packet = new Packet();
  private readonly ports: DemuxPorts;
  private readonly sweepInterval: number;
  private nextSweep = -1;
  private lastTime = 0;
  private fast: RtpFastPath | null;

  constructor(
    private readonly counters: Counters,
    private readonly sink: PacketSink,
    opts: PipelineOptions = {},
  ) {
    const decoderOpts: FrameDecoderOptions = { ...opts.decoder };
    if (sink.onTunnelUdp) decoderOpts.onTunnelUdp = sink.onTunnelUdp.bind(sink);
    this.decoder = new FrameDecoder(counters, decoderOpts);
    this.tcp = sink.tcpStreams ? new TcpReassembler(sink.tcpStreams, counters, opts.tcp) : null;
    this.ports = opts.demuxPorts ?? DEFAULT_DEMUX_PORTS;
    this.sweepInterval = opts.sweepIntervalSec ?? 1;
    this.fast = sink.fastPath ?? null;
  }

  /**
   * Frames in capture order, as a capture source hands them over. With the sink's native fast
   * path, runs of frames in one memory go through it first: it takes the frames of known RTP
   * flows it can handle exactly as `push` would, and each frame it leaves goes through `push`,
   * in order.
   */
  pushBatch(frames: readonly Frame[]): void {
    const fast = this.fast;
    if (fast === null) {
      for (const f of frames) this.push(f);
      return;
    }
    const n = frames.length;
    for (let i = 0; i < n; ) {
      const view = frames[i]!.view;
      if (view === undefined) {
        this.push(frames[i++]!);
        continue;
      }
      let j = i + 1;
      while (j < n && frames[j]!.view === view) j++;
      fast.describe(frames, i, j);
      for (let k = 0, m = j - i; k < m; ) {
        k = this.runFast(fast, view, k, m);
        if (k < m) this.push(frames[i + k++]!);
      }
      i = j;
    }
  }

  /** The fast path over described frames [k, m); returns where it stopped. */
  private runFast(fast: RtpFastPath, view: DataView, k: number, m: number): number {
    if (this.fast === null) return k;
    let r;
    try {
      r = fast.run(view, k, m, this.nextSweep, this.decoder.vxlanPorts);
    } catch {
      // Our bug (bad arguments), never the traffic's: count it and leave every frame to push().
      this.counters.inc('pipeline.bug');
      this.fast = null;
      return k;
    }
    if (r.frames > 0) {
      const L = this.decoder.layers;
      L.frames += r.frames;
      L.bytes += r.bytes;
      L.ethernet += r.frames - r.sll - r.sll2 - r.rawIp;
      L.sll += r.sll;
      L.sll2 += r.sll2;
      L.rawIp += r.rawIp;
      L.vlan += r.vlanFrames;
      L.ipv4 += r.frames;
      L.udp += r.frames;
      this.advance(r.maxTime);
    }
    return r.reached;
  }

  push(frame: Frame): void {
    const p = this.packet;
    const fast = this.fast;
    if (fast !== null) fast.current = p;
    try {
      const d = this.decoder.decode(frame, p);
      if (d === Decoded.Udp) {
        if (this.sink.onUdp) this.sink.onUdp(p, classifyUdp(p.payload, p.payloadOff, p.payloadLen, p.srcPort, p.dstPort, this.ports));
      } else if (d === Decoded.Tcp) {
        this.sink.onTcpSegment?.(p);
        if (this.tcp && !p.truncated) this.tcp.add(p);
      }
    } catch {
      // Backstop (STYLE.md "Bad input"): a throw here is our bug, never the packet's fault.
      this.counters.inc('pipeline.bug');
      if (this.bugFrames.length < MAX_BUG_FRAMES) this.bugFrames.push(keepFrame(frame));
    }
    if (fast !== null) fast.current = null;
    this.advance(p.time);
  }

  /**
   * A packet decoded elsewhere (the HEP listener: original 5-tuple, capture time, payload; SIPREC
   * media) enters at the UDP/TCP stage, exactly where a captured frame's transport layer would.
   */
  inject(p: Packet): void {
    try {
      if (p.ipProto === IpProto.Udp) {
        if (this.sink.onUdp) this.sink.onUdp(p, classifyUdp(p.payload, p.payloadOff, p.payloadLen, p.srcPort, p.dstPort, this.ports));
      } else if (p.ipProto === IpProto.Tcp) {
        this.sink.onTcpSegment?.(p);
        if (this.tcp && !p.truncated) this.tcp.add(p);
      }
    } catch {
      this.counters.inc('pipeline.bug');
      if (p.frame && this.bugFrames.length < MAX_BUG_FRAMES) this.bugFrames.push(keepFrame(p.frame));
    }
    this.advance(p.time);
  }

  /** Capture time moved to `now`: sweep the trackers once per interval. */
  private advance(now: number): void {
    if (now > this.lastTime) this.lastTime = now;
    if (this.nextSweep < 0) this.nextSweep = now + this.sweepInterval;
    else if (now >= this.nextSweep) {
      this.sweep(now);
      this.nextSweep = now + this.sweepInterval;
    }
  }

  sweep(now: number): void {
    this.decoder.sweep(now);
    this.tcp?.sweep(now);
    this.sink.sweep?.(now);
  }

  /** Capture time of the newest frame seen. */
  get now(): number {
    return this.lastTime;
  }

  /** End of input: deliver what TCP still holds and close every connection. */
  finish(): void {
    this.tcp?.flush(this.lastTime);
  }
}
