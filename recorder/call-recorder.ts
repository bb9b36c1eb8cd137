import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Counters } from './core/counters.js';
import type { Packet } from './core/packet.js';
import { PayloadKind } from './demux/payload-kind.js';
import type { Call, PayloadMapping } from './calls/call.js';
import type { CallRecord } from './calls/call-record.js';
import { CallRegistry, type CallTimeouts } from './calls/call-registry.js';
import type { UsersDirectory } from './calls/users-directory.js';
import type { CallIndex } from './index/call-index.js';
import type { EncoderOptions, RecordingFormat } from '../codecs/types.js';
import type { MediaJobPool } from './media/job-pool.js';
import { recordingExtension, recordingTags } from './media/writers.js';
import type { PacketSink } from './pipeline.js';
import { DialogTracker } from './sip/dialog-tracker.js';
import { parseSipMessage } from './sip/message.js';
import { sipTcpConsumer } from './sip/stream-framer.js';
import { DEFAULT_SCCP_PORTS, isSccpConnection, sccpTcpConsumer } from './sccp/sccp-consumer.js';
import { StationTracker } from './sccp/station-tracker.js';
import type { CallSpool } from './spool/call-spool.js';
import { markRendered, type SpoolDirectory } from './spool/spool-directory.js';
import type { TcpConnection, TcpStreamConsumer } from './tcp/stream-reassembler.js';
import { DEFAULT_DEMUX_PORTS, type DemuxPorts } from './demux/classify.js';
import { learnRelayCandidates } from './hep/call-hooks.js';
import { RelayCandidates } from './hep/relay-candidates.js';
import { TurnInput } from './turn/turn-input.js';
import type { RtpFastPath } from './fastpath/rtp-fast-path.js';
import type { TurnLimits } from './turn/turn-tracker.js';

export interface CallRecorderOptions {
  counters: Counters;
  users?: UsersDirectory;
  timeouts?: Partial<CallTimeouts>;
  spool?: SpoolDirectory | null;
  pool?: MediaJobPool | null;
  index?: CallIndex | null;
  recordingsDir?: string;
  /** Default opus. */
  format?: RecordingFormat;
  /** Keep each call's spool after its recording is written and indexed (default: removed). */
  keepSpools?: boolean;
  /** Encoder bit rate and Opus mode; the writer's defaults when absent. */
  encoder?: EncoderOptions;
  channels?: 1 | 2;
  recordUnattached?: boolean;
  payloadOverrides?: ReadonlyMap<number, PayloadMapping>;
  /** false: no native fast path for known RTP flows (CallRegistry's option). */
  fastPath?: boolean;
  /** Total packets the live capture has dropped so far (pcap_stats). */
  captureDrops?: () => number;
  /** Called when a call's record is final (recording rendered, index written). */
  onRecord?: (rec: CallRecord) => void;
  /** TCP ports of Cisco SCCP (Skinny) CallManagers; default 2000. */
  sccpPorts?: readonly number[];
  /**
   * TURN on the mirror port: UDP and TCP to or from these TURN server ports is unwrapped
   * (turn/turn-input.ts) and the inner packets recorded; absent or empty: off.
   */
  turn?: { serverPorts: readonly number[]; limits?: Partial<TurnLimits> };
  /** Demux hints for unwrapped payloads (the pipeline's); default 5060/5061/5080. */
  demuxPorts?: DemuxPorts;
}

/**
 * The recording service's packet sink: SIP (UDP, and TCP through the stream framer) drives
 * dialogs in the call registry; RTP/RTCP joins calls through the flow table and is spooled;
 * a call's end closes its spool, renders the recording in the media pool and indexes it.
 */
export class CallRecorder implements PacketSink {
  readonly registry: CallRegistry;
  readonly tcpStreams: TcpStreamConsumer;
  /** Cisco SCCP stations and their calls. */
  readonly sccp: StationTracker;
  private readonly dialogs: DialogTracker;
  /** TURN unwrap on the configured server ports; null when off. */
  readonly turn: TurnInput | null = null;
  /** SDP relay candidates (TURN packets whose binding was not seen); shared with the HEP input. */
  readonly relays: RelayCandidates | null = null;
  private readonly pending = new Set<Promise<void>>();
  readonly records: CallRecord[] = [];

