/** Per-layer packet counts (plain numeric fields: bumped per packet, so no Map lookups). */
export class LayerCounts {
  frames = 0;
  bytes = 0;
  ethernet = 0;
  vlan = 0;
  sll = 0;
  sll2 = 0;
  loopback = 0;
  rawIp = 0;
  ipv4 = 0;
  ipv6 = 0;
  ipFragments = 0;
  ipReassembled = 0;
  ipInIp = 0;
  gre = 0;
  erspan = 0;
  vxlan = 0;
  udp = 0;
  tcp = 0;
  icmp = 0;
  otherIp = 0;
  nonIp = 0;
}
