/**
 * RFC 4867 payload unpacking (codecs/amr-payload.ts): hand-made packets from the RFC's field
 * layout, round trips through encodeAmrPayload, and hostile input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AMR_MAX_FRAMES, AmrFrames, decodeAmrPayload, encodeAmrPayload } from '../../codecs/amr-payload.js';
import { randomBytes } from '../support/codec-reference.js';

const NB_OCTETS = [12, 13, 15, 17, 19, 20, 26, 31, 5];
const WB_OCTETS = [17, 23, 32, 36, 40, 46, 50, 58, 60, 5];

/** A storage-format frame of type `ft` with random speech bits (unused low bits cleared). */
function frame(ft: number, q: number, wideband: boolean, seed: number): Uint8Array {
  const bits = (wideband ? [132, 177, 253, 285, 317, 365, 397, 461, 477, 40] : [95, 103, 118, 134, 148, 159, 204, 244, 39])[ft] ?? 0;
  const f = new Uint8Array(1 + ((bits + 7) >> 3));
  f.set(randomBytes(f.length - 1, seed), 1);
  if (bits % 8 !== 0) f[f.length - 1]! &= (0xff << (8 - (bits % 8))) & 0xff;
  f[0] = (ft << 3) | (q << 2);
  return f;
}

const frameOf = (out: AmrFrames, i: number): Uint8Array => out.buf.subarray(out.off[i], out.off[i]! + out.len[i]!);

describe('RFC 4867 AMR payload', () => {
  it('reads a bandwidth-efficient NO_DATA packet bit by bit (§4.3)', () => {
    // CMR 2 | F 0 | FT 15 | Q 1 | padding: 0010 0 1111 1 000000
    const out = new AmrFrames();
    assert.equal(decodeAmrPayload(Uint8Array.of(0x27, 0xc0), 0, 2, false, false, out), 'ok');
    assert.equal(out.cmr, 2);
    assert.equal(out.count, 1);
    assert.equal(out.ft[0], 15);
    assert.equal(out.q[0], 1);
    assert.deepEqual(frameOf(out, 0), Uint8Array.of(0x7c));
  });

  it('reads an octet-aligned two-frame packet (§4.4)', () => {
    // CMR 15 | RRRR, ToC F1 FT2 Q1 PP, ToC F0 FT15 Q1 PP, 15 octets of 5.9 kbit/s speech
    const speech = frame(2, 1, false, 5);
    const p = Uint8Array.of(0xf0, 0x94, 0x7c, ...speech.subarray(1));
    const out = new AmrFrames();
    assert.equal(decodeAmrPayload(p, 0, p.length, false, true, out), 'ok');
    assert.equal(out.count, 2);
    assert.deepEqual(frameOf(out, 0), speech);
    assert.deepEqual(frameOf(out, 1), Uint8Array.of(0x7c));
  });

  it('bandwidth-efficient speech bits start right after the last ToC entry', () => {
    // one 4.75 kbit/s frame: CMR 15, F0 FT0 Q1, then 95 bits of all ones, then 5 zero pad bits
    const p = new Uint8Array(14);
    const bits = '1111' + '0' + '0000' + '1' + '1'.repeat(95);
    for (let i = 0; i < bits.length; i++) if (bits[i] === '1') p[i >> 3]! |= 0x80 >> (i & 7);
    const out = new AmrFrames();
    assert.equal(decodeAmrPayload(p, 0, p.length, false, false, out), 'ok');
    const f = frameOf(out, 0);
    assert.equal(f.length, 13);
    assert.equal(f[0], 0x04);
    assert.ok(f.subarray(1, 12).every((b) => b === 0xff));
    assert.equal(f[12], 0xfe); // 95 = 11·8 + 7 bits
  });

  for (const wideband of [false, true]) {
    for (const octetAligned of [false, true]) {
      it(`round-trips every frame type (${wideband ? 'AMR-WB' : 'AMR'}, ${octetAligned ? 'octet-aligned' : 'bandwidth-efficient'})`, () => {
        const types = [...(wideband ? WB_OCTETS : NB_OCTETS).keys(), ...(wideband ? [14, 15] : [15])];
        const frames = types.map((ft, i) => frame(ft, i % 3 === 0 ? 0 : 1, wideband, 100 + i));
        const dst = new Uint8Array(2000);
        const n = encodeAmrPayload(frames, 7, wideband, octetAligned, dst);
        assert.ok(n > 0);
        const out = new AmrFrames();
        assert.equal(decodeAmrPayload(dst, 0, n, wideband, octetAligned, out), 'ok');
        assert.equal(out.cmr, 7);
        assert.equal(out.count, frames.length);
        frames.forEach((f, i) => assert.deepEqual(frameOf(out, i), f, `frame ${i}`));
        // every shorter prefix is truncated, never a shorter packet
        for (let len = 0; len < n; len++) assert.notEqual(decodeAmrPayload(dst, 0, len, wideband, octetAligned, out), 'ok', `prefix ${len}`);
        // the same bytes at an offset inside a bigger buffer
        const big = new Uint8Array(n + 9);
        big.set(dst.subarray(0, n), 5);
        assert.equal(decodeAmrPayload(big, 5, n, wideband, octetAligned, out), 'ok');
        assert.deepEqual(frameOf(out, 0), frames[0]);
      });
    }
  }

  it('discards packets with frame types RFC 4867 §4.3.2 reserves (AMR 9-14, AMR-WB 10-13)', () => {
    const out = new AmrFrames();
    for (const ft of [9, 10, 11, 12, 13, 14]) {
      const oa = Uint8Array.of(0xf0, ft << 3 | 4, 0, 0, 0, 0, 0, 0);
      assert.equal(decodeAmrPayload(oa, 0, oa.length, false, true, out), 'malformed', `AMR FT ${ft}`);
      if (ft >= 10 && ft <= 13) assert.equal(decodeAmrPayload(oa, 0, oa.length, true, true, out), 'malformed', `AMR-WB FT ${ft}`);
      assert.equal(out.count, 0);
    }
    const lost = Uint8Array.of(0xf0, (14 << 3) | 4);
    assert.equal(decodeAmrPayload(lost, 0, lost.length, true, true, out), 'ok', 'AMR-WB SPEECH_LOST');
  });

  it('refuses more than AMR_MAX_FRAMES table-of-contents entries', () => {
    const toc = (entries: number): Uint8Array => {
      const p = new Uint8Array(1 + entries).fill(0xfc); // F=1 NO_DATA entries
      p[0] = 0xf0;
      p[entries] = 0x7c; // the last has F=0
      return p;
    };
    const out = new AmrFrames();
    assert.equal(decodeAmrPayload(toc(AMR_MAX_FRAMES), 0, AMR_MAX_FRAMES + 1, false, true, out), 'ok');
    assert.equal(out.count, AMR_MAX_FRAMES);
    assert.equal(decodeAmrPayload(toc(AMR_MAX_FRAMES + 1), 0, AMR_MAX_FRAMES + 2, false, true, out), 'malformed');
  });

  it('never throws on random bytes', () => {
    const out = new AmrFrames();
    for (let seed = 1; seed < 3000; seed++) {
      const p = randomBytes(seed % 200, seed);
      for (const wb of [false, true]) {
        for (const oa of [false, true]) {
          const s = decodeAmrPayload(p, 0, p.length, wb, oa, out);
          assert.ok(s === 'ok' || s === 'truncated' || s === 'malformed');
          if (s === 'ok') for (let i = 0; i < out.count; i++) assert.ok(out.off[i]! + out.len[i]! <= out.buf.length);
        }
      }
    }
  });
});
