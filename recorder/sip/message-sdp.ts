/**
 * The session description of a SIP message: its first application/sdp body part (RFC 3261
 * §20.15 / RFC 5621 for multipart bodies), parsed once per message. Both the dialog code and the
 * Lync feed's extra-candidate scan read it; before, the feed's messages paid for the parse twice
 * (≈15 % of the feed's CPU) and counted a bad SDP twice.
 */
import type { Counters } from '../core/counters.js';
import { parseSdp, type SessionDescription } from '../sdp/session-description.js';
import type { SipMessage } from './message.js';
import { findBodyPart } from './multipart.js';

const parsed = new WeakMap<SipMessage, SessionDescription | null>();

/** Null when the message has no SDP part or it does not parse (counted by parseSdp once). */
export function messageSdp(msg: SipMessage, counters: Counters): SessionDescription | null {
  if (msg.body.length === 0) return null;
  const hit = parsed.get(msg);
  if (hit !== undefined) return hit;
  const part = findBodyPart(msg, 'application/sdp');
  const sdp = part ? parseSdp(part.body, counters) : null;
  parsed.set(msg, sdp);
  return sdp;
}
