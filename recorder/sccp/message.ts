/**
 * One decoded Skinny message: the fields the station tracker needs from every message it reads.
 * A decoder fills the object the tracker owns (STYLE.md: decode into reused objects); `reset()`
 * runs before each message so a field a message does not carry reads as empty.
 *
 * Layouts: wireshark/wireshark `epan/dissectors/packet-skinny.c` (Wireshark 4.0, generated from
 * `tools/SkinnyProtocolOptimized.xml`), cross-checked field by field against `tshark -V` on
 * the nDPI skinny captures. Each decoder names the message and opcode it reads.
 */
import { Status } from '../core/status.js';
import { MessageId } from './message-ids.js';
import { decodeCallInfo, decodeCallInfoV2, decodeDialedNumber } from './call-info.js';
import { decodeCallState } from './call-state.js';
import { decodeCloseReceiveChannel, decodeOpenReceiveChannel, decodeOpenReceiveChannelAck, decodeStartMediaTransmission, decodeStartMediaTransmissionAck, decodeStopMediaTransmission } from './media-channel.js';
import { decodeLineStat, decodeLineStatV2, decodeRegister } from './register.js';
import { decodeHookMessage, decodeKeypadButton, decodeSoftKeyEvent, decodeStimulus } from './station-input.js';

export class SkinnyMessage {
  version = 0;
  id = 0;
  /** The message carried a call reference (some short forms do not). */
  hasCallRef = false;
  callRef = 0;
  lineInstance = 0;
  conferenceId = 0;
  passThruPartyId = 0;
  /** CallState value (see CallStateValue). */
  callState = 0;
  /** CallInfo callType: 1 inbound, 2 outbound, 3 forward. */
  callType = 0;
  callingNumber = '';
  callingName = '';
  calledNumber = '';
  calledName = '';
  originalCalledNumber = '';
  originalCalledName = '';
  lastRedirectingNumber = '';
  lastRedirectingName = '';
  dialedNumber = '';
  /** Media address and port (ORC ack: the station's own; StartMediaTransmission: the far end). */
  ip = '';
  port = 0;
  /** Media_PayloadType of the channel (compressionType). */
  compression = 0;
  packetMs = 0;
  /** ORC ack mediaReceptionStatus / SMT ack status (0 = OK). */
  status = 0;
  /** StartMediaTransmission mixingMode and partyDirection (V15+); non-zero on recording forks. */
  mixingMode = 0;
  partyDirection = 0;
  rfc2833Pt = 0;
  deviceName = '';
  deviceType = 0;
  stationIp = '';
  lineNumber = 0;
  lineDirNumber = '';
  lineDisplayName = '';
  /** KeypadButton key, SoftKeyEvent event or Stimulus value. */
  button = 0;

  reset(version: number, id: number): void {
    this.version = version;
    this.id = id;
    this.hasCallRef = false;
    this.callRef = 0;
    this.lineInstance = 0;
    this.conferenceId = 0;
    this.passThruPartyId = 0;
    this.callState = 0;
    this.callType = 0;
    this.callingNumber = '';
    this.callingName = '';
    this.calledNumber = '';
    this.calledName = '';
    this.originalCalledNumber = '';
    this.originalCalledName = '';
    this.lastRedirectingNumber = '';
    this.lastRedirectingName = '';
    this.dialedNumber = '';
    this.ip = '';
    this.port = 0;
    this.compression = 0;
    this.packetMs = 0;
    this.status = 0;
    this.mixingMode = 0;
    this.partyDirection = 0;
    this.rfc2833Pt = 0;
    this.deviceName = '';
    this.deviceType = 0;
    this.stationIp = '';
    this.lineNumber = 0;
    this.lineDirNumber = '';
    this.lineDisplayName = '';
    this.button = 0;
  }
}

/**
 * Decodes the body buf[off, off + len) of message `id` into `out`. Ok: decoded. Truncated: the
 * body is shorter than the fields we read. Unsupported: a message we do not read (valid, skipped).
 */
export function decodeSkinnyBody(id: number, version: number, buf: Buffer, off: number, len: number, out: SkinnyMessage): Status {
  out.reset(version, id);
  switch (id) {
    case MessageId.Register:
      return decodeRegister(buf, off, len, out);
    case MessageId.LineStat:
      return decodeLineStat(buf, off, len, out);
    case MessageId.LineStatV2:
      return decodeLineStatV2(buf, off, len, out);
    case MessageId.CallState:
      return decodeCallState(buf, off, len, out);
    case MessageId.CallInfo:
      return decodeCallInfo(buf, off, len, out);
    case MessageId.CallInfoV2:
      return decodeCallInfoV2(buf, off, len, out);
    case MessageId.DialedNumber:
      return decodeDialedNumber(buf, off, len, out);
    case MessageId.OpenReceiveChannel:
      return decodeOpenReceiveChannel(buf, off, len, out);
    case MessageId.OpenReceiveChannelAck:
      return decodeOpenReceiveChannelAck(buf, off, len, out);
    case MessageId.StartMediaTransmission:
      return decodeStartMediaTransmission(buf, off, len, out);
    case MessageId.StartMediaTransmissionAck:
      return decodeStartMediaTransmissionAck(buf, off, len, out);
    case MessageId.StopMediaTransmission:
      return decodeStopMediaTransmission(buf, off, len, out);
    case MessageId.CloseReceiveChannel:
      return decodeCloseReceiveChannel(buf, off, len, out);
    case MessageId.KeypadButton:
      return decodeKeypadButton(buf, off, len, out);
    case MessageId.SoftKeyEvent:
      return decodeSoftKeyEvent(buf, off, len, out);
    case MessageId.Stimulus:
      return decodeStimulus(buf, off, len, out);
    case MessageId.OffHook:
    case MessageId.OnHook:
      return decodeHookMessage(buf, off, len, out);
    case MessageId.RegisterAck:
    case MessageId.Unregister:
    case MessageId.UnregisterAck:
    case MessageId.RegisterReject:
      return Status.Ok;
    default:
      return Status.Unsupported;
  }
}
