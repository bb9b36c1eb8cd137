import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIpv4 } from '../../../recorder/core/address.js';
import { Status } from '../../../recorder/core/status.js';
import { decodeTurnRelay, TurnRelay, TurnRelayKind } from '../../../recorder/turn/indications.js';
import { isPseudoTlsStart, MsTcpFrame, MsTurnStreamFramer, PseudoTls, PseudoTlsSkipper } from '../../../recorder/turn/ms-turn-framing.js';
import { decodeStunMessage, StunMessage } from '../../../recorder/turn/stun-message.js';
import { addressValue, msTcpFrame, pseudoTlsClientHello, pseudoTlsServerHello, stunMessage } from '../../support/turn-call.js';

const tx12 = Buffer.alloc(12, 0xab);
const tx16 = Buffer.alloc(16, 0xcd);
const cookie: [number, Buffer] = [0x000f, Buffer.from('72c64bc6', 'hex')];
const relay = { ip: '192.0.2.15', port: 50000 };
const peer = { ip: '198.51.100.7', port: 30000 };

function relayOf(msg: Buffer): { st: Status; r: TurnRelay } {
  const m = new StunMessage();
  assert.equal(decodeStunMessage(msg, 0, msg.length, m), Status.Ok);
  const r = new TurnRelay();
  return { st: decodeTurnRelay(msg, m, r), r };
}

describe('TURN relay message kinds (RFC 8656 §7.3, [MS-TURN] §2.2)', () => {
  it('RFC 8656 Allocate success: XOR-RELAYED-ADDRESS (the RFC 8656 §20 example address)', () => {
    const { st, r } = relayOf(stunMessage(0x0103, tx12, [[0x0016, addressValue(relay, true)], [0x0020, addressValue({ ip: '192.0.2.1', port: 7000 }, true)]]));
    assert.equal(st, Status.Ok);
    assert.equal(r.kind, TurnRelayKind.AllocateSuccess);
    assert.equal(`${formatIpv4(r.relay.ipv4)}:${r.relay.port}`, '192.0.2.15:50000');
    assert.equal(relayOf(stunMessage(0x0103, tx12, [])).st, Status.Malformed);
  });

  it('[MS-TURN] Allocate response: Mapped Address is the relay; Set Active Destination names the peer', () => {
    const a = relayOf(stunMessage(0x0103, tx16, [cookie, [0x0001, addressValue(relay, false)]], false));
    assert.equal(a.st, Status.Ok);
    assert.equal(a.r.kind, TurnRelayKind.MsAllocateSuccess);
    assert.equal(`${formatIpv4(a.r.relay.ipv4)}:${a.r.relay.port}`, '192.0.2.15:50000');
    const s = relayOf(stunMessage(0x0006, tx16, [cookie, [0x0011, addressValue(peer, false)]], false));
    assert.equal(s.r.kind, TurnRelayKind.MsSetActiveDestination);
    assert.equal(`${formatIpv4(s.r.peer.ipv4)}:${s.r.peer.port}`, '198.51.100.7:30000');
    assert.equal(relayOf(stunMessage(0x0106, tx16, [cookie], false)).r.kind, TurnRelayKind.MsSetActiveDestinationSuccess);
  });

  it('[MS-TURN] §2.2.2.8: the Magic Cookie attribute must hold 0x72C64BC6', () => {
    const good = stunMessage(0x0115, tx16, [cookie, [0x0012, addressValue(peer, false)], [0x0013, Buffer.from('80000001', 'hex')]], false);
    assert.equal(relayOf(good).st, Status.Ok);
    const wrong = stunMessage(0x0115, tx16, [[0x000f, Buffer.from('72c64bc7', 'hex')], [0x0012, addressValue(peer, false)], [0x0013, Buffer.from('80000001', 'hex')]], false);
    assert.equal(relayOf(wrong).st, Status.Unsupported);
  });
});

describe('MsTurnStreamFramer ([MS-TURN] §2.1.4)', () => {
  it('splits control and data frames however the stream is cut; stops on a bad header', () => {
    const ctl = stunMessage(0x0115, tx16, [cookie], false);
    const stream = Buffer.concat([msTcpFrame(2, ctl), msTcpFrame(3, Buffer.from('80000001aa', 'hex')), msTcpFrame(2, ctl)]);
    for (const step of [1, 3, 9, stream.length]) {
      const got: string[] = [];
      const f = new MsTurnStreamFramer((type, b, off, len) => got.push(`${type}:${b.toString('hex', off, off + len)}`));
      for (let i = 0; i < stream.length; i += step) f.push(stream, i, Math.min(step, stream.length - i));
      assert.deepEqual(got, [`${MsTcpFrame.Control}:${ctl.toString('hex')}`, `${MsTcpFrame.Data}:80000001aa`, `${MsTcpFrame.Control}:${ctl.toString('hex')}`], `step ${step}`);
    }
    const f = new MsTurnStreamFramer(() => assert.fail('no frame expected'));
    f.push(Buffer.from('16030100050000000000', 'hex'), 0, 10);
    assert.equal(f.lost, true);
    assert.equal(f.buffered, 0);
  });
});

describe('PseudoTlsSkipper ([MS-TURN] §2.1.3)', () => {
  const framed = Buffer.concat([msTcpFrame(2, stunMessage(0x0115, tx16, [cookie], false)), msTcpFrame(3, Buffer.from('80000001aa', 'hex'))]);
  const pass = (hello: Buffer, after: Buffer, step: number): { state: number; rest: Buffer } => {
    const sk = new PseudoTlsSkipper();
    const stream = Buffer.concat([hello, after]);
    const rest: Buffer[] = [];
    for (let i = 0; i < stream.length; i += step) {
      const n = Math.min(step, stream.length - i);
      const at = sk.take(stream, i, n);
      if (at >= 0) rest.push(stream.subarray(at, i + n));
    }
    return { state: sk.state, rest: Buffer.concat(rest) };
  };

  it('skips the SSLv2-format ClientHello or the ServerHello record, then passes the frames on, however cut', () => {
    for (const hello of [pseudoTlsClientHello(Buffer.alloc(32, 1)), pseudoTlsServerHello(Buffer.alloc(32, 2))]) {
      assert.ok(isPseudoTlsStart(hello, 0, hello.length));
      for (const step of [1, 2, 5, 7, hello.length, 1000]) {
        const r = pass(hello, framed, step);
        assert.equal(r.state, PseudoTls.Framing, `step ${step}`);
        assert.ok(r.rest.equals(framed), `step ${step}`);
      }
    }
  });

  it('a real TLS session (another record after the hello) and non-TLS starts are told apart', () => {
    const ccs = Buffer.from('140301000101', 'hex');
    for (const step of [1, 3, 1000]) assert.equal(pass(pseudoTlsServerHello(Buffer.alloc(32)), ccs, step).state, PseudoTls.RealTls);
    assert.equal(isPseudoTlsStart(Buffer.from('0200001c00', 'hex'), 0, 5), false, 'an MS-TURN frame header');
    assert.equal(isPseudoTlsStart(Buffer.from('474554202f', 'hex'), 0, 5), false, 'GET /');
    assert.equal(pass(Buffer.from('474554202f20', 'hex'), Buffer.alloc(0), 1).state, PseudoTls.NotTls);
  });
});

