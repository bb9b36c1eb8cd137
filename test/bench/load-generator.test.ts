import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GeneratorResult } from '../../bench/load-generator.js';
import { makeVethNamespace, removeStaleNamespaces, type VethNamespace } from '../../bench/veth-namespace.js';
import type { CallRecord } from '../../recorder/calls/call-record.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The capacity bench's load generator (issue 8) against the live recorder, small: frames written
 * with sendmmsg on one end of a veth pair in a namespace of our own, captured on the other end
 * through the libpcap addon, must become exactly the calls the generator played.
 */
const CALLS = 20;
const SECONDS = 2;

describe('load generator → veth in our own namespace → recorder run', () => {
  let ns: VethNamespace;
  let out: string;
  before(() => {
    removeStaleNamespaces('callrec-test-');
    ns = makeVethNamespace(`callrec-test-${process.pid}`);
    out = tempDir('loadgen-');
  });
  after(() => {
    ns.remove();
    rmSync(out, { recursive: true, force: true });
  });

  it(`${CALLS} calls of ${SECONDS} s: every packet captured, every call recorded whole`, async () => {
    const [cmd, ...pre] = ns.exec;
    const rec = spawn(cmd!, [...pre, 'bin/recorder', 'run', '--iface', ns.rec, '--filter', 'udp', '--out', out, '--format', 'wav', '--metrics', 'off'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      rec.stderr.on('data', (d: Buffer) => {
        log += d.toString();
        if (log.includes(`capturing on ${ns.rec}`)) resolve();
      });
      rec.on('exit', (code) => reject(new Error(`recorder exited ${code}: ${log}`)));
    });
    const g = spawnSync(cmd!, [...pre, process.execPath, 'dist/bench/load-generator.js', '--iface', ns.gen, '--calls', String(CALLS), '--seconds', String(SECONDS), '--ramp', '0.5', '--base-port', '40000'], { encoding: 'utf8' });
    assert.equal(g.status, 0, g.stderr);
    const gen = JSON.parse(g.stdout.trim().split('\n').pop()!) as GeneratorResult;
    assert.equal(gen.callsEnded, CALLS);
    assert.equal(gen.sendErrors, 0);
    assert.equal(gen.rtpPackets, CALLS * 2 * (SECONDS * 50));
    assert.equal(gen.sipMessages, CALLS * 5);
    await new Promise((r) => setTimeout(r, 1500)); // past libpcap's block timeout
    const exited = new Promise<number | null>((r) => rec.on('exit', (code) => r(code)));
    rec.kill('SIGTERM');
    assert.equal(await exited, 0, log);

    const r = spawnSync('bin/recorder', ['calls', '--index', join(out, 'index'), '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const calls = JSON.parse(r.stdout) as CallRecord[];
    assert.equal(calls.length, CALLS);
    for (const c of calls) {
      assert.equal(c.streams.length, 2, c.callId);
      for (const s of c.streams) {
        assert.equal(s.packets, SECONDS * 50, `${c.callId} ${s.ssrc}`);
        assert.equal(s.lost, 0);
      }
      assert.ok(c.recording, c.callId);
      assert.equal(c.recording.complete, true);
      assert.ok(Math.abs(c.recording.durationMs - SECONDS * 1000) <= 20, `${c.callId}: ${c.recording.durationMs} ms`);
    }
  });
});
