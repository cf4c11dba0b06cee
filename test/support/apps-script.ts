/**
 * docs/apps-script.gs, run in a Node vm context with stand-ins for the Apps Script services
 * it calls (SpreadsheetApp, ScriptApp, UrlFetchApp, PropertiesService): what it sends and
 * what it shows of the answer, without Google.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { REPO_ROOT } from './inspect.js';

export const SCRIPT = readFileSync(path.join(REPO_ROOT, 'docs/apps-script.gs'), 'utf8');
/** What SpreadsheetApp.getActive().getId() answers. */
export const BOOK = '1AbCdEf-spreadsheet-id';
/** What ScriptApp.getIdentityToken() answers unless `token` says otherwise. */
export const ID_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6ImFAZXhhbXBsZS5jb20ifQ.c2ln';

/** A cell whose value (getValues) differs from the text it shows (getDisplayValues), e.g. a number 42 shown "0042". */
export interface Cell {
  value: unknown;
  shown: string;
}

export interface Fetched {
  url: string;
  options: { method: string; headers: Record<string, string>; payload?: string; contentType?: string; muteHttpExceptions?: boolean };
}

/**
 * The script over a sheet: a header row and data rows (a text cell holds and shows the same),
 * the selection as 1-based [first row, last row] ranges, and the server's answer to every fetch.
 * `call('recheckSelected')` runs one of its functions; the arrays fill as it runs.
 */
export function appsScript(opts: { grid: Array<Array<string | Cell>>; selection: Array<[number, number]>; answer: { code: number; body: unknown }; props?: Record<string, string>; token?: string | null; tab?: string | undefined }) {
  const fetched: Fetched[] = [];
  const alerts: string[] = [];
  const toasts: string[] = [];
  const menu: string[] = [];
  const userProps = new Map<string, string>();
  const props = { VALIDATOR_URL: 'https://validator.example.com/', ...opts.props };
  const block = (row: number, col: number, rows: number, cols: number, pick: (cell: string | Cell) => unknown) =>
    Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => {
      const cell = opts.grid[row - 1 + r]?.[col - 1 + c];
      return cell === undefined ? '' : pick(cell);
    }));
  const range = (row: number, col: number, rows: number, cols: number) => ({
    getValues: () => block(row, col, rows, cols, (cell) => (typeof cell === 'string' ? cell : cell.value)),
    getDisplayValues: () => block(row, col, rows, cols, (cell) => (typeof cell === 'string' ? cell : cell.shown)),
  });
  const sheet = {
    getName: () => opts.tab ?? 'Statuses',
    getLastColumn: () => Math.max(...opts.grid.map((r) => r.length)),
    getRange: range,
    getActiveRangeList: () => ({ getRanges: () => opts.selection.map(([first, last]) => ({ getRow: () => first, getLastRow: () => last })) }),
  };
  const ui = {
    alert: (text: string) => void alerts.push(text),
    createMenu: () => {
      const builder = { addItem: (label: string) => (menu.push(label), builder), addToUi: () => undefined };
      return builder;
    },
  };
  const context = createContext({
    SpreadsheetApp: { getUi: () => ui, getActive: () => ({ toast: (text: string) => void toasts.push(text), getId: () => BOOK }), getActiveSheet: () => sheet },
    ScriptApp: { getIdentityToken: () => (opts.token === undefined ? ID_TOKEN : opts.token) },
    UrlFetchApp: {
      fetch: (url: string, options: Fetched['options']) => {
        fetched.push({ url, options });
        return { getResponseCode: () => opts.answer.code, getContentText: () => JSON.stringify(opts.answer.body) };
      },
    },
    PropertiesService: {
      getScriptProperties: () => ({ getProperty: (k: string) => (props as Record<string, string>)[k] ?? null }),
      getUserProperties: () => ({ getProperty: (k: string) => userProps.get(k) ?? null, setProperty: (k: string, v: string) => void userProps.set(k, v) }),
    },
  });
  runInContext(SCRIPT, context);
  const call = (fn: string) => runInContext(`${fn}()`, context) as unknown;
  return { call, fetched, alerts, toasts, menu, userProps };
}

/**
 * "Recheck selected rows" on `tab` (Statuses by default), the server starting a run: the body
 * of the last request sent (undefined when none was), and what the person was shown.
 */
export function recheckSelected(grid: Array<Array<string | Cell>>, selection: Array<[number, number]>, props: Record<string, string> = {}, tab?: string): { payload: unknown; alerts: string[]; toasts: string[] } {
  const gs = appsScript({ grid, selection, props, tab, answer: { code: 202, body: { rows: 1, url: '/runs/x', unknownRows: [] } } });
  gs.call('recheckSelected');
  const sent = gs.fetched.at(-1);
  return { payload: sent ? (JSON.parse(sent.options.payload ?? '{}') as unknown) : undefined, alerts: gs.alerts, toasts: gs.toasts };
}
