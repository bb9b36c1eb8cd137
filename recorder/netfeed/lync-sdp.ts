/**
 * What Lync / Skype for Business SDP carries beyond the shared SDP model (recorder/sdp), from
 * MS-SDPEXT and the clients' offers:
 *  - `multipart/alternative` bodies with two SDPs: the MS-ICE2 (RFC 5245) one and the
 *    "ms-proxy-2007fallback" one with MS-ICE draft-6 candidates; the dialog code reads the first
 *    application/sdp part, so every candidate of the others is collected here;
 *  - `a=x-candidate-ipv6:` (and `a=x-candidate:`) lines, IPv6 candidates under a name older
 *    endpoints ignore;
 *  - `a=x-ssrc-range:<first>-<last>`, the SSRCs the endpoint will send on that m-line.
 * Only audio m-lines matter to the recorder.
 */
import type { Counters } from '../core/counters.js';
import { parseXCandidate, type Candidate } from '../sdp/candidate.js';
import { parseSdp } from '../sdp/session-description.js';
import { messageSdp } from '../sip/message-sdp.js';
import { splitMultipart } from '../sip/multipart.js';
import type { SipMessage } from '../sip/message.js';

/** Where one audio m-line can receive media (address:port, from any form). */
export interface LyncAddress {
  ip: string;
  port: number;
  /** host, srflx, relay, '' (draft-6 and m=/c= addresses carry no type). */
  type: string;
}

export interface LyncMedia {
  /** Every audio address beyond what the first SDP part's model holds. */
  extra: LyncAddress[];
  /** Every audio address of every part (the first's included): for counting and endpoint learning. */
  all: LyncAddress[];
  /** `first-last` of each a=x-ssrc-range on an audio m-line. */
  ssrcRanges: string[];
  /** The SDP had an m=message (an IM session). */
  im: boolean;
}

/** The application/sdp bodies of a message, in order (one for a plain SDP body). */
export function sdpBodies(msg: SipMessage, counters?: Counters): Buffer[] {
  if (msg.body.length === 0) return [];
  if (msg.contentType === 'application/sdp') return [msg.body];
  if (!msg.contentType.startsWith('multipart/')) return [];
  return splitMultipart(msg.contentTypeFull, msg.body, counters)
    .filter((p) => p.contentType === 'application/sdp')
    .map((p) => p.body);
}

const MAX_LINES = 4096;

/** The Lync extras of a message's SDP bodies; null when it has none. */
export function lyncMedia(msg: SipMessage, counters: Counters): LyncMedia | null {
  const bodies = sdpBodies(msg, counters);
  if (bodies.length === 0) return null;
  const out: LyncMedia = { extra: [], all: [], ssrcRanges: [], im: false };
  bodies.forEach((body, i) => {
    // The first part is the one the dialog code reads: parsed once for both (message-sdp.ts).
    const sdp = i === 0 ? messageSdp(msg, counters) : parseSdp(body, counters);
    if (sdp) {
      for (const m of sdp.audio) {
        const fromModel: LyncAddress[] = [];
        if (m.port !== 0 && m.connection) fromModel.push({ ip: m.connection, port: m.port, type: '' });
        for (const c of m.candidates) if (c.component === 1 || c.component === 2) fromModel.push(address(c));
        out.all.push(...fromModel);
        // The dialog code registered the first part's model already.
        if (i > 0) out.extra.push(...fromModel);
      }
      if (sdp.media.some((m) => m.type === 'message')) out.im = true;
    }
    scanLines(body, out, counters);
  });
  return out;
}

function address(c: Candidate): LyncAddress {
  return { ip: c.ip, port: c.port, type: c.type };
}

/** x-candidate lines and x-ssrc-range of audio sections (sdp-transform leaves them aside). */
function scanLines(body: Buffer, out: LyncMedia, counters: Counters): void {
  const lines = body.toString('utf8', 0, Math.min(body.length, 128 * 1024)).split(/\r?\n/, MAX_LINES);
  let audio = false;
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      audio = /^m=audio[ \t]/i.test(line);
      continue;
    }
    if (!audio || !line.startsWith('a=x-')) continue;
    const attr = line.slice(2);
    if (/^x-candidate(-ipv6)?:/i.test(attr)) {
      const c = parseXCandidate(attr);
      if (c === null) {
        counters.inc('netfeed.bad_candidate');
        continue;
      }
      if (c.component !== 1 && c.component !== 2) continue;
      counters.inc('netfeed.x_candidate');
      out.extra.push(address(c));
      out.all.push(address(c));
    } else if (/^x-ssrc-range:/i.test(attr)) {
      const m = /^x-ssrc-range:\s*(\d{1,10})\s*-\s*(\d{1,10})/i.exec(attr);
      if (m && Number(m[1]) <= 0xffffffff && Number(m[2]) <= 0xffffffff && Number(m[1]) <= Number(m[2])) {
        // The fallback SDP part repeats the range.
        const range = `${Number(m[1])}-${Number(m[2])}`;
        if (!out.ssrcRanges.includes(range)) out.ssrcRanges.push(range);
      } else counters.inc('netfeed.bad_ssrc_range');
    }
  }
}
