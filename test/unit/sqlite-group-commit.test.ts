/**
 * Issue 25 item 4: the SQLite store commits the verdicts answered in one turn of the event
 * loop together and syncs the WAL off the loop; a put still resolves only once its verdict
 * is committed and synced (invariant 2), one refused verdict fails only its own put, and
 * claims are committed without a sync while every other commit keeps synchronous = FULL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore, type CachedVerdict } from '../../src/cache/index.js';
import { GroupCommit } from '../../src/cache/sqlite/group-commit.js';
import { walTable } from '../support/wal-table.js';

let dir = '';
const closers: Array<() => Promise<void> | void> = [];
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-group-commit-'));
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  rmSync(dir, { recursive: true, force: true });
});

function open(): SqliteStore {
  const store = SqliteStore.open(path.join(dir, 'cache.sqlite'));
  closers.push(() => store.close());
  return store;
}

function verdict(key: string, overrides: Partial<CachedVerdict> = {}): CachedVerdict {
  return { key, verdict: 'VALID', issues: ['one'], suggestion: 's', model: 'gpt-5-mini', provider: 'primary', checkedAt: '2026-12-01T10:00:00.000Z', confidence: 0.9, promptTokens: 10, completionTokens: 5, cachedTokens: 0, ...overrides };
}

/** Frames in the WAL since it was last emptied: how many pages the commits since then wrote. */
function walFrames(store: SqliteStore): number {
  const [row] = store.db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
  return row?.log ?? -1;
}

function emptyWal(store: SqliteStore): void {
  store.db.pragma('wal_checkpoint(TRUNCATE)');
}

/** A promise with its resolve and reject at hand. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('SqliteStore.put', () => {
  it('commits twenty puts made together as one transaction: they write the pages of one commit, twenty made one after another write twenty', async () => {
    const store = open();
    emptyWal(store);
    await store.put(verdict('alone'));
    const one = walFrames(store);

    emptyWal(store);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(verdict(`together-${i}`))));
    const together = walFrames(store);

    emptyWal(store);
    for (let i = 0; i < 20; i++) await store.put(verdict(`apart-${i}`));
    const apart = walFrames(store);

    expect(one).toBeGreaterThan(0);
    expect(together).toBe(one);
    expect(apart).toBeGreaterThanOrEqual(20 * one);
    expect(await store.count()).toBe(41);
  });

  it('resolves once another connection reads the verdict, and keeps the order of a read that follows it', async () => {
    const store = open();
    const other = new Database(path.join(dir, 'cache.sqlite'), { readonly: true });
    closers.push(() => void other.close());
    const put = store.put(verdict('k1', { verdict: 'INVALID' }));
    // A read made before the put's turn ends still sees it: the store commits what waits first.
    expect((await store.get('k1'))?.verdict).toBe('INVALID');
    await put;
    expect(other.prepare('SELECT verdict FROM verdicts WHERE key = ?').get('k1')).toEqual({ verdict: 'INVALID' });
  });

  it('fails only the put of a verdict the table refuses; the others made with it are saved', async () => {
    const store = open();
    const outcomes = await Promise.allSettled([store.put(verdict('good-1')), store.put(verdict('bad', { verdict: 'MAYBE' as 'VALID' })), store.put(verdict('good-2'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/CHECK constraint/);
    expect((await store.get('good-1'))?.key).toBe('good-1');
    expect((await store.get('good-2'))?.key).toBe('good-2');
    expect(await store.get('bad')).toBeUndefined();
  });

  it('leaves the connection syncing every other commit (synchronous = FULL) after puts, claims and releases', async () => {
    const store = open();
    await store.put(verdict('k'));
    const mine = await store.claims.claim(['q1', 'q2'], 'run-1', '2026-12-01T10:00:00.000Z', '2026-12-01T09:58:00.000Z');
    expect([...mine].sort()).toEqual(['q1', 'q2']);
    await store.claims.release(['q1'], 'run-1');
    expect((await store.claims.holderOf('q2'))?.holder).toBe('run-1');
    expect(await store.claims.holderOf('q1')).toBeUndefined();
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
  });
});

describe('GroupCommit', () => {
  function table(): Database.Database {
    const db = walTable(path.join(dir, 'group.sqlite'));
    closers.push(() => void db.close());
    return db;
  }

  it('resolves a write only once a sync that began after its commit has finished; writes committed meanwhile wait for the next sync', async () => {
    const db = table();
    const syncs: Array<ReturnType<typeof deferred>> = [];
    const commits = new GroupCommit<string>(db, (v) => db.prepare('INSERT INTO t (v) VALUES (?)').run(v), () => {
      const sync = deferred();
      syncs.push(sync);
      return sync.promise;
    });
    const resolved: string[] = [];
    const first = commits.add('a').then(() => resolved.push('a'));
    await turn();
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 });
    expect(syncs).toHaveLength(1);

    const second = commits.add('b').then(() => resolved.push('b'));
    await turn();
    // Committed, but the sync under way may have begun before it: b waits for the next one.
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 2 });
    expect(syncs).toHaveLength(1);
    expect(resolved).toEqual([]);

    syncs[0]?.resolve();
    await first;
    expect(resolved).toEqual(['a']);
    await turn();
    expect(syncs).toHaveLength(2);
    syncs[1]?.resolve();
    await second;
    expect(resolved).toEqual(['a', 'b']);
  });

  it('fails the writes a sync was to make durable when the disk refuses it', async () => {
    const db = table();
    const commits = new GroupCommit<string>(db, (v) => db.prepare('INSERT INTO t (v) VALUES (?)').run(v), () => Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
    await expect(Promise.all([commits.add('a'), commits.add('b')])).rejects.toThrow(/EIO/);
    await commits.settle();
  });

  it('commits nothing twice: a flush with nothing waiting writes nothing, and a write made after a flush goes in the next group', async () => {
    const db = table();
    let syncs = 0;
    const commits = new GroupCommit<string>(db, (v) => db.prepare('INSERT INTO t (v) VALUES (?)').run(v), () => {
      syncs++;
      return Promise.resolve();
    });
    commits.flush();
    expect(syncs).toBe(0);
    const a = commits.add('a');
    commits.flush();
    const b = commits.add('b');
    await Promise.all([a, b]);
    expect(db.prepare('SELECT v FROM t ORDER BY v').all()).toEqual([{ v: 'a' }, { v: 'b' }]);
    expect(syncs).toBe(2);
  });
});
