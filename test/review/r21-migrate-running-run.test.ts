/**
 * Review of issue 21 item 5 (`cache migrate`). When the old file holds a run lock, migrate
 * tells the user: "A run still using the old file keeps writing there: when it ends, run
 * cache migrate again to copy its answers." Following that advice, the run's verdicts are
 * copied, but its row in the runs table was copied the first time with status "running",
 * and the second migrate keeps a row "the database already holds" as it was: the run's
 * end (status, summary, counts) never reaches PostgreSQL. `runs` (and anything reading the
 * run history from cache.url) shows that finished run as running forever, with no rows,
 * no calls and no cost.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startBed, type Bed } from '../support/bed.js';
import { testCluster } from '../support/postgres-store.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
let scratch: string | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

interface StoredRunJson {
  id: string;
  status: string;
  summary: { rows?: { asked?: number } } | null;
}

describe('cache migrate while a run still uses the old file, then again once it ended (as migrate advises)', () => {
  it('the run is recorded in cache.url as it ended, not as running', async () => {
    const rows = sampleRows(8);
    bed = await startBed({ rows, llm: { latencyMs: 300 }, config: { llm: { max_workers: 1 } } });
    const b = bed;
    const cluster = await testCluster();
    b.env.DATABASE_URL = await cluster.createDatabase('migrate');
    scratch = mkdtempSync(path.join(tmpdir(), 'sv-r21-migrate-'));
    const pgConfig = path.join(scratch, 'config.yaml');
    writeFileSync(pgConfig, stringify({ ...b.config, cache: { path: path.join(scratch, 'unused.sqlite'), url: '${DATABASE_URL}' } }));
    const oldFile = String((b.config.cache as { path: string }).path);

    // A run on the old SQLite file, still asking when the first migrate copies the file.
    const running = b.run('--json');
    await b.llm.waitForCalls(2, 20_000);
    const first = await b.cli(['cache', 'migrate', '--config', pgConfig, '--from', oldFile]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('run cache migrate again to copy its answers');
    const ended = await running;
    expect(ended.code, ended.stderr).toBe(0);
    const runId = (JSON.parse(ended.stdout) as { runId: string }).runId;

    // As advised: migrate again once the run has ended.
    const second = await b.cli(['cache', 'migrate', '--config', pgConfig, '--from', oldFile]);
    expect(second.code, second.stderr).toBe(0);

    const listed = await b.cli(['runs', '--config', pgConfig, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const run = (JSON.parse(listed.stdout) as StoredRunJson[]).find((r) => r.id === runId);
    expect(run, listed.stdout).toBeDefined();
    expect(run?.status).toBe('completed');
    expect(run?.summary?.rows?.asked).toBe(rows.length);
  }, 120_000);
});
