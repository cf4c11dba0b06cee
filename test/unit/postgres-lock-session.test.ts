/**
 * The PostgreSQL run lock's own session (src/cache/postgres/locks.ts): what the review of issue 21
 * asked of it beyond the leftover race.
 * - A server's idle_session_timeout (PostgreSQL 14+: "Terminate any session that has been idle …
 *   for longer than the specified amount of time", https://www.postgresql.org/docs/15/runtime-config-client.html#GUC-IDLE-SESSION-TIMEOUT)
 *   must not end a lock's session between heartbeats: that would free the lock under a live run.
 * - A heartbeat in flight when the holder releases the lock must not report the lock lost.
 * - Closing the store while an acquire is in flight must leave no session holding the lock.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { LockedError } from '../../src/errors.js';
import { freshDatabase, postgresAfterEach, testCluster } from '../support/postgres-store.js';

const { clients, open } = postgresAfterEach();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const database = () => freshDatabase('locksession');

/** Another session that holds the tab's lock row (an open transaction, FOR UPDATE): a heartbeat's UPDATE waits on it. */
async function holdLockRow(url: string): Promise<pg.Client> {
  const blocker = new pg.Client({ connectionString: url });
  blocker.on('error', () => {});
  await blocker.connect();
  clients.push(blocker);
  await blocker.query('BEGIN');
  await blocker.query(`SELECT 1 FROM locks WHERE name = 'tab' FOR UPDATE`);
  return blocker;
}

/** Sessions of the store (application_name status-validator) connected to this database. */
async function storeSessions(name: string): Promise<number> {
  const [row] = await (await testCluster()).sql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'status-validator'`, [name]);
  return row?.n ?? -1;
}

describe('the PostgreSQL lock\'s session', () => {
  it('survives a database whose idle_session_timeout is shorter than the time between heartbeats', async () => {
    const { url, name } = await database();
    await (await testCluster()).sql(`ALTER DATABASE ${name} SET idle_session_timeout = '300ms'`);
    const store = await open(url);
    const lock = await store.locks.acquire('tab', 'run-1');
    await sleep(1_200);
    expect(lock.lost?.aborted).toBe(false);
    expect(await lock.heartbeat()).toBe(true);
    expect(await store.locks.holder('tab')).toMatchObject({ runId: 'run-1' });
    await lock.release();
  });

  it('a heartbeat in flight when the lock is released does not report the lock lost', async () => {
    const { url, name } = await database();
    const store = await open(url);
    const lock = await store.locks.acquire('tab', 'run-1');
    // Another session holds the row: the heartbeat's UPDATE waits on it.
    const blocker = await holdLockRow(url);
    const beat = lock.heartbeat();
    await sleep(200);
    const released = lock.release();
    await sleep(100);
    // The session ends under the waiting heartbeat (as a failing network would end it).
    await (await testCluster()).sql(`SELECT pg_terminate_backend(backend_pid) FROM locks WHERE name = 'tab'`, [], name);
    await released;
    expect(await beat).toBe(false);
    await sleep(100);
    expect(lock.lost?.aborted).toBe(false);
    await blocker.query('ROLLBACK');
  });

  it('closing the store while an acquire is in flight leaves no session holding the lock', async () => {
    const { url, name } = await database();
    for (let round = 0; round < 5; round++) {
      const store = await open(url);
      const acquiring = store.locks.acquire('tab', `run-${round}`).then(
        () => 'acquired',
        (error: unknown) => (error as Error).message,
      );
      await sleep(round * 5);
      await store.close();
      const outcome = await acquiring;
      expect(typeof outcome).toBe('string');
      await expect.poll(() => storeSessions(name), { timeout: 3_000 }).toBe(0);
      const [held] = await (await testCluster()).sql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`, [], name);
      expect(held?.n).toBe(0);
    }
  });

  it('a holder judged silent whose heartbeat commits before it is ended is left alone (the silence is judged again at the end)', async () => {
    const { url } = await database();
    const a = await open(url, 400);
    const b = await open(url, 400);
    const lock = await a.locks.acquire('tab', 'slow-beater');
    await sleep(800);
    // The holder's heartbeat is held up (a slow disk, a lock queue): B reads the row while it is still stale.
    const blocker = await holdLockRow(url);
    const beat = lock.heartbeat();
    await sleep(100);
    const taking = b.locks.acquire('tab', 'taker').then(
      (taken) => taken,
      (error: unknown) => error as Error,
    );
    await sleep(300);
    await blocker.query('COMMIT');
    expect(await beat).toBe(true);
    const outcome = await taking;
    expect(outcome).toBeInstanceOf(LockedError);
    expect((outcome as Error).message).toContain('slow-beater');
    await sleep(100);
    expect(lock.lost?.aborted).toBe(false);
    expect(await lock.heartbeat()).toBe(true);
    await lock.release();
  });
});
