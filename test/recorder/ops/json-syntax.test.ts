import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { findJsonSyntaxError } from '../../../recorder/ops/json-syntax.js';
import { prng } from '../../support/random.js';

const parses = (t: string): boolean => {
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
};

describe('findJsonSyntaxError', () => {
  const base = readFileSync('recorder/config.example.json', 'utf8');
  const extra = '{"a":[1,-2.5e3,0,true,false,null,"x\\u00e9\\n\\"",{}],"b":{"c":[[]]},"d":-0.0E+1}';

  it('agrees with JSON.parse on valid documents', () => {
    for (const t of [base, extra, '0', '"s"', ' [ ] ', 'null']) assert.equal(findJsonSyntaxError(t), null, t);
  });

  // Property: on every mutation of a valid document, our scanner fails exactly when JSON.parse does,
  // and the position it reports lies inside the text (or at its end).
  it('fails exactly when JSON.parse fails, on 20k random mutations', () => {
    const rnd = prng(20240501);
    const alphabet = ['{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\n', '0', '1', '-', '.', 'e', 't', 'n', "'", '/', 'x', '\u0001'];
    for (let n = 0; n < 20000; n++) {
      const src = n % 2 ? base : extra;
      let t = src;
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
        const at = Math.floor(rnd() * (t.length + 1));
        const op = rnd();
        const ch = alphabet[Math.floor(rnd() * alphabet.length)] ?? '';
        t = op < 0.4 ? t.slice(0, at) + t.slice(at + 1) : op < 0.8 ? t.slice(0, at) + ch + t.slice(at) : t.slice(0, at);
      }
      const found = findJsonSyntaxError(t);
      assert.equal(found === null, parses(t), `mutation ${n}: ${JSON.stringify(t)}`);
      if (found) assert.ok(found.pos >= 0 && found.pos <= t.length && found.line >= 1 && found.column >= 1);
    }
  });

  it('deep nesting is reported, not a stack overflow', () => {
    const t = '['.repeat(100000);
    assert.match(findJsonSyntaxError(t)?.message ?? '', /nested too deeply/);
  });
});
