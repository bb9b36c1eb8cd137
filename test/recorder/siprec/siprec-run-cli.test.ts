import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { answerPorts, FIXTURES, fixtureBody, loopbackSdp, request, sendTone, SipClient, sleep } from './siprec-helpers.js';
import { tempDir } from '../../support/temp-dir.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;

describe('recorder run --siprec', () => {
  it('starts the SRS without a config file, records a session, finalizes on SIGTERM', async () => {
    const out = tempDir('siprec-run-');
    const sipPort = 45000 + (process.pid % 400);
    const child = spawn(join(ROOT, 'bin/recorder'), ['run', '--siprec', `127.0.0.1:${sipPort}`, '--audio-ports', '45500-45599', '--out', out, '--format', 'wav', '--metrics', 'off'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    for (let i = 0; i < 200 && !log.includes('SIPREC server on'); i++) await sleep(25);
    assert.match(log, /SIPREC server on 127\.0\.0\.1 udp:\d+ tcp:\d+, media 127\.0\.0\.1 ports 45500-45599 \(50 pairs\)/);

    const sip = await SipClient.open(sipPort);
    const { body, contentType } = fixtureBody(join(FIXTURES, 'telecats__audiocodes-1.txt'));
    sip.send(request({ callId: 'cli@t', body: loopbackSdp(body), contentType, clientPort: sip.localPort, serverPort: sipPort, headers: ['Require: siprec'] }));
    const ok = await sip.status(200);
    sip.send(request({ method: 'ACK', callId: 'cli@t', toTag: ok.to.tag, clientPort: sip.localPort, serverPort: sipPort }));
    const ports = answerPorts(ok);
    await Promise.all([sendTone(ports[0]!, { ssrc: 1, freq: 400, count: 50 }), sendTone(ports[1]!, { ssrc: 2, freq: 800, count: 50 })]);
    await sleep(100);
    // SIGTERM with the session still up: the call is ended as `shutdown` and recorded.
    const closed = new Promise<number | null>((r) => child.on('close', r));
    child.kill('SIGTERM');
    assert.equal(await closed, 0, log);
    sip.close();
    assert.match(log, /call cli@t shutdown: .*\.wav/);
    const path = /call cli@t shutdown: (\S+)/.exec(log)?.[1] ?? '';
    assert.ok(existsSync(path), path);
    const r = spawnSync(join(ROOT, 'bin/recorder'), ['calls', '--index', join(out, 'index'), '--json'], { encoding: 'utf8', cwd: ROOT });
    const calls = JSON.parse(r.stdout) as { protocol: string; from: { uri: string }; siprec?: { participants: unknown[] } }[];
    assert.equal(calls[0]?.protocol, 'siprec');
    assert.equal(calls[0]?.from.uri, '+31534889935@ims.imscore.net');
    assert.equal(calls[0]?.siprec?.participants.length, 2);
  });

  it('refuses a bad --audio-ports with one line', () => {
    const r = spawnSync(join(ROOT, 'bin/recorder'), ['run', '--siprec', '127.0.0.1:5999', '--audio-ports', '7-3', '--metrics', 'off'], { encoding: 'utf8', cwd: ROOT });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /^recorder: --audio-ports 7-3: ports must lie within 1024-65535\n$/);
  });
});
