/**
 * Review of 7376c90 (src/cache/postgres/db.ts retry): a statement failing after an earlier
 * one gave up says how long the outage has lasted ("stayed unreachable for N s, and still
 * is"), since the run may report that failure rather than the first. But every statement
 * that was already waiting out its patience when the first gave up (with 50 workers, most
 * of them) resets `unreachableSince` to its own start when it gives up in turn
 * (`if (patient) this.unreachableSince = Date.now() - waited`): the outage's start moves
 * forward, and the failures after it understate how long the database has been down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/cache/postgres/index.js';
import { StatusValidatorError } from '../../src/errors.js';
import { verdictOf } from '../contract/store-contract.js';
import { startPostgres, type PostgresCluster } from '../support/postgres.js';

let cluster: PostgresCluster;
beforeAll(async () => {
  cluster = await startPostgres();
});
afterAll(() => cluster.dispose());

const failureOf = (promise: Promise<unknown>): Promise<Error> =>
  promise.then(
    () => new Error('it succeeded'),
    (e: unknown) => e as Error,
  );
const seconds = (error: Error) => Number(/stayed unreachable for (\d+) s/.exec(error.message)?.[1] ?? NaN);

describe('how long a PostgreSQL outage has lasted, as the failures after the first give-up say it', () => {
  it('counts from when the outage was first met, not from when the last patient statement started', { timeout: 60_000 }, async () => {
    const store = await openPostgresStore(await cluster.createDatabase('outage_since'), { commitPatienceMs: 3_000 });
    try {
      await store.put(verdictOf('a'));
      cluster.stop('fast');
      const down = Date.now();
      // Two workers' statements: the second starts while the first is still waiting.
      const first = failureOf(store.put(verdictOf('b')));
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const second = failureOf(store.put(verdictOf('c')));
      expect(seconds(await first)).toBeGreaterThanOrEqual(3);
      const late = await second;
      expect(late).toBeInstanceOf(StatusValidatorError);
      // A statement after both gave up: tried once, it says how long the outage has lasted.
      const next = await failureOf(store.count());
      const lasted = Math.floor((Date.now() - down) / 1000);
      expect(lasted).toBeGreaterThanOrEqual(5);
      expect(next.message).toMatch(/and still is/);
      expect(seconds(next), `${next.message} — the database has been down ${lasted} s`).toBeGreaterThanOrEqual(lasted - 1);
    } finally {
      cluster.start();
      await store.close();
    }
  });
});
