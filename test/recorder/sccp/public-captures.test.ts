/**
 * The public Skinny captures (fixtures/MANIFEST.md), with tshark's skinny dissection as the oracle:
 *  - nDPI__skinny.pcap: two CallManager 7+ (V20) phones in one call with built-in-bridge
 *    recording forks. One call, its numbers and names, both parties' streams recorded, the forks
 *    reported as copies; every message counted as tshark counts them.
 *  - nDPI__sccp_hw_conf_register.pcapng: a conference bridge registers; no call.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tsharkRtpPackets } from '../../support/reference-decode.js';
import { tshark } from '../../support/tshark.js';
import { assertChannelHas, runRecorder } from './sccp-helpers.js';

const SKINNY = 'fixtures/nDPI__skinny.pcap';
const CONF = 'fixtures/nDPI__sccp_hw_conf_register.pcapng';

/** Message ids of every Skinny message tshark dissects, in order (several per frame). */
function skinnyIds(file: string): number[] {
  const out = tshark(['-r', file, '-Y', 'skinny', '-T', 'fields', '-E', 'aggregator=,', '-e', 'skinny.messageId']);
  return out.split(/[\n,]/).filter((x) => x.trim()).map(Number);
}

/** First occurrence of each field in the frames matching `filter`. */
function firstFields(file: string, filter: string, fields: string[]): Record<string, string> {
  const out = tshark(['-r', file, '-Y', filter, '-c', '1000', '-T', 'fields', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])]);
  const cols = (out.split('\n')[0] ?? '').split('\t');
  return Object.fromEntries(fields.map((f, i) => [f, cols[i] ?? '']));
}

interface TsharkStream {
  src: string;
  dst: string;
  ssrc: number;
  packets: number;
}

function tsharkStreams(file: string): TsharkStream[] {
  const out = tshark(['-r', file, '-q', '-z', 'rtp,streams']);
  const rows: TsharkStream[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+0x([0-9A-F]+)\s+\S+\s+(\d+)/.exec(line);
    if (m) rows.push({ src: `${m[1]}:${m[2]}`, dst: `${m[3]}:${m[4]}`, ssrc: parseInt(m[5]!, 16), packets: Number(m[6]) });
  }
  return rows;
}

describe('SCCP public captures against tshark', () => {
  it('nDPI skinny: one call, numbers and names, both parties recorded, forks reported as copies', async () => {
    const audio = process.env.SCCP_NO_AUDIO !== '1';
    const run = await runRecorder(SKINNY, { record: audio });
    const ids = skinnyIds(SKINNY);
    assert.equal(run.counters.get('sccp.messages'), ids.length);
    assert.equal(ids.length, 62);
    const info = firstFields(SKINNY, 'skinny.messageId == 330', ['skinny.callingParty', 'skinny.calledParty', 'skinny.callingPartyName', 'skinny.calledPartyName']);
    assert.equal(run.records.length, 1);
    const c = run.records[0]!;
    assert.equal(c.protocol, 'sccp');
    assert.deepEqual(
      [c.from.number, c.from.name, c.to.number, c.to.name],
      [info['skinny.callingParty'], info['skinny.callingPartyName'], info['skinny.calledParty'], info['skinny.calledPartyName']],
    );
    assert.deepEqual([c.from.number, c.to.number], ['321', '307']);
    assert.equal(c.direction, 'internal');
    // The phone that rang out (CallState RingOut, 192.168.195.58) is the caller.
    assert.deepEqual(c.sccp?.devices.map((d) => [d.ip, d.party, d.callRef]), [['192.168.195.58', 'caller', 19805770], ['192.168.195.50', 'callee', 19805771]]);

    // Every stream tshark finds is one of the call's: same ends, SSRC and packet count.
    const ours = new Map(c.streams.map((s) => [s.ssrc, s]));
    const theirs = tsharkStreams(SKINNY);
    assert.equal(theirs.length, 6);
    for (const t of theirs) {
      const s = ours.get(t.ssrc);
      assert.ok(s, `stream 0x${t.ssrc.toString(16)}`);
      assert.deepEqual([s.src, s.dst, s.packets], [t.src, t.dst, t.packets]);
      // Streams to the recorder (192.168.193.24) are the phones' built-in-bridge forks.
      assert.equal(s.copy === true, t.dst.startsWith('192.168.193.24:'), `${t.src} → ${t.dst}`);
    }
    assert.equal(c.sccp?.forks.length, 4);
    assert.deepEqual(run.registry().unattachedStreams(), []);
    const main = c.streams.filter((s) => !s.copy);
    assert.deepEqual(main.map((s) => [s.src, s.party]).sort(), [['192.168.195.50:17718', 'callee'], ['192.168.195.58:32144', 'caller']]);
    if (!audio) return;
    // Both parties' audio, as tshark reads the payloads (each packet is in the capture twice).
    assert.equal(c.recording?.channels, 2);
    for (const s of main) {
      const seen = new Set<number>();
      const payloads = tsharkRtpPackets(SKINNY, s.ssrc).filter((p) => !seen.has(p.seq) && seen.add(p.seq)).map((p) => p.payload);
      assert.equal(payloads.length, s.packets - s.duplicates);
      assertChannelHas(c.recording.path, s.party === 'caller' ? 0 : 1, payloads);
    }
  });

  it('nDPI sccp_hw_conf_register: a conference bridge registers, no call', async () => {
    const run = await runRecorder(CONF);
    assert.equal(run.counters.get('sccp.messages'), skinnyIds(CONF).length);
    assert.equal(run.counters.get('sccp.registered'), 1);
    const name = firstFields(CONF, 'skinny.messageId == 1', ['skinny.DeviceName'])['skinny.DeviceName']!;
    assert.equal(name, 'NONSECURE_CONF');
    const st = run.recorder.sccp.deviceStation(name);
    assert.ok(st, `station ${name}`);
    assert.equal(st.deviceType, 52);
    assert.equal(run.records.length, 0);
    assert.equal(run.counters.get('sccp.unsupported_message_id'), 0);
  });
});
