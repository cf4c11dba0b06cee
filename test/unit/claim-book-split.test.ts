/**
 * ClaimBook.split (src/pipeline/claims.ts) on a real SQLite store: a question this run claims
 * after another instance answered it and released its claim is not asked again (invariant 9;
 * end to end: test/review/r25b-claims-two-runs.test.ts), a question chosen to be asked again
 * is, and the requests claimed in one turn share one Store.lookup (the hot path: bench B7).
 */
import { describe, expect, it } from 'vitest';
import type { SqliteStore} from '../../src/cache/index.js';
import { type CachedVerdict, type Store } from '../../src/cache/index.js';
import { ClaimBook } from '../../src/pipeline/claims.js';
import type { Job } from '../../src/pipeline/select.js';
import { scratchStoreEach } from '../support/scratch-store.js';

let store: SqliteStore;
scratchStoreEach('sv-claim-book-', (scratch) => (store = scratch.store));

const NOW = new Date('2026-03-01T00:00:00.000Z');
const now = () => NOW;

function job(key: string, again = false): Job {
  return { key, inputs: { status: 'Done', comment: key, completion_date: '2026-02-01' }, entries: [], ...(again ? { again } : {}) };
}

function verdict(key: string): CachedVerdict {
  return { key, verdict: 'VALID', issues: [], suggestion: '', model: 'm', provider: 'p', checkedAt: '2026-02-28T23:59:00.000Z', confidence: 0.9, promptTokens: 10, completionTokens: 5, cachedTokens: 0 };
}

/** The store, counting its lookups (every other call goes to it unchanged). */
function counted(inner: Store): { store: Pick<Store, 'claims' | 'get' | 'lookup'>; lookups: () => number } {
  let lookups = 0;
  return {
    store: { claims: inner.claims, get: (key) => inner.get(key), lookup: (keys) => (lookups++, inner.lookup(keys)) },
    lookups: () => lookups,
  };
}

describe('ClaimBook.split', () => {
  it('hands back as known a claimed question another run answered and released since this run selected it', async () => {
    // The other run holds its run lock: its claims are live (a claim of a run without one is taken over).
    await store.locks.acquire('other target', 'run-other');
    const other = new ClaimBook(store, 'run-other', now);
    const first = await other.split([job('a'), job('b')]);
    expect(first.mine.map((j) => j.key)).toEqual(['a', 'b']);
    await store.put(verdict('a'));
    await other.release([job('a')]);

    const book = new ClaimBook(store, 'run-this', now);
    const { mine, theirs, known } = await book.split([job('a'), job('c')]);
    expect(known.map(({ job: j, verdict: v }) => [j.key, v.verdict, v.checkedAt])).toEqual([['a', 'VALID', '2026-02-28T23:59:00.000Z']]);
    expect(mine.map((j) => j.key)).toEqual(['c']);
    // b is still claimed by the other run: waited for, not asked.
    expect(theirs).toEqual([]);
    const again = await book.split([job('b')]);
    expect(again.theirs.map((j) => j.key)).toEqual(['b']);
  });

  it('asks a question chosen to be asked again when the cached verdict is the one it was chosen to replace, though stamped by a clock running ahead', async () => {
    const ahead = { ...verdict('a'), checkedAt: new Date(now().getTime() + 600_000).toISOString() };
    await store.put(ahead);
    const book = new ClaimBook(store, 'run-this', now);
    const { mine, known } = await book.split([{ ...job('a', true), replaces: ahead.checkedAt }]);
    expect(mine.map((j) => j.key)).toEqual(['a']);
    expect(known).toEqual([]);
  });

  it('hands back as known a question asked again whose verdict is no longer the one it was chosen to replace (--force on two instances: asked once), whatever the clocks', async () => {
    const old = verdict('a');
    await store.put(old);
    await store.put(verdict('b'));
    const book = new ClaimBook(store, 'run-this', now);
    // Answered again and released by another instance, whose clock runs an hour behind, between this run's choosing the rows and its claims.
    const fresh = { ...old, verdict: 'INVALID' as const, checkedAt: new Date(Date.parse(old.checkedAt) - 3_600_000).toISOString() };
    await store.put(fresh);
    const { mine, known } = await book.split([{ ...job('a', true), replaces: old.checkedAt }, { ...job('b', true), replaces: old.checkedAt }]);
    expect(known.map(({ job: j, verdict: v }) => [j.key, v.verdict, v.checkedAt])).toEqual([['a', 'INVALID', fresh.checkedAt]]);
    expect(mine.map((j) => j.key)).toEqual(['b']);
  });

  it('looks up the questions of the requests claimed in one turn with one read', async () => {
    await store.put(verdict('k3'));
    const { store: spied, lookups } = counted(store);
    const book = new ClaimBook(spied, 'run-this', now);
    const splits = await Promise.all(Array.from({ length: 6 }, (_, i) => book.split([job(`k${i}`)])));
    expect(lookups()).toBe(1);
    expect(splits.map((s) => [s.mine.map((j) => j.key), s.known.map(({ job: j }) => j.key)])).toEqual([
      [['k0'], []],
      [['k1'], []],
      [['k2'], []],
      [[], ['k3']],
      [['k4'], []],
      [['k5'], []],
    ]);
  });
});
