/**
 * CallStateMessage 0x0111 (CM → station), packet-skinny.c `handle_CallStateMessage`:
 *    0  callState u32      (values below)
 *    4  lineInstance u32
 *    8  callReference u32
 *   12  privacy u32, precedence (level, domain) …
 */
import { Status } from '../core/status.js';
import { le32 as le32At } from './header.js';
import type { SkinnyMessage } from './message.js';

/** Skinny call states (tshark 4.0 `-G values`, field `skinny.callState`). */
export const CallStateValue = {
  Idle: 0,
  OffHook: 1,
  OnHook: 2,
  RingOut: 3,
  RingIn: 4,
  Connected: 5,
  Busy: 6,
  Congestion: 7,
  Hold: 8,
  CallWaiting: 9,
  CallTransfer: 10,
  CallPark: 11,
  Proceed: 12,
  CallRemoteMultiline: 13,
  InvalidNumber: 14,
  HoldRevert: 15,
  Whisper: 16,
  RemoteHold: 17,
} as const;

export function decodeCallState(buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  if (len < 12) return Status.Truncated;
  out.callState = le32At(buf, off);
  out.lineInstance = le32At(buf, off + 4);
  out.callRef = le32At(buf, off + 8);
  out.hasCallRef = true;
  return Status.Ok;
}
