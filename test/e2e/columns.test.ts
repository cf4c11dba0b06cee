/**
 * Issue 10: "never a wrong cell". People insert, delete and move columns during a run,
 * leave header cells empty over their notes, sort while a write backs off after a 429,
 * and keep their own columns in the results tab. In every case a guard compares every
 * cell outside the bot's own cells before and after (test/support/foreign.ts) and finds
 * none changed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/pipeline/index.js';
import { renderSummary } from '../../src/report/render.js';
import { col, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, startBed, TAB, type Bed } from '../support/bed.js';
import { foreignGuard, type ForeignGuard } from '../support/foreign.js';
import { cachedVerdicts, expectedCells } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const FAST = { read_quota_per_minute: 6000, write_quota_per_minute: 6000 };
const ROWS = 30;

function bedWith(options: { header?: string[]; rows?: string[][]; config?: Record<string, unknown>; columnCount?: number } = {}): Promise<Bed> {
  return startBed({
    rows: options.rows ?? sampleRows(ROWS),
    header: options.header ?? [...HEADER, ...OUTPUT_HEADERS],
    llm: { latencyMs: 5 },
    columnCount: options.columnCount ?? 14,
    config: { llm: { max_workers: 2 }, output: { write_batch_size: 5 }, sheets: FAST, ...options.config },
  });
}

const guardOf = (b: Bed, own: string[] = OUTPUT_HEADERS) => foreignGuard(b.sheets, SPREADSHEET_ID, [{ tab: TAB, own }]);

/** Runs `edit` as a person would, right after the bot's n-th successful value write. */
function afterWrite(b: Bed, guard: ForeignGuard, n: number, edit: () => void): { done: () => boolean } {
  let writes = 0;
  let done = false;
  b.sheets.onResponse((call) => {
    if (call.op !== 'values.batchUpdate' || call.status !== 200 || done || ++writes < n) return;
    guard.checkpoint();
    edit();
    guard.rebase();
    done = true;
  });
  return { done: () => done };
}

/**
 * Every row showing a verdict shows the one computed for its own inputs, read by header
 * wherever the columns are now. Returns how many rows show one.
 */
function expectOwnVerdicts(values: string[][]): number {
  const at = (h: string) => col(values, h);
  let shown = 0;
  values.slice(1).forEach((row, i) => {
    const verdict = row[at('Validation')] ?? '';
    const suggestion = row[at('Suggested rewrite')] ?? '';
    if (verdict === '' && suggestion === '') return;
    const inputs = [row[at('Project')] ?? '', row[at('Status')] ?? '', row[at('Comment')] ?? ''];
    expect({ verdict, suggestion }, `row ${i + 2} (${inputs[0]})`).toEqual(expectedCells(inputs));
    shown++;
  });
  return shown;
}

interface Summary {
  writes: { rowsWritten: number; stopped?: Array<{ tab: string; header: string; reason: string }> };
}

describe('columns edited during a run', () => {
  it('writes every output where its header is now when a column is inserted between the inputs and the outputs', async () => {
    bed = await bedWith();
    const b = bed;
    const guard = guardOf(b);
    const edit = afterWrite(b, guard, 1, () => {
      b.sheets.insertColumns(SPREADSHEET_ID, TAB, 5);
      b.sheets.setCell(SPREADSHEET_ID, TAB, 1, 5, 'Owner');
      for (let row = 2; row <= ROWS + 1; row++) b.sheets.setCell(SPREADSHEET_ID, TAB, row, 5, `owner ${row}`);
    });
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(edit.done()).toBe(true);
    expect(guard.checkpoint()).toEqual([]);
    expect(expectOwnVerdicts(b.values())).toBe(ROWS);
  });

  it('writes around a column inserted between two output columns', async () => {
    bed = await bedWith();
    const b = bed;
    const guard = guardOf(b);
    const edit = afterWrite(b, guard, 2, () => {
      // Between "Issues" (F) and "Suggested rewrite" (G).
      b.sheets.insertColumns(SPREADSHEET_ID, TAB, 7);
      b.sheets.setCell(SPREADSHEET_ID, TAB, 1, 7, 'Notes');
      for (let row = 2; row <= ROWS + 1; row += 2) b.sheets.setCell(SPREADSHEET_ID, TAB, row, 7, `note ${row}`);
    });
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(edit.done()).toBe(true);
    expect(guard.checkpoint()).toEqual([]);
    expect(expectOwnVerdicts(b.values())).toBe(ROWS);
  });

  it('follows the outputs when a person moves them to another place', async () => {
    bed = await bedWith();
    const b = bed;
    const guard = guardOf(b);
    // The five output columns E:I go to the front, before A.
    const edit = afterWrite(b, guard, 1, () => b.sheets.moveColumns(SPREADSHEET_ID, TAB, 5, 5, 1));
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(edit.done()).toBe(true);
    expect(guard.checkpoint()).toEqual([]);
    expect(b.values()[0]?.slice(0, 6)).toEqual([...OUTPUT_HEADERS, 'Project']);
    expect(expectOwnVerdicts(b.values())).toBe(ROWS);
  });

  it.each([
    ['an output column deleted', 'Issues', (b: Bed) => b.sheets.deleteColumns(SPREADSHEET_ID, TAB, 6)],
    ['an output header renamed', 'Suggested rewrite', (b: Bed) => b.sheets.setCell(SPREADSHEET_ID, TAB, 1, 7, 'Rewrite')],
    ['an output header cleared', 'Model', (b: Bed) => b.sheets.setCell(SPREADSHEET_ID, TAB, 1, 9, null)],
    ['an input header renamed', 'Comment', (b: Bed) => b.sheets.setCell(SPREADSHEET_ID, TAB, 1, 3, 'Update')],
    ['the id header cleared', 'Project', (b: Bed) => b.sheets.setCell(SPREADSHEET_ID, TAB, 1, 1, null)],
  ] as const)('stops writing to the tab after %s, keeps the verdicts cached and says so, naming the header (exit 3)', async (_what, header, change) => {
    bed = await bedWith();
    const b = bed;
    const guard = guardOf(b);
    const edit = afterWrite(b, guard, 1, () => change(b));
    const result = await b.run('--json');
    expect(edit.done()).toBe(true);
    expect(guard.checkpoint()).toEqual([]);
    expect(result.code, result.stderr).toBe(3);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.writes.stopped).toEqual([expect.objectContaining({ tab: TAB, header })]);
    expect(summary.writes.rowsWritten).toBe(5);
    expect(cachedVerdicts(String((b.config.cache as { path: string }).path))).toHaveLength(ROWS);
    // What a person at a terminal reads: the tab, the header, and what to do.
    const text = renderSummary(JSON.parse(result.stdout) as RunSummary);
    expect(text).toContain(`writes to "${TAB}" stopped: the header "${header}"`);
    expect(text).toContain('kept in the cache');
  });
});