  constructor(private readonly opts: CallRecorderOptions) {
    const { counters } = opts;
    this.registry = new CallRegistry(counters, {
      users: opts.users,
      timeouts: opts.timeouts,
      spool: opts.spool ?? null,
      recordUnattached: opts.recordUnattached,
      payloadOverrides: opts.payloadOverrides,
      captureDrops: opts.captureDrops,
      fastPath: opts.fastPath,
      onCallEnded: (call, rec, spool) => this.finalize(call, rec, spool),
    });
    this.dialogs = new DialogTracker(this.registry, counters);
    const sip = sipTcpConsumer((msg, _conn, _dir, now) => {
      // The segment being reassembled gives the exact capture stamp; a message completed later
      // (a gap given up, end of capture) carries the stream's own delivery time.
      const p = this.tcpPacket;
      this.dialogs.onMessage(msg, p && p.time === now ? p : { time: now, frame: null });
    }, counters);
    // SCCP connections (by port) go to the Skinny framer and station tracker, the rest to SIP.
    this.sccp = new StationTracker(this.registry, counters);
    const sccpPorts = new Set(opts.sccpPorts ?? DEFAULT_SCCP_PORTS);
    const sccp = sccpTcpConsumer(this.sccp, counters, sccpPorts, (now) => {
      const p = this.tcpPacket;
      return p && p.time === now ? p : { time: now, frame: null };
    });
    if (opts.turn && opts.turn.serverPorts.length > 0) {
      this.registry.fastPath?.exclude(opts.turn.serverPorts);
      const relays = new RelayCandidates();
      learnRelayCandidates(this.registry, relays);
      this.relays = relays;
      this.turn = new TurnInput({
        counters,
        serverPorts: opts.turn.serverPorts,
        demuxPorts: opts.demuxPorts ?? DEFAULT_DEMUX_PORTS,
        relays,
        deliver: (p, kind) => this.deliver(p, kind),
        ...(opts.turn.limits ? { limits: opts.turn.limits } : {}),
      });
    }
    const turn = this.turn;
    // Connections by port: SCCP to the Skinny framer, TURN servers' to the unwrapper, the rest to SIP.
    const consumer = (c: TcpConnection): TcpStreamConsumer => (isSccpConnection(c, sccpPorts) ? sccp : turn?.isTurnConnection(c) ? turn.tcpStreams : sip);
    this.tcpStreams = {
      onData: (c, dir, buf, off, len, now) => consumer(c).onData(c, dir, buf, off, len, now),
      onGap: (c, dir, missing, now) => consumer(c).onGap?.(c, dir, missing, now),
      onClose: (c, reason, now) => consumer(c).onClose?.(c, reason, now),
    };
  }

  /** The TCP segment being reassembled (its frame gives time and addresses to the dialog). */
  private tcpPacket: Packet | null = null;

  onTcpSegment(p: Packet): void {
    this.tcpPacket = p;
    this.turn?.onTcpSegment(p);
  }

  /** The registry's native path for known RTP flows (the pipeline runs it over frames). */
  get fastPath(): RtpFastPath | null {
    return this.registry.fastPath;
  }

  onUdp(p: Packet, kind: PayloadKind): void {
    if (this.turn?.onUdp(p, kind)) return;
    this.deliver(p, kind);
  }

  /** A datagram as captured, or one taken out of TURN (inner 5-tuple, outer capture time). */
  private deliver(p: Packet, kind: PayloadKind): void {
    if (kind === PayloadKind.Rtp || kind === PayloadKind.Rtcp) {
      this.registry.onMedia(p, kind);
    } else if (kind === PayloadKind.Sip) {
      const msg = parseSipMessage(p.payload, p.payloadOff, p.payloadLen, this.opts.counters);
      if (msg) this.dialogs.onMessage(msg, p);
    }
  }

  sweep(now: number): void {
    this.registry.sweep(now);
    this.sccp.sweep(now);
    this.turn?.sweep(now);
  }

  /** End of input or shutdown: every call ends; resolves when all are rendered and indexed. */
  async finish(now: number, reason: string): Promise<CallRecord[]> {
    this.sccp.finish(now);
    this.registry.finish(now, reason);
    while (this.pending.size) await Promise.all([...this.pending]);
    await this.opts.index?.flushed();
    return this.records;
  }

  private finalize(call: Call, rec: CallRecord, spool: CallSpool | null): void {
    const job = this.complete(call, rec, spool).catch((err: unknown) => {
      this.opts.counters.inc('media.job_failed');
      rec.notes.push(`recording failed: ${err instanceof Error ? err.message : String(err)}`);
      this.store(rec);
    });
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  }

  private async complete(call: Call, rec: CallRecord, spool: CallSpool | null): Promise<void> {
    if (spool) {
      await spool.close({ id: call.id, callId: call.callId, record: rec });
      if (this.opts.pool && this.opts.recordingsDir) {
        const format = this.opts.format ?? 'opus';
        rec.recording = await this.opts.pool.render(spool.dir, {
          outPath: join(this.opts.recordingsDir, `${call.id}.${recordingExtension(format)}`),
          format,
          channels: call.channels ?? this.opts.channels ?? 2,
          tags: recordingTags(rec),
          ...(this.opts.encoder !== undefined ? { encoder: this.opts.encoder } : {}),
        });
        // Packets the capture lost while the call was up make its recording incomplete.
        const dropNote = rec.notes.find((n) => n.startsWith('capture dropped'));
        if (dropNote) {
          rec.recording.complete = false;
          rec.recording.notes.push(dropNote);
        }
        // Recorded as rendered, so start-up recovery never renders this spool again.
        await markRendered(spool.dir, rec.recording);
        this.opts.counters.inc('recordings.written');
      }
    }
    this.store(rec);
    if (spool && rec.recording && !this.opts.keepSpools) await this.removeSpool(spool.dir);
  }

  /**
   * The spool has done its job once the recording is written and the record committed to the
   * index: it goes, or disks fill with a second copy of every call (~67 MB per hour of G.711).
   */
  private async removeSpool(dir: string): Promise<void> {
    try {
      await this.opts.index?.flushed();
      await rm(dir, { recursive: true, force: true });
      this.opts.counters.inc('spool.removed');
    } catch {
      this.opts.counters.inc('spool.remove_failed');
    }
  }

  private store(rec: CallRecord): void {
    this.records.push(rec);
    this.opts.index?.put(rec);
    this.opts.onRecord?.(rec);
  }
}
