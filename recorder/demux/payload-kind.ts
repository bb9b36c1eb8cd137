/** What a UDP payload looks like (demux result). */
export const PayloadKind = {
  Unknown: 0,
  Stun: 1,
  ChannelData: 2,
  Dtls: 3,
  Rtp: 4,
  Rtcp: 5,
  Sip: 6,
  /** SIP keep-alive: CRLF or CRLFCRLF (RFC 5626 §3.5.1) on a SIP port. */
  SipKeepAlive: 7,
} as const;
export type PayloadKind = (typeof PayloadKind)[keyof typeof PayloadKind];

export const payloadKindName: readonly string[] = ['unknown', 'stun', 'turn-channel', 'dtls', 'rtp', 'rtcp', 'sip', 'sip-keepalive'];
