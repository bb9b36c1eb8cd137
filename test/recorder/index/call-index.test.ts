import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CallRecord } from '../../../recorder/calls/call-record.js';
import { CallIndex, CallIndexError, newCallId, numberDigits } from '../../../recorder/index/call-index.js';
import { makeRecord } from './call-records.js';
import { tempDir as makeTempDir } from '../../support/temp-dir.js';

const tempDir = (): string => makeTempDir('call-index-');

const ids = (recs: CallRecord[]): string[] => recs.map((r) => r.id);

describe('newCallId', () => {
  it('sorts lexicographically by start time, then sequence', () => {
    const times = ['2024-05-01T09:30:12.345Z', '2024-05-01T09:30:12.346Z', '2024-05-01T10:00:00Z', '2025-01-01T00:00:00+02:00', '1999-12-31T23:59:59.999Z'];
    const made = times.flatMap((t, i) => [
      { ms: Date.parse(t), seq: 100 - i, id: newCallId(t, 100 - i) },
      { ms: Date.parse(t), seq: 1000 + i, id: newCallId(t, 1000 + i) },
    ]);
    const byTime = [...made].sort((a, b) => a.ms - b.ms || a.seq - b.seq).map((m) => m.id);
    assert.deepEqual(made.map((m) => m.id).sort(), byTime);
    assert.equal(newCallId('2024-05-01T09:30:12.345Z', 7), '20240501T093012.345Z-000007');
  });

  it('rejects a bad time or sequence', () => {
    assert.throws(() => newCallId('yesterday-ish', 1), RangeError);
    assert.throws(() => newCallId('2024-05-01T00:00:00Z', -1), RangeError);
    assert.throws(() => newCallId('2024-05-01T00:00:00Z', 1.5), RangeError);
  });
});

describe('numberDigits', () => {
  const cases: [string, string][] = [
    ['+1 555-123', '1555123'],
    ['(555) 100.1', '5551001'],
    ['1001', '1001'],
    ['alice', ''],
    ['*97', ''],
    ['12#3', ''],
  ];
  for (const [n, want] of cases) it(`${n} → "${want}"`, () => assert.equal(numberDigits(n), want));
});

