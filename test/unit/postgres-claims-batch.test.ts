import fc from 'fast-check';
/**
 * Issue 25 item 4: the PostgreSQL store sends the claims and releases made in one turn of the
 * event loop as one statement (src/cache/postgres/claims.ts). What both engines keep is in
 * test/contract/claims-contract.ts; here, what is PostgreSQL's own: the statements counted,
 * a refused statement, and connections the server ended.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/cache/contract.js';
import { openPostgresStore } from '../../src/cache/postgres/index.js';
import { advisoryKey, advisoryKeySql } from '../../src/cache/postgres/locks.js';
import { StatusValidatorError } from '../../src/errors.js';
import { freshDatabase, testCluster } from '../support/postgres-store.js';

const T0 = '2026-03-01T00:00:00.000Z';
const BEFORE = '2026-02-28T23:58:00.000Z';
const sorted = (keys: Set<string>) => [...keys].sort();

const stores: Store[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

async function fresh(): Promise<{ store: Store; name: string }> {
  const { url, name } = await freshDatabase('claims');
  const store = await openPostgresStore(url);
  stores.push(store);
  return { store, name };
}

/** The cluster's next transaction id: each writing statement of the store in between takes one. */
async function nextXid(name: string): Promise<number> {
  const [row] = await (await testCluster()).sql<{ xid: string }>('SELECT txid_current()::text AS xid', [], name);
  return Number(row?.xid);
}

describe('PostgreSQL claims made in one turn', () => {
  it('go to the server as one statement: forty claims and releases of one turn take one transaction, forty made one after another take forty', async () => {
    const { store, name } = await fresh();
    await store.claims.claim(Array.from({ length: 20 }, (_, i) => `earlier-${i}`), 'one', T0, BEFORE);
    let start = await nextXid(name);
    await Promise.all(Array.from({ length: 20 }, (_, i) => [store.claims.claim([`together-${i}`], 'one', T0, BEFORE), store.claims.release([`earlier-${i}`], 'one')]).flat());
    const together = (await nextXid(name)) - start - 1;

    start = await nextXid(name);
    for (let i = 0; i < 40; i++) await store.claims.claim([`apart-${i}`], 'one', T0, BEFORE);
    const apart = (await nextXid(name)) - start - 1;

    expect(together).toBe(1);
    expect(apart).toBe(40);
    expect((await store.claims.holderOf('together-19'))?.holder).toBe('one');
    expect(await store.claims.holderOf('earlier-19')).toBeUndefined();
  });

  it('a statement the server refuses fails every call of its turn, none taking effect; the next turn works', async () => {
    const { store, name } = await fresh();
    const cluster = await testCluster();
    await store.claims.claim(['a'], 'one', T0, BEFORE);
    await cluster.sql('ALTER TABLE claims RENAME TO claims_away', [], name);
    const outcomes = await Promise.allSettled([store.claims.claim(['b'], 'one', T0, BEFORE), store.claims.release(['a'], 'one'), store.claims.claim(['b', 'c'], 'two', T0, BEFORE)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const outcome of outcomes) {
      const reason = (outcome as PromiseRejectedResult).reason as unknown;
      expect(reason).toBeInstanceOf(StatusValidatorError);
      expect(String(reason)).toMatch(/claims/);
    }
    await cluster.sql('ALTER TABLE claims_away RENAME TO claims', [], name);
    expect((await store.claims.holderOf('a'))?.holder).toBe('one');
    expect(await store.claims.holderOf('b')).toBeUndefined();
    expect(sorted(await store.claims.claim(['b', 'c'], 'two', T0, BEFORE))).toEqual(['b', 'c']);
  });

  it("connections the server ended: a turn's statements are sent again and each call still gets its own result", async () => {
    const { store, name } = await fresh();
    const cluster = await testCluster();
    // No run holds a lock here: each claim takes the key over from any other holder.
    await store.claims.claim(['a', 'b'], 'one', T0, BEFORE);
    // Every pooled connection ended: the first statement of the turn meets a dead one.
    const ended = await cluster.sql('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    expect(ended.length).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const results = await Promise.all([store.claims.claim(['a', 'c'], 'two', T0, BEFORE), store.claims.release(['b'], 'one'), store.claims.claim(['c', 'b'], 'one', T0, BEFORE)]);
    // Two statements (the third call meets the first's c), each sent once it can be.
    expect(sorted(results[0])).toEqual(['a', 'c']);
    expect(sorted(results[2])).toEqual(['b', 'c']);
    expect((await store.claims.holderOf('a'))?.holder).toBe('two');
    expect((await store.claims.holderOf('b'))?.holder).toBe('one');
    expect((await store.claims.holderOf('c'))?.holder).toBe('one');
  });
});

describe('the advisory key of a lock, computed by the server (claims judge their holders by it)', () => {
  it('property: is advisoryKey of the same name, for any name a lock may have (text holds no U+0000)', async () => {
    const { name } = await fresh();
    const cluster = await testCluster();
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }).filter((lockName) => !lockName.includes('\u0000')), async (lockName) => {
        const [row] = await cluster.sql<{ key: string }>(`SELECT ${advisoryKeySql('$1::text')}::text AS key`, [lockName], name);
        expect(row?.key).toBe(advisoryKey(lockName));
      }),
      { numRuns: 60 },
    );
  });
});
