import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mergeMetadata } from '../../../recorder/siprec/metadata-merge.js';
import { parseRsMetadata, sameParty, type RecordingMetadata } from '../../../recorder/siprec/rs-metadata.js';
import { splitMultipart } from '../../../recorder/sip/multipart.js';
import { parseXmlTree } from '../../../recorder/siprec/xml-tree.js';
import { FIXTURES, parse, summary } from './siprec-helpers.js';

/** The metadata part of a body-only fixture (or of the one full INVITE). */
function metadataOf(file: string, dir = FIXTURES): string {
  const buf = readFileSync(join(dir, file));
  const text = buf.toString('latin1');
  const boundary = /^--(\S+)/m.exec(text)?.[1];
  assert.ok(boundary, `${file}: no boundary`);
  const start = text.startsWith('INVITE') ? text.indexOf('\n\n') + 2 : 0;
  const parts = splitMultipart(`multipart/mixed;boundary=${boundary}`, buf.subarray(start));
  const md = parts.find((p) => p.contentType.includes('rs-metadata') || p.headers.some((h) => /recording-session/.test(h.value)));
  assert.ok(md, `${file}: no metadata part`);
  return md.body.toString('utf8');
}



interface Expect {
  schema: RecordingMetadata['schema'];
  labels: string[];
  parts: [aor: string, send: string[], recv: string[], role?: string][];
  sessionId?: string;
  more?: (md: RecordingMetadata) => void;
}

