import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheKey, type CachedVerdict } from '../../src/cache/index.js';
import { OUTPUT_SCHEMA_VERSION } from '../../src/llm/answer.js';
import { PROMPT_VERSION } from '../../src/llm/prompt.js';
import { verdictCells } from '../../src/pipeline/cells.js';
import { selectWork, type Known, type SelectOptions } from '../../src/pipeline/select.js';
import { overrideCells } from '../../src/pipeline/review.js';
import type { Entry, RowInputs } from '../../src/sheets/index.js';

const EMPTY_OUTPUTS: Entry['outputs'] = { verdict: '', issues: '', suggestion: '', checked_at: '', model: '' };

function entry(row: number, id: string, inputs: Partial<RowInputs>, outputs: Entry['outputs'] = EMPTY_OUTPUTS): Entry {
  const full: RowInputs = { status: 'Done', comment: `Comment of ${id}`, completion_date: '', ...inputs };
  return { row, id, inputs: full, outputs, review: { recheck: '', override: '' } };
}

const keyOf = (e: Entry): string =>
  cacheKey({
    inputs: e.inputs,
    rulesText: 'Say what is next.',
    allowedStatuses: ['Planned', 'Done'],
    promptVersion: PROMPT_VERSION,
    model: 'gpt-5-mini',
    schemaVersion: OUTPUT_SCHEMA_VERSION,
  });

function cached(e: Entry, overrides: Partial<CachedVerdict> = {}): CachedVerdict {
  return {
    key: keyOf(e),
    verdict: 'INVALID',
    issues: ['No due date.'],
    suggestion: 'Done; next: docs by July.',
    model: 'gpt-5-mini',
    provider: 'primary',
    checkedAt: '2025-06-30T10:00:00.000Z',
    confidence: 0.9,
    promptTokens: 100,
    completionTokens: 20,
    cachedTokens: 0,
    ...overrides,
  };
}

/** A cache holding the model's `verdicts`, counting its lookups. */
function cacheOf(verdicts: CachedVerdict[]) {
  const map = new Map<string, Known>(verdicts.map((v) => [v.key, { cells: verdictCells(v) }]));
  const lookups: string[] = [];
  return {
    lookups,
    lookup: (key: string) => {
      lookups.push(key);
      return map.get(key);
    },
  };
}

const normal: SelectOptions = { force: false, limit: undefined };

