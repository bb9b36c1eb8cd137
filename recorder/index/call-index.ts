/**
 * The searchable call index (DESIGN.md `index/`): CallRecords in LMDB, keyed by their sortable id,
 * with secondary indexes by user, number, start time and Call-ID.
 *
 * Layout (one LMDB environment, named databases; keys use lmdb-js's ordered-binary encoding, so
 * arrays compare element by element and numbers numerically):
 *
 *   calls     id                       → CallRecord (msgpack)
 *   byStart   [startMs, id]            → ''
 *   byUser    [user, startMs, id]      → ''
 *   byCallId  [callId, startMs, id]    → ''
 *   byNumber  [number, startMs, id]    → ''   number as written, trimmed and lowercased
 *   byDigits  [reversed digits, startMs, id] → ''   only for dialable numbers ('+1 555-123' → '3215551')
 *
 * Putting the start time after the term makes "user U since T, newest first" one reverse range
 * scan that stops at `limit`. Digits are stored reversed so a suffix search is a prefix range.
 *
 * Number search (CallQuery.number):
 *   - a dialable query (digits with + - . ( ) / and spaces) is reduced to its digits; with 4 or
 *     more digits it matches every number whose digits END with them ('5551234' finds
 *     '+1 555-1234'), with fewer it must equal them (extension '101' does not find '1101');
 *   - anything else ('alice', '*97') must equal a party's number, ignoring case.
 *
 * Writes are lmdb-js asynchronous puts: everything put in one event-loop turn (and while the
 * previous commit syncs) shares one transaction, so one fsync covers many calls. `get` and `find`
 * see committed data only; await `flushed()` to read your own writes.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { CallRecord } from '../calls/call-record.js';

export interface CallQuery {
  /** Directory user, exact. */
  user?: string;
  /** Either party's number; see the module comment for the matching rule. */
  number?: string;
  /** Calls that started at or after this time (ISO 8601 or anything Date.parse accepts). */
  since?: string;
  /** Calls that started at or before this time. */
  until?: string;
  /** SIP Call-ID, exact. */
  callId?: string;
  /** Most records returned (default: all). */
  limit?: number;
}

export interface CallIndexOptions {
  /** Open an existing index for searching only (another process may be writing to it). */
  readOnly?: boolean;
}

/** The index cannot be opened or written; the message is fit to show the user. */
export class CallIndexError extends Error {
  override readonly name = 'CallIndexError';
}

/** Longest term kept in a key: LMDB keys are bounded, and a longer term is surely not typed in a search. */
const MAX_TERM = 200;
/** Suffix search needs this many digits; fewer would match most of the index. */
export const MIN_SUFFIX_DIGITS = 4;
const DIALABLE = /^[+\d\s().\-/]+$/;
const NO_VALUE = Buffer.alloc(0);

/** Secondary keys: [startMs, id] or [term, startMs, id]; range bounds are their prefixes. */
type IndexKey = (string | number)[];
/** [term, startMs, id], as read back from a term index. */
type TermKey = [string, number, string];
type Kind = 'user' | 'callId' | 'number' | 'digits';

/** The secondary keys one version of a record occupies, so an update can remove exactly those. */
interface Entries {
  startMs: number;
  /** Kind and term alternately, distinct pairs: [kind0, term0, kind1, term1, …]. */
  terms: string[];
}

function hasTerm(terms: readonly string[], kind: string, term: string): boolean {
  for (let i = 0; i < terms.length; i += 2) if (terms[i] === kind && terms[i + 1] === term) return true;
  return false;
}

/**
 * Sortable call id: the start time in ISO 8601 basic format (UTC, milliseconds) and a sequence
 * number, e.g. `20240501T093012.345Z-000007`. Ids compare as strings in start-time order; the
 * caller makes `seq` unique among calls that start in the same millisecond.
 */
