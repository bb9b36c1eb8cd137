/**
 * The Lync / Skype call-event feed on one core: feed frames of many generated calls (the client's
 * INVITE with a multipart/alternative SDP of 7 candidates per part plus a=x-candidate-ipv6, 180,
 * 200 OK with the Mediation Server's SDP, ACK, BYE, 200), as the Front End's sender seals them,
 * streamed to the recorder side in 64 KiB chunks. Rows: the feed session alone (framing, HMAC
 * check, sequence, frame decode); then every message parsed as SIP and applied (dialogs, SDP,
 * Lync candidates, expectations in the call registry).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CallRegistry } from '../recorder/calls/call-registry.js';
import { UsersDirectory } from '../recorder/calls/users-directory.js';
import { parseIpv4 } from '../recorder/core/address.js';
import { Counters } from '../recorder/core/counters.js';
import { helloProof, sealFrame, sessionKey } from '../recorder/netfeed/feed-auth.js';
import { encodeHello, encodeSip } from '../recorder/netfeed/feed-frame.js';
import { FeedSession } from '../recorder/netfeed/feed-session.js';
import { NetfeedTracker } from '../recorder/netfeed/netfeed-tracker.js';
import { lyncCall } from '../test/recorder/netfeed/lync-messages.js';

export interface NetfeedBenchRow {
  name: string;
  messages: number;
  bytes: number;
  seconds: number;
  perSec: number;
  note?: string;
}

const KEY = 'bench-feed-key-0123456789';

const ip4 = (ip: string): Buffer | null => {
  const v = parseIpv4(ip);
  if (v < 0) return null;
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v, 0);
  return b;
};

export function benchNetfeed(calls = 5000): NetfeedBenchRow[] {
  const nonce = randomBytes(16);
  const fe = 'fe01.contoso.com';
  const session = sessionKey(KEY, nonce, fe);
  const frames: Buffer[] = [encodeHello(fe, helloProof(KEY, nonce, fe))];
  let seq = 1;
  for (let i = 0; i < calls; i++) {
    const host = `10.${(i >> 8) & 255}.${i & 255}.11`;
    const port = 10000 + (i % 50000);
    const c = lyncCall(
      `bench-${i}`,
      {
        uri: `sip:user${i}@contoso.com`,
        name: `User ${i}`,
        candidates: [[host, port, 'host'], ['198.51.100.20', port, 'srflx'], ['203.0.113.10', 40000 + (i % 20000), 'relay']],
        ipv6: [`2001:db8::${(i % 65535).toString(16)}`, port + 2],
        ssrc: [i * 100, i * 100 + 99],
      },
      { uri: 'sip:mediation@contoso.com', name: 'Mediation', candidates: [['10.0.0.5', 60000 + (i % 5000), 'host']] },
      { calledNumber: `+1555${String(i).padStart(7, '0')}` },
    );
    for (const [k, text] of [c.invite, c.ringing, c.ok, c.ack, c.bye, c.byeOk].entries()) {
      const t = 1_700_000_000 + i * 0.01 + k * 0.001;
      frames.push(sealFrame(session, encodeSip({ seq: seq++, sec: Math.floor(t), nsec: Math.round((t % 1) * 1e9), direction: 0, transport: 2, srcIp: k % 2 ? '10.0.0.5' : host, srcPort: 5061, dstIp: '10.0.0.3', dstPort: 5061 }, Buffer.from(text), ip4)));
    }
  }
  const stream = Buffer.concat(frames);
  const chunks: Buffer[] = [];
  for (let off = 0; off < stream.length; off += 65536) chunks.push(stream.subarray(off, Math.min(stream.length, off + 65536)));
  const messages = seq - 1;
  const rows: NetfeedBenchRow[] = [];

  const run = (name: string, apply: ((c: Counters) => (fe: string, f: Parameters<NetfeedTracker['onFeedSip']>[1], buf: Buffer) => void) | null, note?: (c: Counters) => string): void => {
    const counters = new Counters();
    const onSip = apply ? apply(counters) : (): void => undefined;
    const s = new FeedSession(KEY, nonce, counters, { send: () => undefined, close: (r) => { throw new Error(`feed closed: ${r}`); }, onSip });
    s.start();
    const t0 = performance.now();
    for (const c of chunks) s.push(c);
    const sec = (performance.now() - t0) / 1000;
    if (counters.get('netfeed.messages') !== messages) throw new Error(`${counters.get('netfeed.messages')} of ${messages} messages`);
    rows.push({ name, messages, bytes: stream.length, seconds: sec, perSec: messages / sec, ...(note ? { note: note(counters) } : {}) });
  };
  run('feed session: framing, HMAC-SHA256 check, sequence, frame decode', null);
  run(
    '+ SIP parse, dialogs, SDP and Lync candidates, registry',
    (counters) => {
      const registry = new CallRegistry(counters, { users: new UsersDirectory([]) });
      const tracker = new NetfeedTracker(registry, counters, { disallowedIps: ['10.0.0.5', '10.0.0.3'] });
      return (fe, f, buf) => tracker.onFeedSip(fe, f, buf);
    },
    (c) => `${c.get('calls.started')} calls, ${c.get('netfeed.candidates')} candidate addresses`,
  );
  return rows;
}
