import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ALAW_TO_LINEAR, ULAW_TO_LINEAR, encodeAlaw, encodeUlaw } from '../../codecs/g711.js';
import { tmp } from '../recorder/spool/spool-helpers.js';
import { sox } from '../recorder/media/media-helpers.js';

/** sox's decode of all 256 codes of a law, as int16. */
function soxDecode(law: 'mu-law' | 'a-law'): Int16Array {
  const dir = tmp('g711');
  const input = join(dir, 'in.raw');
  const output = join(dir, 'out.raw');
  writeFileSync(input, Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
  sox(['-t', 'raw', '-e', law, '-b', '8', '-r', '8000', '-c', '1', input, '-t', 'raw', '-e', 'signed', '-b', '16', '-L', output]);
  const b = readFileSync(output);
  assert.equal(b.length, 512);
  return Int16Array.from({ length: 256 }, (_, i) => b.readInt16LE(i * 2));
}

/** sox's encode of every int16 value. */
function soxEncode(law: 'mu-law' | 'a-law'): Buffer {
  const dir = tmp('g711e');
  const input = join(dir, 'in.raw');
  const output = join(dir, 'out.raw');
  const b = Buffer.alloc(65536 * 2);
  for (let x = -32768; x < 32768; x++) b.writeInt16LE(x, (x + 32768) * 2);
  writeFileSync(input, b);
  // -D: no dither (sox dithers by default when it reduces precision; G.711 has 13–14 bits).
  sox(['-D', '-t', 'raw', '-e', 'signed', '-b', '16', '-L', '-r', '8000', '-c', '1', input, '-t', 'raw', '-e', law, '-b', '8', output]);
  return readFileSync(output);
}

describe('G.711 decode tables against sox', () => {
  for (const [law, table] of [
    ['mu-law', ULAW_TO_LINEAR],
    ['a-law', ALAW_TO_LINEAR],
  ] as const) {
    it(`${law}: all 256 codes bit-exact`, () => {
      const ref = soxDecode(law);
      const diffs: string[] = [];
      for (let c = 0; c < 256; c++) if (table[c] !== ref[c]) diffs.push(`0x${c.toString(16)}: ours ${table[c]} sox ${ref[c]}`);
      assert.deepEqual(diffs, []);
    });
  }

  it('spot values from G.711 Tables 1a/2a (scaled to 16 bits)', () => {
    assert.equal(ULAW_TO_LINEAR[0x00], -32124);
    assert.equal(ULAW_TO_LINEAR[0x80], 32124);
    assert.equal(ULAW_TO_LINEAR[0xff], 0);
    assert.equal(ULAW_TO_LINEAR[0x7f], 0);
    assert.equal(ALAW_TO_LINEAR[0xd5], 8);
    assert.equal(ALAW_TO_LINEAR[0x55], -8);
    assert.equal(ALAW_TO_LINEAR[0xaa], 32256);
    assert.equal(ALAW_TO_LINEAR[0x2a], -32256);
  });
});

describe('G.711 encoders', () => {
  it('encode(decode(code)) gives the code back (µ-law: 0x7F is the second zero, 0xFF)', () => {
    for (let c = 0; c < 256; c++) {
      assert.equal(encodeUlaw(ULAW_TO_LINEAR[c]!), c === 0x7f ? 0xff : c, `µ-law 0x${c.toString(16)}`);
      assert.equal(encodeAlaw(ALAW_TO_LINEAR[c]!), c, `A-law 0x${c.toString(16)}`);
    }
  });

  it('every int16 encodes to a code whose value is within its step of the input', () => {
    for (let x = -32768; x < 32768; x += 7) {
      for (const [enc, dec, maxStep] of [
        [encodeUlaw, ULAW_TO_LINEAR, 1024 + 4],
        [encodeAlaw, ALAW_TO_LINEAR, 1024 + 8],
      ] as const) {
        const y = dec[enc(x)]!;
        // Beyond the largest code both laws saturate.
        const clamp = Math.max(-32256, Math.min(32256, x));
        assert.ok(Math.abs(y - clamp) <= maxStep, `x=${x} → ${y}`);
      }
    }
  });

  for (const [law, enc] of [
    ['mu-law', encodeUlaw],
    ['a-law', encodeAlaw],
  ] as const) {
    it(`${law}: matches sox's encoder for every int16 value`, () => {
      const ref = soxEncode(law);
      let diff = 0;
      let first = '';
      for (let x = -32768; x < 32768; x++) {
        const ours = enc(x);
        const theirs = ref[x + 32768]!;
        if (ours !== theirs) {
          if (diff === 0) first = `x=${x}: ours 0x${ours.toString(16)} sox 0x${theirs.toString(16)}`;
          diff++;
        }
      }
      assert.equal(diff, 0, `${diff} differences, first ${first}`);
    });
  }
});
