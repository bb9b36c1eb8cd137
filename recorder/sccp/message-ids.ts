/**
 * Skinny message ids. The names and the set of known ids are the table of Wireshark 4.0's skinny
 * dissector (`tshark -G values`, field `skinny.messageId`, generated there from
 * `tools/SkinnyProtocolOptimized.xml`); an id outside it is counted as unknown, never fatal.
 */
export const MessageId = {
  KeepAlive: 0x0000,
  Register: 0x0001,
  IpPort: 0x0002,
  KeypadButton: 0x0003,
  EnblocCall: 0x0004,
  Stimulus: 0x0005,
  OffHook: 0x0006,
  OnHook: 0x0007,
  OpenReceiveChannelAck: 0x0022,
  OffHookWithCgpn: 0x0024,
  SoftKeyEvent: 0x0026,
  Unregister: 0x0027,
  RegisterAck: 0x0081,
  StartMediaTransmission: 0x008a,
  StopMediaTransmission: 0x008b,
  CallInfo: 0x008f,
  LineStat: 0x0092,
  RegisterReject: 0x009d,
  OpenReceiveChannel: 0x0105,
  CloseReceiveChannel: 0x0106,
  CallState: 0x0111,
  UnregisterAck: 0x0118,
  DialedNumber: 0x011d,
  LineStatV2: 0x0147,
  CallInfoV2: 0x014a,
  StartMediaTransmissionAck: 0x0154,
} as const;

const TABLE =
  '0:KeepAliveReq 1:RegisterReq 2:IpPort 3:KeypadButton 4:EnblocCall 5:Stimulus 6:OffHook 7:OnHook ' +
  '8:HookFlash 9:ForwardStatReq 10:SpeedDialStatReq 11:LineStatReq 12:ConfigStatReq 13:TimeDateReq ' +
  '14:ButtonTemplateReq 15:VersionReq 16:CapabilitiesRes 18:ServerReq 32:Alarm ' +
  '33:MulticastMediaReceptionAck 34:OpenReceiveChannelAck 35:ConnectionStatisticsRes ' +
  '36:OffHookWithCallingPartyNumber 37:SoftKeySetReq 38:SoftKeyEvent 39:UnregisterReq ' +
  '40:SoftKeyTemplateReq 41:RegisterTokenReq 42:MediaTransmissionFailure 43:HeadsetStatus ' +
  '44:MediaResourceNotification 45:RegisterAvailableLines 46:DeviceToUserData ' +
  '47:DeviceToUserDataResponse 48:UpdateCapabilities 49:OpenMultiMediaReceiveChannelAck ' +
  '50:ClearConference 51:ServiceURLStatReq 52:FeatureStatReq 53:CreateConferenceRes ' +
  '54:DeleteConferenceRes 55:ModifyConferenceRes 56:AddParticipantRes 57:AuditConferenceRes ' +
  '64:AuditParticipantRes 65:DeviceToUserDataVersion1 66:DeviceToUserDataResponseVersion1 ' +
  '67:CapabilitiesV2Res 68:CapabilitiesV3Res 69:PortRes 70:QoSResvNotify 71:QoSErrorNotify ' +
  '72:SubscriptionStatReq 73:MediaPathEvent 74:MediaPathCapability 76:MwiNotification 129:RegisterAck ' +
  '130:StartTone 131:StopTone 133:SetRinger 134:SetLamp 135:SetHookFlashDetect 136:SetSpeakerMode ' +
  '137:SetMicroMode 138:StartMediaTransmission 139:StopMediaTransmission 143:CallInfo ' +
  '144:ForwardStatRes 145:SpeedDialStatRes 146:LineStatRes 147:ConfigStatRes 148:TimeDateRes ' +
  '149:StartSessionTransmission 150:StopSessionTransmission 151:ButtonTemplateRes 152:VersionRes ' +
  '153:DisplayText 154:ClearDisplay 155:CapabilitiesReq 157:RegisterReject 158:ServerRes 159:Reset ' +
  '256:KeepAliveAck 257:StartMulticastMediaReception 258:StartMulticastMediaTransmission ' +
  '259:StopMulticastMediaReception 260:StopMulticastMediaTransmission 261:OpenReceiveChannel ' +
  '262:CloseReceiveChannel 263:ConnectionStatisticsReq 264:SoftKeyTemplateRes 265:SoftKeySetRes ' +
  '272:SelectSoftKeys 273:CallState 274:DisplayPromptStatus 275:ClearPromptStatus 276:DisplayNotify ' +
  '277:ClearNotify 278:ActivateCallPlane 279:DeactivateCallPlane 280:UnregisterAck 281:BackSpaceRes ' +
  '282:RegisterTokenAck 283:RegisterTokenReject 284:StartMediaFailureDetection 285:DialedNumber ' +
  '286:UserToDeviceData 287:FeatureStatRes 288:DisplayPriNotify 289:ClearPriNotify ' +
  '290:StartAnnouncement 291:StopAnnouncement 292:AnnouncementFinish 295:NotifyDtmfTone ' +
  '296:SendDtmfTone 297:SubscribeDtmfPayloadReq 298:SubscribeDtmfPayloadRes ' +
  '299:SubscribeDtmfPayloadErr 300:UnSubscribeDtmfPayloadReq 301:UnSubscribeDtmfPayloadRes ' +
  '302:UnSubscribeDtmfPayloadErr 303:ServiceURLStatRes 304:CallSelectStatRes ' +
  '305:OpenMultiMediaReceiveChannel 306:StartMultiMediaTransmission 307:StopMultiMediaTransmission ' +
  '308:MiscellaneousCommand 309:FlowControlCommand 310:CloseMultiMediaReceiveChannel ' +
  '311:CreateConferenceReq 312:DeleteConferenceReq 313:ModifyConferenceReq 314:AddParticipantReq ' +
  '315:DropParticipantReq 316:AuditConferenceReq 317:AuditParticipantReq 318:ChangeParticipantReq ' +
  '319:UserToDeviceDataVersion1 320:VideoDisplayCommand 321:FlowControlNotify 322:ConfigStatV2Res ' +
  '323:DisplayNotifyV2 324:DisplayPriNotifyV2 325:DisplayPromptStatusV2 326:FeatureStatV2Res ' +
  '327:LineStatV2Res 328:ServiceURLStatV2Res 329:SpeedDialStatV2Res 330:CallInfoV2 331:PortReq ' +
  '332:PortClose 333:QoSListen 334:QoSPath 335:QoSTeardown 336:UpdateDSCP 337:QoSModify ' +
  '338:SubscriptionStatRes 339:Notification 340:StartMediaTransmissionAck ' +
  '341:StartMultiMediaTransmissionAck 342:CallHistoryInfo 343:LocationInfo 344:MwiRes ' +
  '345:AddOnDeviceCapabilities 346:EnhancedAlarm 350:CallCountReq 351:CallCountResp ' +
  '352:RecordingStatus 32768:SPCPRegisterTokenReq 33024:SPCPRegisterTokenAck ' +
  '33025:SPCPRegisterTokenReject';

const NAMES = new Map<number, string>(
  TABLE.split(' ').map((entry) => {
    const colon = entry.indexOf(':');
    return [Number(entry.slice(0, colon)), entry.slice(colon + 1)] as const;
  }),
);

export const isKnownMessageId = (id: number): boolean => NAMES.has(id);

/** The dissector's name of a message id, or `0x…` for an unknown one. */
export const messageName = (id: number): string => NAMES.get(id) ?? `0x${id.toString(16).padStart(4, '0')}`;

