/**
 * Review of e8db74b (PostgreSQL: a claim's holder is live only while its locks row's
 * backend_pid holds an advisory lock). A run whose lock session ends (a proxy drops the
 * connection, the server fails over) takes its lock again under the same run id
 * (src/pipeline/run-lock.ts regain): a new session takes the tab's advisory lock, THEN writes
 * its row (src/cache/postgres/locks.ts claim: tryLock, then INSERT ... ON CONFLICT). Between
 * the two the run holds its tab (no other run can take it) and goes on asking, its requests in
 * flight; but its row still names the ended session, so by HOLDS_LOCK its claims are dead, and
 * every other run sharing its questions takes them over and asks them again: each question
 * in flight paid twice (invariant 9). Before e8db74b the row alone kept them live.
 *
 * The window is held open here by a test transaction that locks the run's locks row (FOR
 * UPDATE: the run's INSERT ... ON CONFLICT DO UPDATE waits for it, while plain reads go on),
 * standing for a slow commit of that row (a database just back from a restart).
 *
 * Fails: holderOf says the claims of run A, which holds its tab's advisory lock, are not live.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/cache/postgres/index.js';
import { HEADER, TAB } from '../support/bed.js';
import { waitFor } from '../support/inspect.js';
import { FAST_SHEETS, instancesAfterEach, isChat } from '../support/instances.js';
import { sampleRows } from '../support/sample-data.js';

const instances = instancesAfterEach();
const OUTPUTS = ['Validation', 'Issues', 'Suggestion', 'Checked at'];

describe('a run taking its lock again after its session ended (postgres)', () => {
  it('keeps its claims while it holds its tab, before its row is written again', { timeout: 60_000 }, async () => {
    const rows = sampleRows(6);
    const { bed: b, cluster, url, database } = await instances.postgresBed({ rows, header: [...HEADER, ...OUTPUTS], moreTabs: [{ title: 'Copy 2', rows: [[...HEADER, ...OUTPUTS], ...rows] }], llm: { latencyMs: 5_000 }, config: { sheets: FAST_SHEETS, llm: { max_workers: 2 } } });
    b.setConfig({ targets: [{ name: 'first', sheet: TAB }, { name: 'second', sheet: 'Copy 2' }] });
    const a = instances.spawn(['run', '--config', b.configPath, '--target', 'second'], { env: b.env });
    await waitFor('run A to ask its questions', () => b.llm.requests.filter(isChat).length >= 2, 30_000);
    const [lock] = await cluster.sql<{ name: string; run_id: string; backend_pid: number }>('SELECT name, run_id, backend_pid FROM locks', [], database);
    const [claim] = await cluster.sql<{ key: string; holder: string }>('SELECT key, holder FROM claims', [], database);
    expect(claim?.holder).toBe(lock?.run_id);

    // A slow write of the lock row: the run's rewrite of it waits on this transaction.
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    const store = await openPostgresStore(url);
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM locks WHERE name = $1 FOR UPDATE', [lock?.name]);
      // The connection drops: run A's lock session ends.
      await cluster.sql('SELECT pg_terminate_backend($1)', [lock?.backend_pid], database);
      // Run A takes its tab's advisory lock again, in a new session, and waits to write its row.
      let waiting = 0;
      for (let i = 0; i < 200 && waiting === 0; i++) {
        const [row] = await cluster.sql<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND s.wait_event_type = 'Lock' AND s.datname = $1`,
          [database],
          database,
        );
        waiting = row?.n ?? 0;
        if (waiting === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(waiting, 'run A holds its advisory lock again and waits to write its row').toBe(1);
      expect(a.process.exitCode, a.stderr()).toBeNull();

      // Another run sharing the question asks who holds it (ClaimBook.waitFor).
      const holder = await store.claims.holderOf(claim?.key ?? '');
      expect(holder?.holder).toBe(lock?.run_id);
      expect(holder?.live, 'run A holds its tab (its advisory lock) and its requests are in flight: its claims are live').toBe(true);
      const now = new Date();
      const taken = await store.claims.claim([claim?.key ?? ''], 'run-B', now.toISOString(), new Date(now.getTime() - 120_000).toISOString());
      expect([...taken], "run B must not take run A's claim (it would ask again a question in flight)").toEqual([]);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      await blocker.end().catch(() => undefined);
      await store.close();
    }
  });
});
