/** What the IPv4/IPv6 decoders fill in (one reused instance). */
export class IpResult {
  version: 4 | 6 = 4;
  /** Upper-layer protocol (after IPv6 extension headers). */
  proto = 0;
  payloadOff = 0;
  payloadEnd = 0;
  src4 = 0;
  dst4 = 0;
  /** IPv6 address offsets into the buffer. */
  srcOff = 0;
  dstOff = 0;
  isFragment = false;
  /** Fragment offset in bytes. */
  fragOffset = 0;
  moreFragments = false;
  fragId = 0;
}
