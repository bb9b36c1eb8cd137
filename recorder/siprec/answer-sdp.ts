/**
 * The SRS's SDP answer (RFC 3264 §6, RFC 7866 §8.1): one m-line per offered m-line, in the same
 * order; each accepted audio stream gets one of our ports, the offered formats (a recorder
 * receives whatever the SRC sends; decoding is decided later), the stream's a=label (RFC 4574,
 * RFC 7866 §8.1.8 ties labels to the metadata) and a direction that only receives: the SRC's
 * `sendonly` (or `sendrecv`) is answered `recvonly`, its `recvonly` or `inactive` with `inactive`
 * (RFC 3264 §6.1). Streams we do not take (video, SRTP profiles, no port left) are rejected with
 * port 0 (RFC 3264 §6).
 */
import type { MediaDescription, SessionDescription } from '../sdp/session-description.js';

export interface AnswerStream {
  /** Our RTP port for this m-line, 0 when the stream is rejected. */
  port: number;
}

export interface AnswerOptions {
  /** Address the SRC sends media to (c= and o=). */
  address: string;
  /** o= session id and version (version increases with every answer in the dialog, RFC 3264 §8). */
  sessionId: string;
  version: number;
}

/** Which offered m-lines the SRS takes: RTP/AVP(F) audio with a port (SRTP is not supported). */
export function acceptableStream(m: MediaDescription): boolean {
  return m.type === 'audio' && m.port !== 0 && /^RTP\/AVPF?$/i.test(m.proto) && m.payloads.length > 0;
}

/** Answer direction for an offered one (RFC 3264 §6.1), for a receive-only recorder. */
export function answerDirection(offered: MediaDescription['direction']): 'recvonly' | 'inactive' {
  return offered === 'sendonly' || offered === 'sendrecv' ? 'recvonly' : 'inactive';
}

export function buildAnswerSdp(offer: SessionDescription, streams: readonly AnswerStream[], opts: AnswerOptions): string {
  const ipv = opts.address.includes(':') ? 'IP6' : 'IP4';
  const lines = [
    'v=0',
    `o=- ${opts.sessionId} ${opts.version} IN ${ipv} ${opts.address}`,
    's=voip-recorder',
    `c=IN ${ipv} ${opts.address}`,
    't=0 0',
  ];
  offer.media.forEach((m, i) => {
    const port = streams[i]?.port ?? 0;
    if (port === 0) {
      // A rejected stream keeps its place with port 0 and one of its formats (RFC 3264 §6).
      lines.push(`m=${m.type || 'audio'} 0 ${m.proto || 'RTP/AVP'} ${m.payloads[0]?.pt ?? 0}`);
      if (m.label) lines.push(`a=label:${m.label}`);
      return;
    }
    lines.push(`m=audio ${port} ${m.proto} ${m.payloads.map((p) => p.pt).join(' ')}`);
    for (const p of m.payloads) {
      if (p.codec && p.clockRate > 0) lines.push(`a=rtpmap:${p.pt} ${p.codec}/${p.clockRate}${p.channels > 1 ? `/${p.channels}` : ''}`);
      if (p.fmtp) lines.push(`a=fmtp:${p.pt} ${p.fmtp}`);
    }
    if (m.ptime > 0) lines.push(`a=ptime:${m.ptime}`);
    if (m.label) lines.push(`a=label:${m.label}`);
    lines.push(`a=${answerDirection(m.direction)}`);
  });
  return `${lines.join('\r\n')}\r\n`;
}
