/**
 * The shapes codecs/ implements and recorder/media/ consumes. codecs/ imports nothing from
 * recorder/: a codec is a decoder of RTP payloads into PCM, or a writer of mixed PCM into a
 * recording file, and knows nothing of calls or spools.
 */

/**
 * One decoding context for one stream and payload type (codecs keep state between packets, so
 * a render feeds it the stream's packets in sequence order).
 */
export interface AudioDecoder {
  /** Rate of the decoded samples (G.722: 16000 although its RTP clock is 8000; Opus: 48000). */
  readonly sampleRate: number;
  /**
   * Decodes one RTP payload (after RED unwrapping) into `out` (mono; a stereo codec downmixes).
   * A payload holding several frames decodes all of them. Returns the number of samples
   * written, never more than `out.length`; 0 for a payload it cannot decode. Never throws on
   * bad payload bytes.
   */
  decode(payload: Uint8Array, off: number, len: number, out: Int16Array): number;
  /**
   * Packet-loss concealment: about `samples` samples of plausible audio after a lost packet
   * (codec PLC, or FEC from `next` — the packet after the loss — where the codec carries it).
   * Returns the samples written.
   */
  conceal?(samples: number, out: Int16Array, next?: Uint8Array): number;
  /** Releases native/WASM memory. */
  free?(): void;
  /**
   * True when the last payload ended in a silence descriptor (G.729 Annex B SID, AMR SID or
   * NO_DATA): the sender stopped for silence suppression and the decoder's comfort noise goes
   * on, through `conceal`, until its next packet.
   */
  readonly inDtx?: boolean;
  /** Takes the result of its factory's `predecode` for this stream (served from memory). */
  preload?(stream: PredecodedStream): void;
}

/** One packet of a stream handed to `predecode`, in sequence order. */
export interface PredecodePacket {
  /** The RTP payload, or null for a lost packet. */
  payload: Uint8Array | null;
  /** Its duration in samples at the clock rate (from RTP timestamps), when known. */
  samples?: number;
}

/** What a factory's `predecode` produced; opaque to the render, given back to `preload`. */
export interface PredecodedStream {
  readonly clockRate: number;
}

export interface DecoderFactory {
  /** Encoding names this factory handles, lower case as compared (`pcmu`, `opus`, …). */
  readonly names: readonly string[];
  /**
   * Null when this clock rate/channel count/format is not supported. `fmtp` is the SDP's a=fmtp
   * text for the payload type ('' when none): `mode=30` (iLBC), `octet-align=1` (AMR), ….
   */
  create(codec: string, clockRate: number, channels: number, fmtp: string): AudioDecoder | null;
  /** Asynchronous set-up (WASM compile, addon load), awaited once per thread before first use. */
  init?(): Promise<void>;
  /**
   * For codecs that decode well only as a whole stream (SILK through silk-wasm): the render
   * hands over each stream's packets before its synchronous pass and `preload`s the result into
   * the stream's decoder. Null when it cannot (the decoder then works packet by packet).
   */
  predecode?(codec: string, clockRate: number, packets: readonly PredecodePacket[]): Promise<PredecodedStream | null>;
}

/** Output formats of a recording. */
export type RecordingFormat = 'opus' | 'mp3' | 'wav';
/**
 * libopus application: 'lowdelay' codes CELT only (the recorder's default: 2.5× faster than
 * SILK at complexity 0 and closer to the waveform at 16–32 kbit/s per channel, see
 * codecs/ogg-opus-writer.ts), 'voip' SILK for speech (smaller files below ~14 kbit/s per
 * channel), 'audio' lets libopus choose.
 */
export type OpusApplication = 'lowdelay' | 'voip' | 'audio';
export const OPUS_APPLICATIONS: readonly OpusApplication[] = ['lowdelay', 'voip', 'audio'];
/** The encoder settings an administrator chooses (`recording.bitrate`, `recording.opusApplication`). */
export type EncoderOptions = Pick<WriterOptions, 'bitrate' | 'opusApplication'>;

export interface WriterOptions {
  /** Rate of the PCM handed to write() (the render's rate: 8000, 16000, 48000, …). */
  sampleRate: number;
  /** 1 (mono mix) or 2 (caller left, callee right). */
  channels: number;
  /** Encoder bit rate in bit/s for lossy formats (writer's default when absent). */
  bitrate?: number;
  /** Opus encoder mode (ffmpeg's `-application` names); the Opus writer's default when absent. */
  opusApplication?: OpusApplication;
  /** Sample encoding where the format offers a choice (WAV: PCM16 or G.711 µ-law/A-law). */
  encoding?: 'pcm16' | 'mulaw' | 'alaw';
  /** Free-form tags (Ogg Opus OpusTags comments, ID3 for MP3): call id, parties, start time. */
  tags?: Readonly<Record<string, string>>;
}

/**
 * A recording file being written: interleaved 16-bit PCM in, encoded file out. Writers are
 * streaming (constant memory whatever the call's length) and synchronous (renders run in a
 * worker thread).
 */
export interface RecordingWriter {
  /** Frames (samples per channel) accepted so far. */
  readonly frames: number;
  /** Appends `samples` interleaved samples (`samples / channels` frames) from `pcm`. */
  write(pcm: Int16Array, samples: number): void;
  /** Flushes the encoder, completes headers/trailers and closes the file. */
  close(): void;
}

export interface WriterFactory {
  readonly format: RecordingFormat;
  /** File name extension without the dot: `opus`, `mp3`, `wav`. */
  readonly extension: string;
  /**
   * The PCM rate this format takes for a render at `rate` (Opus: 8/12/16/24/48 kHz, MP3: the
   * MPEG rates): the render resamples to it. Identity when absent.
   */
  rateFor?(rate: number): number;
  create(path: string, opts: WriterOptions): RecordingWriter;
  /** Asynchronous set-up (WASM compile), awaited once per thread before first use. */
  init?(): Promise<void>;
}
