/**
 * What a payload type means for the render: the stream's payload map (from SDP) first, then the
 * static audio assignments of RFC 3551 §6 Table 4 (a call set up without SDP, or a payload type
 * the SDP did not list).
 */
import type { SpoolPayloadType, SpoolStreamInfo } from '../spool/spool-format.js';

export type PayloadKind = 'audio' | 'cn' | 'dtmf';

export interface ResolvedPayload {
  codec: string;
  clockRate: number;
  channels: number;
  kind: PayloadKind;
}

/** RFC 3551 Table 4: static audio payload types. */
const STATIC: ReadonlyMap<number, [codec: string, clockRate: number, channels: number]> = new Map([
  [0, ['PCMU', 8000, 1]],
  [3, ['GSM', 8000, 1]],
  [4, ['G723', 8000, 1]],
  [5, ['DVI4', 8000, 1]],
  [6, ['DVI4', 16000, 1]],
  [7, ['LPC', 8000, 1]],
  [8, ['PCMA', 8000, 1]],
  [9, ['G722', 8000, 1]], // RTP clock 8000 although G.722 samples at 16 kHz (RFC 3551 §4.5.2)
  [10, ['L16', 44100, 2]],
  [11, ['L16', 44100, 1]],
  [12, ['QCELP', 8000, 1]],
  [13, ['CN', 8000, 1]],
  [14, ['MPA', 90000, 1]],
  [15, ['G728', 8000, 1]],
  [16, ['DVI4', 11025, 1]],
  [17, ['DVI4', 22050, 1]],
  [18, ['G729', 8000, 1]],
]);

export function payloadKind(codec: string): PayloadKind {
  const c = codec.toLowerCase();
  if (c === 'cn') return 'cn';
  if (c === 'telephone-event') return 'dtmf';
  return 'audio';
}

const resolved = (codec: string, clockRate: number, channels: number): ResolvedPayload => ({
  codec,
  clockRate: clockRate > 0 ? clockRate : 8000,
  channels: channels > 0 ? channels : 1,
  kind: payloadKind(codec),
});

/** The payload type's meaning in this stream, or null when neither the map nor RFC 3551 knows it. */
export function resolvePayload(payloads: readonly SpoolPayloadType[], pt: number): ResolvedPayload | null {
  for (const p of payloads) if (p.pt === pt) return resolved(p.codec, p.clockRate, p.channels);
  const s = STATIC.get(pt);
  return s === undefined ? null : resolved(s[0], s[1], s[2]);
}

/** Short label of a stream for notes: `caller ssrc 0x1a2b3c4d`. */
export const streamLabel = (info: SpoolStreamInfo): string => `${info.party} ssrc 0x${(info.ssrc >>> 0).toString(16).padStart(8, '0')}`;
