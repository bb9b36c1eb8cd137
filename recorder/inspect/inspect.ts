import type { Frame } from '../capture/frame.js';
import { Counters } from '../core/counters.js';
import type { LayerCounts } from '../frames/layer-counts.js';
import { Pipeline } from '../pipeline.js';
import type { TcpStreamConsumer } from '../tcp/stream-reassembler.js';
import { ConversationTable, type Conversation } from './conversations.js';

export interface TcpStreamSummary {
  connections: number;
  /** Bytes delivered in order to stream consumers. */
  bytes: number;
  /** Holes reported (missing segments) and their total size. */
  gaps: number;
  gapBytes: number;
}

export interface InspectReport {
  capture: { files: string[]; packets: number; bytes: number; malformed: Record<string, number> };
  layers: Record<string, number>;
  tcpStreams: TcpStreamSummary;
  conversations: { udp: Conversation[]; tcp: Conversation[] };
  /** Conversations not listed because the table was full. */
  conversationsOverflow: number;
}

/** Counters that describe bad or unusual input; the rest (packets, opens, reassembled) are tallies. */
const PROBLEM = /snaplen|truncated|malformed|unsupported|bug|overlap|duplicate|evicted|timeout|too_big|too_many|gap|overflow|retransmission|out_of_order|after_close|after_fin|conflict|mid_stream|port_reuse|rst_unknown|same_endpoints/;
const isProblem = (name: string): boolean => PROBLEM.test(name);

/** Runs frames through the packet path and tallies what a support engineer asks first. */
export class Inspector {
  readonly counters = new Counters();
  private readonly table = new ConversationTable();
  private readonly streams: TcpStreamSummary = { connections: 0, bytes: 0, gaps: 0, gapBytes: 0 };
  private readonly pipeline: Pipeline;

  constructor() {
    const s = this.streams;
    const consumer: TcpStreamConsumer = {
      onOpen: () => void s.connections++,
      onData: (_c, _d, _b, _o, len) => void (s.bytes += len),
      onGap: (_c, _d, missing) => {
        s.gaps++;
        s.gapBytes += missing;
      },
    };
    this.pipeline = new Pipeline(this.counters, {
      onUdp: (p, k) => this.table.onUdp(p, k),
      onTunnelUdp: (p) => this.table.onTunnelUdp(p),
      onTcpSegment: (p) => this.table.onTcpSegment(p),
      tcpStreams: consumer,
    });
  }

  push(frames: readonly Frame[]): void {
    for (const f of frames) this.pipeline.push(f);
  }

  report(files: string[]): InspectReport {
    this.pipeline.finish();
    const layers: Record<string, number> = {};
    const L: LayerCounts = this.pipeline.decoder.layers;
    for (const [k, v] of Object.entries(L)) if (typeof v === 'number' && k !== 'frames' && k !== 'bytes') layers[k] = v;
    const all = this.table.list();
    const malformed: Record<string, number> = {};
    for (const [k, v] of this.counters.entries()) if (isProblem(k)) malformed[k] = v;
    return {
      capture: { files, packets: L.frames, bytes: L.bytes, malformed },
      layers,
      tcpStreams: { ...this.streams },
      conversations: { udp: all.filter((c) => c.proto === 'udp'), tcp: all.filter((c) => c.proto === 'tcp') },
      conversationsOverflow: this.table.overflow,
    };
  }
}
