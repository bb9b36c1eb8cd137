/**
 * A developer's check, not part of `make test`: the SIPp scenario samples of the shared research
 * folder carry no licence, so they are read in place and never copied into fixtures/ (and are
 * absent on CI). Run by hand: node --test dist/test/recorder/siprec/shared-samples.check.js
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mergeMetadata } from '../../../recorder/siprec/metadata-merge.js';
import { SHARED, parse, summary } from './siprec-helpers.js';

function scenarioMessages(file: string): string[] {
  const xml = readFileSync(join(SHARED, file), 'latin1');
  return [...xml.matchAll(/<!\[CDATA\[([\s\S]*?)\]\]>/g)].map((m) => {
    const lines = m[1]!.split('\n');
    const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
    return lines
      .map((l) => l.slice(indent))
      .join('\n')
      .replace(/\[call_id\]/g, 'cid')
      .replace(/\[[a-z_]+\]/g, 'x');
  });
}

const metadataIn = (msg: string): string => {
  const at = msg.search(/<\?xml|<recording/);
  const end = Math.max(msg.lastIndexOf('</recording>') + 12, msg.lastIndexOf('</recording_metadata>') + 21);
  return msg.slice(at, end);
};

// Scenario files without a licence are only read from the shared folder, never copied.
describe('rs-metadata: the SIPp scenario samples (read-only check)', () => {
  it('Metaswitch: draft namespace, bare-digit AORs, both participants send the one mixed stream', () => {
    const md = parse(metadataIn(scenarioMessages('miarec__metaswitch-basic-inbound.sipp.xml')[0]!));
    assert.equal(md.schema, 'draft');
    assert.equal(md.recordingId, '1cge8uKKEeajkuyezQV3BA==');
    assert.deepEqual(summary(md).map((p) => [p.aor, p.send, p.role]), [
      ['7602922411', ['1'], 'caller'],
      ['7602922410', ['1'], ''],
    ]);
    assert.equal(md.hints.callType, 'terminating');
  });

  it('BroadWorks ACD: dangling stream reference reported, mixed mode', () => {
    const md = parse(metadataIn(scenarioMessages('miarec__broadworks-acd.sipp.xml')[0]!));
    assert.equal(md.streams[0]?.mode, 'mixed');
    assert.equal(md.participants[0]?.aor, 'sip:8638254725');
    assert.ok(md.problems.some((p) => p.includes('not described')));
  });

  it('BroadWorks 3-way: the partial UPDATE adds the third participant', () => {
    const msgs = scenarioMessages('miarec__broadworks-3way-partial-update.sipp.xml');
    const first = parse(metadataIn(msgs[0]!));
    const upd = parse(metadataIn(msgs.find((m) => m.trim().startsWith('UPDATE'))!));
    assert.equal(upd.dataMode, 'partial');
    const merged = mergeMetadata(first, upd);
    assert.deepEqual(
      merged.participants.map((p) => p.aor),
      ['sip:86085911415207@cloudcalling-e.onestreamnetworks.com', 'sip:3000@10.21.0.216;user=phone', 'sip:7824@10.21.0.216;user=phone'],
    );
    assert.equal(merged.streams.length, 1, 'streams of the complete snapshot stay');
  });

  it('Avaya SBCE: the UPDATE replaces the placeholder participant', () => {
    const msgs = scenarioMessages('miarec__avaya-sbce-inbound.sipp.xml');
    const first = parse(metadataIn(msgs[0]!));
    assert.equal(first.streams[1]?.id, '', 'empty stream_id kept');
    const upd = parse(metadataIn(msgs.find((m) => m.trim().startsWith('UPDATE'))!));
    const merged = mergeMetadata(first, upd);
    assert.deepEqual(merged.participants.map((p) => p.aor), ['sip:13035381001@10.64.110.65', 'sip:7204541001@10.64.110.32']);
  });

  it('Webex: termCall and the calling number make the second participant the caller', () => {
    const md = parse(metadataIn(scenarioMessages('miarec__webex-calling-inbound.sipp.xml')[0]!));
    assert.deepEqual(summary(md).map((p) => p.role), ['', 'caller']);
  });
});

