import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CallRecorder } from '../../../recorder/call-recorder.js';
import { formatIpv4, parseIpv4 } from '../../../recorder/core/address.js';
import { Counters } from '../../../recorder/core/counters.js';
import type { Packet } from '../../../recorder/core/packet.js';
import { Status } from '../../../recorder/core/status.js';
import { attachHepToRegistry } from '../../../recorder/hep/call-hooks.js';
import { decodeHep3, encodeHep3, HepFamily, HepPacket, HepProtoType, hep3Size, TurnFlag } from '../../../recorder/hep/hep3.js';
import { HepInput } from '../../../recorder/hep/hep-input.js';
import { HepLossTracker } from '../../../recorder/hep/hep-loss.js';
import { HepStreamFramer } from '../../../recorder/hep/hep-stream.js';
import { Pipeline } from '../../../recorder/pipeline.js';
import { writePcap } from '../../support/capture-writer.js';
import { tshark } from '../../support/tshark.js';
import { turnCall } from '../../support/turn-call.js';
import { fillHep, forwardFile } from '../../agent/agent-harness.js';
import { tempDir } from '../../support/temp-dir.js';

/** A recorder fed by a HEP input, as `recorder run --hep` wires them. */
function hepRecorder(): { counters: Counters; recorder: CallRecorder; pipeline: Pipeline; input: HepInput } {
  const counters = new Counters();
  const recorder = new CallRecorder({ counters });
  const pipeline = new Pipeline(counters, recorder);
  const input = new HepInput({ counters, authKey: '', inject: (p) => pipeline.inject(p) });
  attachHepToRegistry(recorder.registry, input.relays, input.loss);
  return { counters, recorder, pipeline, input };
}

const SIP = Buffer.from('INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.2.3:5062;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: hep-oracle-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n');

function packet(i = 0): HepPacket {
  const p = new HepPacket();
  p.family = HepFamily.IPv4;
  p.ipProto = 17;
  p.src4 = parseIpv4('10.1.2.3');
  p.dst4 = parseIpv4('192.0.2.9');
  p.srcPort = 5062 + i;
  p.dstPort = 5070;
  p.tsSec = 1_700_000_123 + i;
  p.tsUsec = 456_789;
  p.protoType = HepProtoType.SIP;
  p.captureId = 42;
  p.payloadBuf = SIP;
  p.payloadLen = SIP.length;
  p.seq = 7 + i;
  p.turnFlags = TurnFlag.RelayUnknown | TurnFlag.PeerUnknown;
  p.turnChannel = 0x4001;
  return p;
}

const encode = (p: HepPacket): Buffer => {
  const b = Buffer.alloc(hep3Size(p));
  assert.equal(encodeHep3(p, b), b.length);
  return b;
};

describe('HEP3 vendor chunks (OUR_VENDOR_ID)', () => {
  it('sequence, TURN flags and ack round-trip; absent chunks decode as absent', () => {
    const p = packet();
    p.ack = 0xfffffffe;
    const q = new HepPacket();
    assert.equal(decodeHep3(encode(p), 0, hep3Size(p), q), Status.Ok);
    assert.deepEqual([q.seq, q.turnFlags, q.turnChannel, q.ack], [7, 3, 0x4001, 0xfffffffe]);
    const plain = packet();
    plain.seq = -1;
    plain.turnFlags = 0;
    assert.equal(decodeHep3(encode(plain), 0, hep3Size(plain), q), Status.Ok);
    assert.deepEqual([q.seq, q.turnFlags, q.ack], [-1, 0, -1]);
  });

  it('sngrep (an independent HEP collector) decodes our packets, vendor chunks included, to the right inner packet', async () => {
    const dir = tempDir('hep-sngrep-');
    const out = join(dir, 'sngrep.pcap');
    const port = 19000 + (process.pid % 1000);
    const child = spawn('sngrep', ['-N', '-q', '-L', `udp:127.0.0.1:${port}`, '-O', out], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 800));
      const s = createSocket('udp4');
      for (let i = 0; i < 3; i++) await new Promise<void>((r) => s.send(encode(packet(i)), port, '127.0.0.1', () => r()));
      s.close();
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.on('exit', r));
    }
    assert.ok(existsSync(out), 'sngrep wrote its capture');
    const rows = tshark(['-r', out, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'udp.dstport', '-e', 'sip.Call-ID'])
      .trim()
      .split('\n');
    assert.deepEqual(rows, [0, 1, 2].map((i) => `${1_700_000_123 + i}.456789000|10.1.2.3|${5062 + i}|192.0.2.9|5070|hep-oracle-1`));
  });
});

