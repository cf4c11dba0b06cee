/**
 * Review of the PostgreSQL run locks (issue 21 item 3, invariant 8): an acquirer that loses the
 * advisory lock reads the `locks` row and trusts it as the holder's, without checking that the
 * row's backend_pid is the session that holds the advisory lock. Between an acquirer's
 * pg_try_advisory_lock and the commit of its row, the row still names the previous holder: a
 * leftover of a holder that died (a crash leaves its row; only the next acquirer replaces it).
 *
 * - When that leftover is older than the stale bound (a crash, then no run for a few minutes:
 *   every hourly schedule after a crash), the loser of two simultaneous acquires takes the
 *   leftover's silence for the live winner's, looks up who holds the advisory lock (the winner,
 *   seconds old) and ends its session with pg_terminate_backend: the winner is killed, and the
 *   loser's `tookOver` blames the dead run. Invariant 8 asks that two runs never work at once and
 *   that the second "says who holds it" — here the second removes the first instead.
 * - When the leftover is fresh, the loser's LockedError names the dead run as the holder.
 *
 * PostgreSQL semantics relied on: pg_try_advisory_lock returns false at once while another
 * session holds the key, and a session-level advisory lock is held until released or the session
 * ends (https://www.postgresql.org/docs/15/explicit-locking.html#ADVISORY-LOCKS,
 * https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS);
 * pg_terminate_backend ends any session of the same role
 * (https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-ADMIN-SIGNAL). The "winner
 * between lock and row" is played by a plain session holding the same advisory key (exactly what
 * the winner's session is in that window); the last test races two real acquires.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { AcquiredLock } from '../../src/cache/contract.js';
import { advisoryKey } from '../../src/cache/postgres/locks.js';
import { LockedError } from '../../src/errors.js';
import { freshDatabase, postgresAfterEach, testCluster } from '../support/postgres-store.js';

const { clients, open } = postgresAfterEach();

const STALE_MS = 400;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const database = () => freshDatabase('lockrace');

/** A holder that died: it took the lock, then its session ended (its process was killed); its row stays. */
async function leaveDeadHolder(url: string, db: string, runId: string): Promise<void> {
  const s = await open(url);
  const lock = await s.locks.acquire('tab', runId);
  const cluster = await testCluster();
  await cluster.sql('SELECT pg_terminate_backend(backend_pid) FROM locks WHERE name = $1', ['tab'], db);
  while (!lock.lost?.aborted) await sleep(20);
}

/** A session that has just won the advisory lock and not yet written its row. */
async function sessionHoldingKey(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  clients.push(c);
  await c.query('SELECT pg_advisory_lock($1)', [advisoryKey('tab')]);
  return c;
}

async function alive(c: pg.Client): Promise<boolean> {
  return c.query('SELECT 1').then(
    () => true,
    () => false,
  );
}

describe('PostgreSQL locks: a dead holder\'s leftover row is not the live holder', () => {
  it('a stale leftover row does not make an acquirer end the session that holds the lock now', async () => {
    const { url, name } = await database();
    await leaveDeadHolder(url, name, 'dead-run');
    await sleep(STALE_MS * 2);
    const winner = await sessionHoldingKey(url);
    const b = await open(url, STALE_MS);
    const outcome = await b.locks.acquire('tab', 'b-run').then(
      (lock) => ({ won: true as const, tookOver: lock.tookOver }),
      (error: unknown) => ({ won: false as const, error }),
    );
    // The holder of the advisory lock is seconds old: it must be left alone, and B refused.
    expect(await alive(winner)).toBe(true);
    expect(outcome).toMatchObject({ won: false });
    expect(!outcome.won && outcome.error).toBeInstanceOf(LockedError);
  });

  it('a fresh leftover row is not named as the holder in the refusal', async () => {
    const { url, name } = await database();
    await leaveDeadHolder(url, name, 'dead-run');
    await sessionHoldingKey(url);
    const b = await open(url);
    const error = await b.locks.acquire('tab', 'b-run').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(LockedError);
    // dead-run's session has ended: it holds nothing, and the message must not send the user after it.
    expect(error?.message).not.toContain('dead-run');
  });

  it('two instances acquiring at the same moment after a crash long ago: one wins and keeps the lock, the other gets a LockedError', async () => {
    const { url, name } = await database();
    const a = await open(url, STALE_MS);
    const b = await open(url, STALE_MS);
    const problems: string[] = [];
    for (let round = 0; round < 12; round++) {
      await leaveDeadHolder(url, name, `dead-${round}`);
      await sleep(STALE_MS * 2);
      const results = await Promise.allSettled([a.locks.acquire('tab', `a-${round}`), b.locks.acquire('tab', `b-${round}`)]);
      const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
      await sleep(100);
      const killed = won.filter((l: AcquiredLock) => l.lost?.aborted);
      if (won.length !== 1 || killed.length > 0 || !(lost[0] instanceof LockedError)) {
        problems.push(`round ${round}: ${won.length} won, ${killed.length} of them lost at once; the other: ${lost.map((e) => `${e.constructor.name}: ${e.message}`).join('; ')}`);
      }
      for (const l of won) await l.release();
    }
    expect(problems).toEqual([]);
  });
});
