/**
 * tshark as the oracle for TURN captures: the payloads it finds inside ChannelData and Send/Data
 * indications, and which of them it calls RTP or RTCP. Shared by the agent's and the recorder's tests.
 */
import { writePcap } from './capture-writer.js';
import * as B from './packets.js';
import { tshark } from './tshark.js';

/**
 * What tshark makes of TURN payloads (tshark 4.0 leaves most of them as "data"): each payload is
 * replayed as a plain UDP datagram (written to `${prefix}-inner.pcap`); RTP is what tshark's RTP
 * heuristic accepts, RTCP what its RTCP dissector, forced on, reads as a version-2 header with packet type 200-207 (SRTCP keeps that
 * header in the clear, RFC 3711 §3.4, but its trailer defeats the heuristic).
 */
export function tsharkMedia(payloads: Buffer[], prefix: string): ('rtp' | 'rtcp' | '')[] {
  const inner = `${prefix}-inner.pcap`;
  writePcap(inner, payloads.map((d, i) => ({ tsSec: 1_700_000_000 + i, tsNsec: 0, data: B.ethernet(B.ipv4('10.9.0.1', '10.9.0.2', 17, B.udp(41000, 41002, d))) })), { linkType: 1 });
  const heur = tshark(['-r', inner, '--enable-heuristic', 'rtp_udp', '-T', 'fields', '-e', 'frame.protocols']).split('\n');
  const forced = tshark(['-r', inner, '-d', 'udp.port==41002,rtcp', '-T', 'fields', '-E', 'occurrence=f', '-e', 'rtcp.version', '-e', 'rtcp.pt']).split('\n');
  return payloads.map((_, i) => {
    if (/:rtp\b/.test(heur[i] ?? '')) return 'rtp';
    const [v, pt] = (forced[i] ?? '').split('\t');
    return v === '2' && Number(pt) >= 200 && Number(pt) <= 207 ? 'rtcp' : '';
  });
}

/** The DATA of each Send/Data indication and ChannelData that tshark dissects, in frame order. */
export function tsharkRelayPayloads(file: string): { frame: number; data: Buffer }[] {
  return tshark(['-r', file, '-Y', '(stun.channel || ((stun.type == 0x0016 || stun.type == 0x0017) && data)) && !icmp', '-T', 'fields', '-e', 'frame.number', '-e', 'data.data'])
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [n = '', h = ''] = l.split('\t');
      return { frame: Number(n), data: Buffer.from(h.replace(/:/g, ''), 'hex') };
    });
}

