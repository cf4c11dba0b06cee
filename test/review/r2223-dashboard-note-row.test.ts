/**
 * Review of issue 23's dashboard: people own the Runs tab too, and write notes in it. A
 * note typed under the runs in the Runs tab's first column ("Started (UTC)") is taken for
 * a run of a target named "" (the Target cell is empty): the dashboard grows a block
 * "Runs" and three more charts for a target that does not exist, and keeps them. A row is
 * a run of the bot only when its Started cell is a time (the bot writes ISO times) and its
 * Target names a target.
 */
import { afterEach, expect, it } from 'vitest';
import { SPREADSHEET_ID, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { DASHBOARD_REPORT, chartTitle } from '../support/dashboard.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});


it('a person’s note in the Runs tab draws no charts of its own', async () => {
  bed = await startBed({ rows: sampleRows(4), config: DASHBOARD_REPORT });
  expect((await bed.run()).code).toBe(0);
  const runs = bed.sheets.values(SPREADSHEET_ID, 'Runs');
  const started = (runs[0] ?? []).indexOf('Started (UTC)');
  expect(started).toBeGreaterThanOrEqual(0);
  // Two rows below the last run, a note in the first column of the Runs tab.
  bed.sheets.setCell(SPREADSHEET_ID, 'Runs', runs.length + 2, started + 1, 'Note: the rules changed on Monday, counts before are not comparable');
  expect((await bed.run()).code).toBe(0);
  const titles = bed.sheets.decor(SPREADSHEET_ID, 'Dashboard').charts.map(chartTitle);
  expect(titles).toEqual(['What the sheet shows after each run — Statuses', 'Cost per run (USD) — Statuses', 'Errors and retries (429, 5xx) per run — Statuses']);
});
