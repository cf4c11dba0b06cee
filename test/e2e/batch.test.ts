import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { finishingClock } from '../support/virtual-clock.js';
import { shownVerdicts as verdicts } from '../support/inspect.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

function cachedKeys(b: Bed): number {
  const db = new Database(path.join(b.dir, 'cache.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM verdicts').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('Batch API mode', () => {
  it('run --mode batch submits, waits, saves and writes every verdict, with no synchronous call', async () => {
    bed = await startBed({ rows: sampleRows(12) });
    const result = await bed.cli(['run', '--config', bed.configPath, '--mode', 'batch', '--every', '1s'], { clock: finishingClock(bed) });
    expect(result.stdout).toContain('12 answers saved, 0 failed');
    expect(result.stdout).toContain('at the batch price');
    expect(result.code).toBe(0);
    expect(bed.llm.callCount()).toBe(0);
    expect(bed.llm.batchLineCount()).toBe(12);
    expect(verdicts(bed).every((v) => v === 'VALID' || v === 'INVALID')).toBe(true);
    const values = bed.values();
    expect(values[1]?.[col(values, 'Suggested rewrite')]).toBe(`Rewrite: ${values[1]?.[2] ?? ''}`);

    // Everything is cached: a sync run afterwards costs nothing.
    await bed.run();
    expect(bed.llm.callCount()).toBe(0);
  });

  it('applies the results of a job submitted before a restart', async () => {
    bed = await startBed({ rows: sampleRows(5) });
    const submitted = await bed.cli(['batch', 'submit', '--config', bed.configPath]);
    expect(submitted.code).toBe(0);
    const id = /submitted (batch_\S+):/.exec(submitted.stdout)?.[1] ?? '';
    expect(id).not.toBe('');
    // Submitting writes nothing to the sheet.
    expect(bed.values()[0]).toEqual(['Project', 'Status', 'Comment', 'Due date']);

    // A later process, the next day: only the cache file links it to the job.
    await bed.llm.advanceBatch(id, 'completed');
    const listed = await bed.cli(['batch', 'list', '--config', bed.configPath]);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('not applied');
    const applied = await bed.cli(['batch', 'results', '--config', bed.configPath]);
    expect(applied.code).toBe(0);
    expect(verdicts(bed).filter((v) => v !== '')).toHaveLength(5);
    expect((await bed.cli(['batch', 'list', '--config', bed.configPath])).stdout).toContain('applied');
  });

  it('never submits a question twice while a job that asks it is pending', async () => {
    bed = await startBed({ rows: sampleRows(4) });
    await bed.cli(['batch', 'submit', '--config', bed.configPath]);
    const again = await bed.cli(['batch', 'submit', '--config', bed.configPath]);
    expect(again.stdout).toContain('Nothing to submit');
    expect(again.stdout).toContain('4 questions are already in jobs not yet applied');
    expect(bed.llm.batches()).toHaveLength(1);
  });

  it('reports failed lines, does not cache them, and lets the next sync run ask them', async () => {
    bed = await startBed({ rows: sampleRows(6) });
    bed.llm.injectBatchLineFault({ kind: 'status', status: 500 }, { times: 1, match: (line) => String(line.row?.comment ?? '').includes('PRJ-0003') });
    bed.llm.injectBatchLineFault({ kind: 'malformed' }, { times: 1, match: (line) => String(line.row?.comment ?? '').includes('PRJ-0005') });
    const result = await bed.cli(['run', '--config', bed.configPath, '--mode', 'batch', '--every', '1s'], { clock: finishingClock(bed) });
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('4 answers saved, 2 failed');
    expect(cachedKeys(bed)).toBe(4);
    expect(verdicts(bed).filter((v) => v === '')).toHaveLength(2);

    await bed.run();
    expect(bed.llm.callCount()).toBe(2);
    expect(verdicts(bed).every((v) => v === 'VALID' || v === 'INVALID')).toBe(true);
  });

  it('applies the partial results of an expired job and leaves the rest for the next run', async () => {
    bed = await startBed({ rows: sampleRows(4) });
    const submitted = await bed.cli(['batch', 'submit', '--config', bed.configPath]);
    const id = /submitted (batch_\S+):/.exec(submitted.stdout)?.[1] ?? '';
    await bed.llm.advanceBatch(id, 'in_progress', { lines: 3 });
    await bed.llm.expireBatch(id);
    const applied = await bed.cli(['batch', 'results', '--config', bed.configPath]);
    expect(applied.stdout).toContain('(expired): 3 answers saved, 1 failed');
    expect(applied.code).toBe(3);
    expect(cachedKeys(bed)).toBe(3);
  });

  it('cancels a job, and still applies what it answered before the cancel', async () => {
    bed = await startBed({ rows: sampleRows(4) });
    const submitted = await bed.cli(['batch', 'submit', '--config', bed.configPath]);
    const id = /submitted (batch_\S+):/.exec(submitted.stdout)?.[1] ?? '';
    await bed.llm.advanceBatch(id, 'in_progress', { lines: 2 });
    const cancelled = await bed.cli(['batch', 'cancel', id, '--config', bed.configPath]);
    expect(cancelled.stdout).toMatch(/cancell(ing|ed)/);
    await bed.llm.advanceBatch(id, 'cancelled');
    const applied = await bed.cli(['batch', 'results', '--config', bed.configPath]);
    expect(applied.stdout).toContain('2 answers saved, 2 failed');
    expect(cachedKeys(bed)).toBe(2);
  });

  it('says which job id is unknown', async () => {
    bed = await startBed({ rows: sampleRows(1) });
    const result = await bed.cli(['batch', 'results', 'batch_nope', '--config', bed.configPath]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('No batch job batch_nope');
  });
});

describe('Batch API mode with packing', () => {
  it('packs rows_per_request rows per batch line and applies each row its own verdict', async () => {
    bed = await startBed({ rows: sampleRows(10), config: { llm: { rows_per_request: 5 } } });
    const result = await bed.cli(['run', '--config', bed.configPath, '--mode', 'batch', '--every', '1s'], { clock: finishingClock(bed) });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('10 answers saved, 0 failed');
    expect(bed.llm.batchLineCount()).toBe(2);
    const values = bed.values();
    values.slice(1).forEach((row) => expect(row[col(values, 'Suggested rewrite')]).toBe(`Rewrite: ${row[2] ?? ''}`));
  });
});
