import { execFileSync } from 'node:child_process';
import { tshark } from './tshark.js';

export interface RefPacket {
  seq: number;
  ts: number;
  pt: number;
  payload: Buffer;
}

/** RTP packets of one SSRC as tshark dissects them (SDP-driven), in capture order. */
export function tsharkRtpPackets(file: string, ssrc: number): RefPacket[] {
  const out = tshark(['-r', file, '-Y', `rtp.ssrc == 0x${ssrc.toString(16)}`, '-T', 'fields', '-e', 'rtp.seq', '-e', 'rtp.timestamp', '-e', 'rtp.p_type', '-e', 'rtp.payload']);
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [seq = '', ts = '', pt = '', hex = ''] = l.split('\t');
      return { seq: Number(seq), ts: Number(ts), pt: Number(pt), payload: Buffer.from(hex.replace(/:/g, ''), 'hex') };
    });
}

/** G.711 decoded by sox, the reference codec (ITU-T G.711 via sox's own tables). */
export function soxDecodeG711(payload: Buffer, law: 'mu-law' | 'a-law'): Int16Array {
  // Through stdin/stdout: no temporary files (it runs thousands of times per test file).
  const b = execFileSync('sox', ['-t', 'raw', '-e', law, '-b', '8', '-r', '8000', '-c', '1', '-', '-t', 'raw', '-e', 'signed', '-b', '16', '-L', '-'], { input: payload, maxBuffer: 1 << 30 });
  return new Int16Array(b.buffer, b.byteOffset, b.length / 2).slice();
}
