import { afterEach, describe, expect, it } from 'vitest';
import { defaultVerdict } from '../support/openai-emulator/index.js';
import { HEADER, SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import type { RecordedCall } from '../support/sheets-emulator/index.js';

const ALLOWED = ['planned', 'in progress', 'done', 'cancelled'];

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** What the emulator's model plus the bot's own status rule must give for a row. */
function expectedCells(row: readonly string[]) {
  const [, status = '', comment = ''] = row;
  const answer = defaultVerdict({ status, comment });
  const allowed = ALLOWED.includes(status.toLowerCase());
  const valid = answer.is_valid && allowed;
  return { verdict: valid ? 'VALID' : 'INVALID', suggestion: answer.rewrite_suggestion };
}

function writeCalls(b: Bed) {
  return b.sheets.calls.filter((c) => c.kind === 'write');
}

/** Rows of verdicts in one values.batchUpdate (adjacent rows share a range). */
function rowsIn(call: RecordedCall): number {
  return (call.body as { data: Array<{ values: unknown[] }> }).data.reduce((n, d) => n + d.values.length, 0);
}

describe('a validation run', () => {
  it('gives 200 rows each the verdict computed for its own inputs, within max_workers and in RAW batches of at most 10', async () => {
    const rows = sampleRows(200);
    // Quotas high enough that pacing never makes the writer wait (and so coalesce): batches stay at 10.
    const sheets = { write_quota_per_minute: 100_000, read_quota_per_minute: 100_000 };
    bed = await startBed({ rows, llm: { latencyMs: { mean: 15, jitter: 10 } }, config: { llm: { max_workers: 7 }, sheets } });
    const result = await bed.run('--json');
    expect(result.stderr).not.toContain('Error');
    expect(result.code).toBe(0);

    const values = bed.values();
    const [verdictCol, suggestionCol, checkedCol, modelCol] = ['Validation', 'Suggested rewrite', 'Checked at', 'Model'].map((h) => col(values, h));
    rows.forEach((row, i) => {
      const cells = values[i + 1] ?? [];
      expect(cells.slice(0, 4)).toEqual(row);
      const expected = expectedCells(row);
      expect(cells[verdictCol ?? -1], `row ${i + 2}`).toBe(expected.verdict);
      expect(cells[suggestionCol ?? -1], `row ${i + 2}`).toBe(expected.suggestion);
      expect(cells[checkedCol ?? -1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(cells[modelCol ?? -1]).toBe('gpt-5-mini');
    });

    // Counted at the server: never more requests in flight than max_workers.
    expect(bed.llm.peakInFlight).toBeLessThanOrEqual(7);
    expect(bed.llm.peakInFlight).toBeGreaterThan(1);
    const keys = new Set(bed.llm.requests.map((r) => r.promptCacheKey));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^status-validator-/);

    const writes = writeCalls(bed).filter((c) => c.op === 'values.batchUpdate');
    expect(writes.length).toBeGreaterThanOrEqual(20);
    for (const call of writes) {
      expect(call.valueInputOption).toBe('RAW');
      expect(rowsIn(call)).toBeLessThanOrEqual(10);
    }
    const summary = JSON.parse(result.stdout) as { rows: { read: number; asked: number }; writes: { rowsWritten: number }; verdicts: { valid: number; invalid: number } };
    expect(summary.rows).toMatchObject({ read: 200, asked: 200 });
    expect(summary.writes.rowsWritten).toBe(200);
    expect(summary.verdicts.valid + summary.verdicts.invalid).toBe(200);
  });

  it('coalesces pending rows into fewer, larger writes when the write quota makes it wait, losing none', async () => {
    bed = await startBed({ rows: sampleRows(120), config: { llm: { max_workers: 20 } } });
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    const writes = writeCalls(bed).filter((c) => c.op === 'values.batchUpdate');
    const sizes = writes.map(rowsIn);
    // Default quota (60 a minute): far fewer calls than 12 batches of 10, some larger than 10.
    expect(writes.length).toBeLessThan(12);
    expect(sizes.reduce((a, b) => Math.max(a, b), 0)).toBeGreaterThan(10);
    expect((JSON.parse(result.stdout) as { writes: { rowsWritten: number } }).writes.rowsWritten).toBe(120);
    const values = bed.values();
    expect(values.slice(1).every((r) => r[col(values, 'Validation')] !== '')).toBe(true);
  });

  it('adds the missing output columns at the end of the header row, growing the grid when it has no room', async () => {
    bed = await startBed({ rows: sampleRows(3), columnCount: 5 });
    const result = await bed.run();
    expect(result.code).toBe(0);
    expect(bed.values()[0]).toEqual([...HEADER, 'Validation', 'Issues', 'Suggested rewrite', 'Checked at', 'Model']);
    expect(bed.sheets.gridSize(SPREADSHEET_ID, TAB).columnCount).toBeGreaterThanOrEqual(9);
    expect(result.stdout).toContain('added columns');
  });

  it('costs nothing on a second run, and exactly one call and one write after one comment is edited', async () => {
    bed = await startBed({ rows: sampleRows(30) });
    expect((await bed.run()).code).toBe(0);
    const calls = bed.llm.callCount();
    const writes = writeCalls(bed).length;

    const second = await bed.run();
    expect(second.code).toBe(0);
    expect(bed.llm.callCount()).toBe(calls);
    expect(writeCalls(bed).length).toBe(writes);
    expect(second.stdout).toMatch(/already up to date\s+30/);

    bed.sheets.setCell(SPREADSHEET_ID, TAB, 7, 3, 'Rewrote the onboarding guide and sent it for review; publishing it on the wiki next Tuesday.');
    const third = await bed.run();
    expect(third.code).toBe(0);
    expect(bed.llm.callCount()).toBe(calls + 1);
    expect(writeCalls(bed).length).toBe(writes + 1);
    const row = bed.values()[6] ?? [];
    expect(row[col(bed.values(), 'Suggested rewrite')]).toBe('Rewrite: Rewrote the onboarding guide and sent it for review; publishing it on the wiki next Tuesday.');
  });

  it.each([
    ['the rules text', { rules: { text: 'Every comment must name an owner.' } }],
    ['the model', { llm: { providers: [{ name: 'emulator', model: 'gpt-5-nano', base_url: '', api_key_env: 'TEST_OPENAI_KEY' }] } }],
    ['the allowed statuses', { rules: { allowed_statuses: ['Planned', 'Done'] } }],
  ])('asks again about every row when %s changes', async (_what, patch) => {
    bed = await startBed({ rows: sampleRows(6) });
    expect((await bed.run()).code).toBe(0);
    expect(bed.llm.callCount()).toBe(6);
    const providers = (patch as { llm?: { providers: Array<{ base_url: string }> } }).llm?.providers;
    if (providers) for (const p of providers) p.base_url = bed.llm.url;
    bed.setConfig(patch);
    await bed.run();
    expect(bed.llm.callCount()).toBe(12);
  });

  it('writes what the model says as text, never as a formula', async () => {
    bed = await startBed({ rows: sampleRows(2) });
    const formula = '=HYPERLINK("http://x","y")';
    bed.llm.setRespond(() => ({ is_valid: false, issues: [formula, '+cmd|calc', '@SUM(A1)'], rewrite_suggestion: formula }));
    expect((await bed.run()).code).toBe(0);
    const values = bed.values();
    const suggestion = bed.sheets.getCell(SPREADSHEET_ID, TAB, 2, col(values, 'Suggested rewrite') + 1);
    expect(suggestion).toMatchObject({ value: formula, inputOption: 'RAW' });
    expect(suggestion?.formula).toBeUndefined();
    const issues = bed.sheets.getCell(SPREADSHEET_ID, TAB, 2, col(values, 'Issues') + 1);
    expect(issues?.value).toBe(`${formula}\n+cmd|calc\n@SUM(A1)`);
    expect(issues?.formula).toBeUndefined();
  });

  it('shares one answer between rows with identical inputs', async () => {
    const row = ['A-1', 'Done', 'Shipped the importer and closed the epic; nothing further planned.', '2026-12-01'];
    bed = await startBed({ rows: [row, ['A-2', ...row.slice(1)], ['A-3', ...row.slice(1)]] });
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    expect(bed.llm.callCount()).toBe(1);
    const summary = JSON.parse(result.stdout) as { rows: { deduplicated: number }; writes: { rowsWritten: number } };
    expect(summary.rows.deduplicated).toBe(2);
    expect(summary.writes.rowsWritten).toBe(3);
  });

  it('writes nothing and caches nothing on --dry-run', async () => {
    bed = await startBed({ rows: sampleRows(4) });
    const result = await bed.run('--dry-run');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('dry run');
    expect(writeCalls(bed)).toHaveLength(0);
    expect(bed.values()[0]).toEqual(HEADER);
    await bed.run();
    expect(bed.llm.callCount()).toBe(8);
  });

  it('asks about at most --limit rows and leaves the rest for the next run', async () => {
    bed = await startBed({ rows: sampleRows(10) });
    const first = await bed.run('--limit', '4', '--json');
    expect(first.code).toBe(0);
    expect(bed.llm.callCount()).toBe(4);
    expect((JSON.parse(first.stdout) as { rows: { deferred: number } }).rows.deferred).toBe(6);
    await bed.run();
    expect(bed.llm.callCount()).toBe(10);
  });

  it('asks again about every row with --force', async () => {
    bed = await startBed({ rows: sampleRows(5) });
    await bed.run();
    await bed.run('--force');
    expect(bed.llm.callCount()).toBe(10);
  });
});
