// Review 3 (of the issue 18 fixes), finding: docs/apps-script.gs finds the id column by a header
// match the bot does not use, so "Recheck selected rows" fails on a tab the bot reads fine.
//
// The bot matches header texts "trimmed, with inner spaces folded, case-insensitively", after NFC
// (src/sheets/layout.ts, normalizeHeader; DESIGN Contracts: "header texts, matched trimmed and
// case-insensitively"). The script compares `trim().toLowerCase()` only. A header wrapped onto two
// lines in the cell (Alt+Enter: "Project\nID"), or typed with two spaces, is the bot's columns.id
// "Project ID", yet the script, with ID_HEADER set to that same text as docs/apps-script.md says,
// alerts "No column ..." and sends nothing. Issue 18 item 8: the script must send what the bot
// matches; the same holds for the column it reads the ids from.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/inspect.js';

const SCRIPT = readFileSync(path.join(REPO_ROOT, 'docs/apps-script.gs'), 'utf8');

function recheckSelected(grid: string[][], selection: Array<[number, number]>, props: Record<string, string>): { payload: unknown; alerts: string[] } {
  let payload: unknown;
  const alerts: string[] = [];
  const block = (row: number, col: number, rows: number, cols: number) => Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => grid[row - 1 + r]?.[col - 1 + c] ?? ''));
  const sheet = {
    getName: () => 'Statuses',
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

describe('docs/apps-script.gs, the id column', () => {
  it.each([
    ['wrapped onto two lines in its cell', 'Project\nID'],
    ['typed with two spaces', 'Project  ID'],
  ])('is found as the bot finds it: a header %s', (_how, header) => {
    const grid = [[header, 'Status', 'Comment'], ['P-0001', 'Done', 'a'], ['P-0002', 'Done', 'b']];
    const { payload, alerts } = recheckSelected(grid, [[2, 3]], { ID_HEADER: 'Project ID' });
    expect(alerts).toEqual([]);
    expect(payload).toMatchObject({ rows: ['P-0001', 'P-0002'] });
  });
});
