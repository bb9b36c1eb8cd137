import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writePcap, type WriterFrame } from '../../support/capture-writer.js';
import * as B from '../../support/packets.js';
import { addressValue, msCookie, muxFrame, stunMessage, type Addr } from '../../support/turn-call.js';
import { forwardFile } from '../../agent/agent-harness.js';
import { tempDir } from '../../support/temp-dir.js';

/**
 * [MS-TURN] §2.2.3: one server-to-server 5-tuple carries the streams of many clients, each framed
 * with its MTURN_Session_ID. Two sessions here, each with its own relay and peer: every inner packet
 * must come out with its own session's addresses, never the other's.
 */
describe('[MS-TURN] multiplexed TURN (0xFF10)', () => {
  it('two sessions on one 5-tuple unwrap to their own relay ⇄ peer; bad frames are counted', async () => {
    const a: Addr = { ip: '10.9.0.1', port: 3478 };
    const s: Addr = { ip: '10.9.0.2', port: 3478 };
    const sessions = [
      { sid: Buffer.from('0102030405060708', 'hex'), relay: { ip: '192.0.2.10', port: 50010 }, peer: { ip: '198.51.100.10', port: 31000 } },
      { sid: Buffer.from('0102030405060709', 'hex'), relay: { ip: '192.0.2.20', port: 50020 }, peer: { ip: '198.51.100.20', port: 32000 } },
    ];
    const frames: WriterFrame[] = [];
    let t = 0;
    const put = (from: Addr, to: Addr, payload: Buffer): void => {
      t += 1_000_000;
      frames.push({ tsSec: 1_700_000_000, tsNsec: t, data: B.ethernet(B.ipv4(from.ip, to.ip, 17, B.udp(from.port, to.port, payload))) });
    };
    const tx = (k: number): Buffer => Buffer.alloc(16, k);
    sessions.forEach((x, k) => put(s, a, muxFrame(x.sid, stunMessage(0x0103, tx(k), [msCookie, [0x0001, addressValue(x.relay, false)]], false))));
    for (let i = 0; i < 10; i++) {
      sessions.forEach((x, k) => {
        const rtp = (dir: number): Buffer => B.rtp(100 + i, i * 160, 0x1000 * (k + 1) + dir, 0, 160);
        put(a, s, muxFrame(x.sid, stunMessage(0x0004, tx(10 + i), [msCookie, [0x0011, addressValue(x.peer, false)], [0x0013, rtp(0)]], false)));
        put(s, a, muxFrame(x.sid, stunMessage(0x0115, tx(50 + i), [msCookie, [0x0012, addressValue(x.peer, false)], [0x0013, rtp(1)]], false)));
      });
    }
    // A frame whose length runs past the datagram, and one shorter than its session id.
    put(a, s, Buffer.from('ff1000400102030405060708', 'hex'));
    put(a, s, Buffer.from('ff10000401020304', 'hex'));
    const dir = tempDir('mturn-');
    try {
      const file = join(dir, 'mux.pcap');
      writePcap(file, frames, { linkType: 1 });
      const { out, counters } = await forwardFile([file]);
      const want: string[] = [];
      for (let i = 0; i < 10; i++)
        for (const x of sessions) want.push(`${x.relay.ip}:${x.relay.port} ${x.peer.ip}:${x.peer.port}`, `${x.peer.ip}:${x.peer.port} ${x.relay.ip}:${x.relay.port}`);
      assert.deepEqual(
        out.got.map((g) => `${g.src} ${g.dst}`),
        want,
      );
      assert.ok(out.got.every((g) => g.flags === 0), 'every packet resolved through its own session');
      assert.equal(counters.get('turn.multiplexed'), 2 + 40);
      assert.equal(counters.get('turn.truncated'), 1);
      assert.equal(counters.get('turn.malformed'), 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
