import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openCaptureFile } from '../../../recorder/capture/file-source.js';
import { Counters } from '../../../recorder/core/counters.js';
import type { Packet } from '../../../recorder/core/packet.js';
import { PayloadKind } from '../../../recorder/demux/payload-kind.js';
import { Pipeline } from '../../../recorder/pipeline.js';
import { parseSipMessage, type SipMessage } from '../../../recorder/sip/message.js';
import { findBodyPart } from '../../../recorder/sip/multipart.js';
import { sipTcpConsumer } from '../../../recorder/sip/stream-framer.js';
import { tshark } from '../../support/tshark.js';

/**
 * Every SIP message of real captures, over UDP and over TCP (through the TCP reassembler and
 * the framer), compared with tshark's SIP dissector: the same messages with the same Call-ID,
 * CSeq, method or status, From/To user, host and tag, Via branch and body length.
 */

const FIELDS = [
  'sip.Call-ID', 'sip.CSeq.seq', 'sip.CSeq.method', 'sip.Method', 'sip.Status-Code',
  'sip.from.user', 'sip.from.host', 'sip.from.tag', 'sip.to.user', 'sip.to.host', 'sip.to.tag', 'sip.Via.branch', 'sip.Content-Length',
];

const key = (m: SipMessage): string =>
  [
    m.callId, m.cseq, m.cseqMethod, m.isRequest ? m.method : '', m.isRequest ? '' : m.status,
    m.from.user, m.from.host, m.from.tag, m.to.user, m.to.host, m.to.tag, m.topViaBranch, m.body.length,
  ].join('|');

async function ours(file: string): Promise<{ keys: string[]; msgs: SipMessage[]; counters: Counters }> {
  const counters = new Counters();
  const keys: string[] = [];
  const msgs: SipMessage[] = [];
  const take = (m: SipMessage): void => {
    keys.push(key(m));
    // Bodies are views into reused buffers: keep a copy for the checks below.
    msgs.push(Object.assign(m, { body: Buffer.from(m.body) }));
  };
  const pipeline = new Pipeline(counters, {
    onUdp: (p: Packet, kind) => {
      if (kind !== PayloadKind.Sip) return;
      const m = parseSipMessage(p.payload, p.payloadOff, p.payloadLen, counters);
      if (m) take(m);
    },
    tcpStreams: sipTcpConsumer((m) => take(m), counters),
  });
  const cap = await openCaptureFile(file, new Counters());
  for await (const batch of cap.batches()) for (const f of batch) pipeline.push(f);
  await cap.close();
  pipeline.finish();
  return { keys: keys.sort(), msgs, counters };
}

function theirs(file: string): string[] {
  const out = tshark(['-r', file, '-Y', 'sip', '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=f', ...FIELDS.flatMap((f) => ['-e', f])]);
  return out
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('|')) // continuation frames without a message (no Call-ID)
    .map((l) => l.split('|').map((v, i) => (i === FIELDS.length - 1 ? String(Number(v || 0)) : v)).join('|'))
    .sort();
}

describe('SIP messages in real captures, compared with tshark', () => {
  // Counters: TCP connections that are not SIP (FTP, TLS, HTTP) reach the framer too and are
  // counted as resynchronisations, then given up.
  const table: [file: string, messages: number, counters: Record<string, number>][] = [
    ['fixtures/sngrep__aaa.pcap', 81, { 'sip.tcp_resync': 2 }],
    ['fixtures/sngrep__ipip.pcap', 4, {}],
    ['fixtures/heplify__sip_ipv4_tcp.pcap', 7, {}],
    ['fixtures/heplify__sip_ipv4_tcp_retrans.pcap', 8, { 'sip.tcp_resync': 12 }],
    // Via sent-by is an IPv6 address without brackets (fe80:0:...:32e0:5060;branch=...):
    // tshark gives no branch, we do (checked below).
    ['fixtures/heplify__sip_ipv6_udp.pcap', 6, {}],
    ['fixtures/lundgrel-sipp__sipp_uac_Media_DTMF_Speex.pcap', 10, {}],
    ['fixtures/lundgrel-sipp__sip-rtp-l16.pcap', 24, {}],
    ['fixtures/sipp-siprec__siprec_dual_channel_udp.pcap', 7, {}],
    // HTTP on TCP port 5060: tshark shows "Continuation" frames; we frame nothing, and count it.
    ['fixtures/nDPI__http_on_sip_port.pcap', 0, { 'sip.tcp_resync': 2 }],
  ];
  for (const [file, n, counters] of table) {
    it(file, async () => {
      const got = await ours(file);
      let want = theirs(file);
      if (file.includes('ipv6_udp')) {
        assert.deepEqual(new Set(got.msgs.map((m) => m.topViaBranch)), new Set(['z9hG4bKkdjuw8376', 'z9hG4bKkdjuw8495']));
        want = want.map((w, i) => w.replace(/\|\|(\d+)$/, `|${got.keys[i]!.split('|')[11]}|$1`));
      }
      assert.equal(want.length, n);
      assert.deepEqual(got.keys, want);
      const sip = Object.fromEntries(got.counters.entries('sip.').filter(([k]) => k !== 'sip.tcp_discarded_bytes' && k !== 'sip.tcp_keepalive'));
      assert.deepEqual(sip, counters);
    });
  }

  it('SIPREC over UDP (the SRS side; the INVITE itself was lost to IP fragmentation): SDP of the 200 OK', async () => {
    const { msgs } = await ours('fixtures/sipp-siprec__siprec_dual_channel_udp.pcap');
    const ok = msgs.filter((m) => !m.isRequest && m.status === 200 && m.cseqMethod === 'INVITE');
    assert.equal(ok.length, 1);
    const c = new Counters();
    const sdp = findBodyPart(ok[0]!, 'application/sdp', c)!;
    assert.ok(sdp.body.toString().startsWith('v=0'));
    assert.match(sdp.body.toString(), /a=label:1/);
    assert.deepEqual(c.toJSON(), {});
  });
});
