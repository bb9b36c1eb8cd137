import { execFileSync } from 'node:child_process';

/** Run tshark (the reference dissector) and return stdout; its "running as root" notice goes to stderr. */
export function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
}

export interface TsharkConversation {
  a: string;
  b: string;
  /** Frames and bytes B→A ("<-") and A→B ("->"). Bytes are null when tshark printed a rounded unit (kB, MB). */
  framesBA: number;
  bytesBA: number | null;
  framesAB: number;
  bytesAB: number | null;
  relStart: string;
}

const ROW = /^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$/;

const bytes = (n: string, unit: string): number | null => (unit === 'bytes' ? Number(n) : null);

/**
 * Dissectors that open a conversation per direction for media they see set up (SIP/SDP and SCCP
 * register RTP/RTCP addresses): with them on, tshark 4.0 splits one address/port pair into one
 * row per direction, which is Wireshark's bookkeeping rather than a transport conversation. With
 * them off, tshark counts UDP/TCP conversations by address and port pair, as we do.
 */
const SPLITTING_DISSECTORS = ['sip', 'sdp', 'skinny', 'rtp', 'rtcp'];

/** Parse `tshark -q -z conv,udp|tcp` tables (tshark 4.0 layout: frames and bytes per direction). */
export function tsharkConversations(file: string, proto: 'udp' | 'tcp'): TsharkConversation[] {
  const out = tshark(['-r', file, '-q', '-z', `conv,${proto}`, ...SPLITTING_DISSECTORS.flatMap((d) => ['--disable-protocol', d])]);
  const rows: TsharkConversation[] = [];
  for (const line of out.split('\n')) {
    const m = ROW.exec(line.trim());
    if (!m) continue;
    rows.push({
      a: m[1]!,
      b: m[2]!,
      framesBA: Number(m[3]),
      bytesBA: bytes(m[4]!, m[5]!),
      framesAB: Number(m[6]),
      bytesAB: bytes(m[7]!, m[8]!),
      relStart: m[12]!,
    });
  }
  return rows;
}
