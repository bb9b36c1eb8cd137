/**
 * Spool → recording. Two streaming passes over the spool file, neither holding the call:
 *
 * 1. Timing: run every packet through its stream's time line (timeline.ts) to learn each
 *    segment's anchor, the call's start (the earliest packet start of all streams) and the
 *    output sample rate (the highest decoder rate).
 * 2. Audio: the same classification again, now placing each packet at
 *    `anchor + (timestamp − base) / clockRate` on the output time line. Per stream, a jitter
 *    buffer reorders by sequence number (codecs keep state, so they decode in order) and
 *    releases a packet when it is the next one or has waited the jitter window (500 ms of
 *    capture time); duplicates are dropped by sequence number. Decoded audio is added into the
 *    mixer's window (mixer.ts), which writes finished blocks to the WAV file as capture time
 *    moves on. Gaps (loss, hold, silence suppression) are simply never written to, so they are
 *    silence; comfort noise (RFC 3389) fills from its SID packet to the stream's next packet;
 *    telephone events (RFC 4733) become DTMF tones.
 *
 * The file runs from the first packet's start to the last packet's end. The render writes to
 * `<out>.part` and renames at the end: a crash mid-render never leaves a plausible-looking file.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import type { RecordingInfo } from '../calls/call-record.js';
import { seq16Diff } from '../core/serial.js';
import type { SpoolPacketView, SpoolStreamInfo } from '../spool/spool-format.js';
import { readSpoolHeader, scanSpool } from '../spool/spool-reader.js';
import type { DecoderFactory, PredecodePacket, PredecodedStream } from '../../codecs/types.js';
import { createDecoder, decoderFactory, prepareDecoders, type AudioDecoder } from './decoder.js';
import { createMixer, type AudioMixer } from './mixer.js';
import { parseRed } from '../rtp/red.js';
import { resolvePayload, streamLabel, type ResolvedPayload } from './payload-types.js';
import { StreamPlacer } from './stream-placer.js';
import { prepareWriter } from './writers.js';
import { StreamTimeline } from './timeline.js';
import { DTMF_DIGITS, NoiseSource, comfortNoiseAmplitude, dtmfAmplitude, dtmfTone } from './tones.js';
import type { EncoderOptions, RecordingFormat, RecordingWriter, WriterFactory } from '../../codecs/types.js';
import type { WavEncoding } from '../../codecs/wav-writer.js';

export interface RenderOptions {
  outPath: string;
  /** Opus (Ogg), MP3 or WAV. */
  format: RecordingFormat;
  /** 1: every stream summed; 2: each stream on its `channel` (0 caller left, 1 callee right). */
  channels: 1 | 2;
  /** Default: the highest rate among the decoders used (8000 for G.711). */
  sampleRate?: number;
  /** WAV sample format (default pcm16); mulaw/alaw write G.711 WAV (format tags 7/6). */
  encoding?: WavEncoding;
  /** Encoder bit rate (bit/s) for Opus and MP3, Opus mode; the writer's defaults when absent. */
  encoder?: EncoderOptions;
  /** Tags written into the file where the format has them (OpusTags, ID3). */
  tags?: Record<string, string>;
  /** A timestamp jump that disagrees with capture time by more than this re-anchors (default 1000 ms). */
  reanchorThresholdMs?: number;
  /** How long a packet may wait for an earlier one (default 500 ms of capture time). */
  jitterWindowMs?: number;
  /**
   * Media placed later than this after the call's start is dropped and noted (default 12 h):
   * a capture clock stepped by a day must not write a day of silence.
   */
  maxDurationSec?: number;
}

/** Silence longer than this in one stream is reported as a gap (hold, long silence suppression). */
const GAP_REPORT_SEC = 1;
/** Comfort noise from a codec's DTX fills at most this much of a silence-suppression gap. */
const MAX_DTX_FILL_SEC = 60;
/** Loss longer than this is silence even when the codec could conceal it. */
const MAX_CONCEAL_SEC = 0.12;
/** A jitter buffer longer than this releases its head regardless of time (a stalled stream). */
const MAX_JITTER_PACKETS = 256;
/**
 * A sequence number this far behind the next expected one, or ahead, is a restart of the
 * sender's numbering (same SSRC: a PBX or media server restarting), not loss or reordering
 * (RFC 3550 §A.1 uses the same bounds, MAX_MISORDER and MAX_DROPOUT).
 */
const MAX_MISORDER = 100;
const MAX_DROPOUT = 3000;
/** Scratch size for one packet's decoded samples (the largest RTP payload of 16-bit L16). */
const SCRATCH = 1 << 17;