describe('selectWork', () => {
  it('counts a row whose cells already show its cached verdict as up to date', () => {
    const plain = entry(2, 'P-1', {});
    const verdict = cached(plain);
    const shown = entry(2, 'P-1', {}, { ...verdictCells(verdict), checked_at: '2025-07-01 09:00' });
    const selection = selectWork([shown], keyOf, cacheOf([verdict]).lookup, normal);
    expect(selection).toMatchObject({ upToDate: 1, rewrites: [], jobs: [], deduplicated: 0, deferred: 0 });
  });

  it('writes a cached verdict from the cache when the cells are empty or stale, without asking the model', () => {
    const empty = entry(2, 'P-1', { comment: 'same' });
    const stale = entry(3, 'P-2', { comment: 'other' }, { verdict: 'VALID', issues: '', suggestion: '', checked_at: '2025-01-01', model: 'gpt-4o' });
    const noCheckedAt = entry(4, 'P-3', { comment: 'third' });
    const third = cached(noCheckedAt);
    const shownWithoutTime = { ...noCheckedAt, outputs: { ...verdictCells(third), checked_at: ' ' } };
    const verdicts = [cached(empty), cached(stale), third];

    const selection = selectWork([empty, stale, shownWithoutTime], keyOf, cacheOf(verdicts).lookup, normal);

    expect(selection.jobs).toEqual([]);
    expect(selection.upToDate).toBe(0);
    expect(selection.rewrites.map((r) => r.entry.row)).toEqual([2, 3, 4]);
    expect(selection.rewrites[1]?.cells).toEqual(verdictCells(verdicts[1] as CachedVerdict));
  });

  it('asks the model once for rows with identical inputs, and counts the duplicates', () => {
    const same = { status: 'In progress', comment: 'Working on it', completion_date: '' };
    const rows = [entry(2, 'P-1', same), entry(3, 'P-2', { comment: 'Different' }), entry(4, 'P-3', same), entry(5, 'P-4', same)];

    const selection = selectWork(rows, keyOf, cacheOf([]).lookup, normal);

    expect(selection.jobs).toHaveLength(2);
    expect(selection.deduplicated).toBe(2);
    const shared = selection.jobs.find((j) => j.entries.length === 3);
    expect(shared?.entries.map((e) => e.id)).toEqual(['P-1', 'P-3', 'P-4']);
    expect(shared?.inputs).toEqual(same);
    expect(shared?.key).toBe(keyOf(rows[0] as Entry));
    expect(selection.jobs.reduce((n, j) => n + j.entries.length, 0)).toBe(rows.length);
  });

  it('keeps jobs in the order their first row appears in the sheet', () => {
    const rows = [entry(2, 'A', { comment: 'x' }), entry(3, 'B', { comment: 'y' }), entry(4, 'C', { comment: 'x' })];
    const selection = selectWork(rows, keyOf, cacheOf([]).lookup, normal);
    expect(selection.jobs.map((j) => j.entries.map((e) => e.row))).toEqual([[2, 4], [3]]);
  });

  it("ignores the model's cached verdicts with --force: every row is asked again", () => {
    const up = entry(2, 'P-1', {});
    const verdict = cached(up);
    const shown = { ...up, outputs: verdictCells(verdict) };
    const cache = cacheOf([verdict]);

    const selection = selectWork([shown, entry(3, 'P-2', {})], keyOf, cache.lookup, { force: true, limit: undefined });

    expect(selection.upToDate).toBe(0);
    expect(selection.rewrites).toEqual([]);
    expect(selection.jobs.flatMap((j) => j.entries.map((e) => e.row))).toEqual([2, 3]);
  });

  it('defers the rows beyond --limit to a later run', () => {
    const rows = [1, 2, 3, 4, 5].map((i) => entry(i + 1, `P-${i}`, { comment: `distinct ${i}` }));
    const selection = selectWork(rows, keyOf, cacheOf([]).lookup, { force: false, limit: 2 });
    expect(selection.jobs.flatMap((j) => j.entries.map((e) => e.row))).toEqual([2, 3]);
    expect(selection.deferred).toBe(3);
  });

  it('does not count cached rows against --limit', () => {
    const hit = entry(2, 'P-1', { comment: 'cached' });
    const rows = [hit, entry(3, 'P-2', { comment: 'a' }), entry(4, 'P-3', { comment: 'b' })];
    const selection = selectWork(rows, keyOf, cacheOf([cached(hit)]).lookup, { force: false, limit: 1 });
    expect(selection.rewrites.map((r) => r.entry.row)).toEqual([2]);
    expect(selection.jobs.flatMap((j) => j.entries.map((e) => e.row))).toEqual([3]);
    expect(selection.deferred).toBe(1);
  });

  it('defers every row that needs the model with --limit 0', () => {
    const rows = [entry(2, 'P-1', {}), entry(3, 'P-2', {})];
    const selection = selectWork(rows, keyOf, cacheOf([]).lookup, { force: false, limit: 0 });
    expect(selection.jobs).toEqual([]);
    expect(selection.deferred).toBe(2);
  });

  it("charges --limit and counts a recheck for a twin of a question this run asked in an earlier chunk, as for rows sharing it in one selection", () => {
    const first = entry(2, 'P-1', { comment: 'same' });
    const answered = cached(first);
    const askedThisRun = (key: string) => key === answered.key;
    const ticked = { ...entry(40, 'P-TWIN', { comment: 'same' }), review: { recheck: 'TRUE', override: '' } };
    const others = [entry(41, 'P-2', { comment: 'two' }), entry(42, 'P-3', { comment: 'three' })];
    // Budget 2: the twin takes one, one other row the second, the last waits.
    const selection = selectWork([ticked, ...others], keyOf, cacheOf([answered]).lookup, { force: false, limit: 2, askedThisRun });
    expect(selection.shared).toEqual([{ key: answered.key, rewrite: true }]);
    expect(selection.rewrites.map((r) => r.entry.row)).toEqual([40]);
    expect(selection.jobs.map((j) => j.entries.map((e) => e.row))).toEqual([[41]]);
    expect({ rechecked: selection.rechecked, deferred: selection.deferred }).toEqual({ rechecked: 1, deferred: 1 });
    // Past the budget, the twin waits too (a row sharing a question past --limit does).
    const spent = selectWork([others[0] as Entry, ticked], keyOf, cacheOf([answered]).lookup, { force: false, limit: 1, askedThisRun });
    expect({ shared: spent.shared.length, deferred: spent.deferred, rewrites: spent.rewrites.length }).toEqual({ shared: 0, deferred: 1, rewrites: 0 });
  });

  it('accounts for every row exactly once', () => {
    const a = entry(2, 'A', { comment: 'a' });
    const b = entry(3, 'B', { comment: 'b' });
    const verdictA = cached(a);
    const rows = [
      { ...a, outputs: verdictCells(verdictA) },
      b,
      entry(4, 'C', { comment: 'c' }),
      entry(5, 'D', { comment: 'c' }),
      entry(6, 'E', { comment: 'e' }),
      entry(7, 'F', { comment: 'f' }),
    ];
    const s = selectWork(rows, keyOf, cacheOf([verdictA, cached(b)]).lookup, { force: false, limit: 3 });
    const inJobs = s.jobs.reduce((n, j) => n + j.entries.length, 0);
    expect({ upToDate: s.upToDate, rewrites: s.rewrites.length, inJobs, deduplicated: s.deduplicated, deferred: s.deferred }).toEqual({
      upToDate: 1,
      rewrites: 1,
      inJobs: 3,
      deduplicated: 1,
      deferred: 1,
    });
    expect(s.upToDate + s.rewrites.length + inJobs + s.deferred).toBe(rows.length);
  });

  it("uses a reviewer's verdict for its own row only, even with --force: an identical row without one gets the model's", () => {
    const reviewed = { ...entry(2, 'P-1', {}), review: { recheck: '', override: 'INVALID: no owner' } };
    const twin = entry(3, 'P-1', {});
    const selection = selectWork([reviewed, twin], keyOf, cacheOf([cached(twin)]).lookup, { force: true, limit: undefined, now: Date.parse('2026-01-01T00:00:00Z') });
    expect(selection.rewrites).toEqual([{ entry: reviewed, cells: overrideCells({ verdict: 'INVALID', note: 'no owner' }, '2026-01-01T00:00:00.000Z') }]);
    expect(selection.jobs.map((j) => j.entries.map((e) => e.row))).toEqual([[3]]);
  });

  it('returns a row whose override cell was cleared to the cached model verdict, asking nothing', () => {
    const cleared = { ...entry(2, 'P-1', {}), outputs: overrideCells({ verdict: 'INVALID', note: 'no owner' }, '2026-01-01T00:00:00.000Z') };
    const verdict = cached(cleared, { verdict: 'VALID', issues: [] });
    const selection = selectWork([cleared], keyOf, cacheOf([verdict]).lookup, normal);
    expect(selection.jobs).toEqual([]);
    expect(selection.rewrites).toEqual([{ entry: cleared, cells: verdictCells(verdict) }]);
  });

  it('leaves a recheck box ticked under a standing override, and reports the row', () => {
    const cells = overrideCells({ verdict: 'VALID', note: '' }, '2026-01-01T00:00:00.000Z');
    const row = { ...entry(2, 'P-1', {}), outputs: cells, review: { recheck: 'TRUE', override: 'VALID' } };
    const selection = selectWork([row], keyOf, cacheOf([]).lookup, normal);
    expect(selection.recheckUnderOverride).toEqual([2]);
    expect(selection.upToDate).toBe(1);
    expect(selection.jobs).toEqual([]);
  });

  it('takes the override cell of a row as its verdict, marked as the reviewer\'s', () => {
    const row = { ...entry(2, 'P-1', {}), review: { recheck: '', override: 'invalid: the date is wrong' } };
    const selection = selectWork([row], keyOf, cacheOf([]).lookup, { ...normal, now: Date.parse('2026-02-03T04:05:06Z') });
    expect(selection.jobs).toEqual([]);
    expect(selection.overrides).toEqual([{ key: keyOf(row), entry: row, override: { verdict: 'INVALID', note: 'the date is wrong' } }]);
    expect(selection.rewrites[0]?.cells).toEqual({ verdict: 'INVALID (reviewer)', issues: 'the date is wrong', suggestion: '', checked_at: '2026-02-03T04:05:06.000Z', model: 'reviewer' });
  });

  it('reports an override cell it cannot read, and treats the row as usual', () => {
    const row = { ...entry(2, 'P-1', {}), review: { recheck: '', override: 'looks fine to me' } };
    const selection = selectWork([row], keyOf, cacheOf([]).lookup, normal);
    expect(selection.unreadableOverrides).toEqual([2]);
    expect(selection.jobs).toHaveLength(1);
  });

  it('asks again about a row whose recheck box is ticked, even when cached and shown', () => {
    const plain = entry(2, 'P-1', {});
    const verdict = cached(plain);
    const ticked = { ...plain, outputs: verdictCells(verdict), review: { recheck: 'TRUE', override: '' } };
    const selection = selectWork([ticked], keyOf, cacheOf([verdict]).lookup, normal);
    expect(selection.jobs.map((j) => j.entries[0]?.row)).toEqual([2]);
    expect(selection.rechecked).toBe(1);
  });

  it('asks again about rows checked longer ago than the stale limit, and only those', () => {
    const now = Date.parse('2026-11-21T00:00:00Z');
    const old = entry(2, 'P-1', { comment: 'old' });
    const fresh = entry(3, 'P-2', { comment: 'fresh' });
    const oldShown = { ...old, outputs: { ...verdictCells(cached(old)), checked_at: '2026-11-01T00:00:00.000Z' } };
    const freshShown = { ...fresh, outputs: { ...verdictCells(cached(fresh)), checked_at: '2026-11-20T00:00:00.000Z' } };
    const selection = selectWork([oldShown, freshShown], keyOf, cacheOf([cached(old), cached(fresh)]).lookup, { ...normal, staleAfterMs: 7 * 86_400_000, now });
    expect(selection.jobs.map((j) => j.entries[0]?.row)).toEqual([2]);
    expect(selection.upToDate).toBe(1);
  });

  describe('a request to ask again, and an answer newer than it (a Batch API job\'s)', () => {
    const now = Date.parse('2026-11-21T12:00:00Z');
    const shownAt = '2026-11-20T09:00:00.000Z';
    const row = entry(2, 'P-1', {});
    const ticked = { ...row, outputs: { ...verdictCells(cached(row)), checked_at: shownAt }, review: { recheck: 'TRUE', override: '' } };
    const known = (checkedAt: string, askedAt: string | undefined): ((key: string) => Known | undefined) => () => ({ cells: verdictCells(cached(row, { checkedAt, issues: ['fresh'] })), checkedAt, askedAt: () => askedAt });

    it('writes and unticks a ticked row whose question a job asked after the shown verdict, its answer saved since', () => {
      const selection = selectWork([ticked], keyOf, known('2026-11-21T11:00:00.000Z', '2026-11-21T10:00:00.000Z'), { ...normal, limit: 0, now });
      expect(selection.jobs).toEqual([]);
      expect(selection.deferred).toBe(0);
      expect(selection.rewrites.map((r) => [r.entry.row, r.answersRecheck])).toEqual([[2, true]]);
    });

    it.each([
      ['no job ever asked it', '2026-11-21T11:00:00.000Z', undefined],
      ['the job asked before the verdict the row shows', '2026-11-21T11:00:00.000Z', '2026-11-20T08:00:00.000Z'],
      ["the cache's verdict is older than the job (the job's answer was not saved)", '2026-11-21T09:00:00.000Z', '2026-11-21T10:00:00.000Z'],
      ['the cache holds a verdict newer than the row but asked by no job (a write that failed: the tick may be newer)', '2026-11-21T11:00:00.000Z', undefined],
    ] as const)('asks a ticked row again when %s', (_what, checkedAt, askedAt) => {
      const selection = selectWork([ticked], keyOf, known(checkedAt, askedAt), { ...normal, now });
      expect(selection.jobs.map((j) => [j.entries[0]?.row, j.again])).toEqual([[2, true]]);
      expect(selection.rewrites).toEqual([]);
    });

    it('never throws, and never both asks and writes a row, whatever the sheet\'s Checked at and the cache\'s times hold', () => {
      fc.assert(
        fc.property(fc.string(), fc.string(), fc.option(fc.string(), { nil: undefined }), fc.boolean(), (shown, given, asked, tick) => {
          const row2 = { ...ticked, outputs: { ...ticked.outputs, checked_at: shown }, review: { recheck: tick ? 'TRUE' : '', override: '' } };
          const selection = selectWork([row2], keyOf, known(given, asked), { ...normal, staleAfterMs: 86_400_000, now });
          expect(selection.jobs.length + selection.rewrites.length + selection.upToDate).toBe(1);
        }),
      );
    });

    it('writes an old row from a job that asked it since, without unticking anything, unless that answer is old too', () => {
      const old = { ...ticked, outputs: { ...ticked.outputs, checked_at: '2020-01-01T00:00:00.000Z' }, review: { recheck: '', override: '' } };
      const fresh = selectWork([old], keyOf, known('2026-11-21T11:00:00.000Z', '2026-11-21T10:00:00.000Z'), { ...normal, limit: 0, staleAfterMs: 7 * 86_400_000, now });
      expect(fresh.rewrites.map((r) => [r.entry.row, r.answersRecheck])).toEqual([[2, undefined]]);
      expect(fresh.deferred).toBe(0);
      const stale = selectWork([old], keyOf, known('2026-11-01T11:00:00.000Z', '2026-11-01T10:00:00.000Z'), { ...normal, limit: 0, staleAfterMs: 7 * 86_400_000, now });
      expect(stale.rewrites).toEqual([]);
      expect(stale.deferred).toBe(1);
    });
  });
});