describe('CallIndex', () => {
  // Six calls over two days, two users, numbers in several spellings.
  const recs = [
    makeRecord('2024-05-01T08:00:00Z', 1, { user: 'alice', callId: 'a1@x', from: { uri: 'sip:1001@x', number: '1001', name: '' }, to: { uri: 'tel:+15551234567', number: '+1 555-123-4567', name: '' } }),
    makeRecord('2024-05-01T09:00:00Z', 2, { user: 'bob', callId: 'b1@x', from: { uri: 'sip:1002@x', number: '1002', name: '' }, to: { uri: 'sip:15551234567@x', number: '15551234567', name: '' } }),
    makeRecord('2024-05-01T10:00:00Z', 3, { user: 'alice', callId: 'a2@x', from: { uri: 'sip:+15559990000@x', number: '+15559990000', name: '' }, to: { uri: 'sip:1001@x', number: '1001', name: '' } }),
    makeRecord('2024-05-02T08:00:00Z', 4, { user: null, callId: 'n1@x', from: { uri: 'sip:Carol@x', number: 'Carol', name: '' }, to: { uri: 'sip:*97@x', number: '*97', name: '' } }),
    makeRecord('2024-05-02T09:00:00Z', 5, { user: 'bob', callId: 'b2@x', from: { uri: 'sip:101@x', number: '101', name: '' }, to: { uri: 'sip:1101@x', number: '1101', name: '' } }),
    makeRecord('2024-05-02T09:00:00Z', 6, { user: 'alice', callId: 'a1@x', from: { uri: 'sip:1001@x', number: '1001', name: '' }, to: { uri: 'sip:2000@x', number: '2000', name: '' } }),
  ];
  const [r1, r2, r3, r4, r5, r6] = recs as [CallRecord, CallRecord, CallRecord, CallRecord, CallRecord, CallRecord];
  const dir = tempDir();
  let index: CallIndex;

  it('stores records with one batched flush', async () => {
    index = CallIndex.open(dir);
    for (const r of recs) index.put(r);
    await index.flushed();
    assert.deepEqual(index.get(r3.id), r3);
    assert.equal(index.get('nope'), undefined);
  });

  const cases: [string, Parameters<CallIndex['find']>[0], CallRecord[]][] = [
    ['everything, newest first (same start: higher id first)', {}, [r6, r5, r4, r3, r2, r1]],
    ['limit', { limit: 2 }, [r6, r5]],
    ['user', { user: 'alice' }, [r6, r3, r1]],
    ['user + limit', { user: 'bob', limit: 1 }, [r5]],
    ['unknown user', { user: 'mallory' }, []],
    ['Call-ID (two calls share one)', { callId: 'a1@x' }, [r6, r1]],
    ['since (inclusive)', { since: '2024-05-01T10:00:00Z' }, [r6, r5, r4, r3]],
    ['until (inclusive)', { until: '2024-05-01T09:00:00Z' }, [r2, r1]],
    ['range', { since: '2024-05-01T08:30:00Z', until: '2024-05-02T08:00:00Z' }, [r4, r3, r2]],
    ['range in another zone', { since: '2024-05-02T10:00:00+02:00' }, [r6, r5, r4]],
    ['user + range', { user: 'alice', since: '2024-05-01T09:00:00Z', until: '2024-05-01T23:00:00Z' }, [r3]],
    ['number exact', { number: '1001' }, [r6, r3, r1]],
    ['number, digits of any spelling', { number: '+1 (555) 123-4567' }, [r2, r1]],
    ['number suffix (>= 4 digits)', { number: '1234567' }, [r2, r1]],
    ['number suffix finds the + form', { number: '555-999-0000' }, [r3]],
    ['short number is exact, not suffix', { number: '101' }, [r5]],
    ['4 digits is a suffix', { number: '1101' }, [r5]],
    ['non-numeric number, any case', { number: 'carol' }, [r4]],
    ['feature code', { number: '*97' }, [r4]],
    ['number + user', { number: '1001', user: 'alice', until: '2024-05-01T12:00:00Z' }, [r3, r1]],
    ['number suffix + range + limit', { number: '4567', since: '2024-05-01T08:30:00Z', limit: 5 }, [r2]],
    ['Call-ID + user that does not match', { callId: 'b1@x', user: 'alice' }, []],
  ];
  for (const [name, q, want] of cases) {
    it(`find: ${name}`, () => assert.deepEqual(ids(index.find(q)), ids(want)));
  }

  it('find rejects a bad time, an empty number, a bad limit', () => {
    assert.throws(() => index.find({ since: 'last tuesday' }), /since: not a date\/time/);
    assert.throws(() => index.find({ number: '  ' }), /number: empty/);
    assert.throws(() => index.find({ limit: 0 }), /limit/);
  });

  it('an update replaces the secondary entries', async () => {
    const ended: CallRecord = {
      ...r1,
      user: 'bob',
      callId: 'a1-renamed@x',
      to: { uri: 'sip:3000@x', number: '3000', name: '' },
      end: '2024-05-01T08:05:00Z',
      recording: { path: 'rec/a1.wav', format: 'wav', channels: 2, sampleRate: 8000, durationMs: 300000, sha256: 'ab', complete: true, notes: [] },
    };
    index.put(ended);
    await index.flushed();
    assert.deepEqual(index.get(r1.id), ended);
    assert.deepEqual(ids(index.find({ user: 'alice' })), ids([r6, r3]));
    assert.deepEqual(ids(index.find({ user: 'bob' })), ids([r5, r2, r1]));
    assert.deepEqual(ids(index.find({ callId: 'a1@x' })), ids([r6]));
    assert.deepEqual(ids(index.find({ callId: 'a1-renamed@x' })), ids([r1]));
    assert.deepEqual(ids(index.find({ number: '4567' })), ids([r2]));
    assert.deepEqual(ids(index.find({ number: '3000' })), ids([r1]));
    assert.deepEqual(ids(index.find({})).length, 6);
  });

  it('several updates of one call before a commit leave only the last version indexed', async () => {
    const base = makeRecord('2024-06-01T00:00:00Z', 100, { user: 'u1', callId: 'multi@x' });
    index.put(base);
    index.put({ ...base, user: 'u2' });
    index.put({ ...base, user: 'u3', start: '2024-06-01T00:00:01Z' }); // start corrected: the time keys move too
    await index.flushed();
    assert.deepEqual(ids(index.find({ user: 'u1' })), []);
    assert.deepEqual(ids(index.find({ user: 'u2' })), []);
    assert.deepEqual(ids(index.find({ user: 'u3' })), [base.id]);
    assert.deepEqual(ids(index.find({ since: '2024-06-01T00:00:00.500Z' })), [base.id]);
    // One entry in the time index, not three.
    assert.deepEqual(ids(index.find({ since: '2024-06-01T00:00:00Z' })), [base.id]);
  });

  it('persists across close and reopen; read-only opens see it', async () => {
    await index.close();
    await index.close(); // twice is harmless
    assert.throws(() => index.put(r1), CallIndexError);
    const again = CallIndex.open(dir);
    assert.deepEqual(ids(again.find({ user: 'alice' })), ids([r6, r3]));
    assert.equal(again.get(r4.id)?.from.number, 'Carol');
    const ro = CallIndex.open(dir, { readOnly: true });
    assert.deepEqual(ids(ro.find({ number: '1002' })), ids([r2]));
    assert.throws(() => ro.put(r1), /read-only/);
    await ro.close();
    await again.close();
  });

  it('read-only open of a missing index says so', () => {
    const missing = join(tempDir(), 'nothing-here');
    assert.throws(() => CallIndex.open(missing, { readOnly: true }), (e: unknown) => e instanceof CallIndexError && /no call index at/.test(e.message));
  });
});

