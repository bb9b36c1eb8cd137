import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHoldAddress, normalizeAddress, parseIpv6 } from '../../../recorder/sdp/connection-address.js';

describe('SDP connection addresses', () => {
  it('normalizes IPv6 to RFC 5952 and drops multicast suffixes', () => {
    const table: [string, string][] = [
      ['fe80:0:0:0:21a:a0ff:fe07:32e0', 'fe80::21a:a0ff:fe07:32e0'],
      ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['::', '::'],
      ['::1', '::1'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
      ['FF15::101/3', 'ff15::101'],
      ['224.2.1.1/127/3', '224.2.1.1'],
      ['192.0.2.1', '192.0.2.1'],
      ['host.example.com', 'host.example.com'],
      ['X.X.X.X', 'X.X.X.X'],
      ['1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8:9'], // not an address: as written
      ['1::2::3', '1::2::3'],
      [':::', ':::'],
      ['fe80::1%eth0', 'fe80::1%eth0'],
    ];
    for (const [input, want] of table) assert.equal(normalizeAddress(input), want, input);
    const b = Buffer.alloc(16);
    assert.equal(parseIpv6('1:2:3:4:5:6:7:8', b), true);
    assert.equal(b.toString('hex'), '00010002000300040005000600070008');
    assert.equal(parseIpv6('1:2:3:4:5:6:7::', b), true);
    assert.equal(parseIpv6('1.2.3.4::', b), false);
    assert.equal(parseIpv6('12345::', b), false);
  });

  it('knows the hold addresses', () => {
    assert.deepEqual(['0.0.0.0', '::', '10.0.0.1', ''].map(isHoldAddress), [true, true, false, false]);
  });
});
