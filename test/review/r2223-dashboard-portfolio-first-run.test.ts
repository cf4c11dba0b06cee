/**
 * Review of issue 23 (report.dashboard_sheet "in a portfolio, by target"): several targets
 * of one spreadsheet share the Runs tab and the Dashboard tab. On the FIRST run of the
 * portfolio every target's block and charts must be drawn, with one Dashboard tab and no
 * warning: each target keeps the dashboard after its own Runs row, and targets of a
 * portfolio run at once, so each reads "no Dashboard tab" and sends addSheet of the same
 * tab (and the same chart ids); Sheets refuses all but one atomic batch.
 */
import { afterEach, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { DASHBOARD_KEY } from '../../src/sheets/index.js';
import { DASHBOARD_REPORT, chartTitle } from '../support/dashboard.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});


it('draws every target’s charts on the first run of a portfolio sharing one Dashboard tab, without a warning', async () => {
  bed = await startBed({
    rows: sampleRows(3),
    moreTabs: [
      { title: 'Team B', rows: [HEADER, ...sampleRows(4)] },
      { title: 'Team C', rows: [HEADER, ...sampleRows(5)] },
    ],
    config: DASHBOARD_REPORT,
  });
  bed.setConfig({ targets: [{ name: 'team-a', sheet: TAB }, { name: 'team-b', sheet: 'Team B' }, { name: 'team-c', sheet: 'Team C' }] });
  const result = await bed.run('--json');
  expect(result.code, result.stderr).toBe(0);
  const summary = JSON.parse(result.stdout) as { targets: Array<{ target: string; warnings: string[] }> };
  const warnings = summary.targets.flatMap((t) => t.warnings.map((w) => `${t.target}: ${w}`)).filter((w) => /Dashboard|chart/i.test(w));
  expect(warnings).toEqual([]);
  expect(bed.sheets.developerMetadata(SPREADSHEET_ID).filter((m) => m.metadataKey === DASHBOARD_KEY)).toHaveLength(1);
  const titles = bed.sheets.decor(SPREADSHEET_ID, 'Dashboard').charts.map(chartTitle);
  for (const target of ['team-a', 'team-b', 'team-c']) expect(titles.filter((t) => t.endsWith(`— ${target}`)), target).toHaveLength(3);
});
