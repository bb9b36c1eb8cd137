/**
 * Building the SIP messages the SRS sends: responses to the SRC's requests (RFC 3261 §8.2.6)
 * and the BYE it sends itself (§15.1.1).
 *
 * A response copies the request's Via values in order, From, Call-ID and CSeq, and To with our
 * tag added (§8.2.6.2; a 100 Trying gets no tag). Responses that create a dialog also copy
 * Record-Route (§12.1.1) and carry our Contact.
 */
import type { SipMessage } from '../sip/message.js';

export const SERVER_NAME = 'voip-recorder-srs';
/** What the SRS understands (RFC 3261 §20.5, §20.37; RFC 7866 §6.1.1 "siprec"). */
export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO';
export const SUPPORTED = 'siprec, timer';
export const ACCEPT = 'application/sdp, application/rs-metadata+xml, application/rs-metadata, multipart/mixed';

export interface ResponseOptions {
  /** Our dialog tag, added to To unless the request's To already has one. */
  toTag?: string;
  /** Extra header lines (name, value), in order. */
  headers?: readonly (readonly [string, string])[];
  /** Body and its Content-Type. */
  body?: Buffer;
  contentType?: string;
  /** Copy Record-Route (dialog-creating responses). */
  recordRoute?: boolean;
}

/** Canonical spelling of the header names we copy (parsed names are lower-case). */
const SPELLING: Record<string, string> = {
  via: 'Via',
  from: 'From',
  to: 'To',
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'record-route': 'Record-Route',
};

export function buildResponse(req: SipMessage, status: number, reason: string, opts: ResponseOptions = {}): Buffer {
  const lines: string[] = [`SIP/2.0 ${status} ${reason}`];
  for (const h of req.headers) {
    if (h.name === 'via') lines.push(`Via: ${h.value}`);
  }
  lines.push(`From: ${headerValue(req, 'from')}`);
  let to = headerValue(req, 'to');
  if (opts.toTag && status !== 100 && req.to.tag === '') to = `${to};tag=${opts.toTag}`;
  lines.push(`To: ${to}`);
  lines.push(`Call-ID: ${req.callId}`);
  lines.push(`CSeq: ${req.cseq} ${req.cseqMethod || req.method}`);
  if (opts.recordRoute) for (const h of req.headers) if (h.name === 'record-route') lines.push(`Record-Route: ${h.value}`);
  lines.push(`Server: ${SERVER_NAME}`);
  for (const [n, v] of opts.headers ?? []) lines.push(`${SPELLING[n] ?? n}: ${v}`);
  return finish(lines, opts.body, opts.contentType);
}

export interface ByeOptions {
  /** The Request-URI: the SRC's Contact (§12.1.1 remote target). */
  target: string;
  /** Our transport address for the Via. */
  via: { transport: 'UDP' | 'TCP'; host: string; port: number };
  branch: string;
  callId: string;
  /** Our side (the INVITE's To, with our tag) and theirs (its From). */
  from: string;
  to: string;
  cseq: number;
  /** The dialog's route set, Record-Route of the INVITE in order (§12.1.1: the UAS keeps it as is). */
  routes: readonly string[];
  extra?: readonly (readonly [string, string])[];
}

export function buildBye(o: ByeOptions): Buffer {
  const lines: string[] = [
    `BYE ${o.target} SIP/2.0`,
    `Via: SIP/2.0/${o.via.transport} ${hostPort(o.via.host, o.via.port)};branch=${o.branch};rport`,
    'Max-Forwards: 70',
    `From: ${o.from}`,
    `To: ${o.to}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq} BYE`,
  ];
  for (const r of o.routes) lines.push(`Route: ${r}`);
  lines.push(`User-Agent: ${SERVER_NAME}`);
  for (const [n, v] of o.extra ?? []) lines.push(`${n}: ${v}`);
  return finish(lines, undefined, undefined);
}

function finish(lines: string[], body: Buffer | undefined, contentType: string | undefined): Buffer {
  if (body && body.length > 0 && contentType) lines.push(`Content-Type: ${contentType}`);
  lines.push(`Content-Length: ${body?.length ?? 0}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
  return body && body.length > 0 ? Buffer.concat([head, body]) : head;
}

function headerValue(req: SipMessage, name: string): string {
  for (const h of req.headers) if (h.name === name) return h.value;
  return '';
}

export const hostPort = (host: string, port: number): string => (host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`);

/** Reason phrases of the statuses we send (RFC 3261 §21, RFC 3262, RFC 4028). */
export const REASON: Record<number, string> = {
  100: 'Trying',
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  420: 'Bad Extension',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};
