import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatIpv6 } from '../../../recorder/core/address.js';
import { canonicalIpv6, ConfigError, defaultConfig, loadConfig, parseConfig, suggest, type RecorderConfig } from '../../../recorder/ops/config.js';
import { parseListen } from '../../../recorder/ops/listen-address.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir('config-');

/** The one-line message a bad config gives (and that it is a ConfigError). */
function errorOf(text: string): string {
  try {
    parseConfig(text, 'config.json');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.ok(!err.message.includes('\n'), `more than one line: ${err.message}`);
    return err.message;
  }
  assert.fail(`accepted: ${text}`);
}

/** 16 bytes of an IPv6 address in text form (test helper; '::' expanded by hand). */
function ipv6Bytes(text: string, buf: Buffer): Buffer {
  let t = text;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(t);
  if (v4) t = t.replace(v4[0], `${((Number(v4[1]) << 8) | Number(v4[2])).toString(16)}:${((Number(v4[3]) << 8) | Number(v4[4])).toString(16)}`);
  const [head = '', tail] = t.split('::');
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl];
  groups.forEach((g, i) => buf.writeUInt16BE(parseInt(g, 16), i * 2));
  return buf;
}

const user = (over: object): string => JSON.stringify({ users: [{ name: 'alice', numbers: ['1001'], ...over }] });

