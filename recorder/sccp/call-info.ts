/**
 * Who is calling whom (CM → station), packet-skinny.c handlers of the same names:
 *
 *  CallInfoMessage 0x008f, fixed fields (directory numbers 24 bytes in every version):
 *     0 callingPartyName[40]      40 callingParty[24]
 *    64 calledPartyName[40]      104 calledParty[24]
 *   128 lineInstance u32         132 callReference u32     136 callType u32 (1 in, 2 out, 3 forward)
 *   140 originalCalledPartyName[40]  180 originalCalledParty[24]
 *   204 lastRedirectingPartyName[40] 244 lastRedirectingParty[24]   (268: reasons, voice mailboxes …)
 *
 *  CallInfoV2Message 0x014a (the variable-length form CallManager 7+ sends):
 *     0 lineInstance, 4 callReference, 8 callType, 12 originalCdpnRedirectReason,
 *    16 lastRedirectingReason, 20 callInstance, 24 callSecurityStatus, 28 partyPIRestrictionBits
 *    32 NUL-terminated: callingParty, AlternateCallingParty, calledParty, originalCalledParty,
 *       lastRedirectingParty, cgpnVoiceMailbox, cdpnVoiceMailbox, originalCdpnVoiceMailbox,
 *       lastRedirectingVoiceMailbox, callingPartyName, calledPartyName, originalCalledPartyName,
 *       lastRedirectingPartyName (V17+: HuntPilotNumber, HuntPilotName)
 *
 *  DialedNumberMessage 0x011d: dialedNumber[24, 25 from V18], lineInstance u32, callReference u32.
 */
import { Status } from '../core/status.js';
import { dirnumSize, fixedString, nulString } from './fields.js';
import { le32 as le32At } from './header.js';
import type { SkinnyMessage } from './message.js';

const CALLINFO_MIN = 140;
const CALLINFO_REDIRECT_END = 268;

export function decodeCallInfo(buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  if (len < CALLINFO_MIN) return Status.Truncated;
  out.callingName = fixedString(buf, off, 40);
  out.callingNumber = fixedString(buf, off + 40, 24);
  out.calledName = fixedString(buf, off + 64, 40);
  out.calledNumber = fixedString(buf, off + 104, 24);
  out.lineInstance = le32At(buf, off + 128);
  out.callRef = le32At(buf, off + 132);
  out.hasCallRef = true;
  out.callType = le32At(buf, off + 136);
  if (len >= CALLINFO_REDIRECT_END) {
    out.originalCalledName = fixedString(buf, off + 140, 40);
    out.originalCalledNumber = fixedString(buf, off + 180, 24);
    out.lastRedirectingName = fixedString(buf, off + 204, 40);
    out.lastRedirectingNumber = fixedString(buf, off + 244, 24);
  }
  return Status.Ok;
}

const V2_FIXED = 32;
const cursor = { next: 0 };

export function decodeCallInfoV2(buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  if (len < V2_FIXED) return Status.Truncated;
  const end = off + len;
  out.lineInstance = le32At(buf, off);
  out.callRef = le32At(buf, off + 4);
  out.hasCallRef = true;
  out.callType = le32At(buf, off + 8);
  cursor.next = off + V2_FIXED;
  out.callingNumber = nulString(buf, cursor.next, end, cursor);
  nulString(buf, cursor.next, end, cursor); // AlternateCallingParty
  out.calledNumber = nulString(buf, cursor.next, end, cursor);
  out.originalCalledNumber = nulString(buf, cursor.next, end, cursor);
  out.lastRedirectingNumber = nulString(buf, cursor.next, end, cursor);
  for (let i = 0; i < 4; i++) nulString(buf, cursor.next, end, cursor); // voice mailboxes
  out.callingName = nulString(buf, cursor.next, end, cursor);
  out.calledName = nulString(buf, cursor.next, end, cursor);
  out.originalCalledName = nulString(buf, cursor.next, end, cursor);
  out.lastRedirectingName = nulString(buf, cursor.next, end, cursor);
  return Status.Ok;
}

export function decodeDialedNumber(buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  const dn = dirnumSize(out.version);
  if (len < dn) return Status.Truncated;
  out.dialedNumber = fixedString(buf, off, dn);
  if (len >= dn + 8) {
    out.lineInstance = le32At(buf, off + dn);
    out.callRef = le32At(buf, off + dn + 4);
    out.hasCallRef = true;
  }
  return Status.Ok;
}
