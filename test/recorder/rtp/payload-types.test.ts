import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePayloadMapping, staticPayloadFormat, staticPayloadFormats } from '../../../recorder/rtp/payload-types.js';

describe('RFC 3551 static payload types', () => {
  it('has the audio codecs a recorder meets', () => {
    const t = (pt: number): string => {
      const f = staticPayloadFormat(pt);
      return f ? `${f.codec}/${f.clockRate}/${f.channels}` : '-';
    };
    assert.deepEqual(
      [0, 3, 4, 8, 9, 13, 18, 10, 34].map(t),
      ['PCMU/8000/1', 'GSM/8000/1', 'G723/8000/1', 'PCMA/8000/1', 'G722/8000/1', 'CN/8000/1', 'G729/8000/1', 'L16/44100/2', 'H263/90000/0'],
    );
    // reserved, unassigned and dynamic
    for (const pt of [1, 2, 19, 20, 35, 72, 96, 101, 127, 128, -1]) assert.equal(staticPayloadFormat(pt), undefined, String(pt));
    assert.equal(staticPayloadFormats().length, 24); // 17 audio + 7 video
    assert.ok(Object.isFrozen(staticPayloadFormat(0)));
  });
});

describe('parsePayloadMapping (--pt)', () => {
  it('parses PT=NAME/RATE[/CHANNELS]', () => {
    assert.deepEqual(parsePayloadMapping('96=opus/48000/2'), { pt: 96, codec: 'opus', clockRate: 48000, channels: 2, fmtp: '' });
    assert.deepEqual(parsePayloadMapping(' 101=telephone-event/8000 '), { pt: 101, codec: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '' });
    assert.deepEqual(parsePayloadMapping('2=G726-32/8000'), { pt: 2, codec: 'G726-32', clockRate: 8000, channels: 1, fmtp: '' });
    assert.deepEqual(parsePayloadMapping('97=AMR-WB/16000/1'), { pt: 97, codec: 'AMR-WB', clockRate: 16000, channels: 1, fmtp: '' });
  });

  it('throws a clear Error on bad input', () => {
    const bad = ['', '96', '96=opus', '96=/48000', 'x=opus/48000', '128=opus/48000', '96=opus/0', '96=opus/48000/0', '96=opus/48000/2/1', '96 = opus/48000', '73=foo/8000', '96=op us/8000'];
    for (const b of bad) assert.throws(() => parsePayloadMapping(b), (e: unknown) => e instanceof Error && e.message.includes(`'${b}'`) && /expected|not in|clash|positive|channels/.test(e.message), b);
  });
});