/** Per-stream timing state; one per pass, fed the same packets in the same order. */
class StreamClock {
  private readonly timelines = new Map<number, StreamTimeline>();
  private readonly threshold: number;
  private audioRate = 0;
  // Result of the last classify():
  timeline: StreamTimeline | null = null;
  segment = 0;
  startExt = 0;
  payload: ResolvedPayload | null = null;
  eventDuration = 0;

  constructor(thresholdSec: number) {
    this.threshold = thresholdSec;
  }

  classify(info: SpoolStreamInfo, p: SpoolPacketView, cap: number): void {
    const pl = resolvePayload(info.payloads, p.pt);
    this.payload = pl;
    let rate: number;
    // Telephone events and CN share the audio's timestamp clock (RFC 4733 §2.1, RFC 3389 §4),
    // whatever rate the SDP gave them.
    if (pl !== null && (pl.kind === 'audio' || pl.kind === 'red')) rate = this.audioRate = pl.clockRate;
    else rate = this.audioRate || (pl?.clockRate ?? 8000);
    const tl = this.timelineFor(rate);
    this.timeline = tl;
    const ext = tl.unwrap(p.ts);
    this.startExt = ext;
    let timing = ext;
    this.eventDuration = 0;
    if (pl?.kind === 'dtmf' && p.len >= 4) {
      // An event packet carries the event's start timestamp; start + duration is "now".
      this.eventDuration = (p.buf[p.off + 2]! << 8) | p.buf[p.off + 3]!;
      timing += this.eventDuration;
    }
    this.segment = tl.classify(timing, ext, cap);
  }

  timelineFor(rate: number): StreamTimeline {
    let tl = this.timelines.get(rate);
    if (tl === undefined) {
      tl = new StreamTimeline(rate, this.threshold);
      this.timelines.set(rate, tl);
    }
    return tl;
  }

  get all(): Iterable<StreamTimeline> {
    return this.timelines.values();
  }
}

interface Pending {
  ext: number;
  cap: number;
  pos: number;
  tsExt: number;
  rate: number;
  pt: number;
  payload: ResolvedPayload | null;
  data: Buffer;
  eventDuration: number;
}

interface StreamStats {
  packets: number;
  lost: number;
  duplicates: number;
  late: number;
  gaps: number;
  gapFrames: number;
  concealedFrames: number;
  decodeErrors: number;
  cnPackets: number;
  dtmf: string;
  unsupported: Set<string>;
  firstPos: number;
  seqRestarts: number;
  /** Lost packets whose audio came from RFC 2198 redundancy. */
  redRecovered: number;
  /** Frames of codec comfort noise played over silence suppression (G.729B, AMR DTX). */
  dtxFrames: number;
}

/** Render state of one stream (pass 2). */
class StreamRender {
  info: SpoolStreamInfo;
  readonly index: number;
  readonly channel: number;
  readonly clock: StreamClock;
  readonly jitter: Pending[] = [];
  private seqLast = 0;
  private seqExt = -1;
  private seqMax = -1;
  private readonly seen = new Float64Array(1024).fill(-1);
  nextSeq: number | null = null;
  decoders = new Map<number, AudioDecoder | null>();
  /** Decoded audio → output rate and time line (set by the render, which owns the mixer). */
  placer: StreamPlacer | null = null;
  prevEnd: number | null = null;
  cnSincePrev = false;
  lastAudioTs: number | null = null;
  lastStep = 0;
  cn = { active: false, amplitude: 0, filledTo: 0 };
  readonly noise: NoiseSource;
  /** The current telephone event: start position, frames rendered (`done`) and announced (`target`). */
  dtmf = { tsExt: Number.NaN, pos: 0, event: 0, amplitude: 0, done: 0, target: 0, active: false };
  readonly stats: StreamStats = {
    packets: 0,
    lost: 0,
    duplicates: 0,
    late: 0,
    gaps: 0,
    gapFrames: 0,
    concealedFrames: 0,
    decodeErrors: 0,
    cnPackets: 0,
    dtmf: '',
    unsupported: new Set(),
    firstPos: Number.POSITIVE_INFINITY,
    seqRestarts: 0,
    redRecovered: 0,
    dtxFrames: 0,
  };

