/**
 * Skinny decoders: every message kind the tracker reads, in the basic header layout and the
 * CallManager 7+ one (V20: ipv4or6 fields, 25-byte numbers, CallInfoV2), IPv6 included.
 * tshark's skinny dissector is the oracle: the builders' output is written to a capture and
 * the fields tshark reads must equal ours. Property tests: random bytes never throw, every
 * prefix of a valid body is Ok or Truncated.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Status } from '../../../recorder/core/status.js';
import { decodeSkinnyHeader, SkinnyHeader } from '../../../recorder/sccp/header.js';
import { decodeSkinnyBody, SkinnyMessage } from '../../../recorder/sccp/message.js';
import { MessageId } from '../../../recorder/sccp/message-ids.js';
import { writePcap } from '../../support/capture-writer.js';
import * as B from '../../support/packets.js';
import { prng } from '../../support/random.js';
import { sk, V20, V_BASIC } from '../../support/skinny.js';
import { tshark } from '../../support/tshark.js';
import { tempDir } from '../../support/temp-dir.js';

function decode(buf: Buffer): SkinnyMessage {
  const h = new SkinnyHeader();
  assert.equal(decodeSkinnyHeader(buf, 0, buf.length, h), Status.Ok);
  const m = new SkinnyMessage();
  const s = decodeSkinnyBody(h.messageId, h.version, buf, h.bodyOff, h.bodyLen, m);
  assert.equal(s, Status.Ok, `message 0x${h.messageId.toString(16)}`);
  return m;
}

/** The messages of one call, in a given header version. */
function sample(version: number, v6 = false): Buffer[] {
  const ip = v6 ? '2001:db8::10' : '10.1.2.10';
  const far = v6 ? '2001:db8::20' : '10.1.2.20';
  return [
    sk.register(version, 'SEP001122334455', '10.1.2.10'),
    sk.callState(version, 3, 1, 4242),
    sk.callInfo(version, { line: 1, callRef: 4242, callType: 2, calling: '1001', callingName: 'Alice Ärger', called: '2002', calledName: 'Bob', originalCalled: '2000', lastRedirecting: '2001' }),
    sk.dialedNumber(version, '2002', 1, 4242),
    sk.openReceiveChannel(version, { conf: 4242, passThru: 77, callRef: 4242, compression: 4 }),
    sk.openReceiveChannelAck(version, { ip, port: 24000, passThru: 77, callRef: 4242 }),
    sk.startMediaTransmission(version, { conf: 4242, passThru: 77, ip: far, port: 26000, callRef: 4242, compression: 2, mixingMode: 1, partyDirection: 2 }),
    sk.keypad(version, 14, 1, 4242),
    sk.softKey(version, 4, 1, 4242),
  ];
}

