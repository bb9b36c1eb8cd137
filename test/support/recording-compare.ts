/**
 * Comparing two recordings of the same call made by different paths (TURN-wrapped vs unwrapped
 * capture, agent → HEP vs replay): the same streams, and the same samples in the same channels.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { CallRecord } from '../../recorder/calls/call-record.js';
import { soxDecodeG711 } from './reference-decode.js';
import { readWav } from './wav.js';

export interface ReplayJson {
  capture: { packets: number; malformed: Record<string, number> };
  calls: CallRecord[];
}

/** `bin/recorder replay FILES --out OUT --config CONFIG --json`: its summary (exit status 0 asserted). */
export function replaySummary(files: string[], out: string, config: string, extra: string[] = []): ReplayJson {
  const r = spawnSync('bin/recorder', ['replay', ...files, '--out', out, '--config', config, '--json', ...extra], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as ReplayJson;
}

/** The calls of replaySummary. */
export const replayCalls = (files: string[], out: string, config: string, extra: string[] = []): CallRecord[] => replaySummary(files, out, config, extra).calls;

/** What must match between two recordings of one call: each stream's SSRC, party, codec and counts. */
export const streamsView = (c: CallRecord): unknown => c.streams.map((s) => [s.ssrc, s.party, s.codec, s.packets, s.lost, s.duplicates]).sort((a, b) => Number(a[0]) - Number(b[0]));

/** Both WAV recordings hold the same samples in the same channels. */
export function sameAudio(a: CallRecord, b: CallRecord): void {
  assert.ok(a.recording && b.recording, 'both calls have a recording');
  const wa = readWav(a.recording.path);
  const wb = readWav(b.recording.path);
  assert.equal(wa.channels, wb.channels);
  assert.ok(wa.channel[0]!.length > 8000 * 0.9, `recording of ${a.callId} lasts ${wa.channel[0]!.length} samples`);
  for (let c = 0; c < wa.channels; c++) assert.deepEqual(Buffer.from(wa.channel[c]!.buffer), Buffer.from(wb.channel[c]!.buffer), `${a.callId} channel ${c}`);
}

/**
 * Channel `channel` of a WAV recording holds the µ-law payloads as sox decodes them, sample for
 * sample, from wherever the first packet lands (live calls start at no fixed offset).
 */
export function assertG711Audio(wavPath: string, channel: number, payloads: Buffer[], upTo = payloads.length): void {
  const samples = readWav(wavPath).channel[channel]!;
  const ref = soxDecodeG711(Buffer.concat(payloads.slice(0, upTo)), 'mu-law');
  let anchor = -1;
  for (let i = 0; i + 160 <= samples.length && anchor < 0; i++) if (ref.subarray(0, 160).every((v, j) => samples[i + j] === v)) anchor = i;
  assert.ok(anchor >= 0, 'first packet not found');
  for (let i = 0; i < ref.length; i++) assert.equal(samples[anchor + i], ref[i], `sample ${i}`);
}
