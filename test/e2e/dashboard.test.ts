import { afterEach, describe, expect, it } from 'vitest';
import { sheets as sheetsApi } from '@googleapis/sheets';
import { HEADER, SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { CHART_KEY, DASHBOARD_KEY, FIRST_BLOCK_COLUMN } from '../../src/sheets/index.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const FAST = { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 };
const REPORT = { sheets: FAST, report: { runs_sheet: 'Runs', dashboard_sheet: 'Dashboard' } };
const titleOf = (chart: Record<string, unknown>): string => String((chart['spec'] as { title?: string }).title);
const botChartIds = (b: Bed): number[] =>
  b.sheets
    .developerMetadata(SPREADSHEET_ID)
    .filter((m) => m.metadataKey === CHART_KEY)
    .map((m) => (JSON.parse(m.metadataValue ?? '{}') as { chartId: number }).chartId);

/** The dashboard block of the first target: its header row and data rows (columns U onwards). */
function block(b: Bed, k = 0): string[][] {
  return b.sheets.values(SPREADSHEET_ID, 'Dashboard').map((row) => row.slice(FIRST_BLOCK_COLUMN + k * 10, FIRST_BLOCK_COLUMN + k * 10 + 9));
}

describe('report.dashboard_sheet: native charts over the Runs tab', () => {
  it('draws three charts over numbers read from the Runs tab by header, grows with it, and keeps one copy whatever people do', async () => {
    bed = await startBed({ rows: sampleRows(8), config: REPORT });
    expect((await bed.run()).code).toBe(0);
    const dashboard = bed.sheets.sheetId(SPREADSHEET_ID, 'Dashboard');
    let charts = bed.sheets.decor(SPREADSHEET_ID, 'Dashboard').charts;
    expect(charts.map(titleOf)).toEqual(['What the sheet shows after each run — Statuses', 'Cost per run (USD) — Statuses', 'Errors and retries (429, 5xx) per run — Statuses']);
    // Every series reads the dashboard's own block, open-ended downwards.
    for (const chart of charts) {
      const sources = JSON.stringify(chart['spec']).match(/"sources":\[[^\]]*\]/g) ?? [];
      expect(sources.length).toBeGreaterThan(0);
      for (const s of sources) expect(s).toMatch(new RegExp(`"sheetId":${dashboard},"startRowIndex":1,"startColumnIndex":\\d+,"endColumnIndex":\\d+`));
    }
    expect(bed.sheets.developerMetadata(SPREADSHEET_ID).filter((m) => m.metadataKey === DASHBOARD_KEY)).toHaveLength(1);
    let rows = block(bed);
    expect(rows[1]).toEqual(['Run started (UTC)', 'VALID', 'INVALID', 'NEEDS REVIEW', 'ERROR', "Reviewer's verdicts", 'Cost (USD)', 'Rows in ERROR this run', 'Retries (429, 5xx)']);
    expect(rows).toHaveLength(3);
    // Numbers, not text: a chart can plot them (the Runs tab's cells are text).
    const firstRun = bed.sheets.getCell(SPREADSHEET_ID, 'Dashboard', 3, FIRST_BLOCK_COLUMN + 2);
    expect(typeof firstRun?.value).toBe('number');
    expect(Number(rows[2]?.[1]) + Number(rows[2]?.[2])).toBe(8);

    // A person's own chart on the dashboard, and a column inserted in the Runs tab before "Sheet VALID".
    const api = sheetsApi({ version: 'v4', rootUrl: bed.sheets.url, headers: { authorization: 'Bearer person' } }).spreadsheets;
    const runsId = bed.sheets.sheetId(SPREADSHEET_ID, 'Runs');
    const mine = { title: 'My own chart', basicChart: { chartType: 'BAR', domains: [{ domain: { sourceRange: { sources: [{ sheetId: runsId, startRowIndex: 0, endRowIndex: 1, startColumnIndex: 0, endColumnIndex: 1 }] } } }] } };
    await api.batchUpdate({ spreadsheetId: SPREADSHEET_ID, requestBody: { requests: [{ addChart: { chart: { chartId: 7, spec: mine, position: { overlayPosition: { anchorCell: { sheetId: dashboard, rowIndex: 40, columnIndex: 0 } } } } } }] } });
    const runsHeader = bed.sheets.values(SPREADSHEET_ID, 'Runs')[0] ?? [];
    bed.sheets.insertColumns(SPREADSHEET_ID, 'Runs', runsHeader.indexOf('Sheet VALID') + 1, 1);

    for (let run = 0; run < 4; run++) expect((await bed.run()).code).toBe(0);

    charts = bed.sheets.decor(SPREADSHEET_ID, 'Dashboard').charts;
    expect(charts).toHaveLength(4);
    expect(charts.filter((c) => botChartIds(bed as Bed).includes(c['chartId'] as number))).toHaveLength(3);
    // Untouched (Sheets echoes a GridRange without its zero indexes).
    expect(charts.find((c) => c['chartId'] === 7)?.['spec']).toEqual({ ...mine, basicChart: { chartType: 'BAR', domains: [{ domain: { sourceRange: { sources: [{ sheetId: runsId, endRowIndex: 1, endColumnIndex: 1 }] } } }] } });
    expect(botChartIds(bed)).toHaveLength(3);
    rows = block(bed);
    expect(rows).toHaveLength(2 + 5);
    // Read by header after the inserted column: every run shows the 8 rows' verdicts.
    for (const row of rows.slice(2)) expect(Number(row[1]) + Number(row[2]) + Number(row[3]) + Number(row[4])).toBe(8);
  });

  it('gives each target of a portfolio its own block and charts', async () => {
    const teamB = 'Team B';
    bed = await startBed({ rows: sampleRows(3), moreTabs: [{ title: teamB, rows: [HEADER, ...sampleRows(5)] }], config: REPORT });
    bed.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: teamB }] });
    expect((await bed.run()).code).toBe(0);
    expect((await bed.run()).code).toBe(0);
    const titles = bed.sheets.decor(SPREADSHEET_ID, 'Dashboard').charts.map(titleOf);
    expect(titles).toHaveLength(6);
    expect(titles.filter((t) => t.endsWith('— programme-a'))).toHaveLength(3);
    expect(titles.filter((t) => t.endsWith('— team-b'))).toHaveLength(3);
    const blocks = [block(bed, 0), block(bed, 1)];
    expect(blocks.map((b) => b[0]?.[0]).sort()).toEqual(['Runs of programme-a', 'Runs of team-b']);
    const totals = blocks.map((b) => b.slice(2).map((row) => Number(row[1]) + Number(row[2])));
    expect(totals.sort((x, y) => (x[0] ?? 0) - (y[0] ?? 0))).toEqual([[3, 3], [5, 5]]);
  });

  it("leaves a person's tab of the same name alone, and says so", async () => {
    bed = await startBed({ rows: sampleRows(3), moreTabs: [{ title: 'Dashboard', rows: [['my notes']] }], config: REPORT });
    const result = await bed.run();
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).toMatch(/the "Dashboard" tab is not the bot's/);
    expect(bed.sheets.values(SPREADSHEET_ID, 'Dashboard')).toEqual([['my notes']]);
    expect(bed.sheets.decor(SPREADSHEET_ID, 'Dashboard').charts).toEqual([]);
  });

  it('keeps the run, its verdicts and its Runs row when Sheets refuses the charts, and says so', async () => {
    bed = await startBed({ rows: sampleRows(3), config: REPORT });
    bed.sheets.injectFault({ status: 400, message: 'Invalid requests[3].addChart: something Sheets did not like' }, { match: (c) => c.op === 'batchUpdate' && JSON.stringify(c.body).includes('addChart') });
    const result = await bed.run();
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).toMatch(/could not update the "Dashboard" tab's charts \(the run and its Runs row are kept\): .*something Sheets did not like/s);
    expect(bed.values().slice(1).every((row) => /^(VALID|INVALID)$/.test(row[4] ?? ''))).toBe(true);
    expect(bed.sheets.values(SPREADSHEET_ID, 'Runs')).toHaveLength(2);
    expect(bed.sheets.tabs(SPREADSHEET_ID)).not.toContain('Dashboard');
    // The next run draws it.
    expect((await bed.run()).code).toBe(0);
    expect(bed.sheets.decor(SPREADSHEET_ID, 'Dashboard').charts).toHaveLength(3);
  });

  it('refuses a dashboard without a Runs tab in the config', async () => {
    bed = await startBed({ rows: sampleRows(1), config: { sheets: FAST, report: { dashboard_sheet: 'Dashboard' } } });
    const result = await bed.run();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/report\.dashboard_sheet.*set report\.runs_sheet too/);
 
    bed.setConfig({ report: { runs_sheet: 'Runs', dashboard_sheet: 'statuses' } });
    const same = await bed.run();
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/report\.dashboard_sheet.*"statuses" is the same tab as sheets\.sheet/);
  });
  it('finds its dashboard by its mark after a person renamed the tab: no second dashboard', async () => {
    bed = await startBed({ rows: sampleRows(4), config: REPORT });
    expect((await bed.run()).code).toBe(0);
    const dashboard = bed.sheets.sheetId(SPREADSHEET_ID, 'Dashboard');
    const api = sheetsApi({ version: 'v4', rootUrl: bed.sheets.url, headers: { authorization: 'Bearer person' } }).spreadsheets;
    await api.batchUpdate({ spreadsheetId: SPREADSHEET_ID, requestBody: { requests: [{ updateSheetProperties: { properties: { sheetId: dashboard, title: 'Our charts' }, fields: 'title' } }] } });
    const second = await bed.run('--json');
    expect(second.code, second.stderr).toBe(0);
    expect((JSON.parse(second.stdout) as { warnings: string[] }).warnings.filter((w) => /Dashboard|chart/i.test(w))).toEqual([]);
    expect(bed.sheets.developerMetadata(SPREADSHEET_ID).filter((m) => m.metadataKey === DASHBOARD_KEY)).toHaveLength(1);
    const charts = bed.sheets.decor(SPREADSHEET_ID, 'Our charts').charts;
    expect(charts.map(titleOf)).toEqual(['What the sheet shows after each run — Statuses', 'Cost per run (USD) — Statuses', 'Errors and retries (429, 5xx) per run — Statuses']);
    // Both runs are charted on the renamed tab.
    expect(bed.sheets.values(SPREADSHEET_ID, 'Our charts').slice(2).filter((row) => (row[FIRST_BLOCK_COLUMN] ?? '') !== '')).toHaveLength(2);
  });
});