describe('HepStreamFramer (HEP over TCP)', () => {
  it('frames packets however the stream is cut, and resynchronises after garbage', () => {
    const stream = Buffer.concat([encode(packet(0)), Buffer.from('junk!'), encode(packet(1)), encode(packet(2))]);
    for (const step of [1, 7, 100, stream.length]) {
      const got: number[] = [];
      const f = new HepStreamFramer((b, off, len) => {
        const q = new HepPacket();
        assert.equal(decodeHep3(b, off, len, q), Status.Ok);
        got.push(q.seq);
      });
      for (let i = 0; i < stream.length; i += step) f.push(stream.subarray(i, Math.min(stream.length, i + step)));
      assert.deepEqual(got, [7, 8, 9], `step ${step}`);
      assert.equal(f.resyncs, 1);
      assert.equal(f.skipped, 5);
    }
  });

  it('a lying total length costs at most one packet of buffer; random bytes never throw', () => {
    const f = new HepStreamFramer(() => undefined);
    f.push(Buffer.from('4845503300ff', 'hex'));
    for (let i = 0; i < 100; i++) f.push(Buffer.alloc(1000, i));
    const rnd = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(Math.random() * 256)));
    for (let i = 0; i < 200; i++) f.push(Buffer.concat([rnd(50), Buffer.from('HEP3'), rnd(30)]));
  });
});

