// Review 3 (of the issue 18 fixes), finding: docs/apps-script.gs honours one header row per
// spreadsheet, while the config sets `header_row` per target (per tab).
//
// Issue 18 item 8 asks the script to honour sheets.header_row instead of assuming row 1. It reads
// one script property, HEADER_ROW, for every tab of the spreadsheet. But targets may each set
// their own header_row (DESIGN Contracts: "`header_row` per target"), and a spreadsheet often
// holds several checked tabs (docs/apps-script.md, "Several tabs: targets"): one tab with its
// headers in row 1, another under a title block with its headers in row 3. Whatever HEADER_ROW
// says, "Recheck selected rows" fails on one of them ("No column Project in row ..."). ID_HEADER
// already takes several spellings for this reason; the header row needs the same (the script
// could find the row holding ID_HEADER above the selection, or take a row per tab; with the
// latter, set that property below for both tabs: what is asserted stays).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/inspect.js';

const SCRIPT = readFileSync(path.join(REPO_ROOT, 'docs/apps-script.gs'), 'utf8');

function recheckSelected(grid: string[][], selection: Array<[number, number]>, props: Record<string, string>, tab = 'Statuses'): { payload: unknown; alerts: string[] } {
  let payload: unknown;
  const alerts: string[] = [];
  const block = (row: number, col: number, rows: number, cols: number) => Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => grid[row - 1 + r]?.[col - 1 + c] ?? ''));
  const sheet = {
    getName: () => tab,
    getLastColumn: () => Math.max(...grid.map((r) => r.length)),
    getRange: (row: number, col: number, rows: number, cols: number) => ({ getValues: () => block(row, col, rows, cols), getDisplayValues: () => block(row, col, rows, cols) }),
    getActiveRangeList: () => ({ getRanges: () => selection.map(([first, last]) => ({ getRow: () => first, getLastRow: () => last })) }),
  };
  const all: Record<string, string> = { VALIDATOR_URL: 'https://v.example.com', ...props };
  const context = createContext({
    SpreadsheetApp: { getUi: () => ({ alert: (t: string) => void alerts.push(t) }), getActive: () => ({ toast: () => undefined, getId: () => 'book' }), getActiveSheet: () => sheet },
    ScriptApp: { getIdentityToken: () => 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln' },
    UrlFetchApp: { fetch: (_url: string, o: { payload?: string }) => ((payload = JSON.parse(o.payload ?? '{}')), { getResponseCode: () => 202, getContentText: () => '{"rows":1,"url":"/runs/x","unknownRows":[]}' }) },
    PropertiesService: {
      getScriptProperties: () => ({ getProperty: (k: string) => all[k] ?? null }),
      getUserProperties: () => ({ getProperty: () => null, setProperty: () => undefined }),
    },
  });
  runInContext(SCRIPT, context);
  runInContext('recheckSelected()', context);
  return { payload, alerts };
}

describe('docs/apps-script.gs, two checked tabs of one spreadsheet with their headers on different rows', () => {
  const plain = [['Project', 'Status', 'Comment'], ['P-0001', 'Done', 'a'], ['P-0002', 'Done', 'b']];
  const titled = [['Programme B: weekly statuses'], [''], ['Project', 'Status', 'Comment'], ['B-0001', 'Done', 'a'], ['B-0002', 'Done', 'b']];
  const props: Record<string, string> = {};

  it('sends the selected ids from the tab with its headers in row 1', () => {
    const { payload, alerts } = recheckSelected(plain, [[2, 3]], props, 'Statuses');
    expect(alerts).toEqual([]);
    expect(payload).toMatchObject({ rows: ['P-0001', 'P-0002'], sheet: 'Statuses' });
  });

  it('and from the tab with its headers in row 3 (sheets.header_row: 3 for its target)', () => {
    const { payload, alerts } = recheckSelected(titled, [[4, 5]], props, 'Team B');
    expect(alerts).toEqual([]);
    expect(payload).toMatchObject({ rows: ['B-0001', 'B-0002'], sheet: 'Team B' });
  });
});
