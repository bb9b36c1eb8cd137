import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIpv4 } from '../../../recorder/core/address.js';
import { Status } from '../../../recorder/core/status.js';
import { decodeTurnRelay, TurnRelay, TurnRelayKind } from '../../../recorder/turn/indications.js';
import { MsTcpFrame, MsTurnStreamFramer } from '../../../recorder/turn/ms-turn-framing.js';
import { decodeStunMessage, StunMessage } from '../../../recorder/turn/stun-message.js';
import { addressValue, msTcpFrame, stunMessage } from '../../support/turn-call.js';

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
