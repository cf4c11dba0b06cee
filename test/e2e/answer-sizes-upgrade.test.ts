/**
 * Issue 25: a cache written before the answer sizes were kept (SQLite file or PostgreSQL
 * database one schema step behind) opens, gains the answer_sizes table, keeps what it held,
 * and remembers sizes from then on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore, keyHash } from '../../src/cache/index.js';
import { openPostgresStore } from '../../src/cache/postgres/index.js';
import { PG_MIGRATIONS } from '../../src/cache/postgres/schema.js';
import { MIGRATIONS } from '../../src/cache/schema.js';
import { testCluster } from '../support/postgres-store.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sv-answer-sizes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OF = { provider: 'https://api.openai.com/v1', model: 'gpt-5-mini', prompt: 'status-validator-0123/answer-v2/rows-1' };
const LIMITS = { provider: 'https://api.openai.com/v1', model: 'gpt-5-mini', apiKey: 'sk-test-0123456789' };

describe('a cache from before the answer sizes', () => {
  it('SQLite: the file one step behind opens, gains the table and keeps its learned limits', async () => {
    expect(MIGRATIONS.at(-1)).toMatch(/CREATE TABLE answer_sizes/);
    const file = path.join(dir, 'old.sqlite');
    const old = new Database(file);
    for (const step of MIGRATIONS.slice(0, -1)) old.exec(step);
    old.pragma(`user_version = ${MIGRATIONS.length - 1}`);
    old.prepare('INSERT INTO provider_limits (provider, model, key_hash, rpm, tpm, learned_at, contradicted) VALUES (?, ?, ?, ?, ?, ?, 0)').run(LIMITS.provider, LIMITS.model, keyHash(LIMITS.apiKey), 500, 200_000, Date.now());
    old.close();

    const store = SqliteStore.open(file);
    try {
      expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(await store.limitMemory().recall(LIMITS)).toEqual({ rpm: 500, tpm: 200_000 });
      expect(await store.answerSizes.recall(OF)).toEqual([]);
      await store.answerSizes.learn(OF, [150, 160]);
      expect(await store.answerSizes.recall(OF)).toEqual([150, 160]);
    } finally {
      await store.close();
    }
  });

  it('PostgreSQL: the database one step behind opens, gains the table and keeps its learned limits', async () => {
    expect(PG_MIGRATIONS.at(-1)).toMatch(/CREATE TABLE answer_sizes/);
    const cluster = await testCluster();
    const url = await cluster.createDatabase('old');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const step of PG_MIGRATIONS.slice(0, -1)) await client.query(step);
      await client.query('CREATE TABLE status_validator_schema (version integer NOT NULL)');
      await client.query('INSERT INTO status_validator_schema (version) VALUES ($1)', [PG_MIGRATIONS.length - 1]);
      await client.query('INSERT INTO provider_limits (provider, model, key_hash, rpm, tpm, learned_at, contradicted) VALUES ($1, $2, $3, $4, $5, $6, 0)', [LIMITS.provider, LIMITS.model, keyHash(LIMITS.apiKey), 500, 200_000, Date.now()]);
    } finally {
      await client.end();
    }

    const store = await openPostgresStore(url);
    try {
      const [row] = await cluster.sql<{ version: number }>('SELECT max(version) AS version FROM status_validator_schema', [], url.split('/').pop());
      expect(row?.version).toBe(PG_MIGRATIONS.length);
      expect(await store.limitMemory().recall(LIMITS)).toEqual({ rpm: 500, tpm: 200_000 });
      expect(await store.answerSizes.recall(OF)).toEqual([]);
      await store.answerSizes.learn(OF, [150, 160]);
      expect(await store.answerSizes.recall(OF)).toEqual([150, 160]);
    } finally {
      await store.close();
    }
  });
});