  constructor(index: number, info: SpoolStreamInfo, channel: number, threshold: number) {
    this.index = index;
    this.info = info;
    this.channel = channel;
    this.clock = new StreamClock(threshold);
    this.noise = new NoiseSource((info.ssrc ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  }

  /** 16-bit sequence number → unwrapped (relative to the previous packet, RFC 1982). */
  unwrapSeq(seq: number): number {
    if (this.seqExt < 0) this.seqExt = seq + 0x10000;
    else this.seqExt += seq16Diff(seq, this.seqLast);
    this.seqLast = seq;
    if (this.seqExt > this.seqMax) this.seqMax = this.seqExt;
    return this.seqExt;
  }

  /** After a sequence restart: number the current packet after everything seen (no false duplicates). */
  rebaseSeq(): number {
    this.seqExt = this.seqMax + 1;
    this.seqMax = this.seqExt;
    return this.seqExt;
  }

  /** True when this sequence number was seen recently (a duplicate); records it otherwise. */
  duplicate(ext: number): boolean {
    const slot = ext & 1023;
    if (this.seen[slot] === ext) return true;
    this.seen[slot] = ext;
    return false;
  }

  insert(e: Pending): void {
    const j = this.jitter;
    let i = j.length;
    while (i > 0 && j[i - 1]!.ext > e.ext) i--;
    j.splice(i, 0, e);
  }

  decoder(pt: number, pl: ResolvedPayload, predecoded: ReadonlyMap<string, PredecodedStream>): AudioDecoder | null {
    let d = this.decoders.get(pt);
    if (d === undefined) {
      d = createDecoder(pl.codec, pl.clockRate, pl.channels, pl.fmtp);
      const pre = predecoded.get(wholeKey(this.index, pt));
      if (d !== null && pre !== undefined) d.preload?.(pre);
      this.decoders.set(pt, d);
    }
    return d;
  }

  setInfo(info: SpoolStreamInfo): void {
    this.info = info;
    this.freeDecoders();
  }

  freeDecoders(): void {
    for (const d of this.decoders.values()) d?.free?.();
    this.decoders = new Map();
  }
}

const captureSeconds = (p: SpoolPacketView, t0: number): number => p.captureSec - t0 + p.captureNsec / 1e9;

interface TimingPass {
  /** Whole second of the first packet's capture time: times are kept relative to it (precision). */
  t0: number;
  /** The call's start: the earliest packet start of all streams, seconds after t0. */
  callStart: number;
  packets: number;
  /** Per stream index: its time lines with every segment's final anchor. */
  streams: (StreamClock | undefined)[];
  /** The highest decoder rate seen (8000 when none). */
  sampleRate: number;
}

/** Packets of one (stream, payload type) kept for a codec that decodes whole streams (SILK). */
interface WholeStream {
  codec: string;
  clockRate: number;
  factory: DecoderFactory;
  packets: { seq: number; ts: number; payload: Buffer }[];
  seqLast: number;
  seqExt: number;
  tsLast: number;
  tsExt: number;
}

const wholeKey = (stream: number, pt: number): string => `${stream}/${pt}`;

function timingPass(dir: string, threshold: number, whole: Map<string, WholeStream>): TimingPass {
  const clocks: (StreamClock | undefined)[] = [];
  const infos: (SpoolStreamInfo | undefined)[] = [];
  const rateSeen = new Set<string>();
  let t0: number | null = null;
  let packets = 0;
  let sampleRate = 0;
  scanSpool(dir, {
    stream(index, info) {
      infos[index] = info;
      clocks[index] ??= new StreamClock(threshold);
    },
    packet(p) {
      const c = clocks[p.stream];
      const info = infos[p.stream];
      if (c === undefined || info === undefined) return;
      t0 ??= p.captureSec;
      packets++;
      c.classify(info, p, captureSeconds(p, t0));
      let pl = c.payload;
      if (pl?.kind === 'red') {
        // The output rate follows the codec inside the redundancy (the primary block's).
        const blocks = parseRed(p.buf, p.off, p.len);
        const primary = blocks?.[blocks.length - 1];
        pl = primary === undefined ? null : resolvePayload(info.payloads, primary.pt);
      }
      if (pl !== null && pl.kind === 'audio' && c.payload === pl) {
        const f = decoderFactory(pl.codec);
        if (f?.predecode !== undefined) keepWhole(whole, p, pl, f);
      }
      if (pl !== null && pl.kind === 'audio') {
        const key = `${pl.codec}/${pl.clockRate}/${pl.channels}/${pl.fmtp}`;
        if (!rateSeen.has(key)) {
          rateSeen.add(key);
          const d = createDecoder(pl.codec, pl.clockRate, pl.channels, pl.fmtp);
          if (d !== null) sampleRate = Math.max(sampleRate, d.sampleRate);
          d?.free?.();
        }
      }
    },
  });
  let callStart = Number.POSITIVE_INFINITY;
  for (const c of clocks) {
    if (c === undefined) continue;
    for (const tl of c.all) for (let k = 0; k < tl.segments; k++) callStart = Math.min(callStart, tl.segmentStart(k));
  }
  return { t0: t0 ?? 0, callStart: Number.isFinite(callStart) ? callStart : 0, packets, streams: clocks, sampleRate: sampleRate || 8000 };
}

/** Keeps a packet of a whole-stream codec, its sequence number and timestamp unwrapped. */
function keepWhole(whole: Map<string, WholeStream>, p: SpoolPacketView, pl: ResolvedPayload, factory: DecoderFactory): void {
  const key = wholeKey(p.stream, p.pt);
  let w = whole.get(key);
  if (w === undefined) {
    w = { codec: pl.codec, clockRate: pl.clockRate, factory, packets: [], seqLast: p.seq, seqExt: p.seq + 0x10000, tsLast: p.ts, tsExt: p.ts };
    whole.set(key, w);
  } else {
    w.seqExt += seq16Diff(p.seq, w.seqLast);
    w.seqLast = p.seq;
    w.tsExt += ((p.ts - w.tsLast) | 0);
    w.tsLast = p.ts;
  }
  w.packets.push({ seq: w.seqExt, ts: w.tsExt, payload: Buffer.from(p.buf.subarray(p.off, p.off + p.len)) });
}

/**
 * The whole-stream decodes (SILK): each kept stream in sequence order, duplicates dropped, each
 * gap in the numbering as lost packets of the duration the timestamps say.
 */
async function predecodeStreams(whole: Map<string, WholeStream>): Promise<Map<string, PredecodedStream>> {
  const out = new Map<string, PredecodedStream>();
  for (const [key, w] of whole) {
    const sorted = w.packets.sort((a, b) => a.seq - b.seq);
    const list: PredecodePacket[] = [];
    let prev: (typeof sorted)[number] | undefined;
    for (const q of sorted) {
      if (prev !== undefined) {
        const gap = q.seq - prev.seq;
        if (gap === 0) continue;
        const each = (q.ts - prev.ts) / gap;
        // A long gap (hold, a restart of the numbering) is not concealed: it stays silence.
        if (gap > 1 && gap <= 50 && each > 0) for (let k = 1; k < gap; k++) list.push({ payload: null, samples: each });
      }
      list.push({ payload: q.payload });
      prev = q;
    }
    const r = await w.factory.predecode!(w.codec, w.clockRate, list);
    if (r !== null) out.set(key, r);
  }
  return out;
}

/**
 * Renders a call's spool into a recording (WAV). Synchronous work behind a promise: call it in a
 * worker (MediaJobPool) in the live recorder; the replay CLI and tests may call it directly.
 */
export async function renderRecording(spoolDir: string, opts: RenderOptions): Promise<RecordingInfo> {
  await prepareDecoders();
  const writer = await prepareWriter(opts.format);
  const threshold = (opts.reanchorThresholdMs ?? 1000) / 1000;
  const whole = new Map<string, WholeStream>();
  const timing = timingPass(spoolDir, threshold, whole);
  const predecoded = whole.size > 0 ? await predecodeStreams(whole) : new Map<string, PredecodedStream>();
  whole.clear();
  return renderSync(spoolDir, opts, writer, timing, predecoded);
}

function renderSync(
  spoolDir: string,
  opts: RenderOptions,
  writerFactory: WriterFactory,
  timing: TimingPass,
  predecoded: ReadonlyMap<string, PredecodedStream>,
): RecordingInfo {
  const threshold = (opts.reanchorThresholdMs ?? 1000) / 1000;
  const jitterSec = (opts.jitterWindowMs ?? 500) / 1000;
  const head = readSpoolHeader(spoolDir);
  // The mix runs at the format's rate for the call (Opus and MP3 take only some rates).
  const baseRate = opts.sampleRate ?? timing.sampleRate;
  const rate = writerFactory.rateFor?.(baseRate) ?? baseRate;
  const channels = opts.channels;
  const { t0, callStart } = timing;

  const tmp = `${opts.outPath}.part`;
  const out: RecordingWriter = writerFactory.create(tmp, {
    sampleRate: rate,
    channels,
    encoding: opts.encoding ?? 'pcm16',
    ...opts.encoder,
    ...(opts.tags !== undefined ? { tags: opts.tags } : {}),
  });
  const lagFrames = Math.round((jitterSec + threshold + 1) * rate);
  const maxFrames = Math.round((opts.maxDurationSec ?? 12 * 3600) * rate);
  let beyond = 0;
  const mixer = createMixer(channels, rate, lagFrames + 30 * rate, (pcm, n) => out.write(pcm, n));
  const renders: (StreamRender | undefined)[] = [];
  const scratch = new Int16Array(SCRATCH);
  let maxEnd = 0;
  let lastCheck = Number.NEGATIVE_INFINITY;

  const fillCn = (s: StreamRender, to: number): void => {
    let from = Math.max(s.cn.filledTo, mixer.written);
    while (from < to) {
      const n = Math.min(to - from, SCRATCH);
      s.noise.fill(scratch, n, s.cn.amplitude);
      mixer.add(s.channel, from, scratch, 0, n);
      from += n;
    }
    s.cn.filledTo = Math.max(s.cn.filledTo, to);
  };
  mixer.beforeWrite = (_start, end) => {
    for (const s of renders) {
      if (s === undefined) continue;
      // A resampler segment that ends inside this block will not continue (the next packet would
      // have arrived within the render's lag): its filter tail goes out before the block does.
      const placer = s.placer;
      if (placer !== null) {
        const segEnd = placer.segmentEnd;
        if (segEnd !== null && segEnd < end) placer.flush();
      }
      if (s.dtmf.active) renderDtmf(s, end - s.dtmf.pos);
      if (s.cn.active && s.cn.filledTo < end) fillCn(s, end);
    }
  };

  const place = (s: StreamRender, pos: number, src: Int16Array, n: number): void => {
    mixer.add(s.channel, pos, src, 0, n);
    if (pos < s.stats.firstPos) s.stats.firstPos = pos;
  };

  const endAudio = (s: StreamRender, pos: number, end: number): void => {
    const st = s.stats;
    if (s.prevEnd !== null && !s.cnSincePrev && pos - s.prevEnd >= GAP_REPORT_SEC * rate) {
      st.gaps++;
      st.gapFrames += pos - s.prevEnd;
    }
    s.cnSincePrev = false;
    s.prevEnd = s.prevEnd === null ? end : Math.max(s.prevEnd, end);
    if (end > maxEnd) maxEnd = end;
  };

  const processAudio = (s: StreamRender, e: Pending, pl: ResolvedPayload, lost: number): void => {
    const st = s.stats;
    // Packet duration in timestamp units, for codecs we cannot decode.
    if (s.lastAudioTs !== null) {
      const step = (e.tsExt - s.lastAudioTs) / (lost + 1);
      if (step > 0 && step <= e.rate) s.lastStep = step;
    }
    s.lastAudioTs = e.tsExt;
    const dec = s.decoder(e.pt, pl, predecoded);
    if (dec === null) {
      st.unsupported.add(pl.codec);
      const frames = Math.round(((s.lastStep || e.rate / 50) * rate) / e.rate);
      if (e.pos < st.firstPos) st.firstPos = e.pos;
      endAudio(s, e.pos, e.pos + frames);
      return;
    }
    const placer = (s.placer ??= new StreamPlacer(rate, (pos, src, n) => place(s, pos, src, n), 1 << 15));
    // Silence suppression (no packet lost, the timestamps jump after a SID): the codec's own
    // comfort noise runs until this packet, as a phone would play it.
    if (lost === 0 && dec.inDtx === true && dec.conceal !== undefined && s.prevEnd !== null && e.pos > s.prevEnd) {
      let at = s.prevEnd;
      const to = Math.min(e.pos, s.prevEnd + MAX_DTX_FILL_SEC * rate);
      while (at < to) {
        const want = Math.min(SCRATCH >> 2, Math.floor(((to - at) * dec.sampleRate) / rate));
        if (want <= 0) break;
        const c = dec.conceal(want, scratch);
        if (c <= 0) break;
        at += placer.place(at, scratch, c, dec.sampleRate);
      }
      st.dtxFrames += at - s.prevEnd;
      s.cnSincePrev = true;
    }
    // Concealment first: a stateful decoder must conceal before it decodes the next packet. The
    // packet after the loss goes along: codecs with in-band FEC (Opus) rebuild the lost frame from it.
    if (lost > 0 && dec.conceal !== undefined && s.prevEnd !== null && e.pos > s.prevEnd && e.pos - s.prevEnd <= MAX_CONCEAL_SEC * rate) {
      const want = Math.min(SCRATCH, Math.floor(((e.pos - s.prevEnd) * dec.sampleRate) / rate));
      const c = dec.conceal(want, scratch, e.data);
      if (c > 0) st.concealedFrames += placer.place(s.prevEnd, scratch, c, dec.sampleRate);
    }
    const n = dec.decode(e.data, 0, e.data.length, scratch);
    if (n === 0) {
      st.decodeErrors++;
      return;
    }
    const m = placer.place(e.pos, scratch, n, dec.sampleRate);
    endAudio(s, e.pos, e.pos + m);
    // Audio inside a pending tone replaces it; the tone may go on after this packet.
    const d = s.dtmf;
    if (d.active) {
      d.done = Math.max(d.done, e.pos + m - d.pos);
      if (d.done >= d.target) d.active = false;
    }
  };

  /**
   * Plays the pending DTMF tone of a stream up to `upTo` frames after the event's start. Tones
   * are rendered lazily (by the next packet, a block leaving the mixer, or the end), so that
   * real audio wins: a sender that resumes audio before the event's announced end (sipp does,
   * by one packet) or keeps sending audio during the event cuts the synthetic tone there.
   */
  const renderDtmf = (s: StreamRender, upTo: number): void => {
    const d = s.dtmf;
    const to = Math.min(upTo, d.target);
    while (d.done < to) {
      const n = Math.min(to - d.done, SCRATCH);
      if (!dtmfTone(d.event, d.amplitude, rate, d.done, n, scratch)) {
        d.done = d.target; // an event without a tone (flash, …)
        break;
      }
      place(s, d.pos + d.done, scratch, n);
      d.done += n;
    }
    if (d.done >= d.target) d.active = false;
  };

  const processDtmf = (s: StreamRender, e: Pending): void => {
    if (e.data.length < 4) return;
    const d = s.dtmf;
    if (d.tsExt !== e.tsExt) {
      // A new event (RFC 4733 §2.5.1.1: all packets of one event share its start timestamp);
      // the previous one, if still pending, ends where this one starts.
      if (d.active) renderDtmf(s, e.pos - d.pos);
      const event = e.data[0]!;
      d.tsExt = e.tsExt;
      d.pos = e.pos;
      d.event = event;
      d.amplitude = dtmfAmplitude(e.data[1]! & 0x3f);
      d.done = 0;
      d.target = 0;
      s.stats.dtmf += DTMF_DIGITS[event] ?? '?';
    }
    // The duration field grows with each packet of the event (RFC 4733 §2.5.1.3).
    d.target = Math.max(d.target, Math.round((e.eventDuration * rate) / e.rate));
    d.active = d.done < d.target;
    const end = d.pos + d.target;
    s.prevEnd = s.prevEnd === null ? end : Math.max(s.prevEnd, end);
    if (end > maxEnd) maxEnd = end;
  };

  const processCn = (s: StreamRender, e: Pending): void => {
    s.stats.cnPackets++;
    const level = e.data.length >= 1 ? e.data[0]! : 127;
    s.cn.amplitude = comfortNoiseAmplitude(level);
    if (!s.cn.active) {
      s.cn.active = true;
      // Noise starts where this SID says, but never over the voice before it.
      s.cn.filledTo = Math.max(e.pos, s.prevEnd ?? e.pos, mixer.written);
    }
    s.cnSincePrev = true;
    if (e.pos < s.stats.firstPos) s.stats.firstPos = e.pos;
    // A SID packet is media: the call lasts at least until it (its noise fills up to there).
    if (e.pos > maxEnd) maxEnd = e.pos;
  };

  /**
   * RFC 2198: the redundant blocks stand in for lost packets (those newer than the last audio
   * played), then the primary block plays as the packet itself.
   */
  const processRed = (s: StreamRender, e: Pending, lost: number): void => {
    const blocks = parseRed(e.data, 0, e.data.length);
    if (blocks === null || blocks.length === 0) {
      s.stats.decodeErrors++;
      return;
    }
    let left = lost;
    for (const b of blocks) {
      const tsExt = e.tsExt - b.tsOffset;
      if (!b.primary && (left === 0 || (s.lastAudioTs !== null && tsExt <= s.lastAudioTs))) continue;
      if (b.len === 0) continue;
      const inner: Pending = {
        ...e,
        pt: b.pt,
        payload: resolvePayload(s.info.payloads, b.pt),
        data: e.data.subarray(b.off, b.off + b.len),
        tsExt,
        pos: e.pos - Math.round((b.tsOffset * rate) / e.rate),
        eventDuration: 0,
      };
      // An RFC 4733 event inside RED carries its own duration (bytes 2–3).
      if (inner.payload?.kind === 'dtmf' && b.len >= 4) inner.eventDuration = (e.data[b.off + 2]! << 8) | e.data[b.off + 3]!;
      if (inner.payload?.kind === 'red') {
        s.stats.decodeErrors++; // RED inside RED is not a thing (RFC 2198 §3)
        continue;
      }
      if (!b.primary) {
        s.stats.redRecovered++;
        left--;
      }
      dispatch(s, inner, b.primary ? left : 0);
    }
  };

  const process = (s: StreamRender, e: Pending): void => {
    let lost = 0;
    if (s.nextSeq !== null && e.ext > s.nextSeq) {
      lost = e.ext - s.nextSeq;
      s.stats.lost += lost;
    }
    s.nextSeq = e.ext + 1;
    if (e.payload?.kind === 'red') processRed(s, e, lost);
    else dispatch(s, e, lost);
  };

  const dispatch = (s: StreamRender, e: Pending, lost: number): void => {
    // Comfort noise runs until the stream's next packet, whatever it is; a tone until the
    // next packet that is not part of its event.
    if (s.cn.active) fillCn(s, e.pos);
    const pl = e.payload;
    if (s.dtmf.active && pl?.kind !== 'dtmf') renderDtmf(s, e.pos - s.dtmf.pos);
    if (pl === null) {
      processAudio(s, e, { codec: `PT${e.pt}`, clockRate: e.rate, channels: 1, kind: 'audio', fmtp: '' }, lost);
      return;
    }
    if (pl.kind === 'cn') processCn(s, e);
    else {
      s.cn.active = false;
      if (pl.kind === 'dtmf') processDtmf(s, e);
      else if (pl.kind === 'audio') processAudio(s, e, pl, lost);
    }
  };

  const release = (s: StreamRender, limitCap: number): void => {
    const j = s.jitter;
    while (j.length > 0) {
      const h = j[0]!;
      if (h.ext === s.nextSeq || h.cap <= limitCap || j.length > MAX_JITTER_PACKETS) {
        j.shift();
        process(s, h);
      } else break;
    }
  };

  let scan2: ReturnType<typeof scanSpool>;
  try {
    const clocks1 = timing.streams;
    scan2 = scanSpool(spoolDir, {
      stream(index, info) {
        const s = renders[index];
        if (s === undefined) renders[index] = new StreamRender(index, info, channels === 1 ? 0 : Math.min(1, Math.max(0, info.channel | 0)), threshold);
        else s.setInfo(info);
      },
      packet(p) {
        const s = renders[p.stream];
        const c1 = clocks1[p.stream];
        if (s === undefined || c1 === undefined) return;
        const cap = captureSeconds(p, t0);
        const ck = s.clock;
        ck.classify(s.info, p, cap);
        const tl2 = ck.timeline!;
        // Pass 1's final anchors for the segment pass 2 classified the packet into.
        const tl1 = c1.timelineFor(tl2.clockRate);
        const k = ck.segment;
        const pos =
          Math.round((tl1.anchor[k]! - callStart) * rate) + Math.round(((ck.startExt - tl1.base[k]!) * rate) / tl1.clockRate);
        s.stats.packets++;
        if (pos >= maxFrames) {
          beyond++;
          return;
        }
        let ext = s.unwrapSeq(p.seq);
        if (s.nextSeq !== null && (ext - s.nextSeq < -MAX_MISORDER || ext - s.nextSeq > MAX_DROPOUT)) {
          // Numbering restarted: play out what waits, then continue from this packet, no loss counted.
          release(s, Number.POSITIVE_INFINITY);
          ext = s.rebaseSeq();
          s.nextSeq = ext;
          s.stats.seqRestarts++;
        }
        if (s.duplicate(ext)) {
          s.stats.duplicates++;
          return;
        }
        if (s.nextSeq !== null && ext < s.nextSeq) {
          s.stats.late++;
          return;
        }
        s.insert({
          ext,
          cap,
          pos,
          tsExt: ck.startExt,
          rate: tl2.clockRate,
          pt: p.pt,
          payload: ck.payload,
          data: Buffer.from(p.buf.subarray(p.off, p.off + p.len)),
          eventDuration: ck.eventDuration,
        });
        release(s, cap - jitterSec);
        if (cap - lastCheck >= 0.05) {
          lastCheck = cap;
          for (const r of renders) if (r !== undefined) release(r, cap - jitterSec);
          // Never past the end known so far: the file must end with the last packet.
        mixer.finalizeBefore(Math.min(Math.round((cap - callStart) * rate) - lagFrames, maxEnd));
        }
      },
    });
    for (const r of renders) if (r !== undefined) release(r, Number.POSITIVE_INFINITY);
    for (const r of renders) r?.placer?.flush();
    mixer.finish(Math.min(maxEnd, maxFrames));
    for (const r of renders) r?.freeDecoders();
    out.close();
    renameSync(tmp, opts.outPath);
  } catch (e) {
    try {
      out.close();
    } catch {
      // the original error matters more
    }
    rmSync(tmp, { force: true });
    throw e;
  }

  const notes = buildNotes(head.finalized, head.lostRecords, scan2, renders, rate, mixer, timing.packets);
  if (beyond > 0) notes.push(`${beyond} packets beyond the maximum duration (${maxFrames / rate} s) dropped`);
  const unsupported = renders.some((r) => r !== undefined && r.stats.unsupported.size > 0);
  const complete =
    head.finalized &&
    !scan2.truncatedTail &&
    scan2.skippedBytes === 0 &&
    head.lostRecords === 0 &&
    !unsupported &&
    beyond === 0 &&
    timing.packets > 0;
  return {
    path: opts.outPath,
    format: opts.format,
    channels,
    sampleRate: rate,
    durationMs: Math.round((out.frames * 1000) / rate),
    sha256: sha256File(opts.outPath),
    complete,
    notes,
  };
}

function buildNotes(
  finalized: boolean,
  lostRecords: number,
  scan: ReturnType<typeof scanSpool>,
  renders: (StreamRender | undefined)[],
  rate: number,
  mixer: AudioMixer,
  packets: number,
): string[] {
  const notes: string[] = [];
  const sec = (frames: number): string => (frames / rate).toFixed(2);
  if (!finalized) notes.push('spool not finalized');
  if (scan.truncatedTail) notes.push(`torn last record ignored (${scan.tailBytes} bytes)`);
  if (scan.skippedBytes > 0) notes.push(`${scan.skippedBytes} corrupt spool bytes skipped`);
  if (lostRecords > 0) notes.push(`${lostRecords} packets not spooled (write errors)`);
  if (packets === 0) notes.push('no media');
  const streams = renders.filter((r): r is StreamRender => r !== undefined);
  for (const r of streams) {
    const st = r.stats;
    const l = streamLabel(r.info);
    for (const c of st.unsupported) notes.push(`${l}: unsupported codec ${c} (silence)`);
    if (st.lost > 0) notes.push(`${l}: ${st.lost} of ${st.packets - st.duplicates - st.late + st.lost} packets lost`);
    if (st.duplicates > 0) notes.push(`${l}: ${st.duplicates} duplicate packets ignored`);
    if (st.late > 0) notes.push(`${l}: ${st.late} packets arrived too late to place`);
    if (st.gaps > 0) notes.push(`${l}: ${st.gaps} gaps over ${GAP_REPORT_SEC} s (${sec(st.gapFrames)} s) filled with silence`);
    if (st.dtxFrames > 0) notes.push(`${l}: ${sec(st.dtxFrames)} s of codec comfort noise over silence suppression`);
    if (st.redRecovered > 0) notes.push(`${l}: ${st.redRecovered} lost packets recovered from redundancy (RFC 2198)`);
    if (st.concealedFrames > 0) notes.push(`${l}: ${sec(st.concealedFrames)} s of loss concealed`);
    if (st.decodeErrors > 0) notes.push(`${l}: ${st.decodeErrors} packets could not be decoded`);
    if (st.cnPackets > 0) notes.push(`${l}: comfort noise (${st.cnPackets} SID packets)`);
    if (st.dtmf !== '') notes.push(`${l}: DTMF ${st.dtmf}`);
    if (st.seqRestarts > 0) notes.push(`${l}: sequence numbers restarted ${st.seqRestarts} times`);
  }
  // SSRC changes: a party with several streams, in order of their first audio.
  const byParty = new Map<string, StreamRender[]>();
  for (const r of streams) {
    if (!Number.isFinite(r.stats.firstPos)) continue;
    const list = byParty.get(r.info.party) ?? [];
    list.push(r);
    byParty.set(r.info.party, list);
  }
  for (const [party, list] of byParty) {
    list.sort((a, b) => a.stats.firstPos - b.stats.firstPos);
    for (let i = 1; i < list.length; i++) {
      const hex = (r: StreamRender): string => `0x${(r.info.ssrc >>> 0).toString(16).padStart(8, '0')}`;
      notes.push(`${party}: SSRC changed ${hex(list[i - 1]!)} → ${hex(list[i]!)} at ${sec(list[i]!.stats.firstPos)} s`);
    }
  }
  if (mixer.lateSamples > 0) notes.push(`${mixer.lateSamples} samples arrived behind the render window and were dropped`);
  if (mixer.aheadSamples > 0) notes.push(`${mixer.aheadSamples} samples too far ahead of capture time were dropped`);
  if (mixer.clipped > 0) notes.push(`${mixer.clipped} samples clipped in the mix`);
  return notes;
}

function sha256File(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

