import { u16 } from '../core/bytes.js';
import { Status } from '../core/status.js';

/**
 * Ethernet II with any depth of 802.1Q / 802.1ad (QinQ) tags (IEEE 802.1Q-2018 §9).
 *
 *   0                   6                  12        14
 *   +-------------------+-------------------+---------+
 *   |  destination MAC  |    source MAC     |EtherType|   EtherType 0x8100/0x88a8/0x9100:
 *   +-------------------+-------------------+---------+   2-byte TCI (PCP|DEI|VID) + next EtherType
 */
export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  Vlan: 0x8100,
  QinQ: 0x88a8,
  QinQOld: 0x9100,
  Ipv6: 0x86dd,
  TransparentEthernet: 0x6558,
  ErspanII: 0x88be,
  ErspanIII: 0x22eb,
} as const;

const ETH_HEADER = 14;
const VLAN_TAG = 4;
/** Above this, tags are more likely garbage than real stacking; real QinQ uses 2–3. */
const MAX_TAGS = 8;

export interface LinkResult {
  /** EtherType (or equivalent protocol) of what follows. */
  etherType: number;
  /** Offset of the next layer. */
  off: number;
  /** Outermost VLAN id, or -1. */
  vlan: number;
  tags: number;
}

export function decodeEthernet(buf: Buffer, off: number, end: number, out: LinkResult): Status {
  if (end - off < ETH_HEADER) return Status.Truncated;
  let type = u16(buf, off + 12);
  let p = off + ETH_HEADER;
  out.vlan = -1;
  out.tags = 0;
  while (type === EtherType.Vlan || type === EtherType.QinQ || type === EtherType.QinQOld) {
    if (out.tags === MAX_TAGS) return Status.Malformed;
    if (end - p < VLAN_TAG) return Status.Truncated;
    if (out.vlan < 0) out.vlan = u16(buf, p) & 0x0fff;
    type = u16(buf, p + 2);
    p += VLAN_TAG;
    out.tags++;
  }
  // Values up to 1500 are an 802.3 length (LLC/SNAP follows): not IP traffic we record.
  if (type <= 1500) return Status.Unsupported;
  out.etherType = type;
  out.off = p;
  return Status.Ok;
}
