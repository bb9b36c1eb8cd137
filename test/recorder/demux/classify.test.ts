import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyUdp, DEFAULT_DEMUX_PORTS } from '../../../recorder/demux/classify.js';
import { PayloadKind } from '../../../recorder/demux/payload-kind.js';
import * as B from '../../support/packets.js';

const k = (buf: Buffer, sport = 40000, dport = 40002): PayloadKind => classifyUdp(buf, 0, buf.length, sport, dport, DEFAULT_DEMUX_PORTS);

function stun(type: number, attrs: Buffer, cookie = true): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(attrs.length, 2);
  if (cookie) h.writeUInt32BE(0x2112a442, 4);
  h.fill(7, 8);
  return Buffer.concat([h, attrs]);
}

function channelData(ch: number, inner: Buffer, pad: boolean): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(ch, 0);
  h.writeUInt16BE(inner.length, 2);
  const padLen = pad ? (4 - (inner.length % 4)) % 4 : 0;
  return Buffer.concat([h, inner, Buffer.alloc(padLen)]);
}

const rtcpRR = Buffer.from('81c90007' + '11223344' + '55667788' + '00000000'.repeat(5), 'hex');

describe('classifyUdp (RFC 7983 order)', () => {
  const table: [string, Buffer, PayloadKind, number?, number?][] = [
    ['STUN binding request', stun(0x0001, Buffer.alloc(8)), PayloadKind.Stun],
    ['STUN without cookie (RFC 3489 / MS-TURN)', stun(0x0101, Buffer.alloc(4), false), PayloadKind.Stun],
    ['STUN with wrong length', stun(0x0001, Buffer.alloc(8)).subarray(0, 24), PayloadKind.Unknown],
    ['ChannelData exact', channelData(0x4001, B.rtp(1, 2, 3, 0, 21), false), PayloadKind.ChannelData],
    ['ChannelData padded', channelData(0x4fff, B.rtp(1, 2, 3, 0, 21), true), PayloadKind.ChannelData],
    ['RTP PCMU', B.rtp(1, 160, 0x1234, 0), PayloadKind.Rtp],
    ['RTP dynamic PT with marker', (() => { const r = B.rtp(1, 160, 1, 96); r[1] = 0x80 | 96; return r; })(), PayloadKind.Rtp],
    ['RTCP RR', rtcpRR, PayloadKind.Rtcp],
    ['RTCP with length beyond datagram', rtcpRR.subarray(0, 16), PayloadKind.Unknown],
    ['SIP INVITE (first byte in ChannelData range)', B.sipInvite('x'), PayloadKind.Sip],
    ['SIP response', Buffer.from('SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n'), PayloadKind.Sip],
    ['SIP extension method', Buffer.from('FOOBAR sip:x@y SIP/2.0\r\n\r\n'), PayloadKind.Sip],
    ['OPTIONS with LF only', Buffer.from('OPTIONS sip:x@y SIP/2.0\nVia: x\n\n'), PayloadKind.Sip],
    ['HTTP is not SIP', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), PayloadKind.Unknown],
    ['CRLF keep-alive on 5060', Buffer.from('\r\n\r\n'), PayloadKind.SipKeepAlive, 5060, 5060],
    ['CRLF elsewhere', Buffer.from('\r\n\r\n'), PayloadKind.Unknown],
    ['DTLS ClientHello', Buffer.from('16fefd000000000000000000010100', 'hex'), PayloadKind.Dtls],
    ['empty', Buffer.alloc(0), PayloadKind.Unknown],
    ['RTP version 1', Buffer.from('40000001000000000000000000', 'hex'), PayloadKind.Unknown],
  ];
  for (const [name, buf, want, sp, dp] of table) it(name, () => assert.equal(k(buf, sp, dp), want));

  it('never throws on random bytes or prefixes', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    for (let i = 0; i < 50000; i++) {
      const b = Buffer.alloc(Math.floor(rnd() * 64));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      k(b);
    }
    for (const [, buf] of table) for (let n = 0; n <= buf.length; n++) k(buf.subarray(0, n));
  });
});
