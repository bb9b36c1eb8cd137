import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CallRecord } from '../../../recorder/calls/call-record.js';
import { formatCalls, parseTimeArg, talkTime } from '../../../recorder/cli/calls-command.js';
import { CallIndex } from '../../../recorder/index/call-index.js';
import { makeRecord } from '../index/call-records.js';
import { tempDir } from '../../support/temp-dir.js';

/**
 * The built CLI: bin/recorder once main.ts registers `calls`; until then the same command
 * registered on a bare program with main.ts's error handling, from the built dist/ files.
 */
const wired = spawnSync('bin/recorder', ['calls', '--help'], { encoding: 'utf8' }).status === 0;
const harness = `
const { Command, CommanderError } = await import('commander');
const { registerCallsCommand } = await import(${JSON.stringify(resolve('dist/recorder/cli/calls-command.js'))});
const { fail, UsageError } = await import(${JSON.stringify(resolve('dist/recorder/cli/errors.js'))});
const program = new Command('recorder').exitOverride();
registerCallsCommand(program);
try {
  await program.parseAsync(process.argv.slice(1), { from: 'user' });
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof UsageError) fail('recorder: ' + err.message);
  throw err;
}`;

const run = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = wired
    ? spawnSync('bin/recorder', ['calls', ...args], { encoding: 'utf8' })
    : spawnSync(process.execPath, ['--input-type=module', '-e', harness, 'calls', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const dir = tempDir('calls-cli-');
const indexDir = join(dir, 'index');
const calls: CallRecord[] = [
  makeRecord('2024-05-01T08:00:00Z', 1, {
    user: 'alice',
    callId: 'a1@pbx',
    answer: '2024-05-01T08:00:05Z',
    end: '2024-05-01T09:02:08Z',
    recording: { path: 'rec/2024/05/01/a1.wav', format: 'wav', channels: 2, sampleRate: 8000, durationMs: 3723000, sha256: '00', complete: true, notes: [] },
  }),
  makeRecord('2024-05-01T09:00:00Z', 2, {
    user: 'bob',
    callId: 'b1@pbx',
    direction: 'inbound',
    from: { uri: 'sip:+442071234567@gw', number: '+442071234567', name: 'London' },
    to: { uri: 'sip:1002@pbx', number: '1002', name: 'Bob' },
  }),
  makeRecord('2024-05-02T10:00:00Z', 3, { user: null, callId: 'x1@pbx', direction: 'unknown', answer: '2024-05-02T10:00:01Z', end: '2024-05-02T10:00:31Z' }),
];

before(async () => {
  const index = CallIndex.open(indexDir);
  for (const c of calls) index.put(c);
  await index.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

const jsonIds = (out: string): string[] => (JSON.parse(out) as CallRecord[]).map((c) => c.id);
const [c1, c2, c3] = calls as [CallRecord, CallRecord, CallRecord];

describe(`recorder calls (${wired ? 'bin/recorder' : 'registered on a bare program: main.ts does not register it yet'})`, () => {
  it('--json prints the matching CallRecords, newest first', () => {
    const r = run('--index', indexDir, '--json');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), [c3, c2, c1]);
  });

  const filters: [string, string[], CallRecord[]][] = [
    ['--user', ['--user', 'alice'], [c1]],
    ['--number (suffix of an international number)', ['--number', '2071234567'], [c2]],
    ['--number (another spelling)', ['--number', '+1 (555) 123-4567'], [c3, c1]],
    ['--call-id', ['--call-id', 'b1@pbx'], [c2]],
    ['--since', ['--since', '2024-05-01T09:00:00Z'], [c3, c2]],
    ['--until', ['--until', '2024-05-01T08:59:59Z'], [c1]],
    ['--since with an offset', ['--since', '2024-05-02T11:00:00+02:00'], [c3]],
    ['--since an age', ['--since', '100000d'], [c3, c2, c1]],
    ['combined', ['--user', 'bob', '--since', '2024-05-01', '--until', '2024-05-01T23:59:59Z'], [c2]],
    ['--limit', ['--limit', '2'], [c3, c2]],
    ['nothing matches', ['--user', 'mallory'], []],
  ];
  for (const [name, args, want] of filters) {
    it(name, () => {
      const r = run('--index', indexDir, '--json', ...args);
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(jsonIds(r.out), want.map((c) => c.id));
    });
  }

  it('human output is a table with start, direction, from, to, duration, user, recording', () => {
    const r = run('--index', indexDir);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^START \(UTC\)\s+DIRECTION\s+FROM\s+TO\s+DURATION\s+USER\s+RECORDING$/);
    assert.match(lines[1] ?? '', /^2024-05-02 10:00:00\s+unknown\s+1001\s+\+1 555-123-4567\s+0:00:30\s+-\s+-$/);
    assert.match(lines[2] ?? '', /^2024-05-01 09:00:00\s+inbound\s+\+442071234567\s+1002\s+-\s+bob\s+-$/);
    assert.match(lines[3] ?? '', /^2024-05-01 08:00:00\s+outbound\s+1001\s+\+1 555-123-4567\s+1:02:03\s+alice\s+rec\/2024\/05\/01\/a1\.wav$/);
    assert.equal(lines[4], '3 calls');
    // Columns line up: every row has DURATION at the same offset.
    const at = (lines[0] ?? '').indexOf('DURATION');
    for (const l of lines.slice(1, 4)) assert.match(l.slice(at), /^(0:00:30|-|1:02:03)\s/);
  });

  it('the index directory comes from --config when --index is absent', () => {
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ storage: { dataDir: join(dir, 'other'), indexDir } }));
    const r = run('--config', cfg, '--json', '--user', 'bob');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(jsonIds(r.out), [c2.id]);
  });

  const errors: [string, string[], RegExp][] = [
    ['bad --since', ['--since', 'last tuesday'], /^recorder: --since: not a date\/time: "last tuesday" \(use e\.g\. 2024-05-01, 2024-05-01T09:30:00Z or 24h\)\n$/],
    ['bad --until', ['--until', '2024-13-45'], /^recorder: --until: not a date\/time: "2024-13-45"/],
    ['--since after --until', ['--since', '2024-05-02', '--until', '2024-05-01'], /^recorder: --since 2024-05-02T00:00:00\.000Z is after --until 2024-05-01T00:00:00\.000Z\n$/],
    ['bad --limit', ['--limit', '0'], /^recorder: --limit must be a positive integer, got "0"\n$/],
    ['empty --number', ['--number', ' '], /^recorder: --number: empty\n$/],
    ['missing index', ['--index', join(tmpdir(), 'no-such-index-dir-here')], /^recorder: no call index at .*no-such-index-dir-here \(give --index DIR or --config FILE\)\n$/],
  ];
  for (const [name, args, want] of errors) {
    it(`${name}: one line, exit 2`, () => {
      const r = run(...(args.includes('--index') ? [] : ['--index', indexDir]), ...args);
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.match(r.err, want);
    });
  }

  it('a bad config file: its one line, exit 2', () => {
    const cfg = join(dir, 'bad.json');
    writeFileSync(cfg, '{"storage": {"indexdir": "x"}}');
    const r = run('--config', cfg);
    assert.equal(r.code, 2);
    assert.equal(r.err, `recorder: ${cfg}: storage: unknown key "indexdir" (did you mean "indexDir"?)\n`);
  });
});

describe('calls-command helpers', () => {
  it('parseTimeArg: absolute times normalised to ISO, ages back from now', () => {
    const now = Date.parse('2024-05-10T12:00:00Z');
    assert.equal(parseTimeArg('--since', '2024-05-01', now), '2024-05-01T00:00:00.000Z');
    assert.equal(parseTimeArg('--since', '2024-05-01T09:30:00+02:00', now), '2024-05-01T07:30:00.000Z');
    assert.equal(parseTimeArg('--since', '24h', now), '2024-05-09T12:00:00.000Z');
    assert.equal(parseTimeArg('--since', '90m', now), '2024-05-10T10:30:00.000Z');
    assert.equal(parseTimeArg('--since', '2w', now), '2024-04-26T12:00:00.000Z');
    assert.throws(() => parseTimeArg('--since', 'soon', now), /--since: not a date\/time: "soon"/);
  });

  it('talkTime and the table footer', () => {
    assert.equal(talkTime(c1), '1:02:03');
    assert.equal(talkTime(c2), '-');
    assert.match(formatCalls([c1, c2], 2), /2 calls \(the newest 2; --limit N shows more\)\n$/);
    assert.equal(formatCalls([], 10), 'no calls match\n');
  });
});
