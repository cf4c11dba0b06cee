import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { HEADER, SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const REVIEW = { review: { recheck_column: 'Recheck', override_column: 'Reviewer verdict' } };

function cell(b: Bed, row: number, header: string): string {
  const values = b.values();
  return values[row - 1]?.[col(values, header)] ?? '';
}

describe('reviewer columns', () => {
  it('adds the reviewer columns after the output columns when they are missing', async () => {
    bed = await startBed({ rows: sampleRows(2), config: REVIEW });
    expect((await bed.run()).code).toBe(0);
    expect(bed.values()[0]?.slice(4)).toEqual(['Validation', 'Issues', 'Suggested rewrite', 'Checked at', 'Model', 'Recheck', 'Reviewer verdict']);
  });

  it('rechecks a row whose box is ticked, with exactly one call, and unticks the box in the same write', async () => {
    bed = await startBed({ rows: sampleRows(5), config: REVIEW });
    await bed.run();
    const calls = bed.llm.callCount();
    const writes = bed.sheets.writeCount();
    const box = col(bed.values(), 'Recheck') + 1;
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 4, box, true);

    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    expect(bed.llm.callCount()).toBe(calls + 1);
    expect(bed.sheets.writeCount()).toBe(writes + 1);
    expect(bed.sheets.getCell(SPREADSHEET_ID, TAB, 4, box)).toMatchObject({ value: false });
    expect((JSON.parse(result.stdout) as { rows: { rechecked: number } }).rows.rechecked).toBe(1);

    // Unticked: the next run has nothing to do.
    await bed.run();
    expect(bed.llm.callCount()).toBe(calls + 1);
  });

  it("shows a reviewer's verdict instead of the model's, never overwrites it, and stores it as ground truth", async () => {
    bed = await startBed({ rows: sampleRows(3), config: REVIEW });
    await bed.run();
    const calls = bed.llm.callCount();
    const override = col(bed.values(), 'Reviewer verdict') + 1;
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 2, override, 'INVALID: the owner is missing');

    expect((await bed.run()).code).toBe(0);
    expect(cell(bed, 2, 'Validation')).toBe('INVALID (reviewer)');
    expect(cell(bed, 2, 'Issues')).toBe('the owner is missing');
    expect(cell(bed, 2, 'Model')).toBe('reviewer');
    expect(cell(bed, 2, 'Reviewer verdict')).toBe('INVALID: the owner is missing');

    // --force asks the model about the others, never about the reviewed row.
    await bed.run('--force');
    expect(bed.llm.callCount()).toBe(calls + 2);
    expect(cell(bed, 2, 'Validation')).toBe('INVALID (reviewer)');

    // The reviewer spoke of that row only: a new row with the same inputs gets the model's
    // verdict (cached: no call), not the reviewer's.
    const [, status, comment, due] = bed.values()[1] ?? [];
    bed.sheets.insertRows(SPREADSHEET_ID, TAB, 5, [['PRJ-COPY', status ?? '', comment ?? '', due ?? '']]);
    await bed.run();
    expect(bed.llm.callCount()).toBe(calls + 2);
    expect(cell(bed, 5, 'Validation')).toMatch(/^(VALID|INVALID)$/);
    expect(cell(bed, 2, 'Validation')).toBe('INVALID (reviewer)');
  });

  it("returns a row to the model's verdict when its override is cleared, with 0 LLM calls when the answer is cached, and keeps the override for eval", async () => {
    bed = await startBed({ rows: sampleRows(3), config: REVIEW });
    await bed.run();
    const modelVerdict = cell(bed, 2, 'Validation');
    const modelRewrite = cell(bed, 2, 'Suggested rewrite');
    const override = col(bed.values(), 'Reviewer verdict') + 1;
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 2, override, modelVerdict === 'VALID' ? 'INVALID: owner missing' : 'VALID: fine by me');
    await bed.run();
    expect(cell(bed, 2, 'Validation')).toMatch(/\(reviewer\)$/);
    const calls = bed.llm.callCount();

    bed.sheets.setCell(SPREADSHEET_ID, TAB, 2, override, null);
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(bed.llm.callCount()).toBe(calls);
    expect(cell(bed, 2, 'Validation')).toBe(modelVerdict);
    expect(cell(bed, 2, 'Suggested rewrite')).toBe(modelRewrite);
    expect(cell(bed, 2, 'Model')).toBe('gpt-5-mini');
    // The reviewer's verdict stays in the cache's history.
    const db = new Database(String((bed.config.cache as { path: string }).path), { readonly: true });
    try {
      expect((db.prepare('SELECT count(*) AS n FROM overrides').get() as { n: number }).n).toBe(1);
    } finally {
      db.close();
    }
  });

  it('asks the model about a row whose override is cleared when its answer was never cached', async () => {
    bed = await startBed({ rows: sampleRows(2), header: [...HEADER, 'Reviewer verdict'], config: REVIEW });
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 2, 5, 'VALID');
    await bed.run();
    expect(bed.llm.callCount()).toBe(1);
    expect(cell(bed, 2, 'Validation')).toBe('VALID (reviewer)');
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 2, 5, null);
    await bed.run();
    expect(bed.llm.callCount()).toBe(2);
    expect(cell(bed, 2, 'Model')).toBe('gpt-5-mini');
  });

  it('leaves the recheck box ticked under a standing override and says why, never unticking it silently', async () => {
    bed = await startBed({ rows: sampleRows(2), config: REVIEW });
    await bed.run();
    const values = bed.values();
    const box = col(values, 'Recheck') + 1;
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 3, col(values, 'Reviewer verdict') + 1, 'INVALID: wrong owner');
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 3, box, true);
    const calls = bed.llm.callCount();
    const result = await bed.run();
    expect(result.code).toBe(0);
    expect(bed.llm.callCount()).toBe(calls);
    expect(cell(bed, 3, 'Validation')).toBe('INVALID (reviewer)');
    expect(bed.sheets.getCell(SPREADSHEET_ID, TAB, 3, box)).toMatchObject({ value: true });
    expect(result.stdout).toContain('recheck box ticked in row 3 was left ticked');
  });

  it('warns about an override it cannot read and checks the row as usual', async () => {
    bed = await startBed({ rows: sampleRows(2), config: REVIEW });
    await bed.run();
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 3, col(bed.values(), 'Reviewer verdict') + 1, 'looks ok?');
    const result = await bed.run();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('reviewer verdict not understood in row 3');
    expect(cell(bed, 3, 'Validation')).toMatch(/^(VALID|INVALID)$/);
  });
});

