/**
 * The TURN messages that carry or bind relayed media, read from a decoded StunMessage:
 *
 * - RFC 8656 §11.4 Send indication (type 0x0016) and §11.6 Data indication (0x0017): XOR-PEER-ADDRESS
 *   (§18.3) and DATA (§18.4), the peer's UDP payload.
 * - RFC 8656 §12.2 ChannelBind request (0x0009): CHANNEL-NUMBER (§18.1) and XOR-PEER-ADDRESS; its
 *   success response (0x0109) carries neither, so the caller pairs it with the request by transaction id.
 * - RFC 8656 §7.3 Allocate success response (0x0103 with the cookie): XOR-RELAYED-ADDRESS (§18.5),
 *   the relay transport address peers see, which is what the recorder finds in `typ relay` candidates.
 * - [MS-TURN] (Lync/Skype for Business Edge; draft-ietf-behave-turn-08 based) §2.2.1/§2.2.2: no RFC 5389
 *   cookie in the header (16-byte transaction id), a Magic Cookie attribute (0x000F, value 0x72C64BC6,
 *   §2.2.2.8) first in every message, which is how TURN messages are told from relayed data. Send request
 *   (0x0004) carries Destination Address (0x0011, §2.2.2.10), Data Indication (0x0115) Remote Address
 *   (0x0012), both with Data (0x0013). Set Active Destination request (0x0006) names the peer that
 *   unframed data goes to from then on; its response is 0x0106. The Allocate response (0x0103)
 *   carries Mapped Address (0x0001), the allocated public (relay) address (§2.2.2.1, §3.2.5.1).
 *   Addresses are in plain MAPPED-ADDRESS form (not XORed).
 */
import { u32 } from '../core/bytes.js';
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
  AllocateSuccess: 0x0103,
  MsSendRequest: 0x0004,
  MsDataIndication: 0x0115,
  MsSetActiveDestination: 0x0006,
  MsSetActiveDestinationSuccess: 0x0106,
} as const;

/** [MS-TURN] §2.2.2.8: the Magic Cookie attribute's value. */
export const MS_TURN_MAGIC_COOKIE = 0x72c64bc6;

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
  /** RFC 8656 Allocate success: `relay` holds XOR-RELAYED-ADDRESS. */
  AllocateSuccess: 7,
  /** [MS-TURN] Allocate response: `relay` holds Mapped Address. */
  MsAllocateSuccess: 8,
  /** [MS-TURN] Set Active Destination request: `peer` holds Destination Address. */
  MsSetActiveDestination: 9,
  MsSetActiveDestinationSuccess: 10,
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
  /** Relayed transport address of an Allocate success; family 0 when absent. */
  readonly relay = new StunAddress();
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
  out.relay.family = 0;
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
    case TurnType.AllocateSuccess: {
      out.kind = TurnRelayKind.AllocateSuccess;
      const i = msg.find(StunAttr.XorRelayedAddress);
      if (i < 0) return Status.Malformed;
      return decodeXorAddress(buf, msg.attrOff[i]!, msg.attrLen[i]!, msg.txOff, out.relay) === Status.Ok ? Status.Ok : Status.Malformed;
    }
    default:
      return Status.Unsupported;
  }
}

function decodeMs(buf: Buffer, msg: StunMessage, out: TurnRelay): Status {
  // [MS-TURN] §2.2.2/§3.1.10: the Magic Cookie attribute comes first with its fixed value, else the
  // message is not MS-TURN (an RFC 3489 Binding, or data that happens to start with two zero bits).
  if (msg.attrCount === 0 || msg.attrType[0] !== MsTurnAttr.MagicCookie) return Status.Unsupported;
  const c = msg.attrOff[0]!;
  if (msg.attrLen[0] !== 4 || u32(buf, c) !== MS_TURN_MAGIC_COOKIE) return Status.Unsupported;
  switch (msg.type) {
    case TurnType.MsSendRequest:
    case TurnType.MsDataIndication: {
      const send = msg.type === TurnType.MsSendRequest;
      out.kind = send ? TurnRelayKind.MsSend : TurnRelayKind.MsData;
      const s = readPeer(buf, msg, send ? MsTurnAttr.DestinationAddress : MsTurnAttr.RemoteAddress, false, out);
      if (s !== Status.Ok) return s;
      return readData(msg, MsTurnAttr.Data, out) ? Status.Ok : Status.Malformed;
    }
    case TurnType.MsSetActiveDestination:
      out.kind = TurnRelayKind.MsSetActiveDestination;
      return readPeer(buf, msg, MsTurnAttr.DestinationAddress, false, out);
    case TurnType.MsSetActiveDestinationSuccess:
      out.kind = TurnRelayKind.MsSetActiveDestinationSuccess;
      return Status.Ok;
    case TurnType.AllocateSuccess: {
      out.kind = TurnRelayKind.MsAllocateSuccess;
      const i = msg.find(StunAttr.MappedAddress);
      if (i < 0) return Status.Malformed;
      return decodeMappedAddress(buf, msg.attrOff[i]!, msg.attrLen[i]!, out.relay) === Status.Ok ? Status.Ok : Status.Malformed;
    }
    default:
      return Status.Unsupported;
  }
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
