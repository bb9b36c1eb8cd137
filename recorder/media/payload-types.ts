/**
 * What a payload type means for the render: the stream's payload map (from SDP) first, then the
 * static audio assignments of RFC 3551 §6 Table 4 (a call set up without SDP, or a payload type
 * the SDP did not list).
 */
import { staticPayloadFormat } from '../rtp/payload-types.js';
import type { SpoolPayloadType, SpoolStreamInfo } from '../spool/spool-format.js';

/** `red`: RFC 2198 redundancy, whose blocks carry the stream's other payload types. */
export type PayloadKind = 'audio' | 'cn' | 'dtmf' | 'red';

export interface ResolvedPayload {
  codec: string;
  clockRate: number;
  channels: number;
  kind: PayloadKind;
  /** a=fmtp parameters ('' when none). */
  fmtp: string;
}

export function payloadKind(codec: string): PayloadKind {
  const c = codec.toLowerCase();
  if (c === 'cn') return 'cn';
  if (c === 'telephone-event') return 'dtmf';
  if (c === 'red') return 'red';
  return 'audio';
}

const resolved = (codec: string, clockRate: number, channels: number, fmtp = ''): ResolvedPayload => ({
  codec,
  clockRate: clockRate > 0 ? clockRate : 8000,
  channels: channels > 0 ? channels : 1,
  kind: payloadKind(codec),
  fmtp,
});

/** The payload type's meaning in this stream, or null when neither the map nor RFC 3551 knows it. */
export function resolvePayload(payloads: readonly SpoolPayloadType[], pt: number): ResolvedPayload | null {
  for (const p of payloads) if (p.pt === pt) return resolved(p.codec, p.clockRate, p.channels, p.fmtp);
  // The one RFC 3551 table (rtp/payload-types), shared with the call registry.
  const s = staticPayloadFormat(pt);
  return s === undefined ? null : resolved(s.codec, s.clockRate, s.channels);
}

/** Short label of a stream for notes: `caller ssrc 0x1a2b3c4d`. */
export const streamLabel = (info: SpoolStreamInfo): string => `${info.party} ssrc 0x${(info.ssrc >>> 0).toString(16).padStart(8, '0')}`;
