/**
 * `cache migrate` (issue 21 item 5) end to end: a run on SQLite against the emulators, the
 * cache copied into a real PostgreSQL server (test/support/postgres.ts), then a run from a
 * fresh directory with cache.url that asks the model nothing.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { openPostgresStore } from '../../src/cache/postgres/index.js';
import { SqliteStore } from '../../src/cache/sqlite/store.js';
import { SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { testCluster } from '../support/postgres-store.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
const scratch: string[] = [];
afterEach(async () => {
  await bed?.close();
  bed = undefined;
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sv-migrate-e2e-'));
  scratch.push(dir);
  return dir;
}

interface MigrateJson {
  from: string;
  to: string;
  tables: Array<{ table: string; found: number; added: number; alreadyThere: number; updated: number }>;
  locksNotCopied: Array<{ name: string; host: string; pid: number }>;
}

/** A bed whose run on SQLite answered `rows` rows, plus a config at `cache.url` (${DATABASE_URL}) in a fresh directory. */
async function answeredOnSqlite(count: number) {
  bed = await startBed({ rows: sampleRows(count) });
  const first = await bed.run('--json');
  expect(first.code, first.stderr).toBe(0);
  expect(bed.llm.callCount()).toBe(count);
  const cluster = await testCluster();
  const url = await cluster.createDatabase('migrate');
  const dir = freshDir();
  const pgConfig = path.join(dir, 'config.yaml');
  // The fresh directory has no SQLite file: cache.path points inside it and must stay unmade.
  writeFileSync(pgConfig, stringify({ ...bed.config, cache: { path: path.join(dir, 'never.sqlite'), url: '${DATABASE_URL}' } }));
  bed.env.DATABASE_URL = url;
  const oldFile = String((bed.config.cache as { path: string }).path);
  return { cluster, url, dir, pgConfig, oldFile, password: cluster.password };
}

