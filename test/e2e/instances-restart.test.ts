/**
 * Issue 21 items 4 and 7: the PostgreSQL server restarting mid-run (`pg_ctl restart`). The
 * run's commits are retried within the bound, its lock (a session lock, which ends with the
 * restart) is taken again since nobody else took the tab, and it ends as if nothing happened:
 * exit 0, every row right, nothing asked twice, no verdict in the sheet before the database.
 */
import { describe, expect, it } from 'vitest';
import { commentOf, expectedCells, waitFor, type Child } from '../support/inspect.js';
import { committedComments, delivered, FAST_SHEETS, instancesAfterEach, isChat, runsIn, watchShownCommitted } from '../support/instances.js';
import type { ChatRequest } from '../support/openai-emulator/index.js';
import type { PostgresCluster } from '../support/postgres.js';
import { sampleRows } from '../support/sample-data.js';

const instances = instancesAfterEach();


describe('the database restarting mid-run', () => {
  it('pg_ctl restart: the run carries on, exits 0, every row right, nothing asked twice, its lock taken again', { timeout: 120_000 }, async () => {
    const rows = sampleRows(60);
    const made = await instances.postgresBed({ rows, llm: { latencyMs: 200 }, config: { llm: { max_workers: 3 }, sheets: FAST_SHEETS } });
    const b = made.bed;
    const { cluster, database } = made;
    // Every flush: no verdict in the sheet that the database does not hold (invariant 2), even across the restart.
    const watch = watchShownCommitted(b, cluster, database);
    const run = instances.spawn(['run', '--config', b.configPath, '--json'], { env: b.env, host: 'host-a' });
    await waitFor('a third of the answers', () => b.llm.requests.filter(delivered).length >= 20, 60_000);
    // Who holds the lock just before the restart (read first: on a loaded machine the run may
    // take its lock again before the polling below starts), then while the run goes on.
    const before = await cluster.sql<{ run_id: string; backend_pid: number }>('SELECT run_id, backend_pid FROM locks', [], database);
    expect(before).toHaveLength(1);
    cluster.restart('fast');
    const restartedAt = Date.now();
    const holders = [...before, ...(await lockHoldersWhile(run, cluster, database))];
    const exit = await run.exited;
    expect(exit.code, run.stderr()).toBe(0);
    const summary = JSON.parse(run.stdout()) as { status: string; fatal?: unknown; rows: { asked: number }; verdicts: { error: number }; llm: { calls: number } };
    expect(summary.status).toBe('completed');
    expect(summary.fatal).toBeUndefined();
    expect(summary.verdicts.error).toBe(0);
    // Answers went on after the restart (the run did not stop at it).
    expect(b.llm.requests.filter((r) => delivered(r) && r.startedAt > restartedAt).length).toBeGreaterThan(0);
    // Each row asked once.
    const asked = b.llm.requests.filter(isChat).map((r) => commentOf(r.body as ChatRequest));
    expect(asked.length).toBe(rows.length);
    expect(new Set(asked).size).toBe(rows.length);
    const committed = await committedComments(cluster, database);
    expect(committed.size).toBe(rows.length);
    const values = b.values();
    const verdictCol = values[0]?.indexOf('Validation') ?? -1;
    rows.forEach((row, i) => expect(values[i + 1]?.[verdictCol], `row ${i + 2}`).toBe(expectedCells(row).verdict));
    watch.stop();
    expect(watch.checks()).toBeGreaterThan(2);
    expect(watch.violations).toEqual([]);
    // One run, recorded as completed; the lock was taken again by that run; it is free now.
    const runs = await runsIn(cluster, database);
    expect(runs.map((r) => r.status)).toEqual(['completed']);
    expect(new Set(holders.map((h) => h.run_id))).toEqual(new Set([runs[0]?.id]));
    // Two sessions held it: the one the restart ended, and the one that took it again.
    expect(new Set(holders.map((h) => h.backend_pid)).size).toBeGreaterThanOrEqual(2);
    expect(await cluster.sql('SELECT name FROM locks', [], database)).toEqual([]);
    // A rerun asks nothing.
    const again = instances.spawn(['run', '--config', b.configPath], { env: b.env, host: 'host-b' });
    expect((await again.exited).code, again.stderr()).toBe(0);
    expect(b.llm.requests.filter(isChat).length).toBe(rows.length);
  });
});

/** The run ids the locks table names while `child` runs (polled; a poll while the server is down is skipped). */
async function lockHoldersWhile(child: Child, cluster: PostgresCluster, database: string): Promise<Array<{ run_id: string; backend_pid: number }>> {
  const seen: Array<{ run_id: string; backend_pid: number }> = [];
  let done = false;
  void child.exited.then(() => (done = true));
  while (!done) {
    try {
      seen.push(...(await cluster.sql<{ run_id: string; backend_pid: number }>('SELECT run_id, backend_pid FROM locks', [], database)));
    } catch {
      // Down (restarting): polled again.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return seen;
}