describe('CallIndex at volume', () => {
  it('inserts 100k records in batched commits, then finds by every key quickly', async (t) => {
    const index = CallIndex.open(tempDir());
    const n = 100_000;
    const users = ['alice', 'bob', 'carol', 'dave', null];
    const t0 = Date.parse('2024-01-01T00:00:00Z');
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const start = new Date(t0 + i * 1000).toISOString();
      index.put(
        makeRecord(start, i, {
          user: users[i % users.length] ?? null,
          callId: `call-${i}@pbx.example.com`,
          from: { uri: `sip:${1000 + (i % 500)}@pbx`, number: String(1000 + (i % 500)), name: '' },
          to: { uri: `sip:+1555${String(i).padStart(7, '0')}@pbx`, number: `+1555${String(i).padStart(7, '0')}`, name: '' },
        }),
      );
      // A live recorder puts from the event loop; yielding now and then lets commits overlap puts.
      if (i % 5000 === 4999) await new Promise((r) => setImmediate(r));
    }
    await index.flushed();
    const insertMs = performance.now() - started;
    t.diagnostic(`100k puts + flush: ${insertMs.toFixed(0)} ms (${Math.round(n / (insertMs / 1000))} records/s)`);

    const q0 = performance.now();
    assert.equal(index.find({ user: 'alice', limit: 50 }).length, 50);
    assert.equal(index.find({ callId: 'call-77777@pbx.example.com' })[0]?.id, newCallId(new Date(t0 + 77777 * 1000).toISOString(), 77777));
    assert.equal(index.find({ number: '1499' }).length, n / 500);
    assert.equal(index.find({ number: '5550099999' }).length, 1);
    const day = index.find({ since: '2024-01-01T10:00:00Z', until: '2024-01-01T10:59:59Z' });
    assert.equal(day.length, 3600);
    assert.equal(day[0]?.start, '2024-01-01T10:59:59.000Z');
    t.diagnostic(`5 queries: ${(performance.now() - q0).toFixed(0)} ms`);
    await index.close();
  });
});
