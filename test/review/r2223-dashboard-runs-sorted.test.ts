/**
 * Review of issue 23's dashboard (report.dashboard_sheet: "verdicts per run over time ...
 * The charts read the Runs tab's columns by their headers and grow with it"). People own
 * the Runs tab too: they sort it newest first.
 * After a person sorts the Runs tab newest first, the block follows the tab's order:
 * the "over time" charts run backwards and out of order (the new run lands after the oldest).
 */
import { afterEach, expect, it } from 'vitest';
import { SPREADSHEET_ID, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { FIRST_BLOCK_COLUMN } from '../../src/sheets/index.js';
import { DASHBOARD_REPORT } from '../support/dashboard.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});


/** The block's data rows' "Run started" cells (row 3 down), as the charts read them (every non-empty cell). */
function charted(b: Bed): string[] {
  return b.sheets
    .values(SPREADSHEET_ID, 'Dashboard')
    .slice(2)
    .map((row) => row[FIRST_BLOCK_COLUMN] ?? '')
    .filter((s) => s !== '');
}

it('charts the runs in time order after a person sorted the Runs tab newest first', async () => {
  bed = await startBed({ rows: sampleRows(4), config: DASHBOARD_REPORT });
  for (let i = 0; i < 3; i++) expect((await bed.run()).code).toBe(0);
  const startedAt = (bed.sheets.values(SPREADSHEET_ID, 'Runs')[0] ?? []).indexOf('Started (UTC)');
  bed.sheets.sortRows(SPREADSHEET_ID, 'Runs', 2, (x, y) => String(y[startedAt] ?? '').localeCompare(String(x[startedAt] ?? '')));
  expect((await bed.run()).code).toBe(0);
  const starts = charted(bed);
  expect(starts).toHaveLength(4);
  expect(new Set(starts).size).toBe(4);
  // MAX_RUNS keeps "the latest" by position too: on a sorted tab it would drop the newest runs.
  expect(starts).toEqual([...starts].sort());
});
