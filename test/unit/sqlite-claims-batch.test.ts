/**
 * Issue 25 item 4: the SQLite store commits the claims and releases made in one turn of the
 * event loop as one transaction (src/cache/sqlite/claims.ts), and each caller still gets
 * exactly what it would have got had the calls run one after another in call order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/cache/index.js';

let dir = '';
let files = 0;
const closers: Array<() => Promise<void> | void> = [];
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-claims-batch-'));
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  rmSync(dir, { recursive: true, force: true });
});

function open(): SqliteStore {
  const store = SqliteStore.open(path.join(dir, `cache-${++files}.sqlite`));
  closers.push(() => store.close());
  return store;
}

/** Frames in the WAL since it was last emptied: how many pages the commits since then wrote. */
function walFrames(store: SqliteStore): number {
  const [row] = store.db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
  return row?.log ?? -1;
}

const T0 = '2026-03-01T00:00:00.000Z';
const BEFORE = '2026-02-28T23:58:00.000Z';
const sorted = (keys: Set<string>) => [...keys].sort();

describe('SqliteStore claims made in one turn', () => {
  it('tells each caller what it would have got had the calls run one after another: of two holders claiming a key, the first caller gets it', async () => {
    const store = open();
    await store.locks.acquire('sheet-1/One', 'one');
    await store.locks.acquire('sheet-1/Two', 'two');
    const results = await Promise.all([
      store.claims.claim(['a', 'b'], 'one', T0, BEFORE),
      store.claims.claim(['b', 'c'], 'two', T0, BEFORE),
      store.claims.claim(['c', 'd', 'a'], 'one', T0, BEFORE),
      store.claims.claim(['a', 'd', 'e'], 'two', T0, BEFORE),
      store.claims.claim(['e', 'f', 'b'], 'one', T0, BEFORE),
    ]);
    expect(results.map(sorted)).toEqual([['a', 'b'], ['c'], ['a', 'd'], ['e'], ['b', 'f']]);
    const holders = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map(async (key) => (await store.claims.holderOf(key))?.holder));
    expect(holders).toEqual(['one', 'one', 'two', 'one', 'two', 'one']);
  });

  it('a claim made before a release in the same turn does not get the key; one made after it does', async () => {
    const store = open();
    await store.locks.acquire('sheet-1/One', 'one');
    await store.locks.acquire('sheet-1/Two', 'two');
    await store.claims.claim(['a'], 'one', T0, BEFORE);
    const [before, , after] = await Promise.all([store.claims.claim(['a'], 'two', T0, BEFORE), store.claims.release(['a'], 'one'), store.claims.claim(['a'], 'two', T0, BEFORE)]);
    expect(sorted(before)).toEqual([]);
    expect(sorted(after)).toEqual(['a']);
    expect((await store.claims.holderOf('a'))?.holder).toBe('two');
  });

  it('keeps the order of calls with a holderOf and a run lock dropped in the same turn', async () => {
    const store = open();
    const one = await store.locks.acquire('sheet-1/One', 'one');
    await store.locks.acquire('sheet-1/Two', 'two');
    const claimed = store.claims.claim(['k'], 'one', T0, BEFORE);
    // Asked after the claim: sees it, as a call run alone would.
    const seen = store.claims.holderOf('k');
    const whileLive = store.claims.claim(['k'], 'two', T0, BEFORE);
    // One's lock dropped after two's first claim: only the claim made after that takes k over.
    const dropped = one.release();
    const afterDrop = store.claims.claim(['k'], 'two', T0, BEFORE);
    expect(sorted(await claimed)).toEqual(['k']);
    expect(await seen).toEqual({ holder: 'one', claimedAt: T0, live: true });
    expect(sorted(await whileLive)).toEqual([]);
    await dropped;
    expect(sorted(await afterDrop)).toEqual(['k']);
  });

  it('commits the claims and releases of one turn as one transaction: forty of them write the pages of one commit', async () => {
    const store = open();
    await store.locks.acquire('sheet-1/One', 'one');
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    await store.claims.claim(['alone'], 'one', T0, BEFORE);
    const one = walFrames(store);

    store.db.pragma('wal_checkpoint(TRUNCATE)');
    await Promise.all(Array.from({ length: 20 }, (_, i) => [store.claims.claim([`together-${i}`], 'one', T0, BEFORE), store.claims.release([`together-${i - 1}`], 'one')]).flat());
    const together = walFrames(store);

    store.db.pragma('wal_checkpoint(TRUNCATE)');
    for (let i = 0; i < 20; i++) await store.claims.claim([`apart-${i}`], 'one', T0, BEFORE);
    const apart = walFrames(store);

    expect(one).toBeGreaterThan(0);
    expect(together).toBe(one);
    expect(apart).toBeGreaterThanOrEqual(20 * one);
    // The connection still syncs every other commit.
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('fails every claim and release of a turn whose transaction fails (the file locked by another process), none taking effect; the next turn works', async () => {
    const store = open();
    await store.locks.acquire('sheet-1/One', 'one');
    await store.claims.claim(['a'], 'one', T0, BEFORE);
    store.db.pragma('busy_timeout = 50');
    const other = new Database(store.location);
    closers.push(() => void other.close());
    other.exec('BEGIN IMMEDIATE');
    const outcomes = await Promise.allSettled([store.claims.claim(['b'], 'one', T0, BEFORE), store.claims.release(['a'], 'one'), store.claims.claim(['c'], 'two', T0, BEFORE)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const outcome of outcomes) expect(String((outcome as PromiseRejectedResult).reason)).toMatch(/locked|busy/i);
    other.exec('ROLLBACK');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect((await store.claims.holderOf('a'))?.holder).toBe('one');
    expect(await store.claims.holderOf('b')).toBeUndefined();
    expect(await store.claims.holderOf('c')).toBeUndefined();
    expect(sorted(await store.claims.claim(['b', 'c'], 'one', T0, BEFORE))).toEqual(['b', 'c']);
  });

  it('fails every call of a turn made after the store closed', async () => {
    const store = open();
    await store.close();
    const outcomes = await Promise.allSettled([store.claims.claim(['a'], 'one', T0, BEFORE), store.claims.release(['a'], 'one')]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    for (const outcome of outcomes) expect(String((outcome as PromiseRejectedResult).reason)).toMatch(/not open/);
  });
});

/** One call of a turn: a claim (at `at`, stale before two minutes earlier) or a release. */
type Call = { kind: 'claim'; holder: string; keys: string[]; at: number } | { kind: 'release'; holder: string; keys: string[] };

const HOLDERS = ['one', 'two', 'gone'] as const;
/** Holders with a run lock: `gone` has none (ended, or killed and taken over), so its claims are free to anyone. */
const LIVE = new Set(['one', 'two']);
const iso = (minute: number) => new Date(Date.parse(T0) + minute * 60_000).toISOString();

/** The claims as the contract states them, one call after another. */
function model(): { run: (call: Call) => Set<string> | undefined; holder: (key: string) => string | undefined } {
  const claims = new Map<string, { holder: string; at: string }>();
  return {
    run(call) {
      if (call.kind === 'release') {
        for (const key of call.keys) if (claims.get(key)?.holder === call.holder) claims.delete(key);
        return undefined;
      }
      const now = iso(call.at);
      const staleBefore = iso(call.at - 2);
      const mine = new Set<string>();
      for (const key of call.keys) {
        const held = claims.get(key);
        if (!held || held.holder === call.holder || held.at < staleBefore || !LIVE.has(held.holder)) {
          claims.set(key, { holder: call.holder, at: now });
          mine.add(key);
        }
      }
      return mine;
    },
    holder: (key) => claims.get(key)?.holder,
  };
}

const KEYS = ['a', 'b', 'c', 'd'];
const call: fc.Arbitrary<Call> = fc.oneof(
  fc.record({ kind: fc.constant('claim' as const), holder: fc.constantFrom(...HOLDERS), keys: fc.array(fc.constantFrom(...KEYS), { maxLength: 4 }), at: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ kind: fc.constant('release' as const), holder: fc.constantFrom(...HOLDERS), keys: fc.array(fc.constantFrom(...KEYS), { maxLength: 4 }) }),
);

describe('SqliteStore claims, property', () => {
  it('random turns of claims and releases by three holders give each caller, and leave the store, what the calls run one after another would', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(call, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }), async (turns) => {
        const store = open();
        for (const holder of LIVE) await store.locks.acquire(`sheet-1/${holder}`, holder);
        const expected = model();
        for (const turn of turns) {
          // Every call of the turn made before any resolves: one transaction for all of them.
          const results = await Promise.all(turn.map((c) => (c.kind === 'claim' ? store.claims.claim(c.keys, c.holder, iso(c.at), iso(c.at - 2)) : store.claims.release(c.keys, c.holder))));
          results.forEach((result, i) => {
            const wanted = expected.run(turn[i] as Call);
            expect(result === undefined ? undefined : sorted(result)).toEqual(wanted === undefined ? undefined : sorted(wanted));
          });
          for (const key of KEYS) expect((await store.claims.holderOf(key))?.holder).toBe(expected.holder(key));
        }
        await store.close();
      }),
      { numRuns: 60 },
    );
  });
});
