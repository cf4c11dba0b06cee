/**
 * Review of ebf1879: the write check leaves before the rows are sorted where "no verdict can
 * show yet" (SheetWriter.nothingShown). For a results tab (output.sheet) that is
 * `target.unmade`, which is true whenever any header of the results tab is missing, not only
 * when the tab is still to make: a results tab whose lines all show their verdicts, with
 * one column of its own gone (a person deleted the "Source row" link column), has every
 * verdict showing, nothing to ask and nothing to write, yet each run sends the write check
 * (a Sheets write) before sorting the rows. r25i's promise, kept in place: a run with
 * nothing to ask and nothing to write sends no write at all. One target and a portfolio.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_SHEETS, SPREADSHEET_ID, type Bed } from '../support/bed.js';
import { freshTargets } from '../support/fresh-targets.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const REVIEW = 'Review';
const REVIEW_B = 'Review B';

describe.each([
  ['one target', false],
  ['a portfolio of two targets', true],
] as const)('r25j: %s, a results tab that lost its link column, nothing to ask or write', (_what, portfolio) => {
  it('sends no write to the sheet, not even the write check', async () => {
    bed = await freshTargets(portfolio, { rows: 6, teamB: { rows: 5, offset: 20, target: { output: { sheet: REVIEW_B } } }, config: { sheets: FAST_SHEETS, output: { sheet: REVIEW } } });
    const b = bed;
    const first = await b.run('--json');
    expect(first.code, first.stderr).toBe(0);
    // A person deletes the results tab's "Source row" column; every line still shows its row's verdict (by its id).
    for (const tab of portfolio ? [REVIEW, REVIEW_B] : [REVIEW]) {
      const link = (b.sheets.values(SPREADSHEET_ID, tab)[0] ?? []).indexOf('Source row') + 1;
      expect(link).toBeGreaterThan(0);
      b.sheets.deleteColumns(SPREADSHEET_ID, tab, link, 1);
    }
    b.sheets.resetCalls();
    b.llm.reset();
    const second = await b.run('--json');
    expect(second.code, second.stderr).toBe(0);
    expect(b.llm.callCount()).toBe(0);
    // The run found every verdict showing (rows.upToDate), wrote none: nothing may have gone to the sheet.
    expect(b.sheets.calls.filter((c) => c.kind === 'write').map((c) => `${c.op} ${JSON.stringify(c.body ?? '').slice(0, 80)}`)).toEqual([]);
  });
});
