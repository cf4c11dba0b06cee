/**
 * What every Store's claims keep when many calls are made in one turn of the event loop (50
 * workers answering together), whichever engine holds them: run by test/contract/<kind>.test.ts
 * beside storeContract. Both engines coalesce a turn's calls (SQLite: one transaction,
 * PostgreSQL: a statement per run of calls whose keys do not meet), and each caller must still
 * get what it would have got had the calls run one after another in call order.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/cache/contract.js';

const T0 = '2026-03-01T00:00:00.000Z';
const BEFORE = '2026-02-28T23:58:00.000Z';
const sorted = (keys: Set<string>) => [...keys].sort();

/** One call of a turn: a claim (at minute `at`, stale before two minutes earlier) or a release. */
type Call = { kind: 'claim'; holder: string; keys: string[]; at: number } | { kind: 'release'; holder: string; keys: string[] };

const HOLDERS = ['one', 'two', 'gone'] as const;
/** Holders with a run lock: `gone` has none (ended, or killed and taken over), so its claims are free to anyone. */
const LIVE = ['one', 'two'];
const KEYS = ['a', 'b', 'c', 'd'];
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
        if (!held || held.holder === call.holder || held.at < staleBefore || !LIVE.includes(held.holder)) {
          claims.set(key, { holder: call.holder, at: now });
          mine.add(key);
        }
      }
      return mine;
    },
    holder: (key) => claims.get(key)?.holder,
  };
}

const call: fc.Arbitrary<Call> = fc.oneof(
  fc.record({ kind: fc.constant('claim' as const), holder: fc.constantFrom(...HOLDERS), keys: fc.array(fc.constantFrom(...KEYS), { maxLength: 4 }), at: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ kind: fc.constant('release' as const), holder: fc.constantFrom(...HOLDERS), keys: fc.array(fc.constantFrom(...KEYS), { maxLength: 4 }) }),
);

export function claimsContract(name: string, open: () => Promise<Store>): void {
  describe(`Store claims made in one turn: ${name}`, () => {
    const opened: Store[] = [];
    const fresh = async () => {
      const store = await open();
      opened.push(store);
      for (const holder of LIVE) await store.locks.acquire(`sheet-1/${holder}`, holder);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    it('tells each caller what it would have got had the calls run one after another: of two holders claiming a key, the first caller gets it', async () => {
      const store = await fresh();
      const results = await Promise.all([
        store.claims.claim(['a', 'b'], 'one', T0, BEFORE),
        store.claims.claim(['b', 'c'], 'two', T0, BEFORE),
        store.claims.claim(['c', 'd', 'a'], 'one', T0, BEFORE),
        store.claims.claim(['a', 'd', 'e'], 'two', T0, BEFORE),
        store.claims.claim(['e', 'f', 'b', 'f'], 'one', T0, BEFORE),
        store.claims.claim(['g'], 'two', T0, BEFORE),
      ]);
      expect(results.map(sorted)).toEqual([['a', 'b'], ['c'], ['a', 'd'], ['e'], ['b', 'f'], ['g']]);
      const holders = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map(async (key) => (await store.claims.holderOf(key))?.holder));
      expect(holders).toEqual(['one', 'one', 'two', 'one', 'two', 'one', 'two']);
    });

    it('a claim made before a release in the same turn does not get the key; one made after it does', async () => {
      const store = await fresh();
      await store.claims.claim(['a'], 'one', T0, BEFORE);
      const [before, released, after] = await Promise.all([store.claims.claim(['a'], 'two', T0, BEFORE), store.claims.release(['a'], 'one'), store.claims.claim(['a', 'b'], 'two', T0, BEFORE)]);
      expect(sorted(before)).toEqual([]);
      expect(released).toBeUndefined();
      expect(sorted(after)).toEqual(['a', 'b']);
      expect(await store.claims.holderOf('a')).toEqual({ holder: 'two', claimedAt: T0, live: true });
    });

    it("releases made in one turn drop only each holder's own claims", async () => {
      const store = await fresh();
      await store.claims.claim(['a', 'b'], 'one', T0, BEFORE);
      await store.claims.claim(['c', 'd'], 'two', T0, BEFORE);
      await Promise.all([store.claims.release(['a', 'c'], 'one'), store.claims.release(['a', 'b'], 'two'), store.claims.release(['d', 'x'], 'two')]);
      expect(await store.claims.holderOf('a')).toBeUndefined();
      expect((await store.claims.holderOf('b'))?.holder).toBe('one');
      expect((await store.claims.holderOf('c'))?.holder).toBe('two');
      expect(await store.claims.holderOf('d')).toBeUndefined();
    });

    it('random turns of claims and releases by three holders give each caller, and leave the store, what the calls run one after another would', async () => {
      const store = await fresh();
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(call, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }), async (turns) => {
          // A clean slate from the last run: every holder's claims released.
          for (const holder of HOLDERS) await store.claims.release(KEYS, holder);
          const expected = model();
          for (const turn of turns) {
            // Every call of the turn made before any resolves.
            const results = await Promise.all(turn.map((c) => (c.kind === 'claim' ? store.claims.claim(c.keys, c.holder, iso(c.at), iso(c.at - 2)) : store.claims.release(c.keys, c.holder))));
            results.forEach((result, i) => {
              const wanted = expected.run(turn[i] as Call);
              expect(result === undefined ? undefined : sorted(result)).toEqual(wanted === undefined ? undefined : sorted(wanted));
            });
            for (const key of KEYS) expect((await store.claims.holderOf(key))?.holder).toBe(expected.holder(key));
          }
        }),
        { numRuns: 60 },
      );
    });
  });
}