export function newCallId(startIso: string, seq: number): string {
  const ms = Date.parse(startIso);
  if (Number.isNaN(ms)) throw new RangeError(`newCallId: not a time: "${startIso}"`);
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`newCallId: bad sequence number ${seq}`);
  const iso = new Date(ms).toISOString(); // 2024-05-01T09:30:12.345Z
  const basic = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17)}`;
  return `${basic}-${String(seq).padStart(6, '0')}`;
}

/** Digits of a dialable number, or '' when it is not one (a name, a feature code with * or #). */
export function numberDigits(n: string): string {
  return DIALABLE.test(n) ? n.replace(/\D/g, '') : '';
}

function reverse(s: string): string {
  let r = '';
  for (let i = s.length - 1; i >= 0; i--) r += s[i];
  return r;
}
const rawTerm = (n: string): string => n.trim().toLowerCase().slice(0, MAX_TERM);
const startMsOf = (rec: CallRecord): number => {
  const ms = Date.parse(rec.start);
  return Number.isNaN(ms) ? 0 : ms;
};

function entriesOf(rec: CallRecord): Entries {
  const terms: string[] = [];
  const add = (kind: Kind, term: string): void => {
    if (term !== '' && !hasTerm(terms, kind, term)) terms.push(kind, term);
  };
  if (rec.user !== null) add('user', rec.user.slice(0, MAX_TERM));
  add('callId', rec.callId.slice(0, MAX_TERM));
  for (const party of [rec.from, rec.to]) {
    add('number', rawTerm(party.number));
    add('digits', reverse(numberDigits(party.number)).slice(0, MAX_TERM));
  }
  return { startMs: startMsOf(rec), terms };
}

/** How a CallQuery.number is matched; see the module comment. */
type NumberMatch = { kind: 'number'; term: string } | { kind: 'digits'; term: string; suffix: boolean };

function numberMatch(q: string): NumberMatch {
  const digits = numberDigits(q.trim());
  if (digits === '') return { kind: 'number', term: rawTerm(q) };
  return { kind: 'digits', term: reverse(digits), suffix: digits.length >= MIN_SUFFIX_DIGITS };
}

function partyMatches(n: string, m: NumberMatch): boolean {
  if (m.kind === 'number') return rawTerm(n) === m.term;
  const rev = reverse(numberDigits(n));
  return m.suffix ? rev.startsWith(m.term) : rev === m.term;
}

interface Plan {
  user?: string;
  callId?: string;
  number?: NumberMatch;
  sinceMs?: number;
  untilMs?: number;
  limit: number;
}

function parseTime(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new RangeError(`${name}: not a date/time: "${v}"`);
  return ms;
}

function plan(q: CallQuery): Plan {
  const p: Plan = { limit: q.limit ?? Infinity };
  if (q.limit !== undefined && (!Number.isInteger(q.limit) || q.limit <= 0)) {
    throw new RangeError(`limit: expected a positive integer, got ${q.limit}`);
  }
  if (q.user !== undefined) p.user = q.user.slice(0, MAX_TERM);
  if (q.callId !== undefined) p.callId = q.callId.slice(0, MAX_TERM);
  if (q.number !== undefined) {
    if (q.number.trim() === '') throw new RangeError('number: empty');
    p.number = numberMatch(q.number);
  }
  p.sinceMs = parseTime('since', q.since);
  p.untilMs = parseTime('until', q.until);
  return p;
}

function recordMatches(rec: CallRecord, p: Plan): boolean {
  if (p.user !== undefined && (rec.user === null || rec.user.slice(0, MAX_TERM) !== p.user)) return false;
  if (p.callId !== undefined && rec.callId.slice(0, MAX_TERM) !== p.callId) return false;
  const m = p.number;
  if (m !== undefined && !partyMatches(rec.from.number, m) && !partyMatches(rec.to.number, m)) return false;
  const ms = startMsOf(rec);
  if (p.sinceMs !== undefined && ms < p.sinceMs) return false;
  if (p.untilMs !== undefined && ms > p.untilMs) return false;
  return true;
}

/** Newest first: start time descending, then id descending. */
const newestFirst = (a: TermKey, b: TermKey): number => b[1] - a[1] || (a[2] < b[2] ? 1 : a[2] > b[2] ? -1 : 0);

export class CallIndex {
  /** Secondary keys of records put but not yet committed: an update must remove these, and a read would not see them. */
  private readonly pending = new Map<string, Entries>();
  private batch: Promise<boolean> | undefined;
  private batchWrites: [string, Entries][] = [];
  private failure: Error | undefined;
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly root: RootDatabase,
    private readonly calls: Database<CallRecord, string>,
    private readonly byStart: Database<Buffer, IndexKey>,
    private readonly terms: Record<Kind, Database<Buffer, IndexKey>>,
    readonly readOnly: boolean,
  ) {}

  /** Open (creating unless read-only) the index in directory `path`. */
  static open(path: string, opts: CallIndexOptions = {}): CallIndex {
    const readOnly = opts.readOnly ?? false;
    // lmdb would create an empty directory even when read-only; say plainly that nothing is there.
    if (readOnly && !existsSync(join(path, 'data.mdb'))) throw new CallIndexError(`no call index at ${path}`);
    let root: RootDatabase;
    try {
      if (!readOnly) mkdirSync(path, { recursive: true });
      root = open({ path, noSubdir: false, maxDbs: 8, readOnly });
    } catch (err) {
      throw new CallIndexError(`cannot open call index at ${path}: ${(err as Error).message}`);
    }
    const named = (name: string): Database<Buffer, IndexKey> => root.openDB<Buffer, IndexKey>({ name, encoding: 'binary' });
    try {
      return new CallIndex(
        root,
        root.openDB<CallRecord, string>({ name: 'calls' }),
        named('byStart'),
        { user: named('byUser'), callId: named('byCallId'), number: named('byNumber'), digits: named('byDigits') },
        readOnly,
      );
    } catch (err) {
      void root.close();
      throw new CallIndexError(`cannot open call index at ${path}: ${(err as Error).message}`);
    }
  }

  /**
   * Store (or replace) a record. Returns at once: the write joins the current batch. A record put
   * again (call ended, recording done) moves its secondary entries to the new values.
   */
  put(rec: CallRecord): void {
    if (this.readOnly) throw new CallIndexError('call index is open read-only');
    if (this.closed) throw new CallIndexError('call index is closed');
    if (this.failure) throw this.failure;
    const id = rec.id;
    if (id === '' || id.length > MAX_TERM) throw new RangeError(`CallIndex.put: bad id "${id.slice(0, 40)}"`);
    const before = this.pending.get(id) ?? this.committedEntries(id);
    const after = entriesOf(rec);
    const p = this.calls.put(id, rec);
    this.watch(p, id, after);
    const moved = before !== undefined && before.startMs !== after.startMs;
    // Only the differences are written: an update that changes nothing indexed costs one put.
    const bt = before?.terms;
    if (before) {
      if (moved) this.watch(this.byStart.remove([before.startMs, id]));
      for (let i = 0; i < before.terms.length; i += 2) {
        const kind = before.terms[i] as Kind;
        const term = before.terms[i + 1] as string;
        if (moved || !hasTerm(after.terms, kind, term)) this.watch(this.terms[kind].remove([term, before.startMs, id]));
      }
    }
    if (!before || moved) this.watch(this.byStart.put([after.startMs, id], NO_VALUE));
    const at = after.terms;
    for (let i = 0; i < at.length; i += 2) {
      const kind = at[i] as Kind;
      const term = at[i + 1] as string;
      if (!bt || moved || !hasTerm(bt, kind, term)) this.watch(this.terms[kind].put([term, after.startMs, id], NO_VALUE));
    }
    this.pending.set(id, after);
  }

  /** Resolves when every record put so far is committed and synced; rejects if a write failed. */
  async flushed(): Promise<void> {
    try {
      await this.root.flushed;
    } catch (err) {
      this.fail(err);
    }
    if (this.failure) throw this.failure;
  }

  /** The committed record with this id. */
  get(id: string): CallRecord | undefined {
    return this.calls.get(id);
  }

  /** Records matching every given criterion, newest first (by start time, then id). */
  find(q: CallQuery = {}): CallRecord[] {
    const p = plan(q);
    const out: CallRecord[] = [];
    const seen = new Set<string>();
    // Stale or partial key matches are harmless: every candidate is checked against the record.
    const take = (id: string): boolean => {
      if (seen.has(id)) return false;
      seen.add(id);
      const rec = this.calls.get(id);
      if (rec && recordMatches(rec, p)) out.push(rec);
      return out.length >= p.limit;
    };
    if (p.callId !== undefined) this.scanTerm('callId', p.callId, p, take);
    else if (p.user !== undefined) this.scanTerm('user', p.user, p, take);
    else if (p.number?.kind === 'number' || (p.number?.kind === 'digits' && !p.number.suffix)) this.scanTerm(p.number.kind, p.number.term, p, take);
    else if (p.number) this.scanSuffix(p.number.term, p, take);
    else {
      const start = [p.untilMs === undefined ? Infinity : p.untilMs + 1];
      const end = p.sinceMs === undefined ? undefined : [p.sinceMs];
      for (const key of this.byStart.getKeys({ start, end, reverse: true })) {
        if (take(key[1] as string)) break;
      }
    }
    return out;
  }

  /** Writes pending, then the environment closed. Safe to call twice. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      try {
        if (!this.readOnly) await this.flushed();
      } finally {
        await this.root.close();
      }
    })();
    return this.closed;
  }

  /** One term, newest first, bounded by the time range in the key so `limit` stops the scan early. */
  private scanTerm(kind: Kind, term: string, p: Plan, take: (id: string) => boolean): void {
    // Reverse scans start at the high key: [term, until+1] sorts after every [term, until, id].
    const start = [term, p.untilMs === undefined ? Infinity : p.untilMs + 1];
    // [term, since] sorts before every [term, since, id]; [term] before every [term, ms, id].
    const end = p.sinceMs === undefined ? [term] : [term, p.sinceMs];
    for (const key of this.terms[kind].getKeys({ start, end, reverse: true })) {
      if (take(key[2] as string)) return;
    }
  }

  /** Numbers ending in these digits: a prefix range on reversed digits, in no time order, so sort first. */
  private scanSuffix(revDigits: string, p: Plan, take: (id: string) => boolean): void {
    // ':' follows '9', so [rev + ':'] bounds every key whose first element starts with rev.
    const keys: TermKey[] = [];
    for (const k of this.terms.digits.getKeys({ start: [revDigits], end: [`${revDigits}:`] })) {
      const key = k as TermKey;
      if (p.sinceMs !== undefined && key[1] < p.sinceMs) continue;
      if (p.untilMs !== undefined && key[1] > p.untilMs) continue;
      keys.push(key);
    }
    keys.sort(newestFirst);
    for (const key of keys) if (take(key[2])) return;
  }

  private committedEntries(id: string): Entries | undefined {
    const old = this.calls.get(id);
    return old ? entriesOf(old) : undefined;
  }

  /**
   * lmdb-js hands every write of one transaction the same promise, so each batch is watched once:
   * when it commits, the records it carried drop out of `pending`; if it fails, later calls throw.
   */
  private watch(p: Promise<boolean>, id?: string, entries?: Entries): void {
    if (p !== this.batch) {
      this.batch = p;
      const writes: [string, Entries][] = [];
      this.batchWrites = writes;
      p.then(
        () => {
          for (const [wid, e] of writes) if (this.pending.get(wid) === e) this.pending.delete(wid);
        },
        (err: unknown) => this.fail(err),
      );
    }
    if (id !== undefined && entries) this.batchWrites.push([id, entries]);
  }

  private fail(err: unknown): void {
    this.failure ??= new CallIndexError(`call index write failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