describe('cache migrate', () => {
  it('copies every table into cache.url, says what it found and added, changes nothing the second time, and the next run from a fresh directory asks the model nothing', async () => {
    const { url, dir, pgConfig, oldFile, password, cluster } = await answeredOnSqlite(20);
    const b = bed!;
    // Rows in the tables a plain run leaves empty: a reviewer's verdict, a batch job and its line, a vector.
    const old = SqliteStore.open(oldFile);
    await old.putOverrides([{ key: 'reviewed-key', verdict: 'INVALID', note: 'the date is wrong', recordedAt: '2026-12-01T10:00:00.000Z' }]);
    await old.batchJobs().record(
      { id: 'batch_old_1', provider: 'emulator', model: 'gpt-5-mini', spreadsheetId: SPREADSHEET_ID, sheet: TAB, target: TAB, inputFileId: 'file-1', status: 'in_progress', requests: 1, createdAt: '2026-12-01T09:00:00.000Z' },
      [{ customId: 'q1', label: '', key: 'pending-key', inputs: { status: 'Done', comment: 'Shipped.' } }],
    );
    await old.embeddings.put('reviewed-key', 'Done', 'text-embedding-3-small', 'scope', Buffer.from(new Float32Array([0.25, 0.5]).buffer));
    await old.calibrations.put('cascade-scope', { threshold: 0.8, bound: 0.96 }, '2026-12-01T10:00:00.000Z');
    await old.answerSizes.learn({ provider: 'https://api.openai.com/v1', model: 'gpt-5-mini', prompt: 'p/rows-1' }, [150, 171, 164]);
    const inFile = new Map<string, number>();
    for (const table of ['verdicts', 'overrides', 'runs', 'batch_jobs', 'batch_lines', 'provider_limits', 'provider_fields', 'embeddings', 'calibrations', 'answer_sizes']) {
      inFile.set(table, (old.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
    }
    await old.close();

    const migrated = await b.cli(['cache', 'migrate', '--config', pgConfig, '--from', oldFile, '--json']);
    expect(migrated.code, migrated.stderr).toBe(0);
    const summary = JSON.parse(migrated.stdout) as MigrateJson;
    const byTable = new Map(summary.tables.map((t) => [t.table, t]));
    expect(byTable.get('verdicts')).toEqual({ table: 'verdicts', found: 20, added: 20, alreadyThere: 0, updated: 0 });
    expect(byTable.get('runs')).toEqual({ table: 'runs', found: 1, added: 1, alreadyThere: 0, updated: 0 });
    expect([...byTable.keys()]).toEqual(['verdicts', 'overrides', 'runs', 'batch_jobs', 'batch_lines', 'provider_limits', 'provider_fields', 'embeddings', 'calibrations', 'answer_sizes']);
    const database = new URL(url).pathname.slice(1);
    for (const [table, n] of inFile) {
      expect(byTable.get(table), table).toEqual({ table, found: n, added: n, alreadyThere: 0, updated: 0 });
      const [row] = await cluster.sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`, [], database);
      expect(Number(row?.n), table).toBe(n);
    }
    expect(inFile.get('answer_sizes'), 'the run learned its answer sizes too').toBe(2);
    for (const table of ['overrides', 'batch_jobs', 'batch_lines', 'embeddings', 'calibrations']) expect(inFile.get(table), table).toBe(1);
    // Progress per table on stderr; the database named by host:port/database, never with its password.
    expect(migrated.stderr).toContain('verdicts: 20 read, 20 added, 0 already there, done');
    expect(migrated.stderr).toContain('runs: 1 read, 1 added');
    expect(summary.to).toBe(`127.0.0.1:${cluster.port}${new URL(url).pathname}`);
    for (const text of [migrated.stdout, migrated.stderr]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(encodeURIComponent(password));
    }

    // What was copied reads back through the Store: the reviewer's verdict, the pending batch question, the vector.
    const copied = await openPostgresStore(url);
    try {
      expect(await copied.getOverride('reviewed-key')).toEqual({ key: 'reviewed-key', verdict: 'INVALID', note: 'the date is wrong', recordedAt: '2026-12-01T10:00:00.000Z' });
      expect([...(await copied.batchJobs().pendingKeys())]).toEqual(['pending-key']);
      expect((await copied.embeddings.previous('reviewed-key'))?.model).toBe('text-embedding-3-small');
      expect(await copied.calibrations.get('cascade-scope')).toEqual({ scope: 'cascade-scope', record: { threshold: 0.8, bound: 0.96 }, calibratedAt: '2026-12-01T10:00:00.000Z' });
      expect(await copied.answerSizes.recall({ provider: 'https://api.openai.com/v1', model: 'gpt-5-mini', prompt: 'p/rows-1' })).toEqual([150, 171, 164]);
    } finally {
      await copied.close();
    }

    // Twice: nothing added, everything already there; the human summary says so.
    const again = await b.cli(['cache', 'migrate', '--config', pgConfig, '--from', oldFile]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/verdicts\s+20\s+0\s+20/);
    expect(again.stdout).toMatch(/runs\s+1\s+0\s+1/);
    expect(again.stdout).toContain('Nothing new: the database already held every row.');
    expect(again.stdout).toContain('Run locks are not copied');
    expect(again.stdout + again.stderr).not.toContain(password);

    // The sheet loses its output columns: the next run must rewrite every verdict, from the database alone.
    const width = b.values()[0]?.length ?? 0;
    b.sheets.deleteColumns(SPREADSHEET_ID, TAB, 5, width - 4);
    const calls = b.llm.callCount();
    const next = await b.cli(['run', '--config', pgConfig, '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(b.llm.callCount() - calls).toBe(0);
    const run = JSON.parse(next.stdout) as { rows: { asked: number; fromCache: number } };
    expect(run.rows.asked).toBe(0);
    expect(run.rows.fromCache).toBe(20);
    expect(b.values().slice(1).every((row) => row[4] === 'VALID' || row[4] === 'INVALID')).toBe(true);
    expect(existsSync(path.join(dir, 'never.sqlite'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['config.yaml']);
  });

  it('does not copy run locks, and names the ones the old file holds', async () => {
    const { pgConfig, oldFile, url } = await answeredOnSqlite(3);
    const b = bed!;
    const old = SqliteStore.open(oldFile);
    const held = await old.locks.acquire(`${SPREADSHEET_ID}/statuses`, 'run-in-progress', { label: TAB });
    try {
      const migrated = await b.cli(['cache', 'migrate', '--config', pgConfig, '--from', oldFile]);
      expect(migrated.code, migrated.stderr).toBe(0);
      expect(migrated.stdout).toContain('Run locks are not copied (they belong to live processes): the old file holds 1 lock');
      expect(migrated.stdout).toContain(`by pid ${process.pid}`);
      expect(migrated.stdout).toContain('run cache migrate again');
      const store = await openPostgresStore(url);
      try {
        expect(await store.locks.holder(`${SPREADSHEET_ID}/statuses`)).toBeUndefined();
        expect(await store.count()).toBe(3);
      } finally {
        await store.close();
      }
    } finally {
      await held.release();
      await old.close();
    }
  });

  it('never lets a garbage --from escape as an exception: exit 1 or 2 with a message, nothing copied', async () => {
    const { pgConfig, oldFile } = await answeredOnSqlite(2);
    const b = bed!;
    const dir = freshDir();
    const magic = Buffer.from('SQLite format 3\0', 'latin1');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)),
          fc.uint8Array({ minLength: 84, maxLength: 8192 }).map((bytes) => Buffer.concat([magic, Buffer.from(bytes)])),
          // A real cache with bytes overwritten past its header: a damaged cache, not a foreign file.
          fc.tuple(fc.integer({ min: 100, max: 16_000 }), fc.uint8Array({ minLength: 1, maxLength: 512 })).map(([at, bytes]) => ({ at, bytes })),
        ),
        async (content) => {
          const file = path.join(dir, `garbage-${++n}.sqlite`);
          if (Buffer.isBuffer(content)) writeFileSync(file, content);
          else {
            copyFileSync(oldFile, file);
            const { openSync, writeSync, closeSync } = await import('node:fs');
            const fd = openSync(file, 'r+');
            writeSync(fd, content.bytes, 0, content.bytes.length, content.at);
            closeSync(fd);
          }
          const result = await b.cli(['cache', 'migrate', '--config', pgConfig, '--from', file]);
          expect(result.stderr).not.toContain('Internal error');
          if (Buffer.isBuffer(content)) {
            // Not a SQLite file: a bad argument (2); a SQLite header over garbage: a damaged file (1, or 2 when it reads but holds no cache).
            expect(content.subarray(0, 16).equals(magic) ? [1, 2] : [2]).toContain(result.code);
            expect(result.stderr).toMatch(/^Error: /m);
            expect(result.stderr).toContain(file);
          } else {
            // A damaged cache may still read (the damage fell in free pages): then it copies like any other.
            expect([0, 1, 2]).toContain(result.code);
            if (result.code !== 0) expect(result.stderr).toMatch(/^Error: /m);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
