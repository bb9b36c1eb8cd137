/**
 * The kernel filter for live capture (pcap-filter(7)), built from the config's interest rules so
 * that the host copies to user space only what may be forwarded (the agent runs on busy Edge and
 * Mediation servers). The JS side applies the same rules again (interest.ts), so a broader BPF
 * costs CPU but never changes what is forwarded.
 *
 *   no rules:      ip or ip6            (everything IP; demux picks SIP, RTP, RTCP, TURN)
 *   ips + ports:   (host A or net N/L) and ((udp and (portrange 3478-3478 or …)) or (tcp and (…))
 *                  or <IPv4 non-first fragments>)
 *
 * IPv4 fragments after the first carry no ports; they are let through (restricted to the hosts)
 * so that fragmented SIP can be reassembled.
 */
import type { InterestRules, PortRange } from './interest.js';

const range = (r: PortRange): string => (r.from === r.to ? `port ${r.from}` : `portrange ${r.from}-${r.to}`);

export function buildBpf(rules: InterestRules): string {
  const hosts = rules.ips.map((n) => (n.prefix === (n.v6 ? 128 : 32) ? `host ${n.text.split('/')[0]}` : `net ${n.text}`));
  const parts: string[] = [];
  const udp = rules.udpPorts.length ? `(udp and (${rules.udpPorts.map(range).join(' or ')}))` : 'udp';
  const tcp = rules.tcpPorts.length ? `(tcp and (${rules.tcpPorts.map(range).join(' or ')}))` : 'tcp';
  if (rules.udpPorts.length || rules.tcpPorts.length) {
    parts.push(udp, tcp, '(ip[6:2] & 0x1fff != 0)');
  }
  const ports = parts.length ? `(${parts.join(' or ')})` : '';
  const host = hosts.length ? `(${hosts.join(' or ')})` : '';
  if (host && ports) return `${host} and ${ports}`;
  if (host) return host;
  if (ports) return ports;
  return 'ip or ip6';
}
