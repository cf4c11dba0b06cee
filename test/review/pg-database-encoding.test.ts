/**
 * Review of the PostgreSQL store (issue 21; invariants 2 and 9). A database's encoding is fixed
 * when it is created (CREATE DATABASE … ENCODING; an older server's default follows its locale),
 * and a text the encoding cannot hold is refused: "character with byte sequence … in encoding
 * "UTF8" has no equivalent in encoding "LATIN1"" (SQLSTATE 22P05;
 * https://www.postgresql.org/docs/15/multibyte.html#MULTIBYTE-CONVERSIONS-SUPPORTED — the client
 * speaks UTF8 and the server converts to the database's encoding). The store opens such a
 * database without a word, and the first verdict holding an emoji, a CJK character or a curly
 * quote fails at `put`: after the model was paid for it, so the answer is lost and bought again
 * on the next run (invariant 9), and the message tells the user to "report it". SQLite keeps any
 * text. The store should refuse the database at open, naming its encoding and what to do (a
 * database created WITH ENCODING 'UTF8'), or keep the text.
 */
import { describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/cache/postgres/index.js';
import type { CachedVerdict } from '../../src/cache/store.js';
import { postgresAfterEach, testCluster } from '../support/postgres-store.js';

const { stores } = postgresAfterEach();

const verdict: CachedVerdict = {
  key: 'k-emoji',
  verdict: 'INVALID',
  issues: ['“Done” ✅ is not a status'],
  suggestion: '状態: In progress 🚧',
  model: 'm',
  provider: 'p',
  checkedAt: '2026-12-04T23:30:00.000Z',
  confidence: 0.9,
  promptTokens: 1,
  completionTokens: 1,
  cachedTokens: 0,
};

describe('a database created with a non-UTF8 encoding', () => {
  it('is refused at open naming its encoding, or keeps every verdict put into it', async () => {
    const cluster = await testCluster();
    const name = `latin1_${process.pid}`;
    await cluster.sql(`CREATE DATABASE ${name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
    const opened = await openPostgresStore(cluster.url(name)).then(
      (store) => ({ store }),
      (error: unknown) => ({ error: error as Error }),
    );
    if ('error' in opened) {
      expect(opened.error.message).toMatch(/LATIN1/);
      // What to do, and nothing left behind in the refused database.
      expect((opened.error as Error & { hint?: string }).hint).toMatch(/ENCODING 'UTF8'/);
      expect(await cluster.sql(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`, [], name)).toEqual([]);
      return;
    }
    stores.push(opened.store);
    // Opened: then what it is given must be kept, or a paid answer is lost.
    const saved = await opened.store.put(verdict).then(
      () => undefined,
      (error: unknown) => (error as Error).message,
    );
    expect(saved).toBeUndefined();
    expect(await opened.store.get(verdict.key)).toEqual(verdict);
  });
});