// What the shared MANIFEST lists per sample: participants, streams, associations.
const SAMPLES: Record<string, Expect> = {
  'drachtio__oracle-acme.txt': {
    schema: 'draft',
    labels: ['16777227', '16777228'],
    parts: [
      ['sip:9000@192.168.50.102', ['16777227'], [], 'caller'],
      ['sip:1002@192.168.50.10', ['16777228'], [], 'callee'],
    ],
    more: (md) => {
      assert.equal(md.streams[1]?.associateTime, '2019-03-09T16:50:31', 'streams keep their own associate-time');
      assert.match(md.participants[0]!.extensions[0]!, /^<extensiondata xmlns:apkt="http:\/\/acmepacket.com\/siprec\/extensiondata">[\s\S]*<apkt:callingParty>true<\/apkt:callingParty>[\s\S]*<\/extensiondata>$/);
      assert.equal(md.streams[0]?.mode, 'separate');
    },
  },
  'drachtio-pr30__oracle-acme-avaya-ucid.txt': {
    schema: 'draft',
    labels: ['201835599', '201835600'],
    parts: [
      ['sip:31624895902@10.10.128.62', ['201835599'], [], 'caller'],
      ['sip:33187164021@sip.webhelpgroupe.lan', ['201835600'], [], 'callee'],
    ],
    more: (md) => {
      assert.equal(md.hints.ucid, '00FA081003B9CF5E7DF7E5;encoding=hex');
      assert.equal(md.hints.callId, '134485702_44821128@10.10.128.62');
      assert.match(md.sessions[0]!.extensions[0]!, /<apkt:ucid>00FA081003B9CF5E7DF7E5;encoding=hex<\/apkt:ucid>/);
    },
  },
  'drachtio__sonus-ribbon.txt': {
    schema: 'draft',
    labels: ['1', '2'],
    parts: [
      ['2249888500@172.16.198.55', ['2'], ['1']],
      ['2249888012@172.16.195.72', ['1'], ['2']],
    ],
    more: (md) => {
      assert.equal(md.participants[0]?.name, 'Extension 8500');
      assert.equal(md.participants[1]?.name, '', 'a blank name is no name');
      assert.equal(md.groups[0]?.id, 'MTQ3YzA3YzAtNjdkNy0xMA==');
      assert.match(md.groups[0]?.extensions[0] ?? '', /^<callData xmlns='urn:ietf:params:xml:ns:callData'>/);
      assert.equal(md.hints.fromHeader, '"Extension 8500" <sip:2249888500@172.16.198.55>;tag=SerryvK5ej0jc');
      assert.equal(md.hints.callId, '2da553f7-a48b-1235-d6a2-5254003a4988');
      assert.equal(md.participants[0]?.associateTime, '1970-05-13T03:29:05Z');
    },
  },
  'drachtio__cisco-cube.txt': {
    schema: 'rfc7865',
    labels: ['1', '2'],
    sessionId: 'kQNhKFdEEeeJ9tD/VsPGWA==',
    parts: [
      ['sip:7301@35.162.237.204', ['1'], ['2']],
      ['sip:7300@35.162.237.204', ['2'], ['1']],
    ],
    more: (md) => {
      assert.deepEqual(md.sessions[0]?.sipSessionIds, ['e9fffff2020a598b86962867715db0cf;remote=cd0f7093d62c5f0697098fd69a4aa57b']);
      assert.equal(md.sessions[0]?.startTime, '2017-06-23T12:16:06.040Z');
      assert.equal(md.participants[1]?.name, '7300');
    },
  },
  'drachtio__cisco-cube-inactive-sdp.txt': {
    schema: 'rfc7865',
    labels: ['1', '2'],
    // Empty participantstreamassoc elements: no associations at all.
    parts: [
      ['sip:0733165805@192.168.40.34', [], []],
      ['sip:+972546136443@192.168.10.140', [], []],
    ],
  },
  'drachtio__avaya-sbce.txt': {
    schema: 'rfc7865',
    labels: ['10', '20'],
    sessionId: '00FA0800705D4C5DCAAC41',
    parts: [
      ['sip:9878942259@212.188.68.145', ['10'], []],
      ['sip:ASBCE@asbce.com', ['20'], []],
    ],
    more: (md) => {
      assert.equal(md.sessions[0]?.associateTime, '2019-11-12T15:57:37', 'sessionrecordingassoc time');
      assert.equal(md.participants[0]?.associateTime, '2019-11-12T15:57:37', 'participantsessionassoc time');
    },
  },
  'telecats__audiocodes-1.txt': {
    schema: 'draft',
    labels: ['1', '2'],
    parts: [
      ['+31534889935@ims.imscore.net', ['1'], ['2']],
      ['+31886601071@199.103.12.213', ['2'], ['1']],
    ],
    more: (md) => {
      assert.equal(md.hints.ucid, 'YMMYTHBSHLHTEKNKJU4OIGEYBREHSHH3BJS3');
      assert.match(md.sessions[0]!.extensions[0]!, /^<ac:AvayaUCID xmlns="urn:ietf:params:xml:ns:Avaya">/);
      assert.equal(md.sessions[0]?.groupId, '00000000-0000-00c2-b0f3-150000285541');
    },
  },
  'drachtio__opensips-connectel-1.txt': {
    schema: 'rfc7865',
    labels: ['1', '2'],
    parts: [
      ['sip:0771121212@52.57.92.239', [], []],
      ['sip:0760516936@sip-cust1.connectel.io', [], []],
    ],
    more: (md) => assert.equal(md.participants[0]?.name, 'test_user;lang=en-US;id=22'),
  },
  'drachtio__opensips-connectel-2.txt': {
    schema: 'rfc7865',
    labels: ['1', '2'],
    parts: [
      ['sip:0771121212@52.57.92.239', [], []],
      ['sip:0760516936@sip-cust1.connectel.io', [], []],
    ],
    more: (md) => assert.equal(md.participants[0]?.name, 'test_user;lang=en-US'),
  },
  'drachtio__opensips-connectel-3.txt': {
    schema: 'rfc7865',
    labels: ['1', '2'],
    parts: [
      ['sip:0771121212@52.57.92.239', [], []],
      ['sip:0760516936@sip-cust1.connectel.io', [], []],
    ],
    more: (md) => assert.equal(md.participants[0]?.name, 'test_user'),
  },
  'drachtio__sems-procomm.txt': {
    schema: 'rfc7865',
    labels: ['a_leg', 'b_leg'],
    parts: [
      ['sip:016190200@87.252.209.116', ['a_leg'], ['b_leg']],
      ['Extension-016190619@speechpath.ie', ['b_leg'], ['a_leg']],
    ],
  },
  'drachtio-pr55__intrado-viper-full-invite.txt': {
    schema: 'rfc7865',
    labels: ['1'],
    parts: [['4058327108@10.105.190.136:5060', ['1'], ['1'], 'caller']],
    more: (md) => {
      assert.equal(md.sessions[0]?.startTime, '2022-07-21T12:36:06-06:00');
      assert.equal(md.groups[0]?.id, 'ZWIxYWRkOTAtYjg4Ny00ZWVhLWFjYWMtZWRl');
      assert.deepEqual(md.participants[0]?.extensions, ['<channel>SIP/911202-073e</channel>', '<role>calling</role>']);
    },
  },
  'ecgroup__broadworks-v4-origcall.txt': {
    schema: 'broadworks',
    labels: ['1', '2'],
    sessionId: 'urn:uuid:7ee4c89f-31d9-41e1-b6f1-8018b79b03d7',
    parts: [
      ['sip:user1001@example.test', ['1'], []],
      ['sip:15550001002@192.0.2.10;user=phone', ['2'], [], 'callee'],
    ],
    more: (md) => {
      assert.equal(md.hints.callType, 'originating');
      assert.equal(md.recordingId, 'urn:uuid:74796fcb-6055-4995-a980-58873db804ff');
      assert.equal(md.groups[0]?.initiator, 'sip:user1001@example.test');
      assert.match(md.extensions[0]!, /^<extensiondata id="urn:uuid:233b95f8[\s\S]*<callID>callhalf-95876388553:0<\/callID>[\s\S]*<\/extensiondata>$/);
    },
  },
  'ecgroup__broadworks-v4-lineport.txt': {
    schema: 'broadworks',
    labels: ['1', '2'],
    parts: [
      ['sip:fred@vwave.net', ['1'], []],
      ['sip:+12295556666@vwave.net', ['2'], [], 'callee'],
    ],
    more: (md) => assert.equal(md.groups[0]?.initiator, 'sip:fred@vwave.net'),
  },
};

describe('rs-metadata: every public sample parses to its participants, streams and associations', () => {
  for (const [file, want] of Object.entries(SAMPLES)) {
    it(file, () => {
      const md = parse(metadataOf(file));
      assert.equal(md.schema, want.schema);
      assert.equal(md.dataMode, 'complete');
      assert.equal(md.wellFormed, true);
      assert.deepEqual(
        md.streams.map((s) => s.label),
        want.labels,
      );
      const got = summary(md);
      assert.deepEqual(
        got.map((p) => [p.aor, p.send, p.recv]),
        want.parts.map(([aor, send, recv]) => [aor, send, recv]),
      );
      want.parts.forEach(([, , , role], i) => {
        if (role !== undefined) assert.equal(got[i]?.role, role, `role of ${got[i]?.aor}`);
      });
      if (want.sessionId) assert.equal(md.sessions[0]?.id, want.sessionId);
      want.more?.(md);
    });
  }

  it('the BroadWorks body with its tags stripped is recognised and marked incomplete, not refused', () => {
    const md = parse(metadataOf('drachtio__broadworks-tags-stripped.txt'));
    assert.equal(md.schema, 'broadworks');
    assert.equal(md.participants.length, 0);
    assert.ok(md.problems.includes('no participants'));
    assert.ok(md.problems.some((p) => p.includes('tags stripped')));
  });
});

/** The CDATA messages of a SIPp scenario, dedented, with placeholders filled in. */
describe('rs-metadata: malformed and hostile input', () => {
  const ok = `<recording xmlns="urn:ietf:params:xml:ns:recording:1"><datamode>complete</datamode>
<participant participant_id="p1"><nameID aor="sip:a@x"><name>A &amp; B</name></nameID></participant></recording>`;

  it('decodes entities, keeps going over a raw ampersand (marked not well-formed)', () => {
    assert.equal(parse(ok).participants[0]?.name, 'A & B');
    const md = parse(ok.replace('A &amp; B', 'A & B'));
    assert.equal(md.wellFormed, false);
    assert.equal(md.participants[0]?.aor, 'sip:a@x');
  });

  it('any prefix, camelCase dataMode, partial', () => {
    const md = parse(`<x:recording xmlns:x="urn:ietf:params:xml:ns:recording:1"><x:dataMode>Partial</x:dataMode><x:participant participant_id="p"><x:nameID aor="sip:b@y"/></x:participant></x:recording>`);
    assert.equal(md.dataMode, 'partial');
    assert.equal(md.participants[0]?.aor, 'sip:b@y');
  });

  it('an element of another namespace with a recording-like name is an extension, not a participant', () => {
    const md = parse(`<recording xmlns="urn:ietf:params:xml:ns:recording:1"><v:participant xmlns:v="urn:vendor" participant_id="z"/></recording>`);
    assert.equal(md.participants.length, 0);
    assert.equal(md.extensions.length, 1);
  });

  it('refuses DOCTYPEs (entity expansion), too deep nesting, too many elements, too much text', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><recording xmlns="urn:ietf:params:xml:ns:recording:1"><participant participant_id="&c;"/></recording>`;
    const r1 = parseRsMetadata(bomb);
    assert.equal(r1.ok ? 'ok' : r1.reason, 'doctype');
    const deep = `<recording xmlns="urn:ietf:params:xml:ns:recording:1">${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</recording>`;
    const r2 = parseRsMetadata(deep);
    assert.equal(r2.ok ? 'ok' : r2.reason, 'too_deep');
    const many = `<recording xmlns="urn:ietf:params:xml:ns:recording:1">${'<s/>'.repeat(20000)}</recording>`;
    const r3 = parseRsMetadata(many);
    assert.equal(r3.ok ? 'ok' : r3.reason, 'too_many_elements');
    const big = `<recording xmlns="urn:ietf:params:xml:ns:recording:1"><x>${'y'.repeat(10 * 1024 * 1024)}</x></recording>`;
    const t0 = Date.now();
    const r4 = parseRsMetadata(big);
    assert.equal(r4.ok ? 'ok' : r4.reason, 'too_large');
    assert.ok(Date.now() - t0 < 100, 'refused before parsing');
  });

  it('random bytes and every prefix of a sample never throw', () => {
    const sample = metadataOf('drachtio__sonus-ribbon.txt');
    for (let i = 0; i <= sample.length; i += 7) parseRsMetadata(sample.slice(0, i));
    let seed = 7;
    for (let n = 0; n < 300; n++) {
      let s = '';
      for (let i = 0; i < 200; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        s += '<>/="a:xmlns &;!?-['[seed % 20] ?? 'z';
      }
      parseRsMetadata(s);
      parseXmlTree(s);
    }
  });

  it('sameParty: AORs with and without scheme, numbers by suffix', () => {
    assert.ok(sameParty('sip:7602922410@h', '7602922410'));
    assert.ok(sameParty('+17602922410', 'sip:7602922410@x'));
    assert.ok(!sameParty('sip:alice@a', 'sip:alice2@a'));
    assert.ok(!sameParty('sip:1001@a', 'sip:1002@a'));
  });
});

// Our own documents in the shapes of the unlicensed SIPp scenario samples (Metaswitch CFS,
// BroadWorks ACD and 3-way calls; see shared-samples.check.ts for the check against them).
describe('rs-metadata: vendor shapes of our own', () => {
  it('Metaswitch style: draft namespace, bare-digit AORs, both participants send the one mixed stream', () => {
    const md = parse(`<?xml version="1.0" encoding="UTF-8"?>
<recording id="rec-ms-1" xmlns="urn:ietf:params:xml:ns:recording">
<datamode>complete</datamode>
<session session_id="sess-ms-1"><start-time>2026-02-03T10:00:00Z</start-time></session>
<participant participant_id="pa"><nameID aor="4155550111"><name>Ann Caller</name></nameID></participant>
<participant participant_id="pb"><nameID aor="4155550122"><name>Desk</name></nameID></participant>
<stream stream_id="s1" session_id="sess-ms-1"><label>1</label></stream>
<participantstreamassoc participant_id="pa"><send>s1</send></participantstreamassoc>
<participantstreamassoc participant_id="pb"><send>s1</send></participantstreamassoc>
<extensiondata xmlns:ms="http://example.com/ns/cfs"><ms:callType>terminating</ms:callType></extensiondata>
</recording>`);
    assert.equal(md.schema, 'draft');
    assert.equal(md.recordingId, 'rec-ms-1');
    assert.equal(md.hints.callType, 'terminating');
    assert.deepEqual(
      summary(md).map((p) => [p.aor, p.name, p.send]),
      [
        ['4155550111', 'Ann Caller', ['1']],
        ['4155550122', 'Desk', ['1']],
      ],
      'one stream sent by both: a mixed stream (recorded mono)',
    );
  });

  it('BroadWorks ACD style: its own schema, a participant naming a stream that is not described is reported', () => {
    const md = parse(`<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec">
  <dataMode>complete</dataMode>
  <recording id="urn:uuid:00000000-0000-4000-8000-000000000001"><requestor>SRC</requestor><type>selective</type></recording>
  <group id="urn:uuid:g1" recording="urn:uuid:00000000-0000-4000-8000-000000000001"><initiator>sip:3125550100</initiator></group>
  <session id="urn:uuid:s1" group="urn:uuid:g1"><start-time>2026-02-03T10:00:00+00:00</start-time></session>
  <participant id="urn:uuid:p1" session="urn:uuid:s1"><aor>sip:3125550100</aor><send><id>urn:uuid:st1</id></send></participant>
  <participant id="urn:uuid:p2" session="urn:uuid:s1"><aor>sip:+13125550199@example.net;user=phone</aor><send><id>urn:uuid:st-missing</id></send></participant>
  <stream id="urn:uuid:st1" session="urn:uuid:s1"><label>1</label><mode>mixed</mode></stream>
</recording_metadata>`);
    assert.equal(md.schema, 'broadworks');
    assert.equal(md.streams[0]?.mode, 'mixed');
    assert.equal(md.participants[0]?.aor, 'sip:3125550100');
    assert.ok(md.problems.some((p) => p.includes('not described')), md.problems.join('; '));
  });

  it('BroadWorks 3-way style: a partial UPDATE adds the third participant, the streams stay', () => {
    const doc = (mode: string, extra: string): string => `<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec">
  <dataMode>${mode}</dataMode>
  <session id="urn:uuid:s1"><start-time>2026-02-03T10:00:00+00:00</start-time></session>
  ${extra}
</recording_metadata>`;
    const first = parse(
      doc(
        'complete',
        `<participant id="urn:uuid:p1" session="urn:uuid:s1"><aor>sip:1001@pbx.example</aor><send><id>urn:uuid:st1</id></send></participant>
  <participant id="urn:uuid:p2" session="urn:uuid:s1"><aor>sip:2002@pbx.example</aor><send><id>urn:uuid:st1</id></send></participant>
  <stream id="urn:uuid:st1" session="urn:uuid:s1"><label>1</label></stream>`,
      ),
    );
    const upd = parse(doc('partial', `<participant id="urn:uuid:p3" session="urn:uuid:s1"><aor>sip:3003@pbx.example</aor><send><id>urn:uuid:st1</id></send></participant>`));
    assert.equal(upd.dataMode, 'partial');
    const merged = mergeMetadata(first, upd);
    assert.deepEqual(
      merged.participants.map((p) => p.aor),
      ['sip:1001@pbx.example', 'sip:2002@pbx.example', 'sip:3003@pbx.example'],
    );
    assert.equal(merged.streams.length, 1, 'the complete snapshot’s streams stay');
  });
});
