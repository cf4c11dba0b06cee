/**
 * Review of the PostgreSQL store (issue 21, invariant 2; the Store contract: "a verdict is durable
 * once `put` resolves"). With synchronous_commit = off — a setting any database owner may put on a
 * database or role (ALTER DATABASE … SET), and a common tuning on managed servers — the server
 * acknowledges a COMMIT before its WAL reaches the disk, "at the cost that the most recent transactions
 * may be lost if the database should crash" (https://www.postgresql.org/docs/15/wal-async-commit.html). The
 * store takes the server's setting as it finds it: a put resolves, the verdict reaches the sheet,
 * the server crashes, and the verdict is gone: the next run pays for it again. synchronous_commit
 * is a per-session setting a client may choose for itself (context "user":
 * https://www.postgresql.org/docs/15/runtime-config-wal.html#GUC-SYNCHRONOUS-COMMIT), so the
 * store can insist on it for its own connections. (The test clusters force it on, in
 * test/support/postgres.ts; a user's server does not. Without the CHECKPOINT below, even the tables the
 * open created are gone after the crash: the next statement fails with 42P01.)
 */
import { describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/cache/postgres/index.js';
import type { CachedVerdict } from '../../src/cache/store.js';
import { postgresAfterEach, testCluster } from '../support/postgres-store.js';

const { stores } = postgresAfterEach();

const verdict = (key: string): CachedVerdict => ({
  key,
  verdict: 'VALID',
  issues: [],
  suggestion: '',
  model: 'm',
  provider: 'p',
  checkedAt: '2026-12-04T23:30:00.000Z',
  confidence: 1,
  promptTokens: 1,
  completionTokens: 1,
  cachedTokens: 0,
});

describe('a database whose owner set synchronous_commit = off', () => {
  it('every put that resolved survives a crash of the server', async () => {
    const cluster = await testCluster();
    const url = await cluster.createDatabase('async');
    const name = url.split('/').pop() ?? '';
    await cluster.sql(`ALTER DATABASE ${name} SET synchronous_commit = off`);
    // A long WAL writer delay widens the window a crash finds (the default is 200 ms): what a busy server's may be.
    await cluster.sql(`ALTER SYSTEM SET wal_writer_delay = '10s'`);
    await cluster.sql('SELECT pg_reload_conf()');
    const store = await openPostgresStore(url, { commitPatienceMs: 2_000 });
    stores.push(store);
    // The schema the open created is flushed (so that only the puts are at stake).
    await cluster.sql('CHECKPOINT');
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    for (const key of keys) await store.put(verdict(key));
    // Every put resolved: each verdict may now be in the sheet. The server crashes.
    cluster.kill();
    cluster.start();
    await cluster.sql(`ALTER SYSTEM RESET wal_writer_delay`);
    await cluster.sql('SELECT pg_reload_conf()');
    const missing: string[] = [];
    for (const key of keys) if ((await store.get(key)) === undefined) missing.push(key);
    expect(missing).toEqual([]);
  });
});