describe('SCCP message decoders', () => {
  for (const [label, version, v6] of [['basic header', V_BASIC, false], ['V20 header', V20, false], ['V20 header, IPv6', V20, true]] as const) {
    it(`${label}: decodes what the builders write`, () => {
      const [reg, state, info, dialed, orc, ack, smt, key, soft] = sample(version, v6).map(decode);
      assert.equal(reg!.deviceName, 'SEP001122334455');
      assert.equal(reg!.stationIp, '10.1.2.10');
      assert.deepEqual([state!.callState, state!.lineInstance, state!.callRef], [3, 1, 4242]);
      assert.deepEqual([info!.callingNumber, info!.callingName, info!.calledNumber, info!.calledName, info!.callType], ['1001', 'Alice Ärger', '2002', 'Bob', 2]);
      assert.deepEqual([info!.originalCalledNumber, info!.lastRedirectingNumber], ['2000', '2001']);
      assert.deepEqual([dialed!.dialedNumber, dialed!.callRef], ['2002', 4242]);
      assert.deepEqual([orc!.passThruPartyId, orc!.compression, orc!.callRef], [77, 4, 4242]);
      assert.deepEqual([ack!.ip, ack!.port, ack!.passThruPartyId, ack!.callRef], [v6 ? '2001:db8::10' : '10.1.2.10', 24000, 77, 4242]);
      assert.deepEqual([smt!.ip, smt!.port, smt!.callRef, smt!.conferenceId, smt!.compression, smt!.mixingMode], [v6 ? '2001:db8::20' : '10.1.2.20', 26000, 4242, 4242, 2, 1]);
      assert.equal(smt!.partyDirection, version >= 0x0f ? 2 : 0);
      assert.deepEqual([key!.button, key!.callRef], [14, 4242]);
      assert.deepEqual([soft!.button, soft!.callRef], [4, 4242]);
    });
  }

  it('agrees with tshark on every field it reads (basic and V20 headers)', () => {
    const dir = tempDir('sccp-oracle-');
    const file = join(dir, 'msgs.pcap');
    const messages = [...sample(V_BASIC), ...sample(V20)];
    let seq = 1;
    const frames = messages.map((m, i) => {
      // Station → CM for station messages, CM → station otherwise; one message per segment.
      const up = [MessageId.Register, MessageId.OpenReceiveChannelAck, MessageId.KeypadButton, MessageId.SoftKeyEvent].includes(m.readUInt32LE(8) as 1);
      const tcp = up ? B.tcp(40000, 2000, seq, 1, B.TCP.ACK | B.TCP.PSH, m) : B.tcp(2000, 40000, seq, 1, B.TCP.ACK | B.TCP.PSH, m);
      seq += m.length;
      return { tsSec: 1_700_000_000 + i, tsNsec: 0, data: B.ethernet(up ? B.ipv4('10.1.2.10', '10.1.0.1', 6, tcp) : B.ipv4('10.1.0.1', '10.1.2.10', 6, tcp)) };
    });
    writePcap(file, frames, { linkType: 1 });
    const fields = ['skinny.messageId', 'skinny.DeviceName', 'skinny.callState', 'skinny.callReference', 'skinny.callingParty', 'skinny.calledParty', 'skinny.callingPartyName', 'skinny.calledPartyName', 'skinny.dialedNumber', 'skinny.ipAddr.ipv4', 'skinny.ipAddr.ipv6', 'skinny.portNumber', 'skinny.remoteIpAddr.ipv4', 'skinny.remoteIpAddr.ipv6', 'skinny.remotePortNumber', 'skinny.compressionType', 'skinny.kpButton', 'skinny.softKeyEvent'];
    const out = tshark(['-r', file, '-d', 'tcp.port==2000,skinny', '-T', 'fields', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])]);
    const rows = out.trim().split('\n').map((l) => l.split('\t'));
    assert.equal(rows.length, messages.length);
    rows.forEach((row, i) => {
      const m = decode(messages[i]!);
      const get = (name: string): string => row[fields.indexOf(name)] ?? '';
      assert.equal(Number(get('skinny.messageId')), m.id, `row ${i}`);
      if (m.deviceName) assert.equal(get('skinny.DeviceName'), m.deviceName);
      if (m.id === MessageId.CallState) assert.equal(Number(get('skinny.callState')), m.callState);
      if (m.hasCallRef && m.id !== MessageId.StartMediaTransmission) assert.equal(Number(get('skinny.callReference')), m.callRef, `callRef of 0x${m.id.toString(16)}`);
      if (m.callingNumber) assert.deepEqual([get('skinny.callingParty'), get('skinny.calledParty'), get('skinny.calledPartyName')], [m.callingNumber, m.calledNumber, m.calledName]);
      // tshark reads names as ASCII (ENC_ASCII): compare the calling name, which has an 'Ä', up to it.
      if (m.callingName) assert.equal(get('skinny.callingPartyName').slice(0, 6), m.callingName.slice(0, 6));
      if (m.dialedNumber) assert.equal(get('skinny.dialedNumber'), m.dialedNumber);
      if (m.id === MessageId.OpenReceiveChannelAck) {
        assert.equal(get('skinny.ipAddr.ipv4') || get('skinny.ipAddr.ipv6'), m.ip);
        assert.equal(Number(get('skinny.portNumber')), m.port);
      }
      if (m.id === MessageId.StartMediaTransmission) {
        assert.equal(get('skinny.remoteIpAddr.ipv4') || get('skinny.remoteIpAddr.ipv6'), m.ip);
        assert.equal(Number(get('skinny.remotePortNumber')), m.port);
        assert.equal(Number(get('skinny.compressionType')), m.compression);
      }
      if (m.id === MessageId.KeypadButton) assert.equal(Number(get('skinny.kpButton')), m.button);
      if (m.id === MessageId.SoftKeyEvent) assert.equal(Number(get('skinny.softKeyEvent')), m.button);
    });
  });

  it('every prefix of a valid body is Ok or Truncated, and random bodies never throw', () => {
    const m = new SkinnyMessage();
    const h = new SkinnyHeader();
    for (const version of [V_BASIC, V20]) {
      for (const msg of sample(version, version === V20)) {
        decodeSkinnyHeader(msg, 0, msg.length, h);
        for (let n = 0; n <= h.bodyLen; n++) {
          const s = decodeSkinnyBody(h.messageId, version, msg, h.bodyOff, n, m);
          assert.ok(s === Status.Ok || s === Status.Truncated, `0x${h.messageId.toString(16)} prefix ${n}: ${s}`);
        }
      }
    }
    const rnd = prng(7);
    const ids = Object.values(MessageId);
    for (let i = 0; i < 20_000; i++) {
      const body = Buffer.alloc(Math.floor(rnd() * 300));
      for (let j = 0; j < body.length; j++) body[j] = Math.floor(rnd() * 256);
      const s = decodeSkinnyBody(ids[i % ids.length]!, Math.floor(rnd() * 0x20), body, 0, body.length, m);
      assert.ok(s >= Status.Ok && s <= Status.Unsupported);
      if (m.port) assert.ok(s !== Status.Ok || m.port <= 65535);
    }
  });
});
