import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, defaultConfig, parseConfig } from '../../../recorder/ops/config.js';
import { applySiprecFlags, siprecOptions } from '../../../recorder/siprec/siprec-run.js';

const err = (text: string): string => {
  try {
    parseConfig(text, 'c.json');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.message;
  }
  return assert.fail('no error');
};

describe('config: siprec', () => {
  it('absent is off; given, defaults fill in and options follow', () => {
    assert.equal(defaultConfig().siprec, undefined);
    const c = parseConfig(JSON.stringify({ siprec: { listen: '127.0.0.1:5070', audioPorts: '30000-30999', inboundTrunkRanges: ['^\\+1\\d{10}@'], nonSiprec: 'record' } }), 'c.json');
    assert.equal(c.siprec?.holdsUsingSdp, true);
    const o = siprecOptions(c.siprec ?? assert.fail('no siprec'));
    assert.deepEqual([o.host, o.port, o.udp, o.tcp, o.nonSiprec], ['127.0.0.1', 5070, true, true, 'record']);
    assert.deepEqual(o.audioPorts, { start: 30000, end: 30999 });
    assert.ok(o.trunks?.inbound[0]?.test('+15551234567@carrier'));
  });

  it('one line naming the key for each mistake', () => {
    assert.equal(err('{"siprec":{"audioPorts":"9-3"}}'), 'c.json: siprec.audioPorts: ports must lie within 1024-65535, got "9-3"');
    assert.equal(err('{"siprec":{"inboundTrunkRanges":["(+"]}}'), 'c.json: siprec.inboundTrunkRanges[0]: invalid regular expression: /(+/: Nothing to repeat');
    assert.equal(err('{"siprec":{"listne":"1.2.3.4:5060"}}'), 'c.json: siprec: unknown key "listne" (did you mean "listen"?)');
    assert.equal(err('{"siprec":{"transports":["sctp"]}}'), 'c.json: siprec.transports[0]: expected one of udp, tcp, got "sctp"');
    assert.equal(err('{"siprec":{"advertiseAddress":"srs.example"}}'), 'c.json: siprec.advertiseAddress: expected an IPv4 or IPv6 address, got "srs.example"');
  });

  it('--siprec and --audio-ports override the config', () => {
    const c = parseConfig(JSON.stringify({ siprec: { listen: '0.0.0.0:5060', equateDuplicateSessions: true } }), 'c.json');
    applySiprecFlags(c, { siprec: '127.0.0.1:5999', audioPorts: '40000-40099' });
    assert.deepEqual([c.siprec?.listen, c.siprec?.audioPorts, c.siprec?.equateDuplicateSessions], ['127.0.0.1:5999', '40000-40099', true]);
    const d = defaultConfig();
    assert.throws(() => applySiprecFlags(d, { audioPorts: '40000-40099' }), /--audio-ports needs --siprec/);
    applySiprecFlags(d, { siprec: '127.0.0.1:5999' });
    assert.equal(d.siprec?.audioPorts, '20000-29999');
  });
});
