/**
 * ICE candidates from SDP a=candidate lines, in the two forms found on the wire:
 *
 *  - RFC 8839 §5.1 (RFC 5245 §15.1), parsed by sdp-transform:
 *      candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
 *                [raddr <addr>] [rport <port>] *(<ext-name> <ext-value>)
 *  - MS-ICE draft-6 (the pre-RFC draft-ietf-mmusic-ice-06 that Microsoft OCS/Lync kept), which
 *    sdp-transform leaves in `invalid`:
 *      candidate:<username> <component> <password> <transport> <qvalue> <address> <port>
 *
 * Only where media may flow is kept: the draft-6 password (an ICE credential) is dropped.
 */
import { normalizeAddress } from './connection-address.js';
import { int, text } from './values.js';

/** RFC 8445 §5.1.1 candidate types, or another token as written (`(string & …)` keeps the names visible to editors). */
export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay' | (string & Record<never, never>);

export interface Candidate {
  /** RFC form: the foundation. Draft-6 form: the per-candidate username fragment. */
  foundation: string;
  /** 1 = RTP, 2 = RTCP (RFC 8445 §5.1.1.1). */
  component: number;
  /** `UDP`, `TCP`, `TCP-PASS`… as written. */
  transport: string;
  /** RFC form: the 32-bit priority. Draft-6 form: the q-value scaled to 0..1000. */
  priority: number;
  ip: string;
  port: number;
  /** '' for draft-6 lines, which carry no type. */
  type: CandidateType;
  raddr?: string;
  rport?: number;
}

const isPort = (n: number): boolean => n >= 0 && n <= 65535;

/** Checks one sdp-transform candidate object; null when a field is missing or out of range. */
export function candidateFromParsed(c: Record<string, unknown>): Candidate | null {
  const component = int(c['component']);
  const priority = int(c['priority']);
  const port = int(c['port']);
  const ip = text(c['ip']);
  const type = text(c['type']);
  const transport = text(c['transport']);
  if (component < 1 || component > 256 || priority < 0 || !isPort(port) || ip === '' || type === '' || transport === '') return null;
  const out: Candidate = { foundation: text(c['foundation']), component, transport, priority, ip: normalizeAddress(ip), port, type };
  const raddr = text(c['raddr']);
  const rport = int(c['rport']);
  if (raddr !== '') out.raddr = normalizeAddress(raddr);
  if (isPort(rport) && c['rport'] !== undefined) out.rport = rport;
  return out;
}

const MS_ICE_DRAFT6 = /^candidate:(\S+)[ \t]+(\d{1,3})[ \t]+\S+[ \t]+([A-Za-z][A-Za-z-]*)[ \t]+(0(?:\.\d+)?|1(?:\.0+)?)[ \t]+(\S+)[ \t]+(\d{1,5})(?:[ \t]|$)/;

/** Parses the MS-ICE draft-6 form (the text after `a=`); null when it is not that form. */
export function parseMsIceCandidate(attr: string): Candidate | null {
  const m = MS_ICE_DRAFT6.exec(attr);
  if (!m) return null;
  const component = Number(m[2]);
  const port = Number(m[6]);
  if (component < 1 || !isPort(port)) return null;
  return {
    foundation: m[1]!,
    component,
    transport: m[3]!,
    priority: Math.round(Number(m[4]) * 1000),
    ip: normalizeAddress(m[5]!),
    port,
    type: '',
  };
}
