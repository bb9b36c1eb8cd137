/**
 * Live capture on `lo` through the libpcap addon. Needs root (CI runs as root) and the addon
 * built (`npx node-gyp rebuild -C native`). Every wait has a deadline, so a broken capture
 * fails the test instead of hanging the runner.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LiveCapture, LiveCaptureError, type LiveOptions } from '../../../recorder/capture/live-source.js';
import { LinkType, type Frame } from '../../../recorder/capture/frame.js';

const ETH_IP_UDP = 14 + 20 + 8; // lo is Ethernet-framed; IPv4 from the kernel carries no options
const SKEW_MS = 5000;

/** What a test keeps of a frame: copied in the callback, since frames die with it. */
interface Seen {
  tsSec: number;
  tsNsec: number;
  caplen: number;
  len: number;
  dataLength: number;
  seq: number; // -1 when the frame was cut before the sequence number
  ethertype: number;
  ipProto: number;
  dstPort: number;
}

function summarise(f: Frame): Seen {
  const d = f.data;
  return {
    tsSec: f.tsSec,
    tsNsec: f.tsNsec,
    caplen: f.caplen,
    len: f.len,
    dataLength: d.length,
    seq: d.length >= ETH_IP_UDP + 4 ? d.readUInt32BE(ETH_IP_UDP) : -1,
    ethertype: d.readUInt16BE(12),
    ipProto: d[14 + 9] ?? -1,
    dstPort: d.readUInt16BE(14 + 20 + 2),
  };
}

/** A bound UDP socket gives a port nobody else uses, and a listener so no ICMP errors arise. */
async function sink(): Promise<{ port: number; close: () => Promise<void> }> {
  const s = dgram.createSocket('udp4');
  s.on('message', () => undefined);
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return { port: s.address().port, close: () => new Promise<void>((resolve) => s.close(() => resolve())) };
}

