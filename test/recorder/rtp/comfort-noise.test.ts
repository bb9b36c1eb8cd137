import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Status } from '../../../recorder/core/status.js';
import { CN_MAX_ORDER, ComfortNoise, decodeComfortNoise } from '../../../recorder/rtp/comfort-noise.js';
import { prng } from '../../support/random.js';
import { tshark } from '../../support/tshark.js';
import { readRtp } from './capture-rtp.js';

const dec = (b: Buffer, out = new ComfortNoise()): Status => decodeComfortNoise(b, 0, b.length, out);

describe('decodeComfortNoise (RFC 3389 §3)', () => {
  it('level-only payloads of heplify__sip_ipv4_tcp.pcap, as tshark shows them', async () => {
    const path = 'fixtures/heplify__sip_ipv4_tcp.pcap';
    const cn = (await readRtp(path)).packets.filter((p) => p.pt === 13);
    const theirs = tshark(['-r', path, '-Y', 'rtp.p_type == 13', '-T', 'fields', '-e', 'rtp.payload']).trim().split('\n');
    assert.equal(cn.length, 6);
    const out = new ComfortNoise();
    cn.forEach((p, i) => {
      assert.equal(p.payload.toString('hex'), theirs[i]);
      assert.equal(dec(p.payload, out), Status.Ok);
      assert.equal(out.levelDbov, -parseInt(theirs[i]!, 16));
      assert.equal(out.order, 0);
    });
    assert.equal(out.levelDbov, -0x45); // the last one: -69 dBov
  });

  it('reads reflection coefficients as (N - 127) / 128', () => {
    const out = new ComfortNoise();
    assert.equal(dec(Buffer.from([0, 127, 0, 255, 63]), out), Status.Ok);
    assert.equal(out.levelDbov, 0);
    assert.ok(Object.is(out.levelDbov, 0));
    assert.equal(out.order, 4);
    assert.deepEqual(Array.from(out.coefficients.subarray(0, 4)), [0, -127 / 128, 1, -0.5]);
  });

  it('Truncated when empty, Malformed with the reserved bit, Unsupported past the order cap', () => {
    const out = new ComfortNoise();
    assert.equal(dec(Buffer.alloc(0), out), Status.Truncated);
    assert.equal(dec(Buffer.from([0x80 | 40]), out), Status.Malformed);
    assert.equal(dec(Buffer.alloc(CN_MAX_ORDER + 2, 30), out), Status.Unsupported);
    assert.equal(out.levelDbov, -30);
    assert.equal(dec(Buffer.alloc(CN_MAX_ORDER + 1, 30), out), Status.Ok);
    assert.equal(out.order, CN_MAX_ORDER);
  });

  it('never throws on random bytes', () => {
    const rnd = prng(3389);
    const out = new ComfortNoise();
    for (let i = 0; i < 10000; i++) {
      const b = Buffer.from(Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256)));
      const st = dec(b, out);
      assert.ok(st >= Status.Ok && st <= Status.Unsupported);
      if (st === Status.Ok) assert.ok(out.levelDbov <= 0 && out.levelDbov >= -127 && out.coefficients.subarray(0, out.order).every((k) => k >= -1 && k < 1.01));
    }
  });
});
