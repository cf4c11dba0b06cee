/**
 * What the look and the dashboard read from the sheet is outside input: cells of the Runs
 * tab, header cells, rules, validations, charts and metadata values anyone may have
 * written. Random input never escapes as an exception, and what comes out keeps its
 * promises (numbers are finite, at most MAX_RUNS runs a target, requests name the tab).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_RUNS, RUNS_COLUMNS, runsByTarget } from '../../src/sheets/index.js';
import { dashboardRequests } from '../../src/sheets/dashboard.js';
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
    const many = [header, ...Array.from({ length: MAX_RUNS + 5 }, (_, i) => [`2026-12-01T00:00:${i}`, 'a', String(i)])];
    const [a] = runsByTarget(many);
    expect(a?.rows).toHaveLength(MAX_RUNS);
    expect(a?.rows.at(-1)?.[6]).toBe(MAX_RUNS + 4);
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
