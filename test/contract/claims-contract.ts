/**
 * What every Store's claims keep when many calls are made at once (50 workers answering in
 * one turn of the event loop), whichever engine holds them: run by test/contract/<kind>.test.ts
 * beside storeContract. The calls are made together, as if one after another in some order:
 * SQLite keeps the order of the calls (test/unit/sqlite-claims-batch.test.ts), PostgreSQL's
 * pool may run them in any order, so only what holds for every order is asserted here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/cache/contract.js';

const T0 = '2026-03-01T00:00:00.000Z';
const BEFORE = '2026-02-28T23:58:00.000Z';

export function claimsContract(name: string, open: () => Promise<Store>): void {
  describe(`Store claims made together: ${name}`, () => {
    const opened: Store[] = [];
    const fresh = async () => {
      const store = await open();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    it('gives each key of claims made together by two live holders to exactly one of them, and tells each caller exactly the keys it holds', async () => {
      const store = await fresh();
      const locks = [await store.locks.acquire('sheet-1/One', 'one'), await store.locks.acquire('sheet-1/Two', 'two')];
      const calls: Array<[string, string[]]> = [
        ['one', ['a', 'b', 'c']],
        ['two', ['b', 'c', 'd']],
        ['one', ['d', 'e']],
        ['two', ['e', 'a', 'f']],
        ['one', ['f', 'g', 'a']],
        ['two', ['g', 'h']],
      ];
      const results = await Promise.all(calls.map(([holder, keys]) => store.claims.claim(keys, holder, T0, BEFORE)));
      const heldBy = new Map<string, string>();
      calls.forEach(([holder], i) => {
        for (const key of results[i] ?? []) {
          expect(heldBy.get(key) ?? holder, `${key} told to both holders`).toBe(holder);
          heldBy.set(key, holder);
        }
      });
      // Every key was free or its holder's own: someone holds each, and it is the one told so.
      expect([...heldBy.keys()].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
      for (const [key, holder] of heldBy) expect((await store.claims.holderOf(key))?.holder).toBe(holder);
      for (const lock of locks) await lock.release();
    });

    it("a holder's release and another's claims made together: the key is the claimer's exactly when one of its calls says so", async () => {
      const store = await fresh();
      const locks = [await store.locks.acquire('sheet-1/One', 'one'), await store.locks.acquire('sheet-1/Two', 'two')];
      expect([...(await store.claims.claim(['a'], 'one', T0, BEFORE))]).toEqual(['a']);
      const [before, released, after] = await Promise.all([store.claims.claim(['a'], 'two', T0, BEFORE), store.claims.release(['a'], 'one'), store.claims.claim(['a', 'b'], 'two', T0, BEFORE)]);
      expect(released).toBeUndefined();
      expect(after.has('b')).toBe(true);
      // In any order: two holds the key exactly when one of its claims (one run after the release) was told so.
      const told = before.has('a') || after.has('a');
      expect(await store.claims.holderOf('a')).toEqual(told ? { holder: 'two', claimedAt: T0, live: true } : undefined);
      for (const lock of locks) await lock.release();
    });

    it("releases made together drop only each holder's own claims", async () => {
      const store = await fresh();
      const locks = [await store.locks.acquire('sheet-1/One', 'one'), await store.locks.acquire('sheet-1/Two', 'two')];
      await store.claims.claim(['a', 'b'], 'one', T0, BEFORE);
      await store.claims.claim(['c', 'd'], 'two', T0, BEFORE);
      await Promise.all([store.claims.release(['a', 'c'], 'one'), store.claims.release(['a', 'b'], 'two'), store.claims.release(['d', 'x'], 'two')]);
      expect(await store.claims.holderOf('a')).toBeUndefined();
      expect((await store.claims.holderOf('b'))?.holder).toBe('one');
      expect((await store.claims.holderOf('c'))?.holder).toBe('two');
      expect(await store.claims.holderOf('d')).toBeUndefined();
      for (const lock of locks) await lock.release();
    });
  });
}