describe('HepInput', () => {
  const collect = (authKey = ''): { input: HepInput; got: string[]; counters: Counters } => {
    const counters = new Counters();
    const got: string[] = [];
    const input = new HepInput({
      counters,
      authKey,
      inject: (p: Packet) => got.push(`${formatIpv4(p.src4)}:${p.srcPort} ${formatIpv4(p.dst4)}:${p.dstPort} ${p.frame!.tsSec}.${p.frame!.tsNsec} ${p.ipProto} ${p.payloadLen}`),
    });
    return { input, got, counters };
  };

  it('injects the inner 5-tuple and capture time; checks the auth key', () => {
    const { input, got, counters } = collect('k1');
    const p = packet();
    p.turnFlags = 0;
    assert.equal(input.onPacket(encode(p), 0, hep3Size(p), '127.0.0.1'), -1);
    assert.equal(counters.get('hep.auth_failed'), 1);
    p.authKeyBuf = Buffer.from('k1');
    p.authKeyLen = 2;
    assert.equal(input.onPacket(encode(p), 0, hep3Size(p), '127.0.0.1'), 7);
    assert.deepEqual(got, [`10.1.2.3:5062 192.0.2.9:5070 1700000123.456789000 17 ${SIP.length}`]);
  });

  it('counts loss per sender from sequence gaps; restarts and late packets are not loss', () => {
    const t = new HepLossTracker();
    for (const s of [1, 2, 3, 6, 7, 5]) t.onSequence(9, '10.0.0.1', s, 100 + s);
    t.onSequence(9, '10.0.0.2', 50, 100);
    t.onSequence(9, '10.0.0.2', 51, 101);
    t.onSequence(9, '10.0.0.1', 0, 200); // agent restarted: numbering starts over
    t.onSequence(9, '10.0.0.1', 1, 201);
    const [a, b] = t.all;
    assert.deepEqual([a!.lost, a!.late, a!.restarts, b!.lost], [1, 1, 1, 0]);
    assert.deepEqual(t.lostDuring(100, 110).map((x) => [x.sender.label, x.lost]), [['agent 9 at 10.0.0.1', 1]]);
    assert.deepEqual(t.lostDuring(150, 300), []);
  });

  it('HEP loss during a call becomes a note on that call (and makes its recording incomplete)', async () => {
    const call = turnCall({ callId: 'loss@hep', wrapping: 'channel-udp', packets: 20 });
    const dir = tempDir('hep-loss-');
    const file = join(dir, 'c.pcap');
    writePcap(file, call.unwrapped, { linkType: 1 });
    const forwarded = (await forwardFile([file])).out.got;
    const { recorder, pipeline, input } = hepRecorder();
    const h = new HepPacket();
    forwarded.forEach((x, i) => {
      if (i === 10 || i === 11 || i === 12) return; // three HEP packets lost on the way
      fillHep(h, x);
      h.captureId = 5;
      h.seq = i;
      const b = encode(h);
      input.onPacket(b, 0, b.length, '127.0.0.1');
    });
    const [rec] = await recorder.finish(pipeline.now, 'end');
    assert.ok(rec);
    assert.equal(rec.callId, 'loss@hep');
    assert.deepEqual(rec.notes.filter((n) => n.startsWith('capture dropped')), ['capture dropped 3 packets during the call (HEP sequence gaps from agent 5 at 127.0.0.1)']);
  });

  it('resolves flagged TURN packets through the SDP relay candidate', async () => {
    const call = turnCall({ callId: 'relay@hep', wrapping: 'mid-call', packets: 5 });
    const dir = tempDir('hep-relay-');
    const file = join(dir, 'c.pcap');
    writePcap(file, call.wrapped, { linkType: 1 });
    const forwarded = (await forwardFile([file])).out.got;
    const { counters, recorder, pipeline, input } = hepRecorder();
    const h = new HepPacket();
    for (const x of forwarded) {
      const b = encode(fillHep(h, x));
      input.onPacket(b, 0, b.length, '127.0.0.1');
    }
    const [rec] = await recorder.finish(pipeline.now, 'end');
    assert.equal(counters.get('hep.turn_resolved'), 10);
    const relay = `${call.relay.ip}:${call.relay.port}`;
    const server = `${call.server.ip}:${call.server.port}`;
    assert.deepEqual(rec!.streams.map((s) => `${s.party} ${s.src} ${s.dst} ${s.packets}`).sort(), [`callee ${server} ${relay} 5`, `caller ${relay} ${server} 5`]);
  });
});

describe('config: inputs.hep', () => {
  it('is optional, validated, and one line when wrong', async () => {
    const { parseConfig, ConfigError } = await import('../../../recorder/ops/config.js');
    assert.equal(parseConfig('{}', 'c.json').inputs.hep, undefined);
    assert.deepEqual(parseConfig('{"inputs":{"hep":{"listen":"0.0.0.0:9060","authKey":"k"}}}', 'c.json').inputs.hep, { listen: '0.0.0.0:9060', udp: true, tcp: true, authKey: 'k' });
    assert.deepEqual(parseConfig('{"inputs":{"hep":{"listen":"[::1]:9060","transports":["tcp"]}}}', 'c.json').inputs.hep, { listen: '[::1]:9060', udp: false, tcp: true, authKey: '' });
    for (const [text, msg] of [
      ['{"inputs":{"hep":{}}}', 'c.json: inputs.hep: missing "listen" (host:port, e.g. "0.0.0.0:9060")'],
      ['{"inputs":{"hep":{"listen":"9060"}}}', 'c.json: inputs.hep.listen: expected host:port (IPv6 in brackets: [::1]:9091), got "9060"'],
      ['{"inputs":{"hep":{"listen":"0.0.0.0:9060","transports":["sctp"]}}}', 'c.json: inputs.hep.transports[0]: expected one of udp, tcp, got "sctp"'],
      ['{"inputs":{"hep":{"listen":"0.0.0.0:9060","authkey":"x"}}}', 'c.json: inputs.hep: unknown key "authkey" (did you mean "authKey"?)'],
    ] as const) {
      assert.throws(() => parseConfig(text, 'c.json'), (e: unknown) => e instanceof ConfigError && e.message === msg, text);
    }
  });
});
