import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareConversations, inspectFile } from '../../support/inspect-helpers.js';
import { tshark, tsharkConversations } from '../../support/tshark.js';

/** Public captures (fixtures/MANIFEST.md) covering SLL, IPv6, IP-in-IP, VLAN, pcapng, TCP retransmissions. */
const GOLDEN = [
  'fixtures/sngrep__aaa.pcap',
  'fixtures/sngrep__ipip.pcap',
  'fixtures/heplify__sip_ipv6_udp.pcap',
  'fixtures/heplify__sip_ipv4_tcp.pcap',
  'fixtures/heplify__sip_ipv4_tcp_retrans.pcap',
  'fixtures/nDPI__rtcp_multiple_pkts_in_the_same_datagram.pcap',
  'fixtures/nDPI__stun.pcap',
  'fixtures/nDPI__skinny.pcap',
  'fixtures/nDPI__sccp_hw_conf_register.pcapng',
  'fixtures/lundgrel-sipp__RTP_pcma_2min_cisco_hold.pcapng',
  'fixtures/lundgrel-sipp__sipp_uac_ssrc_change.pcap',
  'fixtures/sipp-siprec__siprec_dual_channel_udp.pcap',
  'fixtures/nDPI__http_on_sip_port.pcap',
];

describe('recorder inspect against tshark on public captures', () => {
  for (const file of GOLDEN) {
    it(file, async () => {
      const r = await inspectFile(file);
      const frames = tshark(['-r', file, '-T', 'fields', '-e', 'frame.time_epoch']).trim().split('\n');
      assert.equal(r.capture.packets, frames.length, 'packet count');
      const first = frames[0]!;
      compareConversations(r.conversations.udp, tsharkConversations(file, 'udp'), first, `${file} udp`);
      compareConversations(r.conversations.tcp, tsharkConversations(file, 'tcp'), first, `${file} tcp`);
      assert.equal(r.capture.malformed['pipeline.bug'], undefined);
    });
  }
});