/** Sends payloads in order, a chunk at a time, so the sender never outruns its own buffers. */
async function send(port: number, payloads: Buffer[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  try {
    const CHUNK = 100;
    for (let i = 0; i < payloads.length; i += CHUNK) {
      await Promise.all(
        payloads.slice(i, i + CHUNK).map(
          (p) =>
            new Promise<void>((resolve, reject) => {
              s.send(p, port, '127.0.0.1', (err) => (err ? reject(err) : resolve()));
            }),
        ),
      );
    }
  } finally {
    s.close();
  }
}

/** Sequence number first, then a length that varies with it (so len is checked per packet). */
const payload = (seq: number, extra: number): Buffer => {
  const b = Buffer.alloc(4 + extra, seq & 0xff);
  b.writeUInt32BE(seq, 0);
  return b;
};

async function waitUntil(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

function capture(opts: LiveOptions): { cap: LiveCapture; seen: Seen[]; batches: number[] } {
  const seen: Seen[] = [];
  const batches: number[] = [];
  const cap = LiveCapture.open(opts, (frames) => {
    batches.push(frames.length);
    for (const f of frames) seen.push(summarise(f));
  });
  return { cap, seen, batches };
}

const tsBefore = (a: Seen, b: Seen): boolean => a.tsSec < b.tsSec || (a.tsSec === b.tsSec && a.tsNsec <= b.tsNsec);

test('captures every datagram on lo, in order, with lengths and timestamps', { timeout: 30_000 }, async () => {
  const N = 2000;
  const dst = await sink();
  const { cap, seen, batches } = capture({
    iface: 'lo',
    filter: `udp and dst port ${dst.port}`,
    timeoutMs: 20,
    batchSize: 256,
  });
  try {
    assert.equal(cap.linkType, LinkType.Ethernet);
    assert.ok(cap.precision === 'nano' || cap.precision === 'micro');
    const payloads = Array.from({ length: N }, (_, i) => payload(i, i % 97));
    const t0 = Date.now();
    await send(dst.port, payloads);
    await waitUntil(() => seen.length >= N, 10_000);
    const t1 = Date.now();
    assert.equal(seen.length, N, `captured ${seen.length} of ${N}`);
    assert.ok(batches.every((n) => n >= 1 && n <= 256), `batch sizes ${batches.join(',')}`);

    let prev: Seen | undefined;
    for (let i = 0; i < N; i++) {
      const s = seen[i];
      assert.ok(s !== undefined);
      const expectLen = ETH_IP_UDP + 4 + (i % 97);
      assert.equal(s.seq, i, `frame ${i} out of order`);
      assert.equal(s.ethertype, 0x0800);
      assert.equal(s.ipProto, 17);
      assert.equal(s.dstPort, dst.port);
      assert.equal(s.len, expectLen);
      assert.equal(s.caplen, expectLen);
      assert.equal(s.dataLength, s.caplen);
      assert.ok(Number.isInteger(s.tsNsec) && s.tsNsec >= 0 && s.tsNsec < 1e9, `tsNsec ${s.tsNsec}`);
      if (cap.precision === 'micro') assert.equal(s.tsNsec % 1000, 0);
      const ms = s.tsSec * 1000 + s.tsNsec / 1e6;
      assert.ok(ms >= t0 - SKEW_MS && ms <= t1 + SKEW_MS, `timestamp ${ms} not near ${t0}..${t1}`);
      if (prev !== undefined) assert.ok(tsBefore(prev, s), `timestamp goes back at frame ${i}`);
      prev = s;
    }
    const st = cap.stats();
    assert.ok(st.received >= N, `received ${st.received}`);
    assert.equal(st.dropped, 0);
    assert.ok(st.ifDropped >= 0);
  } finally {
    cap.close();
    await dst.close();
  }
});

// immediate mode makes libpcap use a TPACKET_V2 ring, whose frame sizing can keep a couple of
// bytes less than a tiny snaplen (60 → 58 with libpcap 1.10.3); the TPACKET_V3 ring keeps exactly.
for (const immediate of [false, true]) {
  test(`snaplen cuts frames but len keeps the wire length (immediate: ${immediate})`, { timeout: 20_000 }, async () => {
    const SNAP = 60;
    const N = 50;
    const dst = await sink();
    const { cap, seen } = capture({
      iface: 'lo',
      filter: `udp and dst port ${dst.port}`,
      snaplen: SNAP,
      immediate,
      timeoutMs: 20,
    });
    try {
      assert.equal(cap.snaplen, SNAP);
      await send(
        dst.port,
        Array.from({ length: N }, (_, i) => payload(i, 196)),
      );
      await waitUntil(() => seen.length >= N, 10_000);
      assert.equal(seen.length, N);
      for (const [i, s] of seen.entries()) {
        if (immediate) assert.ok(s.caplen <= SNAP && s.caplen >= SNAP - 2, `caplen ${s.caplen}`);
        else assert.equal(s.caplen, SNAP);
        assert.equal(s.dataLength, s.caplen);
        assert.equal(s.len, ETH_IP_UDP + 200);
        assert.equal(s.seq, i);
      }
    } finally {
      cap.close();
      await dst.close();
    }
  });
}

test('a missing interface is one clear LiveCaptureError', () => {
  assert.throws(
    () => LiveCapture.open({ iface: 'nosuchif0' }, () => undefined),
    (e: unknown) => {
      assert.ok(e instanceof LiveCaptureError);
      assert.equal(e.name, 'LiveCaptureError');
      assert.equal(e.code, 'PCAP_NO_SUCH_DEVICE');
      assert.match(e.message, /^nosuchif0: .*no such device/i);
      return true;
    },
  );
});

test('a bad filter is one clear LiveCaptureError', () => {
  for (const filter of ['udp and dst port', 'udp port 99999', 'udp and and tcp']) {
    assert.throws(
      () => LiveCapture.open({ iface: 'lo', filter }, () => undefined),
      (e: unknown) => {
        assert.ok(e instanceof LiveCaptureError);
        assert.equal(e.code, 'PCAP_BAD_FILTER');
        assert.ok(e.message.includes(`"${filter}"`), e.message);
        return true;
      },
    );
  }
});

test('bad options are rejected before anything opens', () => {
  for (const opts of [{ iface: '' }, { iface: 'lo', snaplen: 0 }, { iface: 'lo', batchSize: 1.5 }]) {
    assert.throws(() => LiveCapture.open(opts, () => undefined), LiveCaptureError);
  }
});

test('close() inside onBatch stops delivery; close is idempotent; stats survive close', { timeout: 20_000 }, async () => {
  const dst = await sink();
  let calls = 0;
  const cap = LiveCapture.open(
    { iface: 'lo', filter: `udp and dst port ${dst.port}`, batchSize: 5, timeoutMs: 20 },
    () => {
      calls++;
      cap.close();
      cap.close();
    },
  );
  try {
    await send(
      dst.port,
      Array.from({ length: 50 }, (_, i) => payload(i, 10)),
    );
    await waitUntil(() => calls > 0, 10_000);
    await new Promise((r) => setTimeout(r, 200)); // a second batch would arrive within this
    assert.equal(calls, 1);
    const st = cap.stats();
    assert.ok(st.received >= 5, `received ${st.received}`);
  } finally {
    cap.close();
    await dst.close();
  }
});

test('after close() nothing keeps the process alive', { timeout: 20_000 }, () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const mod = pathToFileURL(join(here, '..', '..', '..', 'recorder', 'capture', 'live-source.js')).href;
  // Closed from a timer after packets flowed, and closed at once: both must let node exit.
  const script = `
    import dgram from 'node:dgram';
    import { LiveCapture } from ${JSON.stringify(mod)};
    let n = 0;
    const a = LiveCapture.open({ iface: 'lo', filter: 'udp and dst port 9', immediate: true }, (f) => { n += f.length; });
    LiveCapture.open({ iface: 'lo' }, () => {}).close();
    const s = dgram.createSocket('udp4');
    s.send(Buffer.from('x'), 9, '127.0.0.1', () => s.close());
    setTimeout(() => { a.close(); console.log('closed', n); }, 200);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000, encoding: 'utf8' });
  assert.equal(r.error, undefined, 'child did not exit in time');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^closed 1$/m);
});

/** `ip …`; false when it cannot run (no iproute2, or no CAP_NET_ADMIN in this container). */
const ip = (...args: string[]): boolean => {
  try {
    execFileSync('ip', args, { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
};

test('a link flap does not end the capture; a removed interface is reported', { timeout: 30_000 }, async () => {
  const a = `vrt${process.pid % 100000}a`; // we capture here
  const b = `vrt${process.pid % 100000}b`; // and send from the peer
  // CI runs as root and `make setup` installs iproute2: failing to make the pair is a failure.
  assert.ok(ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b), 'cannot create a veth pair (needs root and iproute2)');
  const errors: LiveCaptureError[] = [];
  const seqs: number[] = [];
  let cap: LiveCapture | undefined;
  const out = dgram.createSocket('udp4');
  try {
    // A static neighbour makes b send UDP frames straight out of the veth, no ARP involved.
    assert.ok(ip('link', 'set', a, 'up') && ip('link', 'set', b, 'up'));
    assert.ok(ip('addr', 'add', '198.18.77.1/30', 'dev', b));
    assert.ok(ip('neigh', 'replace', '198.18.77.2', 'lladdr', '02:00:00:00:00:02', 'dev', b));
    const port = 40000 + (process.pid % 20000);
    cap = LiveCapture.open(
      { iface: a, filter: `udp and dst port ${port}`, timeoutMs: 20 },
      (frames) => {
        for (const f of frames) seqs.push(f.data.readUInt32BE(ETH_IP_UDP));
      },
      (e) => errors.push(e),
    );
    // Sends every 50 ms until a frame of this phase shows up (the link needs a moment after up).
    const phase = async (base: number): Promise<void> => {
      const deadline = Date.now() + 5000;
      for (let i = 0; !seqs.some((q) => q >= base) && Date.now() < deadline; i++) {
        out.send(payload(base + i, 8), port, '198.18.77.2');
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(seqs.some((q) => q >= base), `nothing captured in phase ${base}`);
    };
    await phase(0);
    assert.ok(ip('link', 'set', a, 'down'));
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(ip('link', 'set', a, 'up'));
    await phase(1000);
    assert.equal(errors.length, 0, errors.map((e) => e.message).join('; '));

    assert.ok(ip('link', 'del', a));
    await waitUntil(() => errors.length > 0, 5000);
    assert.equal(errors.length, 1);
    const [err] = errors;
    assert.ok(err instanceof LiveCaptureError);
    assert.equal(err.code, 'PCAP_READ_ERROR');
    assert.match(err.message, new RegExp(`^${a}: .*disappeared`, 'i'));
    assert.ok(cap.stats().received >= 2);
  } finally {
    cap?.close();
    out.close();
    ip('link', 'del', a); // gone already when the test passed; the peer goes with it
  }
});
