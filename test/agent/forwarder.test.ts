import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildBpf } from '../../agent/capture/bpf.js';
import { parseNetwork, type Network } from '../../agent/capture/interest.js';
import { AgentConfigError, validateAgentConfig } from '../../agent/config.js';
import { HepProtoType, TurnFlag } from '../../recorder/hep/hep3.js';
import { writePcap } from '../support/capture-writer.js';
import * as B from '../support/packets.js';
import { tshark } from '../support/tshark.js';
import { tsharkMedia, tsharkRelayPayloads } from '../support/tshark-turn.js';
import { turnCall, type Wrapping } from '../support/turn-call.js';
import { forwardFile } from './agent-harness.js';
import { tempDir } from '../support/temp-dir.js';

const tmp = tempDir('agent-fwd-');
const net = (s: string): Network => parseNetwork(s) as Network;

describe('Forwarder: TURN-relayed calls unwrap to the relay ⇄ peer packets', () => {
  const cases: Wrapping[] = ['channel-udp', 'channel-tcp', 'indications', 'ms-turn', 'ms-turn-tcp', 'ms-turn-tls', 'ms-turn-mux'];
  for (const w of cases) {
    it(`${w}: every RTP packet of the unwrapped capture, same 5-tuple, bytes and capture time; SIP as is`, async () => {
      const call = turnCall({ callId: `${w}@fwd`, wrapping: w, packets: 20 });
      const file = join(tmp, `${w}.pcap`);
      const ref = join(tmp, `${w}-ref.pcap`);
      writePcap(file, call.wrapped, { linkType: 1 });
      writePcap(ref, call.unwrapped, { linkType: 1 });
      const got = (await forwardFile([file])).out.got;
      const want = (await forwardFile([ref])).out.got;
      const view = (x: (typeof got)[number]): string => `${x.ts} ${x.src} > ${x.dst} ${x.protoType} ${x.ipProto} ${x.flags} ${x.payload.toString('hex')}`;
      assert.equal(want.length, 5 + 40);
      assert.deepEqual(got.map(view), want.map(view));
    });
  }

  it('mid-call (no Allocate, no ChannelBind seen): client and server addresses, flagged, channel kept', async () => {
    const call = turnCall({ callId: 'mid@fwd', wrapping: 'mid-call', packets: 10 });
    const file = join(tmp, 'mid.pcap');
    writePcap(file, call.wrapped, { linkType: 1 });
    const { out, counters } = await forwardFile([file]);
    const rtp = out.got.filter((x) => x.protoType === HepProtoType.RTP);
    assert.equal(rtp.length, 20);
    const c = `${call.client.ip}:${call.client.port}`;
    const s = `${call.server.ip}:${call.server.port}`;
    const up = rtp.filter((x) => x.src === c && x.dst === s);
    const down = rtp.filter((x) => x.src === s && x.dst === c);
    assert.equal(up.length, 10);
    assert.equal(down.length, 10);
    for (const x of up) assert.equal(x.flags, TurnFlag.RelayUnknown | TurnFlag.PeerUnknown);
    for (const x of down) assert.equal(x.flags, TurnFlag.RelayUnknown | TurnFlag.PeerUnknown | TurnFlag.ToClient);
    for (const x of rtp) assert.equal(x.channel, 0x4001);
    assert.equal(counters.get('turn.inferred_allocations'), 1);
  });

  it('forwards nothing of no interest: DNS, a STUN binding, DTLS, low-port V=2 bytes, TLS over TCP', async () => {
    const f = (t: number, src: string, dst: string, sp: number, dp: number, payload: Buffer): { tsSec: number; tsNsec: number; data: Buffer } => ({
      tsSec: 1_700_000_000 + t,
      tsNsec: 0,
      data: B.ethernet(B.ipv4(src, dst, 17, B.udp(sp, dp, payload))),
    });
    const dns = Buffer.from('8a5b01000001000000000000', 'hex'); // first byte 0x8a: V=2 to an RTP check
    const binding = Buffer.concat([Buffer.from('000100002112a442', 'hex'), Buffer.alloc(12, 7)]);
    const dtls = Buffer.concat([Buffer.from('16fefd', 'hex'), Buffer.alloc(20)]);
    // A real TLS session to 443: ClientHello, then the server's ServerHello and Certificate records.
    const tls = Buffer.concat([Buffer.from('160301003c', 'hex'), Buffer.alloc(60)]);
    const tlsReply = Buffer.from('16030100040200000016030100020b00', 'hex');
    const frames = [
      f(0, '10.0.0.1', '10.0.0.53', 40000, 53, dns),
      f(1, '10.0.0.1', '10.0.0.2', 40000, 3478, binding),
      f(2, '10.0.0.1', '10.0.0.2', 40000, 40002, dtls),
      { tsSec: 1_700_000_003, tsNsec: 0, data: B.ethernet(B.ipv4('10.0.0.1', '10.0.0.3', 6, B.tcp(50000, 443, 1, 1, B.TCP.ACK | B.TCP.PSH, tls))) },
      { tsSec: 1_700_000_003, tsNsec: 1000, data: B.ethernet(B.ipv4('10.0.0.3', '10.0.0.1', 6, B.tcp(443, 50000, 1, 1 + tls.length, B.TCP.ACK | B.TCP.PSH, tlsReply))) },
      f(4, '10.0.0.1', '10.0.0.2', 40000, 40002, B.rtp(1, 160, 5, 0)),
    ];
    const file = join(tmp, 'noise.pcap');
    writePcap(file, frames, { linkType: 1 });
    const { out, counters } = await forwardFile([file]);
    assert.deepEqual(out.got.map((x) => `${x.src} ${x.dst} ${x.protoType}`), ['10.0.0.1:40000 10.0.0.2:40002 4']);
    assert.equal(counters.get('agent.not_of_interest'), 2);
    assert.equal(counters.get('agent.stun_not_media'), 1);
    // TLS-shaped start: taken for [MS-TURN] pseudo-TLS until the record after the hello shows real TLS.
    assert.equal(counters.get('turn.tcp_tls'), 1);
  });

  it('the configured filter applies to capture files as the BPF does live', async () => {
    const call = turnCall({ callId: 'filter@fwd', wrapping: 'channel-udp', packets: 5 });
    const file = join(tmp, 'filter.pcap');
    writePcap(file, call.wrapped, { linkType: 1 });
    // Only the TURN server's port: SIP (5060) is not of interest.
    const { out, counters } = await forwardFile([file], { ips: [], udpPorts: [{ from: 3478, to: 3478 }], tcpPorts: [] });
    assert.equal(out.got.filter((x) => x.protoType === HepProtoType.SIP).length, 0);
    assert.equal(out.got.filter((x) => x.protoType === HepProtoType.RTP).length, 10);
    assert.equal(counters.get('agent.filtered'), 5);
    const none = await forwardFile([file], { ips: [net('203.0.113.0/24')], udpPorts: [], tcpPorts: [] });
    assert.equal(none.out.got.length, 0);
  });
});

