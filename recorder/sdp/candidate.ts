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

const RFC_FORM = /^(\S+)[ \t]+(\d{1,3})[ \t]+(\S+)[ \t]+(\d{1,10})[ \t]+(\S+)[ \t]+(\d{1,5})[ \t]+typ[ \t]+(\S+)(?:[ \t]+raddr[ \t]+(\S+)[ \t]+rport[ \t]+(\d{1,5}))?/;

/**
 * Lync's candidate attributes that sdp-transform does not know (MS-SDPEXT): `a=x-candidate-ipv6:`
 * (Lync 2013+ puts IPv6 candidates under this name, in RFC 5245 syntax, so that older endpoints
 * ignore them) and `a=x-candidate:`; the value may also be in the draft-6 form. `attr` is the
 * text after `a=`; null when it is not such a line or does not parse.
 */
export function parseXCandidate(attr: string): Candidate | null {
  const colon = attr.indexOf(':');
  const name = colon < 0 ? '' : attr.slice(0, colon).toLowerCase();
  if (name !== 'x-candidate-ipv6' && name !== 'x-candidate') return null;
  const value = attr.slice(colon + 1).trim();
  const m = RFC_FORM.exec(value);
  if (!m) return parseMsIceCandidate(`candidate:${value}`);
  const component = Number(m[2]);
  const port = Number(m[6]);
  if (component < 1 || !isPort(port)) return null;
  const out: Candidate = { foundation: m[1]!, component, transport: m[3]!, priority: Number(m[4]), ip: normalizeAddress(m[5]!), port, type: m[7]! };
  if (m[8] !== undefined && m[9] !== undefined && isPort(Number(m[9]))) {
    out.raddr = normalizeAddress(m[8]);
    out.rport = Number(m[9]);
  }
  return out;
}
