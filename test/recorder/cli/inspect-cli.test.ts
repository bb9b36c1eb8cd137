import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tshark, tsharkConversations } from '../../support/tshark.js';
import { tempDir } from '../../support/temp-dir.js';

const run = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync('bin/recorder', args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('bin/recorder inspect', () => {
  it('--json prints one document with the schema fields', () => {
    const r = run('inspect', 'fixtures/sngrep__aaa.pcap', '--json');
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out) as { capture: { packets: number; files: string[]; malformed: object }; conversations: { udp: unknown[]; tcp: unknown[] } };
    assert.equal(doc.capture.packets, 691);
    assert.deepEqual(doc.capture.files, ['fixtures/sngrep__aaa.pcap']);
    assert.equal(doc.conversations.udp.length, tsharkConversations('fixtures/sngrep__aaa.pcap', 'udp').length);
    assert.equal(doc.conversations.tcp.length, tsharkConversations('fixtures/sngrep__aaa.pcap', 'tcp').length);
  });

  it('human summary names layers and conversations', () => {
    const r = run('inspect', 'fixtures/sngrep__ipip.pcap');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /4 packets/);
    const tunnelled = tshark(['-r', 'fixtures/sngrep__ipip.pcap', '-Y', 'ip.proto == 4']).trim().split('\n').length;
    assert.match(r.out, new RegExp(`ipInIp\\s+${tunnelled}\\n`));
    assert.match(r.out, /TCP conversations: 1/);
  });

  it('a file that is not a capture: one line on stderr, exit 2', () => {
    const dir = tempDir('cli-');
    const f = join(dir, 'notes.txt');
    writeFileSync(f, 'hello, this is text\n');
    const r = run('inspect', f);
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.equal(r.err.trim().split('\n').length, 1);
    assert.match(r.err, /notes\.txt.*not a pcap or pcapng/);
  });

  it('a missing file: one line, non-zero', () => {
    const r = run('inspect', '/nonexistent/x.pcap');
    assert.notEqual(r.code, 0);
    assert.equal(r.err.trim().split('\n').length, 1);
    assert.match(r.err, /x\.pcap/);
  });

  it('an unknown option: non-zero with a message', () => {
    const r = run('inspect', '--bogus', 'fixtures/sngrep__aaa.pcap');
    assert.notEqual(r.code, 0);
    assert.match(r.err, /unknown option/);
  });
});

describe('bin/recorder inspect --iface (live, through the libpcap addon)', () => {
  it('captures RTP sent on lo and reports the conversation and kernel counters', async () => {
    const { spawn } = await import('node:child_process');
    const dgram = await import('node:dgram');
    const rx = dgram.createSocket('udp4');
    await new Promise<void>((res) => rx.bind(0, '127.0.0.1', res));
    const port = rx.address().port;
    const child = spawn('bin/recorder', ['inspect', '--iface', 'lo', '--filter', `udp and dst port ${port}`, '--count', '40', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const tx = dgram.createSocket('udp4');
    const rtp = Buffer.alloc(172);
    rtp[0] = 0x80;
    let seq = 0;
    let done = false;
    void exited.then(() => (done = true));
    const deadline = Date.now() + 20_000;
    // Keep sending until the recorder has seen its 40 frames (it may take a moment to open).
    while (!done && Date.now() < deadline) {
      rtp.writeUInt16BE(seq++, 2);
      tx.send(rtp, port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 10));
    }
    const code = await exited;
    tx.close();
    rx.close();
    assert.equal(code, 0, err);
    const doc = JSON.parse(out) as { capture: { packets: number; malformed: Record<string, number> }; conversations: { udp: { b: { port: number }; packetsAtoB: number; kind: string }[] } };
    assert.equal(doc.capture.packets, 40);
    assert.equal(doc.conversations.udp.length, 1);
    assert.equal(doc.conversations.udp[0]!.b.port, port);
    assert.equal(doc.conversations.udp[0]!.packetsAtoB, 40);
    assert.equal(doc.conversations.udp[0]!.kind, 'rtp');
    assert.equal(doc.capture.malformed['capture.kernel_dropped'], 0);
  });

  it('a bad interface or filter: one line, exit 2', () => {
    let r = run('inspect', '--iface', 'nosuchif0', '--duration', '1');
    assert.equal(r.code, 2);
    assert.equal(r.err.trim().split('\n').length, 1);
    assert.match(r.err, /nosuchif0/);
    r = run('inspect', '--iface', 'lo', '--filter', 'udp and port', '--duration', '1');
    assert.equal(r.code, 2);
    assert.match(r.err, /filter/);
    r = run('inspect', '--iface', 'lo', '--count', 'many');
    assert.equal(r.code, 2);
    assert.match(r.err, /--count must be a positive integer/);
  });
});
