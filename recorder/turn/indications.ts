/**
 * The TURN messages that carry or bind relayed media, read from a decoded StunMessage:
 *
 * - RFC 8656 §11.4 Send indication (type 0x0016) and §11.6 Data indication (0x0017): XOR-PEER-ADDRESS
 *   (§18.3) and DATA (§18.4), the peer's UDP payload.
 * - RFC 8656 §12.2 ChannelBind request (0x0009): CHANNEL-NUMBER (§18.1) and XOR-PEER-ADDRESS; its
 *   success response (0x0109) carries neither, so the caller pairs it with the request by transaction id.
 * - [MS-TURN] (Lync/Skype for Business Edge; draft-ietf-behave-turn-08 based) §2.2.2: no RFC 5389 cookie
 *   in the header, a MAGIC-COOKIE attribute (0x000F) first; Send request (0x0004) carries
 *   DESTINATION-ADDRESS (0x0011), Data Indication (0x0115) carries REMOTE-ADDRESS (0x0012), both with
 *   DATA (0x0013, §2.2.2.12). Addresses are in plain MAPPED-ADDRESS form.
 *   The MS-TURN magic-cookie attribute's value is not checked: the value 0x72C64BC6 we were told
 *   could not be confirmed against [MS-TURN] §2.2.2.8 in the time available, so we only require the
 *   attribute type to come first.
 */
import { Status } from '../core/status.js';
import {
  decodeChannelNumber,
  decodeMappedAddress,
  decodeXorAddress,
  StunAddress,
  StunAttr,
  type StunMessage,
} from './stun-message.js';

/** Message types (method and class together), RFC 8656 §17 and [MS-TURN] §2.2.2. */
export const TurnType = {
  SendIndication: 0x0016,
  DataIndication: 0x0017,
  ChannelBindRequest: 0x0009,
  ChannelBindSuccess: 0x0109,
  MsSendRequest: 0x0004,
  MsDataIndication: 0x0115,
} as const;

/** [MS-TURN] §2.2.2 attribute types. */
export const MsTurnAttr = {
  MagicCookie: 0x000f,
  DestinationAddress: 0x0011,
  RemoteAddress: 0x0012,
  Data: 0x0013,
} as const;

export const TurnRelayKind = {
  None: 0,
  Send: 1,
  Data: 2,
  ChannelBindRequest: 3,
  ChannelBindSuccess: 4,
  MsSend: 5,
  MsData: 6,
} as const;
export type TurnRelayKind = (typeof TurnRelayKind)[keyof typeof TurnRelayKind];

/** What a relay message says, filled in place. */
export class TurnRelay {
  kind: TurnRelayKind = TurnRelayKind.None;
  /** Peer (XOR-PEER-ADDRESS, or MS-TURN DESTINATION/REMOTE-ADDRESS); family 0 when absent. */
  readonly peer = new StunAddress();
  /** Payload: buf[dataOff, dataOff + dataLen); dataLen 0 when absent. */
  dataOff = 0;
  dataLen = 0;
  /** CHANNEL-NUMBER of a ChannelBind request, else -1. */
  channel = -1;
}

/**
 * Classifies `msg` (decoded from `buf` by decodeStunMessage) and extracts the relay fields.
 * Unsupported: not one of the types above (kind None). Malformed: a required attribute is missing
 * or unreadable.
 */
export function decodeTurnRelay(buf: Buffer, msg: StunMessage, out: TurnRelay): Status {
  out.kind = TurnRelayKind.None;
  out.peer.family = 0;
  out.dataOff = 0;
  out.dataLen = 0;
  out.channel = -1;
  if (msg.magic) return decodeStandard(buf, msg, out);
  return decodeMs(buf, msg, out);
}

function decodeStandard(buf: Buffer, msg: StunMessage, out: TurnRelay): Status {
  switch (msg.type) {
    case TurnType.SendIndication:
    case TurnType.DataIndication: {
      out.kind = msg.type === TurnType.SendIndication ? TurnRelayKind.Send : TurnRelayKind.Data;
      const s = readPeer(buf, msg, StunAttr.XorPeerAddress, true, out);
      if (s !== Status.Ok) return s;
      // A Data indication may carry ICMP instead of DATA (§11.6); that is not media, call it Unsupported.
      return readData(msg, StunAttr.Data, out) ? Status.Ok : Status.Unsupported;
    }
    case TurnType.ChannelBindRequest: {
      out.kind = TurnRelayKind.ChannelBindRequest;
      const i = msg.find(StunAttr.ChannelNumber);
      if (i < 0) return Status.Malformed;
      out.channel = decodeChannelNumber(buf, msg.attrOff[i]!, msg.attrLen[i]!);
      if (out.channel < 0) return Status.Malformed;
      return readPeer(buf, msg, StunAttr.XorPeerAddress, true, out);
    }
    case TurnType.ChannelBindSuccess:
      out.kind = TurnRelayKind.ChannelBindSuccess;
      return Status.Ok;
    default:
      return Status.Unsupported;
  }
}

function decodeMs(buf: Buffer, msg: StunMessage, out: TurnRelay): Status {
  const send = msg.type === TurnType.MsSendRequest;
  if (!send && msg.type !== TurnType.MsDataIndication) return Status.Unsupported;
  // [MS-TURN] §3.1.10: the Magic Cookie attribute must come first, else the message is ignored.
  if (msg.attrCount === 0 || msg.attrType[0] !== MsTurnAttr.MagicCookie) return Status.Unsupported;
  out.kind = send ? TurnRelayKind.MsSend : TurnRelayKind.MsData;
  const s = readPeer(buf, msg, send ? MsTurnAttr.DestinationAddress : MsTurnAttr.RemoteAddress, false, out);
  if (s !== Status.Ok) return s;
  return readData(msg, MsTurnAttr.Data, out) ? Status.Ok : Status.Malformed;
}

function readPeer(buf: Buffer, msg: StunMessage, type: number, xor: boolean, out: TurnRelay): Status {
  const i = msg.find(type);
  if (i < 0) return Status.Malformed;
  const off = msg.attrOff[i]!;
  const len = msg.attrLen[i]!;
  const s = xor ? decodeXorAddress(buf, off, len, msg.txOff, out.peer) : decodeMappedAddress(buf, off, len, out.peer);
  // A bad address is a malformed message, not a short capture: the walk already proved the bytes exist.
  return s === Status.Ok ? s : Status.Malformed;
}

function readData(msg: StunMessage, type: number, out: TurnRelay): boolean {
  const i = msg.find(type);
  if (i < 0) return false;
  out.dataOff = msg.attrOff[i]!;
  out.dataLen = msg.attrLen[i]!;
  return true;
}
