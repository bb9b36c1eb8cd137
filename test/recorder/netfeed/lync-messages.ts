/**
 * Generated Lync / Skype for Business SIP as a Front End sees it: INVITEs whose SDP carries the
 * candidate forms of real clients (RFC 5245 host/srflx/relay, MS-ICE draft-6 in a
 * multipart/alternative fallback part, a=x-candidate-ipv6, a=x-ssrc-range, several m-lines),
 * answers from a Mediation Server, BYE, and IM (INVITE with m=message, then MESSAGE).
 */
export interface LyncParty {
  uri: string;
  name: string;
  /** Candidate addresses: [ip, port, type]; the first is the m=/c= address. */
  candidates: [string, number, 'host' | 'srflx' | 'relay'][];
  ipv6?: [string, number];
  ssrc?: [number, number];
}

let seq = 0;

/** An SDP like a Lync 2013 client's: audio with candidates, a video m-line, SILK and G.711. */
export function lyncSdp(p: LyncParty, o: { draft6?: boolean; video?: boolean } = {}): string {
  const [ip, port] = p.candidates[0]!;
  const lines = ['v=0', `o=- 0 1 IN IP4 ${ip}`, 's=session', `c=IN IP4 ${ip}`, 'b=CT:99980', 't=0 0', `m=audio ${port} RTP/SAVP 104 103 9 0 8 101`, 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789abcdefghijklmn'];
  p.candidates.forEach(([cip, cport, type], i) => {
    if (o.draft6) {
      lines.push(`a=candidate:xuQeAyP2OpJXSqshZmVTzmh/P8C1AXzDyOPnC9CBCM0 1 NBI6uHMTNhHNsqR8TJJ3Rw UDP 0.${830 - i} ${cip} ${cport}`);
      lines.push(`a=candidate:xuQeAyP2OpJXSqshZmVTzmh/P8C1AXzDyOPnC9CBCM0 2 NBI6uHMTNhHNsqR8TJJ3Rw UDP 0.${830 - i} ${cip} ${cport + 1}`);
    } else {
      const base = type === 'relay' ? ` raddr ${p.candidates[0]![0]} rport ${p.candidates[0]![1]}` : type === 'srflx' ? ` raddr ${ip} rport ${port}` : '';
      lines.push(`a=candidate:${i + 1} 1 UDP ${2130706431 - i * 1000} ${cip} ${cport} typ ${type}${base}`);
      lines.push(`a=candidate:${i + 1} 2 UDP ${2130705918 - i * 1000} ${cip} ${cport + 1} typ ${type}${base}`);
    }
  });
  if (p.ipv6 && !o.draft6) lines.push(`a=x-candidate-ipv6:9 1 UDP 2130706430 ${p.ipv6[0]} ${p.ipv6[1]} typ host`);
  if (p.ssrc) lines.push(`a=x-ssrc-range:${p.ssrc[0]}-${p.ssrc[1]}`);
  lines.push('a=rtcp:' + (port + 1), 'a=rtpmap:104 SILK/16000', 'a=rtpmap:103 SILK/8000', 'a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20');
  if (o.video) lines.push(`m=video ${port + 100} RTP/SAVP 122`, `a=candidate:1 1 UDP 2130706431 ${ip} ${port + 100} typ host`, 'a=rtpmap:122 X-H264UC/90000', 'a=x-ssrc-range:100-199');
  return `${lines.join('\r\n')}\r\n`;
}

/** A Lync client's multipart/alternative offer: the MS-ICE2 SDP first, the draft-6 fallback second. */
export function lyncOffer(p: LyncParty, draft6Only?: LyncParty): { type: string; body: string } {
  const boundary = '----=_NextPart_000_001B_01CDC5AC.EC1E2DE0';
  const part = (sdp: string, fallback: boolean): string =>
    `--${boundary}\r\nContent-Type: application/sdp\r\nContent-Transfer-Encoding: 7bit\r\n${fallback ? 'Content-Disposition: session; handling=optional; ms-proxy-2007fallback\r\n' : 'Content-Disposition: session; handling=optional\r\n'}\r\n${sdp}`;
  const body = `${part(lyncSdp(p, { video: true }), false)}\r\n${part(lyncSdp(draft6Only ?? p, { draft6: true }), true)}\r\n--${boundary}--\r\n`;
  return { type: `multipart/alternative;boundary="${boundary}"`, body };
}

export interface SipText {
  text: string;
}

function message(startLine: string, h: { callId: string; from: string; to: string; cseq: string; branch: string; contentType?: string; body?: string; extra?: string[] }): string {
  const body = h.body ?? '';
  return [
    startLine,
    `Via: SIP/2.0/TLS 10.0.0.3:5061;branch=${h.branch}`,
    `From: ${h.from}`,
    `To: ${h.to}`,
    `Call-ID: ${h.callId}`,
    `CSeq: ${h.cseq}`,
    'User-Agent: UCCAPI/15.0.4420.1017 OC/15.0.4420.1017 (Microsoft Lync)',
    ...(h.extra ?? []),
    ...(body ? [`Content-Type: ${h.contentType ?? 'application/sdp'}`] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** The SIP of one call from `caller` (a Lync user) answered by `callee` (e.g. the Mediation Server); `fallback` is the draft-6 part's party when it differs. */
export function lyncCall(callId: string, caller: LyncParty, callee: LyncParty, o: { calledNumber?: string; fallback?: LyncParty } = {}): { invite: string; ringing: string; ok: string; ack: string; bye: string; byeOk: string } {
  const n = ++seq;
  const to = o.calledNumber ? `<sip:${o.calledNumber}@contoso.com;user=phone>` : `"${callee.name}" <${callee.uri}>`;
  const from = `"${caller.name}" <${caller.uri}>;tag=ft${n};epid=1234567890`;
  const offer = lyncOffer(caller, o.fallback);
  const requestUri = o.calledNumber ? `sip:${o.calledNumber}@contoso.com;user=phone` : callee.uri;
  return {
    invite: message(`INVITE ${requestUri} SIP/2.0`, { callId, from, to, cseq: '1 INVITE', branch: `z9hG4bK-inv${n}`, contentType: offer.type, body: offer.body, extra: ['Ms-Conversation-ID: AdTKqFRr'] }),
    ringing: message('SIP/2.0 180 Ringing', { callId, from, to: `${to};tag=tt${n}`, cseq: '1 INVITE', branch: `z9hG4bK-inv${n}` }),
    ok: message('SIP/2.0 200 OK', { callId, from, to: `${to};tag=tt${n}`, cseq: '1 INVITE', branch: `z9hG4bK-inv${n}`, body: lyncSdp(callee) }),
    ack: message(`ACK ${requestUri} SIP/2.0`, { callId, from, to: `${to};tag=tt${n}`, cseq: '1 ACK', branch: `z9hG4bK-ack${n}` }),
    bye: message(`BYE ${requestUri} SIP/2.0`, { callId, from, to: `${to};tag=tt${n}`, cseq: '2 BYE', branch: `z9hG4bK-bye${n}` }),
    byeOk: message('SIP/2.0 200 OK', { callId, from, to: `${to};tag=tt${n}`, cseq: '2 BYE', branch: `z9hG4bK-bye${n}` }),
  };
}

/** An IM session: INVITE with m=message, 200, then MESSAGEs both ways, BYE. */
export function lyncIm(callId: string, a: { uri: string; name: string }, b: { uri: string; name: string }, texts: [from: 'a' | 'b', text: string][]): string[] {
  const n = ++seq;
  const sdp = ['v=0', 'o=- 0 0 IN IP4 10.0.1.11', 's=session', 'c=IN IP4 10.0.1.11', 't=0 0', 'm=message 5060 sip null', 'a=accept-types:text/plain text/html text/rtf'].join('\r\n') + '\r\n';
  const from = `"${a.name}" <${a.uri}>;tag=fa${n}`;
  const to = `"${b.name}" <${b.uri}>;tag=tb${n}`;
  const out = [
    message(`INVITE ${b.uri} SIP/2.0`, { callId, from, to: `"${b.name}" <${b.uri}>`, cseq: '1 INVITE', branch: `z9hG4bK-im${n}`, body: sdp }),
    message('SIP/2.0 200 OK', { callId, from, to, cseq: '1 INVITE', branch: `z9hG4bK-im${n}`, body: sdp }),
    message(`ACK ${b.uri} SIP/2.0`, { callId, from, to, cseq: '1 ACK', branch: `z9hG4bK-imack${n}` }),
  ];
  texts.forEach(([who, text], i) => {
    const [f, t] = who === 'a' ? [from, to] : [to, from];
    out.push(message(`MESSAGE ${who === 'a' ? b.uri : a.uri} SIP/2.0`, { callId, from: f, to: t, cseq: `${i + 2} MESSAGE`, branch: `z9hG4bK-msg${n}-${i}`, contentType: 'text/plain; charset=UTF-8; msgr=WAAtAE0ATQBTAC0ASQBNAC0A', body: text }));
    // Typing notifications carry no text.
    out.push(message(`INFO ${b.uri} SIP/2.0`, { callId, from: f, to: t, cseq: `${i + 100} INFO`, branch: `z9hG4bK-info${n}-${i}`, contentType: 'application/im-iscomposing+xml', body: '<isComposing><state>active</state></isComposing>' }));
  });
  out.push(message(`BYE ${b.uri} SIP/2.0`, { callId, from, to, cseq: '99 BYE', branch: `z9hG4bK-imbye${n}` }));
  return out;
}
