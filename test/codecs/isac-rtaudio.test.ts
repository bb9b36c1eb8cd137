/**
 * iSAC and Microsoft RTAudio: no decoder exists in Debian 12 (no library package, and Debian's
 * libavcodec has no decoder for either), so no factory is registered and a render notes the
 * stream as an unsupported codec.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { DECODERS } from '../../codecs/index.js';
import { loadCodecsAddon } from '../../codecs/native-addon.js';
import { createDecoder } from '../../recorder/media/decoder.js';

describe('iSAC and RTAudio', () => {
  it('have no factory: createDecoder returns null', () => {
    for (const [name, rate] of [['iSAC', 16000], ['iSAC', 32000], ['x-msrta', 16000], ['x-msrta', 8000], ['RTAudio', 16000]] as const) {
      assert.equal(createDecoder(name, rate, 1, ''), null, `${name}/${rate}`);
    }
    for (const f of DECODERS) for (const n of f.names) assert.doesNotMatch(n, /isac|msrta|rtaudio/);
  });

  it('have no decoder in the linked libavcodec nor in the ffmpeg build', () => {
    const lib = loadCodecsAddon();
    for (const n of ['isac', 'ilbc_isac', 'rtaudio', 'msrta', 'x-msrta']) assert.equal(lib.lavcHasDecoder(n), false, n);
    const listing = execFileSync('ffmpeg', ['-hide_banner', '-decoders'], { encoding: 'utf8' });
    assert.match(listing, /\bilbc\b/, 'the listing is the real decoder list');
    assert.doesNotMatch(listing, /isac|rtaudio|msrta/i);
  });
});
