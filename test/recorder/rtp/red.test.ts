import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRed } from '../../../recorder/rtp/red.js';
import { redPayload } from '../../support/rtp-payloads.js';

describe('RFC 2198 redundant audio', () => {
  it('splits headers and blocks, oldest first, primary last', () => {
    const a = Buffer.alloc(160, 1);
    const b = Buffer.alloc(160, 2);
    const p = Buffer.alloc(160, 3);
    const buf = redPayload(
      [
        [0, 320, a],
        [0, 160, b],
      ],
      [0, p],
    );
    const blocks = parseRed(buf, 0, buf.length);
    assert.deepEqual(
      blocks?.map((x) => [x.pt, x.tsOffset, x.len, x.primary, buf[x.off]]),
      [
        [0, 320, 160, false, 1],
        [0, 160, 160, false, 2],
        [0, 0, 160, true, 3],
      ],
    );
  });

  it('the largest offset (14 bits) and length (10 bits) survive', () => {
    const buf = redPayload([[101, 16383, Buffer.alloc(1023, 9)]], [13, Buffer.from([40])]);
    const blocks = parseRed(buf, 0, buf.length)!;
    assert.equal(blocks[0]!.tsOffset, 16383);
    assert.equal(blocks[0]!.len, 1023);
    assert.equal(blocks[0]!.pt, 101);
    assert.equal(blocks[1]!.pt, 13);
    assert.equal(blocks[1]!.len, 1);
  });

  it('lengths that overrun the payload, or no primary header, are rejected whole', () => {
    const good = redPayload([[0, 160, Buffer.alloc(100)]], [0, Buffer.alloc(50)]);
    for (let cut = 0; cut < 105; cut++) assert.equal(parseRed(good, 0, cut), null, `cut at ${cut}`);
    assert.equal(parseRed(Buffer.from([0x80, 0, 0, 0]), 0, 4), null);
    assert.equal(parseRed(Buffer.alloc(80, 0xff), 0, 80), null);
    // An empty primary is legal (only redundancy in this packet).
    assert.equal(parseRed(Buffer.from([0x00]), 0, 1)?.[0]?.len, 0);
  });
});
