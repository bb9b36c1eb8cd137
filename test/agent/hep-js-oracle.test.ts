import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { Agent } from '../../agent/agent.js';
import { defaultAgentConfig } from '../../agent/config.js';
import { tshark } from '../support/tshark.js';
import { writeTurnCalls, type Wrapping } from '../support/turn-call.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Debian 12's tshark has no HEP dissector, so the HEP the agent puts on the wire is read back with
 * sipcapture's own decoder, `hep-js` (the HEP library of Homer's Node tools; a dev dependency, GPL-2.0+),
 * and compared with tshark's dissection of the same call captured unwrapped. The agent runs whole:
 * file → unwrap → HEP → batched UDP (sendmmsg, UDP GSO) → a socket here.
 */
interface HepJsInfo {
  rcinfo: { protocolFamily: number; protocol: number; srcIp: string; dstIp: string; srcPort: number; dstPort: number; timeSeconds: number; timeUseconds: number; payloadType: number; captureId: number };
  payload: string;
}
const hepJs = createRequire(import.meta.url)('hep-js') as { decapsulate(b: Buffer): HepJsInfo | false };

/** HEP protocol types (HEP3 chunk 0x000b): SIP 1, RTP 4, RTCP 5. */
const protoTypeOf = (row: string): number => (row.includes('sip') ? 1 : row.includes('rtcp') ? 5 : 4);

describe('agent HEP output, read by sipcapture hep-js', () => {
  for (const wrapping of ['channel-udp', 'indications', 'ms-turn-tcp', 'ms-turn-mux'] as Wrapping[]) {
    it(`${wrapping}: every inner packet with tshark's addresses, ports and time`, async () => {
      const dir = tempDir('hepjs-');
      const sink = createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
      const got: Buffer[] = [];
      sink.on('message', (m) => got.push(m));
      sink.bind(0, '127.0.0.1');
      await once(sink, 'listening');
      try {
        const files = writeTurnCalls(dir, [wrapping], 'hepjs', 11).get(wrapping)!;
        const port = sink.address().port;
        const config = defaultAgentConfig();
        config.destinations = [{ to: `udp:127.0.0.1:${port}`, transport: 'udp', host: '127.0.0.1', port, ips: [] }];
        config.statusIntervalSec = 0;
        const agent = new Agent(config);
        await agent.readFiles([files.wrapped], 0, 5);
        await agent.output.close();

        // tshark on the unwrapped reference: what the relay exchanged with the peer, plus the SIP.
        const want = tshark(['-r', files.ref, '-Y', 'udp', '-T', 'fields', '-E', 'separator=|', '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'udp.dstport', '-e', 'frame.protocols', '-d', 'udp.port==5060,sip'])
          .trim()
          .split('\n')
          .map((r) => {
            const [t, src, sp, dst, dp, protos] = r.split('|');
            const [sec, frac] = t!.split('.');
            return `${src}:${sp} ${dst}:${dp} ${sec}.${frac!.slice(0, 6)} ${protoTypeOf(protos!)}`;
          });
        const deadline = Date.now() + 5000;
        while (got.length < want.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        const seen = got.map((b) => {
          const h = hepJs.decapsulate(b);
          assert.ok(h, 'hep-js decodes the packet');
          const r = h.rcinfo;
          assert.equal(r.protocolFamily, 2);
          assert.equal(r.protocol, 17);
          assert.equal(r.captureId, config.agentId);
          return `${r.srcIp}:${r.srcPort} ${r.dstIp}:${r.dstPort} ${r.timeSeconds}.${String(r.timeUseconds).padStart(6, '0')} ${r.payloadType}`;
        });
        assert.equal(seen.length, want.length);
        assert.deepEqual([...seen].sort(), [...want].sort());
        // SIP bodies are text: hep-js hands them over verbatim.
        const sip = got.map((b) => hepJs.decapsulate(b)).filter((h): h is HepJsInfo => h !== false && h.rcinfo.payloadType === 1);
        assert.ok(sip.length >= 3 && sip.every((h) => /^(INVITE|ACK|BYE|SIP\/2\.0) /.test(h.payload) && h.payload.includes(`Call-ID: ${wrapping}@hepjs`)));
      } finally {
        sink.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
