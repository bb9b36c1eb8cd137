/**
 * The media messages that tell a passive observer where RTP flows (packet-skinny.c handlers of
 * the same names). `ip` is 4 bytes before V17 and 20 (type + 16) from V17 (fields.ts).
 *
 *  OpenReceiveChannel 0x0105 (CM → station: "receive this codec"):
 *     0 conferenceID, 4 passThruPartyID, 8 millisecondPacketSize, 12 compressionType,
 *    16 qualifierIn (ecValue, g723BitRate | codecParams), 24 callReference, 28 encryption key info …
 *
 *  OpenReceiveChannelAck 0x0022 (station → CM: "I receive RTP here"):
 *     0 mediaReceptionStatus, 4 ip, +ip portNumber, passThruPartyID, [callReference]
 *
 *  StartMediaTransmission 0x008a (CM → station: "send RTP there"):
 *     0 conferenceID, 4 passThruPartyID, 8 remote ip, +ip remotePortNumber,
 *       millisecondPacketSize, compressionType, qualifierOut (16 bytes), callReference,
 *       mTxMediaEncryptionKeyInfo (48 bytes), streamPassThroughID, associatedStreamID,
 *       RFC2833PayloadType, dtmfType, mixingMode, [V15+ partyDirection]
 *
 *  StartMediaTransmissionAck 0x0154: conferenceID, passThruPartyID, callReference, transmit ip,
 *       transmitPort, status.
 *  StopMediaTransmission 0x008b / CloseReceiveChannel 0x0106: conferenceID, passThruPartyID,
 *       callReference, portHandlingFlag.
 */
import { Status } from '../core/status.js';
import { ipField, ipFieldSize } from './fields.js';
import { le32 as le32At, SkinnyVersion } from './header.js';
import type { SkinnyMessage } from './message.js';

const ENCRYPTION_INFO = 48;

export function decodeOpenReceiveChannel(buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  if (len < 16) return Status.Truncated;
  out.conferenceId = le32At(buf, off);
  out.passThruPartyId = le32At(buf, off + 4);
  out.packetMs = le32At(buf, off + 8);
  out.compression = le32At(buf, off + 12);
  if (len >= 28) {
    out.callRef = le32At(buf, off + 24);
    out.hasCallRef = true;
  }
  const rfc = 28 + ENCRYPTION_INFO + 8;
  if (len >= rfc + 4) out.rfc2833Pt = le32At(buf, off + rfc);
  return Status.Ok;
}

export function decodeOpenReceiveChannelAck(buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  const ipLen = ipFieldSize(out.version);
  const portAt = 4 + ipLen;
  if (len < portAt + 4) return Status.Truncated;
  out.status = le32At(buf, off);
  out.ip = ipField(buf, off + 4, out.version);
  out.port = le32At(buf, off + portAt);
  if (len >= portAt + 8) out.passThruPartyId = le32At(buf, off + portAt + 4);
  if (len >= portAt + 12) {
    out.callRef = le32At(buf, off + portAt + 8);
    out.hasCallRef = true;
  }
  return out.port > 65535 ? Status.Malformed : Status.Ok;
}

export function decodeStartMediaTransmission(buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  const ipLen = ipFieldSize(out.version);
  const portAt = 8 + ipLen;
  if (len < portAt + 4) return Status.Truncated;
  out.conferenceId = le32At(buf, off);
  out.passThruPartyId = le32At(buf, off + 4);
  out.ip = ipField(buf, off + 8, out.version);
  out.port = le32At(buf, off + portAt);
  if (len >= portAt + 12) {
    out.packetMs = le32At(buf, off + portAt + 4);
    out.compression = le32At(buf, off + portAt + 8);
  }
  const callRefAt = portAt + 12 + 16;
  if (len >= callRefAt + 4) {
    out.callRef = le32At(buf, off + callRefAt);
    out.hasCallRef = true;
  }
  const streamAt = callRefAt + 4 + ENCRYPTION_INFO;
  if (len >= streamAt + 12) out.rfc2833Pt = le32At(buf, off + streamAt + 8);
  if (len >= streamAt + 20) out.mixingMode = le32At(buf, off + streamAt + 16);
  if (out.version >= SkinnyVersion.V15 && len >= streamAt + 24) out.partyDirection = le32At(buf, off + streamAt + 20);
  return out.port > 65535 ? Status.Malformed : Status.Ok;
}

export function decodeStartMediaTransmissionAck(buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  const ipLen = ipFieldSize(out.version);
  if (len < 12 + ipLen + 4) return Status.Truncated;
  out.conferenceId = le32At(buf, off);
  out.passThruPartyId = le32At(buf, off + 4);
  out.callRef = le32At(buf, off + 8);
  out.hasCallRef = true;
  out.ip = ipField(buf, off + 12, out.version);
  out.port = le32At(buf, off + 12 + ipLen);
  if (len >= 12 + ipLen + 8) out.status = le32At(buf, off + 12 + ipLen + 4);
  return out.port > 65535 ? Status.Malformed : Status.Ok;
}

/** StopMediaTransmission and CloseReceiveChannel share their layout. */
function decodeChannelStop(buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  if (len < 8) return Status.Truncated;
  out.conferenceId = le32At(buf, off);
  out.passThruPartyId = le32At(buf, off + 4);
  if (len >= 12) {
    out.callRef = le32At(buf, off + 8);
    out.hasCallRef = true;
  }
  return Status.Ok;
}

export const decodeStopMediaTransmission = decodeChannelStop;
export const decodeCloseReceiveChannel = decodeChannelStop;

/**
 * Media_PayloadType (compressionType) to the codec and RTP payload type the phones send, for
 * the codecs with a static RFC 3551 number. Dynamic ones (iLBC, Opus, AMR…) carry their payload
 * number in codecParams; those streams get the recorder's payload mappings.
 */
export function compressionCodec(c: number): { codec: string; pt: number; clockRate: number } | null {
  switch (c) {
    case 2:
    case 3:
      return { codec: 'PCMA', pt: 8, clockRate: 8000 };
    case 4:
    case 5:
      return { codec: 'PCMU', pt: 0, clockRate: 8000 };
    case 6:
    case 7:
    case 8:
      return { codec: 'G722', pt: 9, clockRate: 8000 };
    case 9:
      return { codec: 'G723', pt: 4, clockRate: 8000 };
    case 10:
      return { codec: 'G728', pt: 15, clockRate: 8000 };
    case 11:
    case 12:
    case 15:
    case 16:
      return { codec: 'G729', pt: 18, clockRate: 8000 };
    case 18:
    case 80:
      return { codec: 'GSM', pt: 3, clockRate: 8000 };
    default:
      return null;
  }
}
