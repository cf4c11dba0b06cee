/**
 * Review of issue 25 (claims coalesced per loop turn). src/cache/contract.ts now says "each
 * call gets what it would have got had they run one after another in call order", and the
 * SQLite store keeps it across every call that reads or depends on the claims (holderOf, a
 * lock taken or dropped, the next turn: its transactions run one after another). The
 * PostgreSQL store does not:
 *
 * - holderOf goes to the server at once, while a claim made before it in the same turn waits
 *   for the turn's statement (setImmediate): it reports the key free although the caller
 *   claimed it first (src/cache/postgres/claims.ts holderOf: no flush, unlike SQLite's).
 * - a run lock dropped right after a claim (same turn) is dropped before the claim is sent:
 *   the claim takes a key whose holder, in call order, still held its lock (SQLite's locks
 *   commit the waiting claims first: src/cache/sqlite/parts.ts `before`; PostgreSQL's locks
 *   know nothing of the claims waiting for their statement).
 *
 * Both engines run the same cases: SQLite passes them, PostgreSQL fails them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/cache/contract.js';
import { SqliteStore } from '../../src/cache/index.js';
import { freshPostgresStore } from '../support/postgres-store.js';

const T0 = '2026-03-01T00:00:00.000Z';
const BEFORE = '2026-02-28T23:58:00.000Z';

const dir = mkdtempSync(path.join(tmpdir(), 'sv-r25b-claims-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const engines: Array<[string, () => Promise<Store>]> = [
  ['sqlite', () => Promise.resolve(SqliteStore.open(path.join(dir, `cache-${++n}.sqlite`)))],
  ['postgres', () => freshPostgresStore()],
];

for (const [engine, open] of engines) {
  describe(`claims in call order beyond one statement (${engine})`, () => {
    const opened: Store[] = [];
    const fresh = async () => {
      const store = await open();
      opened.push(store);
      for (const holder of ['one', 'two']) await store.locks.acquire(`sheet-1/${holder}`, holder);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    it('holderOf asked right after a claim (same turn) names the claim\'s holder, as the calls in call order would', async () => {
      const store = await fresh();
      const claimed = store.claims.claim(['a'], 'one', T0, BEFORE);
      const holder = store.claims.holderOf('a');
      expect([...(await claimed)]).toEqual(['a']);
      expect((await holder)?.holder).toBe('one');
    });

    it("a claim made before its holder's run lock is dropped (same turn) is refused, as the calls in call order would", async () => {
      const store = await fresh();
      const lock = await store.locks.acquire('sheet-2/three', 'three');
      expect([...(await store.claims.claim(['k'], 'three', T0, BEFORE))]).toEqual(['k']);
      // In call order: 'two' claims k while 'three' holds it with a live run lock, then 'three' ends.
      const claimed = store.claims.claim(['k'], 'two', T0, BEFORE);
      const released = lock.release();
      expect([...(await claimed)], "'two' got k although 'three' still held its run lock when 'two' claimed it").toEqual([]);
      await released;
    });
  });
}
