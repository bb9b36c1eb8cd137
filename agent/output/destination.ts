/** A recorder (or any HEP collector) the agent forwards to. */
import type { AddressSet } from '../capture/interest.js';

export type Transport = 'udp' | 'tcp';

export interface DestinationSpec {
  /** As written: `tcp:10.0.0.5:9060`. */
  name: string;
  transport: Transport;
  host: string;
  port: number;
  /** Forward only packets whose inner source or destination is in this set (empty: all). */
  ips: AddressSet;
}

export interface DestinationStats {
  /** HEP packets handed to the socket. */
  sent: number;
  /** Dropped because the buffer (memory and disk) was full, or the UDP send queue was. */
  overflow: number;
  /** Packets and bytes waiting (TCP: unsent plus unacknowledged). */
  queued: number;
  queuedBytes: number;
  /** Connections made after the first (TCP). */
  reconnects: number;
  /** Packets the recorder acknowledged (TCP with our recorder). */
  acked: number;
  /** Socket errors. */
  errors: number;
}

export interface Destination {
  readonly spec: DestinationSpec;
  /** Next sequence number (per destination, RFC 1982 wrap at 2^32). */
  seq: number;
  /** Can take packets now (UDP: always; TCP: connected). */
  readonly up: boolean;
  readonly stats: DestinationStats;
  /** Takes ownership of `buf` (an encoded HEP packet with sequence number `seq`). */
  send(buf: Buffer, seq: number): void;
  /**
   * Optional zero-copy path: room for `size` bytes in the destination's own output buffer, as
   * (buffer, offset), or null when there is none now (then `send` is used). What is written
   * there before the next call is sent as one datagram; nothing is kept for resending.
   */
  reserve?(size: number): { buf: Buffer; off: number } | null;
  /** Resolves when everything queued was delivered (and acknowledged where acks are in use) or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export const newStats = (): DestinationStats => ({ sent: 0, overflow: 0, queued: 0, queuedBytes: 0, reconnects: 0, acked: 0, errors: 0 });

/** `udp:host:port`, `tcp:host:port` or `host:port` (UDP); IPv6 hosts in brackets. */
export function parseDestination(text: string): { transport: Transport; host: string; port: number } | string {
  const m = /^(?:(udp|tcp):)?(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/i.exec(text.trim());
  if (!m) return 'expected [udp:|tcp:]HOST:PORT (IPv6 in brackets: tcp:[::1]:9060)';
  const port = Number(m[4]);
  if (port < 1 || port > 65535) return `port ${port} is out of range 1-65535`;
  return { transport: (m[1]?.toLowerCase() ?? 'udp') as Transport, host: m[2] ?? m[3] ?? '', port };
}
