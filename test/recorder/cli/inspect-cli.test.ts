import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tshark, tsharkConversations } from '../../support/tshark.js';

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
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
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
