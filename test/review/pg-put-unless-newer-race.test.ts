/**
 * Review of the PostgreSQL store (issue 21, the Store contract's putUnlessNewer): "Saves a verdict
 * unless the store already holds one for its key computed at or after `since`".
 *
 * The implementation reads the stored row with SELECT … FOR UPDATE, then upserts. When no row is
 * committed yet, FOR UPDATE locks nothing: another instance's put of the same key that commits
 * between that read and the upsert is then overwritten by ON CONFLICT DO UPDATE, and
 * putUnlessNewer answers true. In Read Committed mode, "if a conflict originates in another
 * transaction whose effects are not yet visible to the INSERT, the UPDATE clause will affect that
 * row, even though possibly no version of that row is conventionally visible to the command"
 * (https://www.postgresql.org/docs/15/transaction-iso.html#XACT-READ-COMMITTED), and
 * SELECT FOR UPDATE only locks rows that exist
 * (https://www.postgresql.org/docs/15/sql-select.html#SQL-FOR-UPDATE-SHARE). So a batch job's old
 * answer (as old as the job's submission) replaces the live run's newer verdict, which may already
 * be in the sheet. SQLite's putUnlessNewer reads and writes in one transaction of the single
 * writer, so it never overwrites a row it did not see.
 *
 * The other instance's put is played by a plain session whose INSERT has run and whose COMMIT is
 * still to come: exactly the state of a concurrent autocommit put in flight.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/cache/postgres/index.js';
import type { CachedVerdict } from '../../src/cache/store.js';
import { postgresAfterEach, testCluster } from '../support/postgres-store.js';

const { stores, clients } = postgresAfterEach();

const verdict = (checkedAt: string, suggestion: string): CachedVerdict => ({
  key: 'k1',
  verdict: 'INVALID',
  issues: ['x'],
  suggestion,
  model: 'm',
  provider: 'p',
  checkedAt,
  confidence: 1,
  promptTokens: 1,
  completionTokens: 1,
  cachedTokens: 0,
});

describe('putUnlessNewer against a concurrent put of the same new key', () => {
  it('keeps the newer verdict another instance committed meanwhile, and answers false', async () => {
    const url = await (await testCluster()).createDatabase('pun');
    const store = await openPostgresStore(url);
    stores.push(store);
    const other = new pg.Client({ connectionString: url });
    other.on('error', () => {});
    await other.connect();
    clients.push(other);

    // Another instance's live run answers k1 at 23:30 (after the batch job was submitted at 23:00).
    await other.query('BEGIN');
    await other.query(
      `INSERT INTO verdicts (key, verdict, issues, suggestion, model, provider, checked_at, confidence, prompt_tokens, completion_tokens, cached_tokens)
       VALUES ('k1', 'INVALID', '["x"]', 'live answer', 'm', 'p', '2026-12-04T23:30:00.000Z', 1, 1, 1, 0)`,
    );
    // This instance applies the batch job's answer (computed as of the job's submission, 23:00).
    const applied = store.putUnlessNewer(verdict('2026-12-04T23:00:00.000Z', 'batch answer'), '2026-12-04T23:00:00.000Z');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await other.query('COMMIT');

    expect(await applied).toBe(false);
    expect((await store.get('k1'))?.suggestion).toBe('live answer');
  });
});