describe('Forwarder on public TURN captures, against tshark', () => {
  it('nDPI__stun_dtls_rtp_unidir: the RTP and RTCP tshark finds inside Send/Data indications, with the peers and relay tshark decodes', async () => {
    const file = 'fixtures/nDPI__stun_dtls_rtp_unidir.pcapng';
    const rows = new Map(
      tshark(['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.number', '-e', 'stun.type', '-e', 'stun.att.ipv4', '-e', 'stun.att.port', '-e', 'ip.src', '-e', 'udp.srcport'])
        .trim()
        .split('\n')
        .map((l) => l.split('|'))
        .map((r) => [Number(r[0]), r] as const),
    );
    // The Allocate success gives the relay (XOR-RELAYED-ADDRESS first, then XOR-MAPPED-ADDRESS).
    const alloc = [...rows.values()].find((r) => r[1] === '0x0103')!;
    const relay = `${alloc[2]!.split(',')[0]}:${alloc[3]!.split(',')[0]}`;
    const relayed = tsharkRelayPayloads(file);
    const kinds = tsharkMedia(relayed.map((x) => x.data), join(tmp, 'unidir'));
    const want = relayed
      .map((x, i) => ({ ...x, kind: kinds[i]!, row: rows.get(x.frame)! }))
      .filter((x) => x.kind !== '')
      .map(({ row, data, kind }) => {
        const peer = `${row[2]}:${row[3]}`;
        // Send (client → peer): the agent never saw this 5-tuple's Allocate, so the client stands in.
        const tuple = row[1] === '0x0016' ? `${row[4]}:${row[5]} > ${peer} flags=${TurnFlag.RelayUnknown}` : `${peer} > ${relay} flags=0`;
        return `${tuple} ${kind} ${data.toString('hex')}`;
      });
    assert.ok(want.filter((w) => w.includes(' rtp ')).length === 8, 'tshark: 8 RTP packets');
    const { out, fwd, counters } = await forwardFile([file]);
    assert.equal(fwd.stats.relayMessages, relayed.length);
    assert.equal(counters.get('turn.inner_not_media'), relayed.length - want.length);
    assert.deepEqual(
      out.got.map((x) => `${x.src} > ${x.dst} flags=${x.flags} ${x.protoType === HepProtoType.RTP ? 'rtp' : 'rtcp'} ${x.payload.toString('hex')}`),
      want,
    );
  });

  it('nDPI__stun: every ChannelData and Send/Data indication tshark dissects is unwrapped; media is what tshark calls RTP/RTCP', async () => {
    const file = 'fixtures/nDPI__stun.pcap';
    const relayed = tsharkRelayPayloads(file);
    const kinds = tsharkMedia(relayed.map((x) => x.data), join(tmp, 'stun'));
    const media = relayed.filter((_, i) => kinds[i] !== '');
    const { out, fwd, counters } = await forwardFile([file]);
    assert.ok(relayed.length >= 50, `tshark found ${relayed.length}`);
    assert.ok(media.length > 0);
    assert.equal(fwd.stats.relayMessages, relayed.length);
    assert.equal(fwd.stats.unwrapped, media.length);
    assert.equal(counters.get('turn.inner_not_media'), relayed.length - media.length);
    const unwrappedFrames = new Set(media.map((m) => m.data.toString('hex')));
    const ours = out.got.filter((x) => unwrappedFrames.has(x.payload.toString('hex')));
    assert.equal(ours.length, media.length);
  });
});

