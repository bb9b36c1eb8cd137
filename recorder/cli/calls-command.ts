import type { Command } from 'commander';
import type { CallRecord, PartyInfo } from '../calls/call-record.js';
import { CallIndex, CallIndexError, MIN_SUFFIX_DIGITS, type CallQuery } from '../index/call-index.js';
import { ConfigError, defaultConfig, loadConfig } from '../ops/config.js';
import { UsageError } from './errors.js';

export interface CallsOptions {
  user?: string;
  number?: string;
  /** Already normalised to ISO 8601 by the option parser. */
  since?: string;
  until?: string;
  callId?: string;
  limit: number;
  index?: string;
  config?: string;
  json?: boolean;
}

const DEFAULT_LIMIT = 100;
const AGE = /^(\d+)\s*(s|m|min|h|d|w)$/i;
const AGE_MS: Record<string, number> = { s: 1e3, m: 60e3, min: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/**
 * `--since`/`--until`: an absolute time (ISO 8601 or anything Date.parse reads; date-only is UTC
 * midnight) or an age back from now (`90m`, `24h`, `7d`), which is what an operator usually means.
 */
export function parseTimeArg(option: string, text: string, now = Date.now()): string {
  const age = AGE.exec(text.trim());
  if (age) return new Date(now - Number(age[1]) * (AGE_MS[(age[2] ?? '').toLowerCase()] ?? 0)).toISOString();
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`${option}: not a date/time: "${text}" (use e.g. 2024-05-01, 2024-05-01T09:30:00Z or 24h)`);
  return new Date(ms).toISOString();
}

const positiveInt = (option: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${option} must be a positive integer, got "${v}"`);
  return n;
};

/** Adds `recorder calls` to the CLI. */
export function registerCallsCommand(program: Command): void {
  program
    .command('calls')
    .description('search recorded calls in the index, newest first')
    .option('--user <name>', 'calls of this directory user')
    .option('--number <number>', `either party's number: ${MIN_SUFFIX_DIGITS}+ digits match the end of a number (5551234 finds +1 555-123-4567), fewer must be equal`)
    .option('--since <time>', 'started at or after: 2024-05-01, 2024-05-01T09:30:00Z, or an age like 90m, 24h, 7d', (v) => parseTimeArg('--since', v))
    .option('--until <time>', 'started at or before (same forms as --since)', (v) => parseTimeArg('--until', v))
    .option('--call-id <id>', 'SIP Call-ID')
    .option('--limit <n>', 'show at most this many calls', positiveInt('--limit'), DEFAULT_LIMIT)
    .option('--index <dir>', 'index directory (default: storage.indexDir from --config, else data/index)')
    .option('--config <file>', 'recorder config file (for its index directory)')
    .option('--json', 'print a JSON array of call records')
    .action((opts: CallsOptions) => callsCommand(opts));
}

/** The directory to search: --index, else the config's, else the default config's. */
function indexDir(opts: CallsOptions): string {
  if (opts.index !== undefined) return opts.index;
  try {
    return (opts.config !== undefined ? loadConfig(opts.config) : defaultConfig()).storage.indexDir;
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

export async function callsCommand(opts: CallsOptions): Promise<void> {
  if (opts.number !== undefined && opts.number.trim() === '') throw new UsageError('--number: empty');
  if (opts.since !== undefined && opts.until !== undefined && opts.since > opts.until) {
    throw new UsageError(`--since ${opts.since} is after --until ${opts.until}`);
  }
  const dir = indexDir(opts);
  let index: CallIndex;
  try {
    // Read-only: a running recorder may be writing to the same index (LMDB allows one writer, many readers).
    index = CallIndex.open(dir, { readOnly: true });
  } catch (err) {
    if (err instanceof CallIndexError) throw new UsageError(`${err.message} (give --index DIR or --config FILE)`);
    throw err;
  }
  let calls: CallRecord[];
  try {
    const q: CallQuery = { limit: opts.limit };
    if (opts.user !== undefined) q.user = opts.user;
    if (opts.number !== undefined) q.number = opts.number;
    if (opts.since !== undefined) q.since = opts.since;
    if (opts.until !== undefined) q.until = opts.until;
    if (opts.callId !== undefined) q.callId = opts.callId;
    calls = index.find(q);
  } finally {
    await index.close();
  }
  process.stdout.write(opts.json ? `${JSON.stringify(calls, null, 2)}\n` : formatCalls(calls, opts.limit));
}

const party = (p: PartyInfo): string => {
  const s = p.number || p.uri || '-';
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
};

/** Talk time (answer to end) as H:MM:SS; '-' for a call never answered. */
export function talkTime(rec: CallRecord): string {
  if (rec.answer === null) return '-';
  const ms = Date.parse(rec.end) - Date.parse(rec.answer);
  if (!(ms >= 0)) return '-';
  const s = Math.round(ms / 1000);
  const mmss = `${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  return `${Math.floor(s / 3600)}:${mmss}`;
}

const startUtc = (iso: string): string => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
};

/** A plain table, one call per line, columns padded to their widest cell. */
export function formatCalls(calls: readonly CallRecord[], limit: number): string {
  if (calls.length === 0) return 'no calls match\n';
  const rows = [
    ['START (UTC)', 'DIRECTION', 'FROM', 'TO', 'DURATION', 'USER', 'RECORDING'],
    ...calls.map((c) => [startUtc(c.start), c.direction, party(c.from), party(c.to), talkTime(c), c.user ?? '-', c.recording?.path ?? '-']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
  const more = calls.length >= limit ? ` (the newest ${limit}; --limit N shows more)` : '';
  lines.push(`${calls.length} call${calls.length === 1 ? '' : 's'}${more}`);
  return `${lines.join('\n')}\n`;
}