describe('config: defaults', () => {
  it('an empty object gives every default', () => {
    const want: RecorderConfig = {
      inputs: { interfaces: [] },
      sip: { ports: [5060, 5061, 5080] },
      users: [],
      recording: { format: 'opus', bitrate: null, opusApplication: 'lowdelay', channels: 'dual', recordUnattached: false, payloadTypes: {} },
      storage: { dataDir: './data', spoolDir: 'data/spool', recordingsDir: 'data/recordings', indexDir: 'data/index', keepSpools: false, syncfs: true },
      timeouts: { setupSec: 300, mediaSec: 120, holdSec: 7200, orphanRtpSec: 60, maxCallSec: 14400 },
      metrics: { listen: '127.0.0.1:9091' },
      media: { workers: 1 },
      turn: { serverPorts: [3478, 3479, 443, 5349] },
    };
    assert.deepEqual(parseConfig('{}', 'c.json'), want);
    assert.deepEqual(defaultConfig(), want);
  });

  it('fills what is missing inside a section, keeps what is given', () => {
    const c = parseConfig(
      JSON.stringify({
        inputs: { interfaces: [{ name: 'eth1' }] },
        recording: { channels: 'mono' },
        storage: { dataDir: '/var/lib/recorder', indexDir: '/ssd/index' },
        timeouts: { mediaSec: 30 },
        metrics: null,
      }),
      'c.json',
    );
    assert.deepEqual(c.inputs.interfaces, [{ name: 'eth1', filter: '', snaplen: 262144, bufferMiB: 32, promisc: true }]);
    assert.equal(c.recording.channels, 'mono');
    assert.equal(c.recording.format, 'opus');
    assert.deepEqual(c.storage, { dataDir: '/var/lib/recorder', spoolDir: '/var/lib/recorder/spool', recordingsDir: '/var/lib/recorder/recordings', indexDir: '/ssd/index', keepSpools: false, syncfs: true });
    assert.equal(c.timeouts.mediaSec, 30);
    assert.equal(c.timeouts.setupSec, 300);
    assert.equal(c.metrics, null);
  });

  it('IPv6 user addresses are kept in their canonical form', () => {
    const c = parseConfig(user({ ips: ['FD00:0:0::0022', '10.0.0.1'] }), 'c.json');
    assert.deepEqual(c.users[0]?.ips, ['fd00::22', '10.0.0.1']);
  });

  it('canonicalIpv6 agrees with the packet formatter', () => {
    const cases: [string, string][] = [
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['::FFFF:10.0.0.1', '::ffff:10.0.0.1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ];
    for (const [text, want] of cases) {
      assert.equal(canonicalIpv6(text), want);
      const buf = Buffer.alloc(16);
      // The same address through core/address.ts's RFC 5952 formatter.
      const full = new URL(`http://[${text}]/`).hostname.slice(1, -1);
      assert.equal(formatIpv6(ipv6Bytes(full, buf), 0), want);
    }
  });

  it('keys starting with _ are comments; a byte-order mark is fine', () => {
    const c = parseConfig('\uFEFF{ "_comment": "hi", "media": { "_why": "one core", "workers": 2 } }', 'c.json');
    assert.equal(c.media.workers, 2);
  });

  it('the example config is valid and says what it shows', () => {
    const c = loadConfig('recorder/config.example.json');
    assert.equal(c.inputs.interfaces[0]?.name, 'eth1');
    assert.deepEqual(c.users.map((u) => u.name), ['alice', 'bob']);
    assert.equal(c.recording.payloadTypes['96'], 'opus/48000/2');
    assert.equal(c.storage.indexDir, 'data/index');
    assert.deepEqual(c.metrics, { listen: '127.0.0.1:9091' });
    assert.equal(c.recording.format, 'opus');
    assert.equal(c.inputs.hep?.listen, '0.0.0.0:9060');
    assert.equal(c.siprec?.audioPorts, '20000-29999');
    assert.deepEqual(c.sccp?.ports, [2000]);
    assert.deepEqual(c.netfeed?.silkPayloadTypes, { '103': 16000, '104': 8000 });
    assert.deepEqual(c.turn.serverPorts, [3478, 3479, 443, 5349]);
  });

  it('turn.serverPorts: given, or [] to turn TURN unwrapping off', () => {
    assert.deepEqual(parseConfig('{"turn": {"serverPorts": [3478, 40003]}}', 'c.json').turn, { serverPorts: [3478, 40003] });
    assert.deepEqual(parseConfig('{"turn": {"serverPorts": []}}', 'c.json').turn, { serverPorts: [] });
  });
});

describe('config: one line naming the key', () => {
  const cases: [string, string, string][] = [
    // unknown keys, with and without a suggestion
    ['unknown top-level key (transposition)', '{"inptus": {}}', 'config.json: unknown key "inptus" (did you mean "inputs"?)'],
    ['unknown nested key', '{"recording": {"fromat": "wav"}}', 'config.json: recording: unknown key "fromat" (did you mean "format"?)'],
    ['unknown key in a list item', '{"inputs": {"interfaces": [{"name": "eth1", "snaplne": 100}]}}', 'config.json: inputs.interfaces[0]: unknown key "snaplne" (did you mean "snaplen"?)'],
    ['unknown key, nothing close', '{"frobnicate": 1}', 'config.json: unknown key "frobnicate"'],
    ['case slip', '{"timeouts": {"setupsec": 10}}', 'config.json: timeouts: unknown key "setupsec" (did you mean "setupSec"?)'],
    // wrong types
    ['section not an object', '{"recording": []}', 'config.json: recording: expected an object, got an array'],
    ['top level not an object', '[1, 2]', 'config.json: expected an object, got an array'],
    ['number for a string', '{"inputs": {"interfaces": [{"name": 7}]}}', 'config.json: inputs.interfaces[0].name: expected a string, got 7'],
    ['string for a bool', '{"recording": {"recordUnattached": "yes"}}', 'config.json: recording.recordUnattached: expected true or false, got "yes"'],
    ['number for storage.syncfs', '{"storage": {"syncfs": 1}}', 'config.json: storage.syncfs: expected true or false, got 1'],
    ['string for a number', '{"timeouts": {"mediaSec": "120"}}', 'config.json: timeouts.mediaSec: expected an integer 1-2592000, got "120"'],
    ['null for a list', '{"users": null}', 'config.json: users: expected an array, got null'],
    ['object for a list', '{"sip": {"ports": {"a": 1}}}', 'config.json: sip.ports: expected an array, got an object'],
    ['metrics wrong type', '{"metrics": "127.0.0.1:9091"}', 'config.json: metrics: expected an object or null, got "127.0.0.1:9091"'],
    // values
    ['bad enum', '{"recording": {"format": "ogg"}}', 'config.json: recording.format: expected one of wav, opus, mp3, got "ogg"'],
    ['bad opus mode', '{"recording": {"opusApplication": "celt"}}', 'config.json: recording.opusApplication: expected one of lowdelay, voip, audio, got "celt"'],
    ['bad channels', '{"recording": {"channels": "stereo"}}', 'config.json: recording.channels: expected one of dual, mono, got "stereo"'],
    ['zero timeout', '{"timeouts": {"holdSec": 0}}', 'config.json: timeouts.holdSec: expected an integer 1-2592000, got 0'],
    ['fractional workers', '{"media": {"workers": 1.5}}', 'config.json: media.workers: expected an integer 1-64, got 1.5'],
    ['snaplen too big', '{"inputs": {"interfaces": [{"name": "eth1", "snaplen": 1000000}]}}', 'config.json: inputs.interfaces[0].snaplen: expected an integer 64-262144, got 1000000'],
    ['missing interface name', '{"inputs": {"interfaces": [{"filter": "udp"}]}}', 'config.json: inputs.interfaces[0]: missing "name" (the capture interface, e.g. "eth1")'],
    ['duplicate interface', '{"inputs": {"interfaces": [{"name": "eth1"}, {"name": "eth1"}]}}', 'config.json: inputs.interfaces[1].name: duplicate interface "eth1" (also inputs.interfaces[0])'],
    // ports
    ['port 0', '{"sip": {"ports": [5060, 0]}}', 'config.json: sip.ports[1]: expected a port number 1-65535, got 0'],
    ['port too big', '{"sip": {"ports": [70000]}}', 'config.json: sip.ports[0]: expected a port number 1-65535, got 70000'],
    ['port as string', '{"sip": {"ports": ["5060"]}}', 'config.json: sip.ports[0]: expected a port number 1-65535, got "5060"'],
    ['listen without port', '{"metrics": {"listen": "127.0.0.1"}}', 'config.json: metrics.listen: expected host:port (IPv6 in brackets: [::1]:9091), got "127.0.0.1"'],
    ['listen port out of range', '{"metrics": {"listen": "0.0.0.0:99999"}}', 'config.json: metrics.listen: port 99999 is out of range 0-65535, got "0.0.0.0:99999"'],
    ['listen bad host', '{"metrics": {"listen": "bad host:9091"}}', 'config.json: metrics.listen: "bad host" is not an IP address or host name, got "bad host:9091"'],
    // TURN
    ['TURN port as string', '{"turn": {"serverPorts": ["3478"]}}', 'config.json: turn.serverPorts[0]: expected a port number 1-65535, got "3478"'],
    ['TURN ports not a list', '{"turn": {"serverPorts": 3478}}', 'config.json: turn.serverPorts: expected an array, got 3478'],
    ['TURN port also a SIP port', '{"turn": {"serverPorts": [3478, 5060]}}', 'config.json: turn.serverPorts[1]: 5060 is also in sip.ports'],
    ['unknown TURN key', '{"turn": {"serverPort": [3478]}}', 'config.json: turn: unknown key "serverPort" (did you mean "serverPorts"?)'],
    // users
    ['bad IP', user({ ips: ['10.0.0.300'] }), 'config.json: users[0].ips[0]: expected an IPv4 or IPv6 address, got "10.0.0.300"'],
    ['IP with a port', user({ ips: ['10.0.0.1:5060'] }), 'config.json: users[0].ips[0]: expected an IPv4 or IPv6 address, got "10.0.0.1:5060"'],
    ['bad URI', user({ uris: ['alice@example.com'] }), 'config.json: users[0].uris[0]: expected a sip:, sips: or tel: URI, got "alice@example.com"'],
    ['bad number', user({ numbers: ['ext. 12'] }), 'config.json: users[0].numbers[0]: expected a phone number or extension, got "ext. 12"'],
    ['user without name', '{"users": [{"numbers": ["1"]}]}', 'config.json: users[0]: missing "name"'],
    ['user with nothing to match', '{"users": [{"name": "ghost"}]}', 'config.json: users[0]: user "ghost" needs at least one of uris, numbers, ips'],
    ['duplicate user', '{"users": [{"name": "a", "numbers": ["1"]}, {"name": "a", "numbers": ["2"]}]}', 'config.json: users[1].name: duplicate user "a" (also users[0])'],
    ['number claimed twice', '{"users": [{"name": "a", "numbers": ["+1 555 1001"]}, {"name": "b", "numbers": ["15551001"]}]}', 'config.json: users[1].numbers[0]: 15551001 already belongs to user "a"'],
    ['IP claimed twice', '{"users": [{"name": "a", "ips": ["10.0.0.1"]}, {"name": "b", "ips": ["10.0.0.1"]}]}', 'config.json: users[1].ips[0]: 10.0.0.1 already belongs to user "a"'],
    // payload types
    ['payload type key not a number', '{"recording": {"payloadTypes": {"opus": "opus/48000/2"}}}', 'config.json: recording.payloadTypes.opus: expected an RTP payload type 0-127 as the key, got "opus"'],
    ['payload type out of range', '{"recording": {"payloadTypes": {"128": "opus/48000/2"}}}', 'config.json: recording.payloadTypes["128"]: expected an RTP payload type 0-127 as the key, got "128"'],
    ['payload type clashing with RTCP', '{"recording": {"payloadTypes": {"72": "opus/48000/2"}}}', 'config.json: recording.payloadTypes["72"]: payload types 72-76 clash with RTCP (RFC 5761), got 72'],
    ['payload mapping without rate', '{"recording": {"payloadTypes": {"96": "opus"}}}', 'config.json: recording.payloadTypes["96"]: expected encoding/clock-rate[/channels] like "opus/48000/2", got "opus"'],
    // storage
    ['empty path', '{"storage": {"dataDir": ""}}', 'config.json: storage.dataDir: must not be empty'],
    // invalid JSON, with line and column
    ['trailing comma in a list', '{\n  "sip": {"ports": [5060,]}\n}', 'config.json: invalid JSON at line 2, column 26: trailing comma before "]"'],
    ['trailing comma in an object', '{\n  "media": {"workers": 1,\n  }\n}', 'config.json: invalid JSON at line 3, column 3: trailing comma before "}"'],
    ['missing comma', '{\n  "sip": {}\n  "media": {}\n}', 'config.json: invalid JSON at line 3, column 3: expected "," or "}" after a property value, got "\\""'],
    ['unquoted key', '{\n\n   media: {}}', 'config.json: invalid JSON at line 3, column 4: expected a property name in double quotes, got "m"'],
    ['single quotes', '{"recording": {"format": \'wav\'}}', 'config.json: invalid JSON at line 1, column 26: strings need double quotes'],
    ['line break in a string', '{"storage": {"dataDir": "/var/\nlib"}}', 'config.json: invalid JSON at line 1, column 31: line break inside a string (write \\n)'],
    ['comment', '{\n  // the users\n  "users": []\n}', 'config.json: invalid JSON at line 2, column 3: expected a property name in double quotes, got "/"'],
    ['leading zero', '{"media": {"workers": 01}}', 'config.json: invalid JSON at line 1, column 24: bad number'],
    ['text after the end', '{} {}', 'config.json: invalid JSON at line 1, column 4: unexpected "{" after the end of the document'],
    ['empty file', '', 'config.json: invalid JSON at line 1, column 1: unexpected end of file'],
    ['truncated file', '{\n "media": {', 'config.json: invalid JSON at line 2, column 12: unexpected end of file (missing "}")'],
  ];
  for (const [name, text, want] of cases) {
    it(name, () => assert.equal(errorOf(text), want));
  }

  it('a missing file: one line naming it', () => {
    assert.throws(() => loadConfig(join(dir, 'nope.json')), (e: unknown) => e instanceof ConfigError && e.message === `${join(dir, 'nope.json')}: cannot read: no such file`);
  });

  it('loadConfig names the file as given', () => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, '{"recording": {"format": "ogg"}}');
    assert.throws(() => loadConfig(f), { name: 'ConfigError', message: `${f}: recording.format: expected one of wav, opus, mp3, got "ogg"` });
  });
});

describe('config helpers', () => {
  it('suggest: typos within a third of the length, nothing for far-off keys', () => {
    assert.equal(suggest('inptus', ['inputs', 'users']), 'inputs');
    assert.equal(suggest('user', ['inputs', 'users']), 'users');
    assert.equal(suggest('xyz', ['inputs', 'users']), undefined);
  });

  it('parseListen', () => {
    assert.deepEqual(parseListen('127.0.0.1:9091'), { host: '127.0.0.1', port: 9091 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseListen('metrics.local:80'), { host: 'metrics.local', port: 80 });
    for (const bad of ['::1:9091', '[127.0.0.1]:1', ':9091', 'host:', 'host:123456', '1.2.3.4:-1']) assert.equal(typeof parseListen(bad), 'string', bad);
  });
});
