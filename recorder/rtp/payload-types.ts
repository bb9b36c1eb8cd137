/**
 * RTP payload types: the static assignments of RFC 3551 §6 (Table 4 audio, Table 5 video) and
 * the `PT=NAME/RATE[/CHANNELS]` mapping syntax the CLI's `--pt` option takes for dynamic types
 * seen without SDP.
 */

/** One payload format as SDP's a=rtpmap (RFC 8866 §6.6) or the static table describes it. */
export interface PayloadFormat {
  /** RTP payload type, 0..127. */
  pt: number;
  /** Encoding name as written in a=rtpmap (`PCMU`, `opus`, `telephone-event`); compare case-insensitively (RFC 4855 §3). */
  codec: string;
  /** RTP timestamp clock in Hz; 0 when unknown. */
  clockRate: number;
  /** Audio channels (1 unless a=rtpmap says otherwise); 0 for video formats. */
  channels: number;
  /** a=fmtp parameters for this PT, '' when none. */
  fmtp: string;
}

/** First dynamic payload type (RFC 3551 §3: 96–127 are dynamic). */
export const DYNAMIC_PT_MIN = 96;
export const PT_MAX = 127;

export const StaticPt = {
  PCMU: 0,
  GSM: 3,
  G723: 4,
  PCMA: 8,
  G722: 9,
  CN: 13,
  G729: 18,
} as const;

/**
 * RFC 3551 Table 4 and 5. PTs 1, 2 and 19 are "reserved" there (1016, G721 and an old CN draft
 * once held them) and are left out: a guess is worse than an unknown codec when recording.
 * Some old gear still sends G726-32 on PT 2; its SDP then carries an rtpmap, which wins.
 */
const TABLE: readonly (readonly [pt: number, codec: string, clockRate: number, channels: number])[] = [
  [0, 'PCMU', 8000, 1],
  [3, 'GSM', 8000, 1],
  [4, 'G723', 8000, 1],
  [5, 'DVI4', 8000, 1],
  [6, 'DVI4', 16000, 1],
  [7, 'LPC', 8000, 1],
  [8, 'PCMA', 8000, 1],
  // G.722 samples at 16 kHz, but RFC 3551 §4.5.2 keeps its RTP clock at 8000 Hz for
  // historical reasons (an error in RFC 1890): timestamps advance 8000/s, audio is 16 kHz.
  [9, 'G722', 8000, 1],
  [10, 'L16', 44100, 2],
  [11, 'L16', 44100, 1],
  [12, 'QCELP', 8000, 1],
  [13, 'CN', 8000, 1],
  // MPEG audio: the channel count is in the bitstream (RFC 3551 §4.5.13); mono is the guess.
  [14, 'MPA', 90000, 1],
  [15, 'G728', 8000, 1],
  [16, 'DVI4', 11025, 1],
  [17, 'DVI4', 22050, 1],
  [18, 'G729', 8000, 1],
  [25, 'CelB', 90000, 0],
  [26, 'JPEG', 90000, 0],
  [28, 'nv', 90000, 0],
  [31, 'H261', 90000, 0],
  [32, 'MPV', 90000, 0],
  [33, 'MP2T', 90000, 0],
  [34, 'H263', 90000, 0],
];

const BY_PT: readonly (Readonly<PayloadFormat> | undefined)[] = (() => {
  const a: (Readonly<PayloadFormat> | undefined)[] = new Array<Readonly<PayloadFormat> | undefined>(PT_MAX + 1).fill(undefined);
  for (const [pt, codec, clockRate, channels] of TABLE) a[pt] = Object.freeze({ pt, codec, clockRate, channels, fmtp: '' });
  return a;
})();

/** The RFC 3551 static format of `pt`, or undefined for dynamic, reserved and unassigned types. */
export const staticPayloadFormat = (pt: number): Readonly<PayloadFormat> | undefined => BY_PT[pt];

/** RFC 3551's static assignments, in PT order. */
export const staticPayloadFormats = (): Readonly<PayloadFormat>[] => BY_PT.filter((f): f is Readonly<PayloadFormat> => f !== undefined);

const MAPPING = /^(\d{1,3})=([A-Za-z0-9][A-Za-z0-9._+-]*)\/(\d{1,7})(?:\/(\d{1,3}))?$/;

/**
 * Parses a payload mapping given on the command line, `PT=NAME/RATE[/CHANNELS]` as in SDP's
 * a=rtpmap (`96=opus/48000/2`, `101=telephone-event/8000`). This is operator input, not wire
 * data, so a bad value throws an Error that says what was expected.
 */
export function parsePayloadMapping(text: string): PayloadFormat {
  const t = text.trim();
  const m = MAPPING.exec(t);
  if (!m) throw new Error(`bad payload mapping '${text}': expected PT=NAME/RATE[/CHANNELS], e.g. 96=opus/48000/2`);
  const pt = Number(m[1]);
  const clockRate = Number(m[3]);
  const channels = m[4] === undefined ? 1 : Number(m[4]);
  if (pt > PT_MAX) throw new Error(`bad payload mapping '${text}': payload type ${pt} is not in 0..${PT_MAX}`);
  if (pt >= 72 && pt <= 76) throw new Error(`bad payload mapping '${text}': payload types 72..76 clash with RTCP (RFC 5761 §4)`);
  if (clockRate === 0) throw new Error(`bad payload mapping '${text}': clock rate must be positive`);
  if (channels === 0 || channels > 255) throw new Error(`bad payload mapping '${text}': channels must be 1..255`);
  return { pt, codec: m[2]!, clockRate, channels, fmtp: '' };
}