describe('stale rechecks', () => {
  it('asks again about rows checked longer ago than --recheck-older-than, reading the ISO time the bot wrote', async () => {
    bed = await startBed({ rows: sampleRows(4) });
    await bed.run();
    const calls = bed.llm.callCount();
    const checked = col(bed.values(), 'Checked at') + 1;
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 3, checked, '2020-01-01T00:00:00.000Z');

    await bed.run('--recheck-older-than', '7d');
    expect(bed.llm.callCount()).toBe(calls + 1);
    expect(Date.parse(cell(bed, 3, 'Checked at'))).toBeGreaterThan(Date.parse('2026-01-01'));
  });

  it('takes the age from review.recheck_older_than in the config too', async () => {
    bed = await startBed({ rows: sampleRows(2), config: { review: { recheck_older_than: '12h' } } });
    await bed.run();
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 2, col(bed.values(), 'Checked at') + 1, new Date(Date.now() - 13 * 3_600_000).toISOString());
    const calls = bed.llm.callCount();
    await bed.run();
    expect(bed.llm.callCount()).toBe(calls + 1);
  });

  it('rejects a malformed age, naming the flag', async () => {
    bed = await startBed({ rows: sampleRows(1) });
    const result = await bed.run('--recheck-older-than', 'a week');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected an age like 7d');
  });
});

describe('run history', () => {
  it('appends one row per run to the Runs tab, creating it the first time', async () => {
    bed = await startBed({ rows: sampleRows(3), config: { report: { runs_sheet: 'Runs' } } });
    await bed.run();
    await bed.run();
    const runs = bed.sheets.values(SPREADSHEET_ID, 'Runs');
    expect(runs[0]?.slice(0, 4)).toEqual(['Started (UTC)', 'Finished (UTC)', 'Trigger', 'Status']);
    expect(runs).toHaveLength(3);
    expect(runs[1]?.[3]).toBe('completed');
    expect(runs[1]?.[5]).toBe('3');
    expect(runs[2]?.[5]).toBe('0');
  });

  it('lists recent runs with `runs`, newest first', async () => {
    bed = await startBed({ rows: sampleRows(2) });
    await bed.run();
    bed.llm.injectFault({ kind: 'status', status: 503 }, { times: Infinity });
    await bed.run('--force');
    const listed = await bed.cli(['runs', '--config', bed.configPath, '--json']);
    expect(listed.code).toBe(0);
    const runs = JSON.parse(listed.stdout) as Array<{ status: string; trigger: string }>;
    expect(runs.map((r) => r.status)).toEqual(['completed_with_errors', 'completed']);
    const text = await bed.cli(['runs', '--config', bed.configPath]);
    expect(text.stdout).toMatch(/completed_with_errors[\s\S]*\ncompleted|completed_with_errors/);
    expect(text.stdout.split('\n').filter((l) => /^\d{4}-/.test(l))).toHaveLength(2);
  });
});

describe('needs review', () => {
  it('flags a verdict the model was unsure of as NEEDS REVIEW, and counts it', async () => {
    bed = await startBed({ rows: sampleRows(3), config: { review: { min_confidence: 0.6 } } });
    bed.llm.setRespond((row) => ({ is_valid: true, issues: [], rewrite_suggestion: '', confidence: String(row.comment).includes('PRJ-0002') ? 0.3 : 0.95 }));
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    expect(cell(bed, 3, 'Validation')).toBe('NEEDS REVIEW');
    expect(cell(bed, 3, 'Issues')).toContain('leans VALID but is unsure (confidence 0.30)');
    expect(cell(bed, 2, 'Validation')).toBe('VALID');
    expect((JSON.parse(result.stdout) as { verdicts: { needsReview: number } }).verdicts.needsReview).toBe(1);

    // The threshold lives in the config, the confidence in the cache: lowering it needs no call.
    const calls = bed.llm.callCount();
    bed.setConfig({ review: { min_confidence: 0.2 } });
    await bed.run();
    expect(bed.llm.callCount()).toBe(calls);
    expect(cell(bed, 3, 'Validation')).toBe('VALID');
  });
});
