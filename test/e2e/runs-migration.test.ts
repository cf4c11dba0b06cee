/** Issue 14: a cache file written by the previous schema opens, and its runs and batch jobs show with a target. */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/cache/schema.js';
import { SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** A file exactly as the version before the targets migration left it: every earlier step, its version number. */
function previousSchemaFile(file: string): void {
  const db = new Database(file);
  try {
    // The targets migration is the one that adds runs.target (later ones came after it).
    const previous = MIGRATIONS.findIndex((step) => step.includes('ALTER TABLE runs ADD COLUMN target'));
    expect(previous).toBeGreaterThan(0);
    for (const step of MIGRATIONS.slice(0, previous)) db.exec(step);
    db.pragma(`user_version = ${previous}`);
    const run = db.prepare('INSERT INTO runs (id, started_at, ended_at, trigger, spreadsheet_id, sheet, status, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    // Before targets: a summary without target or group.
    run.run('old-1', '2026-01-01T07:00:00.000Z', '2026-01-01T07:01:00.000Z', 'schedule', SPREADSHEET_ID, TAB, 'completed', JSON.stringify({ rows: { read: 3, asked: 3 }, verdicts: { valid: 2, invalid: 1, error: 0 } }));
    // Written by the version that had targets in its summaries but not in the table.
    run.run('old-2', '2026-01-02T07:00:00.000Z', '2026-01-02T07:01:00.000Z', 'cli', SPREADSHEET_ID, 'Team B', 'completed', JSON.stringify({ target: 'team-b', group: 'g-1234567890', rows: { read: 1 } }));
    // A damaged summary must not stop the migration.
    run.run('old-3', '2026-01-03T07:00:00.000Z', null, 'cli', SPREADSHEET_ID, TAB, 'running', '{not json');
    db.prepare(
      `INSERT INTO batch_jobs (id, provider, model, spreadsheet_id, sheet, input_file_id, status, requests, created_at, updated_at) VALUES ('batch_old', 'emulator', 'gpt-5-mini', ?, ?, 'file-1', 'completed', 3, '2026-01-01T07:00:00.000Z', '2026-01-01T07:00:00.000Z')`,
    ).run(SPREADSHEET_ID, TAB);
  } finally {
    db.close();
  }
}

interface StoredRunJson {
  id: string;
  target: string;
  group: string | null;
  status: string;
}

describe('the targets migration', () => {
  it('opens a cache of the previous schema: old runs show under their tab (or the target their summary names), old jobs under their tab', async () => {
    bed = await startBed({ rows: sampleRows(2) });
    const b = bed;
    const file = path.join(b.dir, 'cache.sqlite');
    previousSchemaFile(file);

    const before = await b.cli(['runs', '--config', b.configPath, '--json']);
    expect(before.code, before.stderr).toBe(0);
    const old = JSON.parse(before.stdout) as StoredRunJson[];
    expect(old.map((r) => [r.id, r.target, r.group])).toEqual([
      ['old-3', TAB, null],
      ['old-2', 'team-b', 'g-1234567890'],
      ['old-1', TAB, null],
    ]);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
    const jobs = JSON.parse((await b.cli(['batch', 'list', '--config', b.configPath, '--json'])).stdout) as Array<{ id: string; target: string }>;
    expect(jobs).toEqual([expect.objectContaining({ id: 'batch_old', target: TAB })]);

    // New runs go on top of the old ones; the old file is now the current schema.
    expect((await b.run()).code).toBe(0);
    const after = JSON.parse((await b.cli(['runs', '--config', b.configPath, '--json'])).stdout) as StoredRunJson[];
    expect(after).toHaveLength(4);
    expect(after[0]).toMatchObject({ target: TAB, group: null, status: 'completed' });
    const text = await b.cli(['runs', '--config', b.configPath, '--target', TAB]);
    expect(text.stdout.split('\n').filter((l) => /^\d{4}-/.test(l))).toHaveLength(3);
  });
});
