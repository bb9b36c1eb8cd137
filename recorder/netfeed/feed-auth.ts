/**
 * The feed's keys and MACs (feed-frame.ts describes where they go): HMAC-SHA256 (RFC 2104,
 * FIPS 180-4) over the shared key, the recorder's per-connection nonce and the Front End's
 * identity. Comparisons are constant-time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { MAC_LEN } from './feed-frame.js';

const HELLO_LABEL = Buffer.from('netfeed-hello');
const SESSION_LABEL = Buffer.from('netfeed-session');

const hmac = (key: Buffer | string, ...parts: Buffer[]): Buffer => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The sender's proof that it holds the key, for this nonce and identity. */
export const helloProof = (key: string, nonce: Buffer, frontEnd: string): Buffer => hmac(key, HELLO_LABEL, nonce, Buffer.from(frontEnd, 'utf8'));

/** The key that authenticates this connection's frames. */
export const sessionKey = (key: string, nonce: Buffer, frontEnd: string): Buffer => hmac(key, SESSION_LABEL, nonce, Buffer.from(frontEnd, 'utf8'));

export const proofMatches = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

/** Writes the mac of frame[0, len - 16) into its last 16 bytes. */
export function sealFrame(session: Buffer, frame: Buffer): Buffer {
  hmac(session, frame.subarray(0, frame.length - MAC_LEN)).copy(frame, frame.length - MAC_LEN, 0, MAC_LEN);
  return frame;
}

/** Checks the mac of the frame buf[off, off + len). */
export function frameMacValid(session: Buffer, buf: Buffer, off: number, len: number): boolean {
  if (len < MAC_LEN + 5) return false;
  const mac = hmac(session, buf.subarray(off, off + len - MAC_LEN));
  return timingSafeEqual(mac.subarray(0, MAC_LEN), buf.subarray(off + len - MAC_LEN, off + len));
}
