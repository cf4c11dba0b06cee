/**
 * Once a statement has given up on an unreachable server (its whole commit patience spent),
 * the statements after it try once: a run stopping for the outage records its way out in
 * seconds, not a patience each. The first statement to get through restores the patience.
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

async function timed(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = Date.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { ms: Date.now() - start, error };
}

describe('statements after the store gave up on the server', () => {
  it('try once while it stays down, and have the whole patience again once one gets through', { timeout: 60_000 }, async () => {
    const store = await openPostgresStore(await cluster.createDatabase('gaveup'), { commitPatienceMs: 3_000 });
    try {
      await store.put(verdictOf('a'));
      cluster.stop('fast');
      const first = await timed(store.put(verdictOf('b')));
      expect(first.error).toBeInstanceOf(StatusValidatorError);
      expect((first.error as Error).message).toMatch(/stayed unreachable for \d+ s while saving or reading/);
      expect(first.ms).toBeGreaterThanOrEqual(2_000);
      const next = await timed(store.count());
      expect(next.error).toBeInstanceOf(StatusValidatorError);
      expect((next.error as Error).message).toContain(`127.0.0.1:${cluster.port}`);
      // It says how long the outage has lasted (the run may report this failure, not the first).
      expect((next.error as Error).message).toMatch(/stayed unreachable for \d+ s while saving or reading, and still is/);
      expect(Number(/for (\d+) s/.exec((next.error as Error).message)?.[1])).toBeGreaterThanOrEqual(3);
      expect(next.ms).toBeLessThan(1_000);
      cluster.start();
      // Back: the first statement gets through, and the next outage is waited out again.
      expect(await store.count()).toBe(1);
      cluster.restart('fast');
      await store.put(verdictOf('c'));
      expect(await store.count()).toBe(2);
    } finally {
      await store.close();
    }
  });
});
