import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { ReplaySummary } from '../../../recorder/cli/replay-command.js';
import { soxDecodeG711, tsharkRtpPackets } from '../../support/reference-decode.js';
import { tshark } from '../../support/tshark.js';
import { readWav } from '../../support/wav.js';
import { tempDir } from '../../support/temp-dir.js';

export function replay(files: string[], ...args: string[]): ReplaySummary {
  const out = tempDir('replay-');
  const r = spawnSync('bin/recorder', ['replay', ...files, '--out', out, '--format', 'wav', '--json', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as ReplaySummary;
}

interface TsharkStream {
  src: string;
  dst: string;
  ssrc: number;
  payload: string;
  packets: number;
  lost: number;
}

/** `tshark -z rtp,streams`: the reference list of RTP streams (SDP-driven dissection). */
function tsharkStreams(file: string): TsharkStream[] {
  const rows: TsharkStream[] = [];
  for (const line of tshark(['-r', file, '-q', '-z', 'rtp,streams']).split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+0x([0-9A-Fa-f]+)\s+(.+?)\s+(\d+)\s+(-?\d+)\s+\(/.exec(line);
    if (!m) continue;
    const ep = (a: string, p: string): string => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
    rows.push({ src: ep(m[1]!, m[2]!), dst: ep(m[3]!, m[4]!), ssrc: parseInt(m[5]!, 16), payload: m[6]!, packets: Number(m[7]), lost: Number(m[8]) });
  }
  return rows;
}

/** Distinct Call-IDs of initial INVITEs (no To tag), as tshark dissects them. */
function tsharkInviteCallIds(file: string): string[] {
  const out = tshark(['-r', file, '-Y', 'sip.Method == "INVITE" && !(sip.to.tag)', '-T', 'fields', '-e', 'sip.Call-ID']);
  return [...new Set(out.split('\n').map((s) => s.trim()).filter(Boolean))].sort();
}

/**
 * Every G.711 packet's samples, decoded by sox, must sit in the recording at the place its RTP
 * timestamp gives (relative to the stream's first audio packet, found by search).
 */
function assertAudioMatches(file: string, ssrc: number, wavPath: string, channel: number, law: 'mu-law' | 'a-law', pt: number): number {
  const wav = readWav(wavPath);
  const samples = wav.channel[channel]!;
  const packets = tsharkRtpPackets(file, ssrc).filter((p) => p.pt === pt);
  assert.ok(packets.length > 0);
  const decoded = packets.map((p) => soxDecodeG711(p.payload, law));
  // Anchor on the first packet whose audio is not constant (silence could match anywhere).
  const k = decoded.findIndex((d) => d.some((v) => v !== d[0]));
  assert.ok(k >= 0, 'stream has some non-constant audio');
  const probe = decoded[k]!;
  let anchor = -1;
  for (let i = 0; i + probe.length <= samples.length && anchor < 0; i++) {
    let j = 0;
    while (j < probe.length && samples[i + j] === probe[j]) j++;
    if (j === probe.length) anchor = i;
  }
  assert.ok(anchor >= 0, `packet ${packets[k]!.seq} of SSRC ${ssrc.toString(16)} not found in ${wavPath} channel ${channel}`);
  const ts0 = packets[k]!.ts;
  let compared = 0;
  for (let i = 0; i < packets.length; i++) {
    // Signed 32-bit difference: RTP timestamps wrap (RFC 3550 §5.1).
    const at = anchor + ((packets[i]!.ts - ts0) | 0);
    const d = decoded[i]!;
    for (let j = 0; j < d.length; j++) {
      assert.equal(samples[at + j], d[j], `SSRC ${ssrc.toString(16)} packet seq ${packets[i]!.seq} sample ${j}`);
      compared++;
    }
  }
  return compared;
}

const GOLDEN = [
  'fixtures/sngrep__aaa.pcap',
  'fixtures/heplify__sip_ipv4_tcp.pcap',
  'fixtures/heplify__sip_ipv6_udp.pcap',
  'fixtures/lundgrel-sipp__sip-rtp-l16.pcap',
  'fixtures/lundgrel-sipp__sipp_uac_Media_DTMF_Speex.pcap',
];

describe('recorder replay against tshark and sox on public captures', () => {
  for (const file of GOLDEN) {
    it(file, () => {
      const s = replay([file]);
      assert.deepEqual(s.calls.map((c) => c.callId).sort(), tsharkInviteCallIds(file), 'calls');
      const ours = s.calls.flatMap((c) => c.streams.map((st) => ({ ...st, call: c })));
      const ref = tsharkStreams(file);
      for (const t of ref) {
        const m = ours.find((o) => o.ssrc === t.ssrc && o.src === t.src && o.dst === t.dst);
        if (!m) {
          // RTP after its call ended (aaa.pcap: early media 1 s after a 480) belongs to no live
          // call: within the linger time it is counted as such, never reported as unattached.
          assert.ok(!s.unattached.some((o) => o.ssrc === t.ssrc), `${file}: trailing stream ${t.ssrc.toString(16)} reported as unattached`);
          assert.ok((s.capture.malformed['rtp.after_call_end'] ?? 0) >= t.packets, `${file}: stream ${t.src} -> ${t.dst} ${t.ssrc.toString(16)} neither recorded nor counted after its call`);
          continue;
        }
        assert.equal(m.packets, t.packets, `${file} ${t.ssrc.toString(16)} packets`);
        assert.equal(m.lost, Math.max(0, t.lost), `${file} ${t.ssrc.toString(16)} lost`);
        const law = /g711A/.test(t.payload) ? 'a-law' : /g711U/.test(t.payload) ? 'mu-law' : null;
        if (law && t.lost === 0 && m.call.recording) {
          const ch = m.call.recording.channels === 2 ? (m.party === 'caller' ? 0 : 1) : 0;
          if (m.call.recording.channels === 2) assertAudioMatches(file, t.ssrc, m.call.recording.path, ch, law, law === 'a-law' ? 8 : 0);
        }
      }
      assert.equal(s.capture.malformed['pipeline.bug'], undefined);
    });
  }
});
