/**
 * What the look and the dashboard read from the sheet is outside input: cells of the Runs
 * tab, header cells, rules, validations, charts and metadata values anyone may have
 * written. Random input never escapes as an exception, and what comes out keeps its
 * promises (numbers are finite, at most MAX_RUNS runs a target, requests name the tab).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_RUNS, RUNS_COLUMNS, runsByTarget } from '../../src/sheets/index.js';
import { DASHBOARD_KEY, dashboardRequests, timeOf } from '../../src/sheets/dashboard.js';
import { tabRequests, type LookPiece } from '../../src/sheets/column-look.js';

const cell = fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(...Object.values(RUNS_COLUMNS), '12', '0.5', 'NaN', 'Infinity', '-3', '1e400', ' ', 'unknown', '2026-12-01T00:00:00Z', 'programme-a'));
const grid = fc.array(fc.array(cell, { maxLength: 12 }), { maxLength: 30 });

const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.integer({ min: -2, max: 40 }), fc.string({ maxLength: 8 }), fc.constantFrom('status-validator.look', 'status-validator.chart', 'status-validator.dashboard', 'recheck', 'reviewer', 'TEXT_EQ', 'VALID', '{"target":"","chart":"cost","chartId":3}', '{"chartId":"x"}'), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 3 }),
  object: fc.dictionary(
    fc.constantFrom('properties', 'sheetId', 'title', 'gridProperties', 'rowCount', 'columnCount', 'conditionalFormats', 'booleanRule', 'condition', 'values', 'userEnteredValue', 'format', 'ranges', 'data', 'rowData', 'formattedValue', 'dataValidation', 'columnMetadata', 'developerMetadata', 'metadataKey', 'metadataValue', 'metadataId', 'charts', 'chartId', 'spec'),
    tie('value'),
    { maxKeys: 5 },
  ),
})).object;

describe('reading the sheet for the look and the dashboard', () => {
  it('reads any Runs tab into finite numbers per target, the latest MAX_RUNS each', () => {
    fc.assert(
      fc.property(grid, (values) => {
        for (const target of runsByTarget(values)) {
          expect(target.rows.length).toBeLessThanOrEqual(MAX_RUNS);
          for (const row of target.rows) for (const v of row.slice(1)) expect(v === undefined || Number.isFinite(v)).toBe(true);
        }
      }),
    );
    const header = [RUNS_COLUMNS.started, RUNS_COLUMNS.target, RUNS_COLUMNS.cost];
    const many = [header, ...Array.from({ length: MAX_RUNS + 5 }, (_, i) => [new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString(), 'a', String(i)])];
    const [a] = runsByTarget(many);
    expect(a?.rows).toHaveLength(MAX_RUNS);
    expect(a?.rows.at(-1)?.[6]).toBe(MAX_RUNS + 4);
  });

  it('orders each target’s runs by their start, keeps the latest MAX_RUNS by time, and takes no note for a run', () => {
    const header = [RUNS_COLUMNS.started, RUNS_COLUMNS.target, RUNS_COLUMNS.runId, RUNS_COLUMNS.cost];
    // Newest first, as a person sorts it; then notes and a row without target or run id.
    const times = Array.from({ length: MAX_RUNS + 5 }, (_, i) => new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString()).reverse();
    const values = [
      header,
      ...times.map((t, i) => [t, 'a', `run-${i}`, String(MAX_RUNS + 4 - i)]),
      ['Note: the rules changed on Monday', '', '', ''],
      ['2026-12-09T00:00:00Z', '', '', '7'],
      ['Note 1', 'a', '', '9'],
      ['2026-12-10T00:00:00Z', '', 'run-x', '3'],
    ];
    const runs = runsByTarget(values);
    expect(runs.map((r) => r.target)).toEqual(['a', '']);
    const a = runs[0]?.rows ?? [];
    expect(a).toHaveLength(MAX_RUNS);
    expect(a.map((row) => row[0])).toEqual([...times].reverse().slice(-MAX_RUNS));
    expect(a.at(-1)?.[6]).toBe(MAX_RUNS + 4);
    expect(runs[1]?.rows.map((row) => row[0])).toEqual(['2026-12-10T00:00:00Z']);
  });

  it('reads a Started cell as a time only when it is one', () => {
    expect(timeOf('2026-12-05T00:49:21.834Z')).toBe(Date.UTC(2026, 11, 5, 0, 49, 21, 834));
    expect(timeOf('12/5/2026 0:49:21')).toBeTypeOf('number');
    for (const text of ['', 'Note 1', '1', '42', 'Monday', 'NaN']) expect(timeOf(text), text).toBeUndefined();
    fc.assert(fc.property(fc.string(), (text) => {
      const t = timeOf(text);
      expect(t === undefined || Number.isFinite(t)).toBe(true);
    }));
  });

  it('finds the bot’s dashboard by its mark after a person renamed it', () => {
    const runs = runsByTarget([[RUNS_COLUMNS.started, RUNS_COLUMNS.target], ['2026-12-01T00:00:00Z', 'a']]);
    const renamed = { properties: { sheetId: 77, title: 'Charts (ours)', gridProperties: { rowCount: 1000, columnCount: 40 } }, developerMetadata: [{ metadataId: 1, metadataKey: DASHBOARD_KEY, metadataValue: 'dashboard' }] };
    const planned = dashboardRequests([renamed], 'Dashboard', runs);
    expect('requests' in planned).toBe(true);
    const requests = 'requests' in planned ? planned.requests : [];
    expect(requests.filter((r) => r.addSheet)).toEqual([]);
    expect(requests.filter((r) => r.addChart).map((r) => r.addChart?.chart?.position?.overlayPosition?.anchorCell?.sheetId)).toEqual([77, 77, 77]);
  });

  it('plans the dashboard from any spreadsheet answer without throwing', () => {
    const runs = runsByTarget([[RUNS_COLUMNS.started, RUNS_COLUMNS.target], ['2026-12-01', 'a'], ['2026-12-02', 'b']]);
    fc.assert(
      fc.property(fc.array(json, { maxLength: 3 }), (sheets) => {
        const planned = dashboardRequests(sheets, 'Dashboard', runs);
        if ('requests' in planned) expect(planned.requests.length).toBeGreaterThan(0);
        else expect(planned.warning).toMatch(/"Dashboard" tab is not the bot's/);
      }),
      { numRuns: 2000 },
    );
  });

  it('plans the look of the columns from any spreadsheet answer without throwing', () => {
    const pieces: LookPiece[] = [
      { tab: 'T', headerRow: 1, header: 'VALID', kind: 'verdict' },
      { tab: 'T', headerRow: 1, header: 'recheck', kind: 'recheck' },
      { tab: 'T', headerRow: 1, header: 'reviewer', kind: 'reviewer' },
    ];
    fc.assert(
      fc.property(json, (sheet) => {
        const warnings: string[] = [];
        const requests = tabRequests(sheet, pieces, warnings);
        for (const request of requests) expect(Object.keys(request)).toHaveLength(1);
        for (const warning of warnings) expect(warning).toMatch(/"T"/);
      }),
      { numRuns: 2000 },
    );
  });
});
