/**
 * Review of e8db74b (src/cache/postgres/claims.ts HOLDS_LOCK): a claim's holder counts as live
 * while its locks row's backend_pid appears in pg_locks holding ANY advisory lock, in ANY
 * database of the cluster. The run locks themselves (src/cache/postgres/locks.ts
 * ADVISORY_HOLDER) ask for the advisory lock of that row's name in this database, and say why:
 * "a row whose backend_pid is not the holder's is a dead holder's leftover ... and must never be
 * taken for the holder."
 *
 * A dead run's leftover row stays until the next acquirer of its tab replaces it (days, for a
 * tab run weekly), and backend pids are OS pids: once the dead session's pid is reused by a
 * backend that holds some advisory lock (another run's lock connection, or any application on
 * the same cluster that uses advisory locks, in any database), the dead run's claims count as
 * live again and every other run waits CLAIM_STALE_MS (2 minutes) per question for a holder
 * that will never answer: exactly what e8db74b set out to end. Here the reuse is made by
 * pointing the leftover row at a live session of another database holding advisory lock 42
 * (the state a reused pid produces; a real reuse cannot be forced in a test).
 *
 * Fails: holderOf says the dead run's claim is live and claim() refuses to take it over, while
 * the run lock of the same row is taken over at once by acquire (it sees nobody holds it).
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freshDatabase, postgresAfterEach, testCluster } from '../support/postgres-store.js';

const pgEach = postgresAfterEach();
const NAME = 'sheet-1:Statuses';

describe('a dead run whose leftover locks row names a session holding another advisory lock (postgres)', () => {
  it('its claims are free at once, as its run lock is', { timeout: 30_000 }, async () => {
    const cluster = await testCluster();
    const { url, name } = await freshDatabase('r25g');
    const other = await freshDatabase('r25gapp');
    // Another application on the same cluster, in its own database, holding an advisory lock.
    const app = new pg.Client({ connectionString: other.url });
    pgEach.clients.push(app);
    await app.connect();
    const appPid = (await app.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_advisory_lock(42)')).rows[0]?.pid;
    expect(appPid).toBeTypeOf('number');

    // Run A: takes its tab, claims q1, then its process dies (its lock session ends).
    const storeA = await pgEach.open(url);
    const lockA = await storeA.locks.acquire(NAME, 'run-A');
    expect(lockA).toBeDefined();
    const at = new Date();
    expect([...(await storeA.claims.claim(['q1'], 'run-A', at.toISOString(), new Date(at.getTime() - 120_000).toISOString()))]).toEqual(['q1']);
    const [ended] = await cluster.sql<{ ended: boolean }>('SELECT pg_terminate_backend(backend_pid) AS ended FROM locks WHERE run_id = $1', ['run-A'], name);
    expect(ended?.ended).toBe(true);
    // Its leftover row now names a reused pid: the other application's session.
    await cluster.sql('UPDATE locks SET backend_pid = $1 WHERE run_id = $2', [appPid, 'run-A'], name);

    // Run B, on another tab with the same question.
    const storeB = await pgEach.open(url);
    const holder = await storeB.claims.holderOf('q1');
    expect(holder?.holder).toBe('run-A');
    expect(holder?.live, "run A holds no run lock (nobody holds its tab's advisory lock): its claim is not live").toBe(false);
    const now = new Date();
    const taken = await storeB.claims.claim(['q1'], 'run-B', now.toISOString(), new Date(now.getTime() - 120_000).toISOString());
    expect([...taken], "run B takes the dead run's claim at once").toEqual(['q1']);

    // The run locks agree A is dead: its tab is taken over at once.
    const lockB = await storeB.locks.acquire(NAME, 'run-B');
    expect(lockB.tookOver ?? '').toContain('run-A');
    await lockB.release();
  });
});
