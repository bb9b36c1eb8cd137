import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OGG_MAX_PAGE, OggPageWriter, oggCrc32, readOgg } from '../../codecs/ogg.js';

/** Muxes packets (granule = index + 1, page flushed after each listed index) into one buffer. */
function mux(packets: Uint8Array[], flushAfter: ReadonlySet<number> = new Set()): Uint8Array {
  const parts: Buffer[] = [];
  const w = new OggPageWriter((page, len) => parts.push(Buffer.from(page.subarray(0, len))), 0x1234abcd);
  packets.forEach((p, i) => {
    w.packet(p, 0, p.length, (i + 1) * 1000);
    if (flushAfter.has(i)) w.flush();
  });
  w.flush(true);
  return new Uint8Array(Buffer.concat(parts));
}

const filled = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('Ogg pages (RFC 3533)', () => {
  it('CRC-32: polynomial 0x04C11DB7, init 0, unreflected, no final XOR', () => {
    // CRC-32/POSIX of "123456789" is 0x765E7680 with its final XOR; without it, 0x89A1897F.
    assert.equal(oggCrc32(Buffer.from('123456789', 'latin1'), 0, 9), 0x89a1897f);
    assert.equal(oggCrc32(new Uint8Array(0), 0, 0), 0);
  });

  it('laces packets of every boundary size and reads them back identically', () => {
    const sizes = [0, 1, 254, 255, 256, 509, 510, 511, 255 * 255, 70000, 3];
    const packets = sizes.map((n, i) => filled(n, i));
    const file = mux(packets);
    const r = readOgg(file);
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.deepEqual(
      r.packets.map((p) => p.data.length),
      sizes,
    );
    r.packets.forEach((p, i) => assert.deepEqual(p.data, packets[i]));
    // 65025 and 70000 bytes need more than one page of 255 lacing values.
    assert.ok(r.pages.length >= 3, `${r.pages.length} pages`);
    assert.ok(r.pages.some((p) => p.continued), 'a packet continues on the next page');
    for (const p of r.pages) assert.ok(p.lacing.length <= 255 && 27 + p.lacing.length + p.body.length <= OGG_MAX_PAGE);
  });

  it('page flags, sequence numbers and granule positions', () => {
    const packets = [filled(10, 1), filled(300, 2), filled(2 * 255 * 255 + 10, 3), filled(5, 4)];
    const file = mux(packets, new Set([0]));
    const r = readOgg(file);
    assert.ok(r.ok, r.ok ? '' : r.error);
    const pages = r.pages;
    assert.equal(pages[0]!.bos, true);
    assert.ok(pages.slice(1).every((p) => !p.bos));
    assert.equal(pages[pages.length - 1]!.eos, true);
    assert.ok(pages.slice(0, -1).every((p) => !p.eos));
    pages.forEach((p, i) => {
      assert.equal(p.sequence, i);
      assert.equal(p.serial, 0x1234abcd);
      assert.ok(p.crcOk);
    });
    // Page 0 holds packet 0 alone (flushed): its granule is packet 0's.
    assert.equal(pages[0]!.granule, 1000);
    // A page on which no packet completes says −1 (all ones on the wire).
    const noEnd = pages.find((p) => p.lacing.length > 0 && p.lacing.every((v) => v === 255));
    assert.ok(noEnd !== undefined, 'a page filled by the middle of packet 2');
    assert.equal(noEnd.granule, -1);
    assert.deepEqual(Array.from(file.subarray(noEnd.offset + 6, noEnd.offset + 14)), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    // Each packet's granule is on the page where it completes, when last there.
    assert.equal(r.packets[3]!.granule, 4000);
  });

  it('64-bit granule positions above 2^32', () => {
    const parts: Buffer[] = [];
    const w = new OggPageWriter((p, n) => parts.push(Buffer.from(p.subarray(0, n))), 7);
    const g = 2 ** 40 + 12345;
    w.packet(filled(20, 0), 0, 20, g);
    w.flush(true);
    const r = readOgg(new Uint8Array(Buffer.concat(parts)));
    assert.ok(r.ok);
    assert.equal(r.pages[0]!.granule, g);
  });

  it('the reader finds damage: a flipped byte fails the CRC, a cut file is truncated', () => {
    const file = mux([filled(100, 1), filled(100, 2)], new Set([0]));
    const bad = file.slice();
    bad[40] = bad[40]! ^ 1;
    const r = readOgg(bad);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.error, /CRC/);
    const cut = readOgg(file.subarray(0, file.length - 5));
    assert.equal(cut.ok, false);
    assert.match(cut.ok ? '' : cut.error, /truncated/);
    assert.equal(readOgg(new Uint8Array(0)).ok, false);
  });

  it('an empty stream is a single BOS+EOS page', () => {
    const r = readOgg(mux([]));
    assert.ok(r.ok);
    assert.equal(r.pages.length, 1);
    assert.ok(r.pages[0]!.bos && r.pages[0]!.eos);
    assert.equal(r.packets.length, 0);
  });

  it('refuses packets after the end of stream', () => {
    const w = new OggPageWriter(() => undefined, 1);
    w.flush(true);
    assert.throws(() => w.packet(new Uint8Array(1), 0, 1, 0));
  });
});
