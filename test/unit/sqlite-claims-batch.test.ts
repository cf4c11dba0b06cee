/**
 * Issue 25 item 4: the SQLite store commits the claims and releases made in one turn of the
 * event loop as one transaction (src/cache/sqlite/claims.ts), in call order also with the
 * reads and run locks of the same turn. What both engines keep is in test/contract/claims-contract.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
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
