// Review 3 (of the issue 18 fixes), finding: "Recheck selected rows" loses selected rows that have
// no id without a word, and misleads when they all lack one.
//
// docs/apps-script.gs (selectedIds_) drops every selected row whose id cell is blank. Selected
// alone, the person is told "Select the rows to recheck first", though they did: nothing says that
// those rows lack an id (the config's columns.id) nor what to do. Selected with others, the toast
// says "Validation started for 2 rows" and the third row is silently not rechecked. Issue 18 item 6
// (rows without an id: "refuse them clearly; never lose one") and the project rule that every
// failure a user can meet says what happened, names the row, and what to do.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/inspect.js';

const SCRIPT = readFileSync(path.join(REPO_ROOT, 'docs/apps-script.gs'), 'utf8');

function recheckSelected(grid: string[][], selection: Array<[number, number]>, props: Record<string, string>): { payload: unknown; alerts: string[]; toasts: string[] } {
  let payload: unknown;
  const alerts: string[] = [];
  const toasts: string[] = [];
  const block = (row: number, col: number, rows: number, cols: number) => Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => grid[row - 1 + r]?.[col - 1 + c] ?? ''));
  const sheet = {
    getName: () => 'Statuses',
    getLastColumn: () => Math.max(...grid.map((r) => r.length)),
    getRange: (row: number, col: number, rows: number, cols: number) => ({ getValues: () => block(row, col, rows, cols), getDisplayValues: () => block(row, col, rows, cols) }),
    getActiveRangeList: () => ({ getRanges: () => selection.map(([first, last]) => ({ getRow: () => first, getLastRow: () => last })) }),
  };
  const all: Record<string, string> = { VALIDATOR_URL: 'https://v.example.com', ...props };
  const context = createContext({
    SpreadsheetApp: { getUi: () => ({ alert: (t: string) => void alerts.push(t) }), getActive: () => ({ toast: (t: string) => void toasts.push(t), getId: () => 'book' }), getActiveSheet: () => sheet },
    ScriptApp: { getIdentityToken: () => 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln' },
    UrlFetchApp: { fetch: (_url: string, o: { payload?: string }) => ((payload = JSON.parse(o.payload ?? '{}')), { getResponseCode: () => 202, getContentText: () => '{"rows":1,"url":"/runs/x","unknownRows":[]}' }) },
    PropertiesService: {
      getScriptProperties: () => ({ getProperty: (k: string) => all[k] ?? null }),
      getUserProperties: () => ({ getProperty: () => null, setProperty: () => undefined }),
    },
  });
  runInContext(SCRIPT, context);
  runInContext('recheckSelected()', context);
  return { payload, alerts, toasts };
}

describe('docs/apps-script.gs, Recheck selected rows without an id', () => {
  const grid = [['Project', 'Status', 'Comment'], ['P-0001', 'Done', 'a'], ['P-0002', 'Done', 'b'], ['', 'Done', 'no id yet']];

  it('says the selected row has no id (naming the id column), rather than to select rows', () => {
    const { payload, alerts } = recheckSelected(grid, [[4, 4]], {});
    expect(payload).toBeUndefined();
    expect(alerts.join(' ')).not.toContain('Select the rows to recheck first');
    expect(alerts.join(' ')).toContain('Project');
  });

  it('tells the person which selected row it left out for having no id', () => {
    const { payload, alerts, toasts } = recheckSelected(grid, [[2, 4]], {});
    expect(payload).toMatchObject({ rows: ['P-0001', 'P-0002'] });
    expect([...alerts, ...toasts].join(' ')).toMatch(/row 4\b/);
  });
});