describe('new output columns', () => {
  it('goes after an unheaded notes column right after the last header, leaving the notes alone', async () => {
    const rows = sampleRows(6).map((r, i) => [...r, i % 2 === 0 ? `a person's note ${i}` : '']);
    bed = await bedWith({ header: HEADER, rows });
    const b = bed;
    const guard = guardOf(b);
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(guard.checkpoint()).toEqual([]);
    const values = b.values();
    expect(values[0]?.slice(4)).toEqual(['', ...OUTPUT_HEADERS]);
    expect(values[1]?.[4]).toBe("a person's note 0");
    expect(expectOwnVerdicts(values)).toBe(6);
  });

  it('grows the grid when the outputs do not fit after the last used column', async () => {
    bed = await bedWith({ header: HEADER, rows: sampleRows(3).map((r) => [...r, '', 'far note']), columnCount: 6 });
    const b = bed;
    const guard = guardOf(b);
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(guard.checkpoint()).toEqual([]);
    expect(b.values()[0]?.slice(6)).toEqual(OUTPUT_HEADERS);
    expect(b.sheets.gridSize(SPREADSHEET_ID, TAB).columnCount).toBeGreaterThanOrEqual(11);
  });
});

describe('writes retried after a 429', () => {
  it('re-identifies the rows on each attempt: a sort during the backoff puts no verdict on another row', async () => {
    bed = await bedWith();
    const b = bed;
    const guard = guardOf(b);
    let writes = 0;
    b.sheets.injectFault({ status: 429, headers: { 'retry-after': '1' } }, { kind: 'write', match: (c) => c.op === 'values.batchUpdate' && ++writes === 2 });
    let sorted = false;
    b.sheets.onResponse((call) => {
      if (call.status !== 429 || sorted) return;
      guard.checkpoint();
      b.sheets.sortRows(SPREADSHEET_ID, TAB, 2, (x, y) => String(y[0]).localeCompare(String(x[0])));
      guard.rebase();
      sorted = true;
    });
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(sorted).toBe(true);
    expect(guard.checkpoint()).toEqual([]);
    expect(expectOwnVerdicts(b.values())).toBe(ROWS);
    // Retry-After was honoured: the retry came a second or more after the 429.
    const batch = b.sheets.calls.filter((c) => c.op === 'values.batchUpdate');
    const refused = batch.findIndex((c) => c.status === 429);
    expect((batch[refused + 1]?.at ?? 0) - (batch[refused]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
  });
});

describe('results tab', () => {
  const RESULT_HEADERS = ['Project', 'Source row', ...OUTPUT_HEADERS];

  it("places missing result columns after the last used column, past a header gap and a person's column", async () => {
    bed = await bedWith({ config: { output: { sheet: 'Review', write_batch_size: 5 } }, header: HEADER, rows: sampleRows(6) });
    const b = bed;
    // A person's results tab: a gap (C empty), then their own column over data.
    b.sheets.addSpreadsheet(SPREADSHEET_ID, [
      { title: TAB, rows: [HEADER, ...sampleRows(6)], columnCount: 14 },
      {
        title: 'Review',
        rows: [
          ['Project', 'Validation', '', 'Owner notes'],
          ['PRJ-0001', '', '', 'call the owner'],
          ['', '', 'stray', 'keep me'],
        ],
        columnCount: 8,
      },
    ]);
    const guard = foreignGuard(b.sheets, SPREADSHEET_ID, [
      { tab: TAB, own: [] },
      { tab: 'Review', own: RESULT_HEADERS },
    ]);
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(guard.checkpoint()).toEqual([]);
    const review = b.sheets.values(SPREADSHEET_ID, 'Review');
    expect(review[0]).toEqual(['Project', 'Validation', '', 'Owner notes', 'Source row', 'Issues', 'Suggested rewrite', 'Checked at', 'Model']);
    expect(review.filter((r) => /^PRJ-/.test(r[0] ?? ''))).toHaveLength(6);
  });

  it('finds its columns by header on every attempt when a person inserts a column in the results tab mid-run', async () => {
    bed = await bedWith({ config: { output: { sheet: 'Review', write_batch_size: 5 } }, header: HEADER });
    const b = bed;
    const guard = foreignGuard(b.sheets, SPREADSHEET_ID, [
      { tab: TAB, own: [] },
      { tab: 'Review', own: RESULT_HEADERS },
    ]);
    const edit = afterWrite(b, guard, 1, () => {
      b.sheets.insertColumns(SPREADSHEET_ID, 'Review', 1);
      b.sheets.setCell(SPREADSHEET_ID, 'Review', 1, 1, 'Priority');
      for (let row = 2; row <= 6; row++) b.sheets.setCell(SPREADSHEET_ID, 'Review', row, 1, `P${row}`);
    });
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(edit.done()).toBe(true);
    expect(guard.checkpoint()).toEqual([]);
    const review = b.sheets.values(SPREADSHEET_ID, 'Review');
    expect(review[0]).toEqual(['Priority', ...RESULT_HEADERS]);
    const byId = new Map(review.slice(1).map((r) => [r[1], r]));
    for (const row of sampleRows(ROWS)) expect(byId.get(row[0])?.[5], row[0]).toBe(expectedCells(row).suggestion);
  });
});

describe('results tab headers edited during a run', () => {
  it('stops writing to the results tab when one of its headers is renamed mid-run, naming it (exit 3)', async () => {
    bed = await bedWith({ config: { output: { sheet: 'Review', write_batch_size: 5 } }, header: HEADER });
    const b = bed;
    const guard = foreignGuard(b.sheets, SPREADSHEET_ID, [
      { tab: TAB, own: [] },
      { tab: 'Review', own: ['Project', 'Source row', ...OUTPUT_HEADERS] },
    ]);
    // "Issues" is column D of the results tab the bot creates.
    const edit = afterWrite(b, guard, 1, () => b.sheets.setCell(SPREADSHEET_ID, 'Review', 1, 4, 'Findings'));
    const result = await b.run('--json');
    expect(edit.done()).toBe(true);
    expect(guard.checkpoint()).toEqual([]);
    expect(result.code, result.stderr).toBe(3);
    expect((JSON.parse(result.stdout) as Summary).writes.stopped).toEqual([expect.objectContaining({ tab: 'Review', header: 'Issues', key: 'output.columns.issues' })]);
  });
});

describe('tabs never collide', () => {
  it.each([
    ['report.runs_sheet equal to the data tab', { report: { runs_sheet: TAB } }, 'report.runs_sheet', 'sheets.sheet'],
    ['report.runs_sheet equal to the results tab (case aside)', { output: { sheet: 'Review' }, report: { runs_sheet: 'review' } }, 'report.runs_sheet', 'output.sheet'],
  ] as const)('refuses %s with exit 2, naming both keys, and changes no cell', async (_what, config, key, other) => {
    bed = await bedWith({ config: { ...config } });
    const b = bed;
    const guard = foreignGuard(b.sheets, SPREADSHEET_ID, [{ tab: TAB, own: [] }]);
    const result = await b.run();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(key);
    expect(result.stderr).toContain(other);
    expect(guard.checkpoint()).toEqual([]);
    expect(b.sheets.writeCount()).toBe(0);
    expect(b.llm.callCount()).toBe(0);
  });

  it('refuses `rules publish --tab` naming the results tab or the Runs tab, exit 2, and wipes nothing', async () => {
    bed = await bedWith({ config: { output: { sheet: 'Review' }, report: { runs_sheet: 'Runs' } }, header: HEADER, rows: sampleRows(3) });
    const b = bed;
    expect((await b.run()).code).toBe(0);
    const before = b.sheets.values(SPREADSHEET_ID, 'Review');
    for (const [tab, key] of [['REVIEW', 'output.sheet'], ['Runs', 'report.runs_sheet'], [TAB.toLowerCase(), 'sheets.sheet']] as const) {
      const result = await b.cli(['rules', 'publish', '--config', b.configPath, '--tab', tab]);
      expect(result.code, tab).toBe(2);
      expect(result.stderr).toContain(key);
    }
    expect(b.sheets.values(SPREADSHEET_ID, 'Review')).toEqual(before);
  });
});
