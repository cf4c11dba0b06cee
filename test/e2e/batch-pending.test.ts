/**
 * Issue 11, item 3: never ask what a pending batch job will answer (invariant 9). Sync runs
 * leave those rows to the job, `batch submit` holds the sheet's lock, and a batch answer
 * never replaces a verdict stored after the job was submitted.
 */
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/cache/index.js';
import { SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { cachedVerdicts, insertLock, liveStranger, lockRows, shownVerdicts as verdicts } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await bed?.close();
  bed = undefined;
});

const cacheOf = (b: Bed) => String((b.config.cache as { path: string }).path);
const submit = (b: Bed) => b.cli(['batch', 'submit', '--config', b.configPath]);
const batchIdOf = (stdout: string) => /submitted (batch_\S+):/.exec(stdout)?.[1] ?? '';

interface Summary {
  rows: { asked: number; waitingForBatch: number; deduplicated: number };
  waitingForBatch: Array<{ batchId: string; submittedAt: string; rows: number; questions: number }>;
}

describe('a sync run after batch submit', () => {
  it('asks the model nothing about the rows the pending job asks, and says it waits for that job, with its age', async () => {
    // Rows 1 and 7 are identical: one question, two rows.
    const rows = sampleRows(6);
    rows.push([...(rows[0] ?? [])].map((cell, i) => (i === 0 ? 'PRJ-COPY' : cell)));
    bed = await startBed({ rows });
    const b = bed;
    const submitted = await submit(b);
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = batchIdOf(submitted.stdout);

    const json = await b.run('--json');
    expect(json.code, json.stderr).toBe(0);
    expect(b.llm.callCount()).toBe(0);
    const summary = JSON.parse(json.stdout) as Summary;
    expect(summary.rows).toMatchObject({ asked: 0, waitingForBatch: 7, deduplicated: 0 });
    expect(summary.waitingForBatch).toEqual([{ batchId: id, submittedAt: expect.any(String) as string, rows: 7, questions: 6 }]);
    const text = await b.run();
    expect(text.stdout).toMatch(new RegExp(`waiting for ${id}\\s+7 rows, not asked: the job submitted \\d+ s ago answers them`));
    expect(b.llm.callCount()).toBe(0);

    // A row edited since is a new question: asked now, alone.
    b.sheets.setCell(SPREADSHEET_ID, TAB, 3, 3, 'Edited after the batch was submitted: vendor signed, kickoff on the 4th.');
    await b.run();
    expect(b.llm.callCount()).toBe(1);

    // The job lands: its answers fill every row it asked; the edited row keeps its own.
    await b.llm.advanceBatch(id, 'completed');
    const applied = await b.cli(['batch', 'results', '--config', b.configPath]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(verdicts(b).every((v) => v === 'VALID' || v === 'INVALID')).toBe(true);
    const values = b.values();
    expect(values[2]?.[col(values, 'Suggested rewrite')]).toBe('Rewrite: Edited after the batch was submitted: vendor signed, kickoff on the 4th.');
    // Applied: nothing waits any more, and nothing is asked.
    const after = JSON.parse((await b.run('--json')).stdout) as Summary;
    expect(after.rows.waitingForBatch).toBe(0);
    expect(b.llm.callCount()).toBe(1);
  });

  it('makes watch poll without running while the only work is in a pending job', async () => {
    bed = await startBed({ rows: sampleRows(4) });
    const b = bed;
    await submit(b);
    // A first run adds the output columns (work of its own), asking nothing.
    await b.run();
    const clock = { now: () => new Date(), sleep: () => Promise.resolve() };
    let log = '';
    const result = await b.cli(['watch', '--config', b.configPath, '--every', '5s', '--polls', '2'], { clock, stderr: { write: (s: string) => (log += s) } });
    expect(result.code).toBe(0);
    expect(log).not.toContain('(watch)');
    expect(b.llm.callCount()).toBe(0);
  });
});

describe('batch submit and the sheet lock', () => {
  it('refuses to submit while another run holds the lock on the sheet, exit 4', async () => {
    bed = await startBed({ rows: sampleRows(3) });
    const b = bed;
    await SqliteStore.open(cacheOf(b)).close();
    const strangerPid = await liveStranger(cleanups);
    const now = new Date().toISOString();
    insertLock(cacheOf(b), { name: `${SPREADSHEET_ID}/${TAB.toLowerCase()}`, run_id: 'run-in-progress', pid: strangerPid, host: hostname(), started_at: now, heartbeat_at: now });
    const result = await submit(b);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`pid ${strangerPid}`);
    expect(b.llm.batches()).toHaveLength(0);
    expect(b.llm.files()).toHaveLength(0);
  });

  it('lets one of two submits at once send the questions; the other exits 4', async () => {
    bed = await startBed({ rows: sampleRows(5) });
    const b = bed;
    const results = await Promise.all([submit(b), submit(b)]);
    expect(results.map((r) => r.code).sort()).toEqual([0, 4]);
    expect(b.llm.batches()).toHaveLength(1);
    // Each question once.
    expect((await b.llm.advanceBatch(b.llm.batches()[0]?.id ?? '', 'completed')).request_counts.total).toBe(5);
    expect(lockRows(cacheOf(b))).toEqual([]);
  });
});

describe('batch results', () => {
  it('never overwrites a verdict stored after the job was submitted', async () => {
    bed = await startBed({ rows: sampleRows(3) });
    const b = bed;
    const id = batchIdOf((await submit(b)).stdout);
    // After the submit, a verdict for the first row's question is stored (by a process that
    // did not know of the job: an older version of the bot).
    const db = new Database(cacheOf(b));
    const { key } = db.prepare(`SELECT key FROM batch_lines WHERE batch_id = ? ORDER BY custom_id LIMIT 1`).get(id) as { key: string };
    db.prepare(
      `INSERT INTO verdicts (key, verdict, issues, suggestion, model, provider, checked_at) VALUES (?, 'INVALID', '["newer"]', 'the newer answer', 'gpt-5-mini', 'emulator', ?)`,
    ).run(key, new Date(Date.now() + 1000).toISOString());
    db.close();

    await b.llm.advanceBatch(id, 'completed');
    const applied = await b.cli(['batch', 'results', '--config', b.configPath]);
    expect(applied.stdout).toContain('2 answers saved (1 not saved: a newer verdict was stored after the job was submitted)');
    const kept = cachedVerdicts(cacheOf(b)).find((v) => v.key === key);
    expect(kept).toMatchObject({ verdict: 'INVALID', suggestion: 'the newer answer' });
    expect(b.values().slice(1).map((r) => r[col(b.values(), 'Suggested rewrite')])).toContain('the newer answer');
  });
});