describe('BPF and config', () => {
  it('builds the kernel filter from the interest rules', () => {
    assert.equal(buildBpf({ ips: [], udpPorts: [], tcpPorts: [] }), 'ip or ip6');
    assert.equal(
      buildBpf({ ips: [net('10.0.0.5'), net('192.0.2.0/24')], udpPorts: [{ from: 3478, to: 3478 }, { from: 50000, to: 59999 }], tcpPorts: [{ from: 443, to: 443 }] }),
      '(host 10.0.0.5 or net 192.0.2.0/24) and ((udp and (port 3478 or portrange 50000-59999)) or (tcp and (port 443)) or (ip[6:2] & 0x1fff != 0))',
    );
  });

  it('tcpdump compiles every filter we build', () => {
    const f = buildBpf({ ips: [net('2001:db8::/32'), net('10.1.2.3')], udpPorts: [{ from: 3478, to: 3479 }], tcpPorts: [] });
    // tcpdump -d compiles without capturing (a syntax error exits non-zero).
    const { status, stderr } = spawnSyncText('tcpdump', ['-d', '-i', 'lo', f]);
    assert.equal(status, 0, stderr);
  });

  it('config errors are one line naming the key', () => {
    const bad: [unknown, string][] = [
      [{ destinatons: [] }, 'a.json: unknown key "destinatons" (did you mean "destinations"?)'],
      [{ destinations: [{ to: 'tcp:host' }] }, 'a.json: destinations[0].to: expected [udp:|tcp:]HOST:PORT (IPv6 in brackets: tcp:[::1]:9060), got "tcp:host"'],
      [{ filter: { udpPorts: ['5000-'] } }, 'a.json: filter.udpPorts[0]: expected a port or "from-to" range, got "5000-"'],
      [{ filter: { ips: ['10.0.0.0/33'] } }, 'a.json: filter.ips[0]: bad prefix length in "10.0.0.0/33" (0-32)'],
      [{ mode: 'roundrobin' }, 'a.json: mode: expected one of fanout, failover, got "roundrobin"'],
    ];
    for (const [raw, msg] of bad) assert.throws(() => validateAgentConfig(raw, 'a.json'), (e: unknown) => e instanceof AgentConfigError && e.message === msg);
    const ok = validateAgentConfig({ destinations: [{ to: 'tcp:[::1]:9060', ips: ['10.0.0.0/8'] }], filter: { udpPorts: [3478, '50000-59999'] } }, 'a.json');
    assert.deepEqual([ok.destinations[0]!.transport, ok.destinations[0]!.host, ok.destinations[0]!.port], ['tcp', '::1', 9060]);
    assert.deepEqual(ok.filter.udpPorts, [{ from: 3478, to: 3478 }, { from: 50000, to: 59999 }]);
  });
});

function spawnSyncText(cmd: string, args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}
