/**
 * docs/apps-script.gs, run in a Node vm context with stand-ins for the Apps Script
 * services it calls: the request it sends (URL, the ID token header, the selected ids)
 * and what it shows of the answer.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createContext, runInContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeHeader } from '../../src/sheets/index.js';
import { BOOK, ID_TOKEN, SCRIPT, appsScript } from '../support/apps-script.js';
import { REPO_ROOT } from '../support/inspect.js';

const GRID = [
  ['Project', 'Status', 'Comment'],
  ['P-0001', 'Done', 'a'],
  ['P-0002', 'Done', 'b'],
  ['', 'Done', 'no id'],
  ['P-0004', 'Done', 'd'],
];
const STARTED = { code: 202, body: { id: 'r1', url: '/runs/0b3c2b1e-0000-4000-8000-000000000001', rows: 2, unknownRows: [] } };

describe('docs/apps-script.gs', () => {
  it('adds the three menu items', () => {
    const gs = appsScript({ grid: GRID, selection: [], answer: STARTED });
    gs.call('onOpen');
    expect(gs.menu).toEqual(['Validate now', 'Recheck selected rows', 'Last run']);
  });

  it('sends the ids of the selected rows (header and blank ids left out) with the ID token, and says the run started', () => {
    const gs = appsScript({ grid: GRID, selection: [[1, 3], [4, 5]], answer: STARTED });
    gs.call('recheckSelected');
    expect(gs.fetched).toHaveLength(1);
    const [sent] = gs.fetched;
    expect(sent?.url).toBe('https://validator.example.com/runs');
    expect(sent?.options.method).toBe('post');
    expect(sent?.options.headers.Authorization).toBe(`Bearer ${ID_TOKEN}`);
    expect(sent?.options.contentType).toBe('application/json');
    expect(JSON.parse(sent?.options.payload ?? '')).toEqual({ rows: ['P-0001', 'P-0002', 'P-0004'], spreadsheet_id: BOOK, sheet: 'Statuses' });
    expect(sent?.options.muteHttpExceptions).toBe(true);
    expect(gs.toasts[0]).toContain('started for 2 rows');
    // The selected row without an id is named, not dropped in silence.
    expect(gs.toasts[0]).toContain('Left out: row 4 of the selection has no id in the "Project" column');
    // The run's view is asked for this tab's part of it (a person sees only the tab they name).
    expect(gs.userProps.get('LAST_RUN_URL')).toBe(`${STARTED.body.url}?spreadsheet_id=${BOOK}&sheet=Statuses`);
  });

  it('finds the id column by the ID_HEADER property', () => {
    const grid = [['Status', 'Key'], ['Done', 'K-1'], ['Done', 'K-2']];
    const gs = appsScript({ grid, selection: [[3, 3]], answer: STARTED, props: { ID_HEADER: 'key' } });
    gs.call('recheckSelected');
    expect(JSON.parse(gs.fetched[0]?.options.payload ?? '')).toEqual({ rows: ['K-2'], spreadsheet_id: BOOK, sheet: 'Statuses' });
  });

  it('names the spreadsheet and the tab it is used on, so that a server of several targets runs this one', () => {
    const gs = appsScript({ grid: GRID, selection: [], answer: STARTED, tab: 'Статусы' });
    gs.call('validateNow');
    expect(JSON.parse(gs.fetched[0]?.options.payload ?? '')).toEqual({ spreadsheet_id: BOOK, sheet: 'Статусы' });
  });

  it('takes several id headers in ID_HEADER, for tabs whose id columns differ', () => {
    const grid = [['Проект', 'Статус'], ['RU-1', 'Готово'], ['RU-2', 'Готово']];
    const gs = appsScript({ grid, selection: [[2, 3]], answer: STARTED, props: { ID_HEADER: 'Project, Проект' }, tab: 'Статусы' });
    gs.call('recheckSelected');
    expect(JSON.parse(gs.fetched[0]?.options.payload ?? '')).toEqual({ rows: ['RU-1', 'RU-2'], spreadsheet_id: BOOK, sheet: 'Статусы' });
    const none = appsScript({ grid, selection: [[2, 2]], answer: STARTED, props: { ID_HEADER: 'Key, Id' }, tab: 'Статусы' });
    none.call('recheckSelected');
    expect(none.fetched).toHaveLength(0);
    expect(none.alerts[0]).toBe('No column "Key" or "Id" in the first 20 rows of "Статусы": set ID_HEADER (the config\'s columns.id) in the script properties, and HEADER_ROW (sheets.header_row) if the headers are further down.');
  });

  it('reads the headers from HEADER_ROW (the config\'s sheets.header_row) and leaves the rows above out', () => {
    const grid = [['Status report, Q1'], ['Owner: PMO'], ['Project', 'Status'], ['P-0001', 'Done'], ['P-0002', 'Done']];
    const gs = appsScript({ grid, selection: [[1, 5]], answer: STARTED, props: { HEADER_ROW: '3' } });
    gs.call('recheckSelected');
    expect(JSON.parse(gs.fetched[0]?.options.payload ?? '')).toEqual({ rows: ['P-0001', 'P-0002'], spreadsheet_id: BOOK, sheet: 'Statuses' });
    // Unset, the header row is the first row holding the id header (targets set header_row per tab).
    const unset = appsScript({ grid, selection: [[1, 5]], answer: STARTED });
    unset.call('recheckSelected');
    expect(unset.alerts).toEqual([]);
    expect(JSON.parse(unset.fetched[0]?.options.payload ?? '')).toEqual({ rows: ['P-0001', 'P-0002'], spreadsheet_id: BOOK, sheet: 'Statuses' });
    // Set to a row without the id header (the title row): it says which property to set.
    const wrong = appsScript({ grid, selection: [[4, 5]], answer: STARTED, props: { HEADER_ROW: '1' } });
    wrong.call('recheckSelected');
    expect(wrong.fetched).toHaveLength(0);
    expect(wrong.alerts[0]).toBe('No column "Project" in row 1 of "Statuses": set ID_HEADER (the config\'s columns.id) in the script properties, and HEADER_ROW (sheets.header_row) if the headers are further down.');
    const bad = appsScript({ grid, selection: [[4, 5]], answer: STARTED, props: { HEADER_ROW: 'three' } });
    bad.call('recheckSelected');
    expect(bad.fetched).toHaveLength(0);
    expect(bad.alerts[0]).toContain('HEADER_ROW must be the row number of the headers');
  });

  it('shows the server\'s refusal of a tab it does not check', () => {
    const error = 'the tab "Notes" is not checked by this server; in this spreadsheet it checks "Statuses" (target programme-a): open one of those tabs and try again';
    const gs = appsScript({ grid: GRID, selection: [], answer: { code: 404, body: { error } }, tab: 'Notes' });
    gs.call('validateNow');
    expect(gs.alerts).toEqual([`The validator refused (404): ${error}`]);
  });

  it('names the ids the server did not know', () => {
    const gs = appsScript({ grid: GRID, selection: [[2, 2]], answer: { code: 202, body: { ...STARTED.body, rows: 1, unknownRows: ['P-0009'] } } });
    gs.call('recheckSelected');
    expect(gs.toasts[0]).toContain('Not in the sheet: P-0009');
  });

  it('shows the server\'s refusal with its status and message', () => {
    const gs = appsScript({ grid: GRID, selection: [[2, 2]], answer: { code: 422, body: { error: 'this run would recheck 300 rows; at most 200 (serve.max_rows)' } } });
    gs.call('validateNow');
    expect(JSON.parse(gs.fetched[0]?.options.payload ?? '')).toEqual({ spreadsheet_id: BOOK, sheet: 'Statuses' });
    expect(gs.alerts).toEqual(['The validator refused (422): this run would recheck 300 rows; at most 200 (serve.max_rows)']);
  });

  it('says a run is already going on a 409, and sends nothing when nothing is selected', () => {
    const busy = appsScript({ grid: GRID, selection: [[2, 2]], answer: { code: 409, body: { error: 'a run is already in progress' } } });
    busy.call('validateNow');
    expect(busy.toasts[0]).toContain('already running');
    const header = appsScript({ grid: GRID, selection: [[1, 1]], answer: STARTED });
    header.call('recheckSelected');
    expect(header.fetched).toHaveLength(0);
    expect(header.alerts[0]).toContain('Select the rows');
  });

  it('refuses a selection over MAX_ROWS (serve.max_rows) before sending, saying to select fewer rows', () => {
    const grid = [['Project', 'Status'], ...Array.from({ length: 250 }, (_, i) => [`P-${i + 1}`, 'Done'])];
    const gs = appsScript({ grid, selection: [[2, 251]], answer: STARTED });
    gs.call('recheckSelected');
    expect(gs.fetched).toHaveLength(0);
    expect(gs.alerts).toEqual(['You selected 250 rows; the validator rechecks at most 200 at a time (serve.max_rows): select fewer rows and recheck them in parts.']);
    const raised = appsScript({ grid, selection: [[2, 251]], answer: STARTED, props: { MAX_ROWS: '300' } });
    raised.call('recheckSelected');
    expect(JSON.parse(raised.fetched[0]?.options.payload ?? '{}')).toMatchObject({ rows: grid.slice(1).map((r) => r[0]) });
  });

  it('says what to fix without an ID token (missing scope) and without VALIDATOR_URL', () => {
    const noToken = appsScript({ grid: GRID, selection: [[2, 2]], answer: STARTED, token: null });
    noToken.call('validateNow');
    expect(noToken.fetched).toHaveLength(0);
    expect(noToken.alerts[0]).toContain('openid');
    const noUrl = appsScript({ grid: GRID, selection: [[2, 2]], answer: STARTED, props: { VALIDATOR_URL: '' } });
    noUrl.call('validateNow');
    expect(noUrl.alerts[0]).toContain('VALIDATOR_URL');
  });

  it('shows the last run\'s summary', () => {
    const summary = { status: 'finished', summary: { verdicts: { valid: 2, invalid: 1, error: 0 }, rows: { upToDate: 5 } } };
    const gs = appsScript({ grid: GRID, selection: [[2, 2]], answer: { code: 200, body: summary } });
    gs.userProps.set('LAST_RUN_URL', '/runs/abc');
    gs.call('lastRun');
    expect(gs.fetched[0]?.url).toBe('https://validator.example.com/runs/abc');
    expect(gs.fetched[0]?.options.headers.Authorization).toBe(`Bearer ${ID_TOKEN}`);
    expect(gs.alerts[0]).toBe('Last run: 2 valid, 1 invalid, 0 errors; 5 rows unchanged.');
  });

  it('says a run finished when the server shows no summary (a view naming no tab shows a person none)', () => {
    const gs = appsScript({ grid: GRID, selection: [[2, 2]], answer: { code: 200, body: { status: 'finished', summary: null, summaries: [] } } });
    gs.userProps.set('LAST_RUN_URL', '/runs/abc');
    gs.call('lastRun');
    expect(gs.alerts[0]).toBe('Last run: finished.');
  });

  it("tells the run's answers apart from what the sheet shows (issue 19: a second run is not '0 valid')", () => {
    const sheetShows = { rows: 9, valid: 6, invalid: 1, needsReview: 1, error: 0, reviewerValid: 1, reviewerInvalid: 0, unchecked: 0, incomplete: 0, other: 0 };
    const summary = { status: 'finished', summary: { verdicts: { valid: 0, invalid: 0, error: 0 }, rows: { upToDate: 9 }, sheetShows } };
    const gs = appsScript({ grid: GRID, selection: [[2, 2]], answer: { code: 200, body: summary } });
    gs.userProps.set('LAST_RUN_URL', '/runs/abc');
    gs.call('lastRun');
    expect(gs.alerts[0]).toBe('Last run: 0 valid, 0 invalid, 0 errors; 9 rows unchanged. The sheet shows 6 VALID, 1 INVALID, 1 NEEDS REVIEW, 0 ERROR, 1 by a reviewer (9 rows).');
  });
});

describe('docs/apps-script.gs, its header rule', () => {
  it('folds any header text exactly as the bot does (src/sheets normalizeHeader), so the two never disagree on a column', () => {
    const context = createContext({});
    runInContext(SCRIPT, context);
    const fold = (text: string) => runInContext(`foldHeader_(${JSON.stringify(text)})`, context) as string;
    // Spaces, tabs, line breaks (a wrapped cell), non-breaking and other Unicode spaces, letters of any script, combining marks.
    const piece = fc.constantFrom(' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u2003', 'Project', 'ID', 'Проект', 'İ', 'e\u0301', 'é', 'ß', 'Σ');
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.array(piece, { maxLength: 8 }).map((parts) => parts.join(''))), (text) => {
        expect(fold(text)).toBe(normalizeHeader(text));
      }),
      { numRuns: 500 },
    );
  });
});

describe('docs/appsscript.json', () => {
  it('grants the scopes the script needs: openid and email for the ID token, external requests, the spreadsheet', () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'docs/appsscript.json'), 'utf8')) as { oauthScopes: string[] };
    expect(manifest.oauthScopes).toEqual(
      expect.arrayContaining(['openid', 'https://www.googleapis.com/auth/userinfo.email', 'https://www.googleapis.com/auth/script.external_request', 'https://www.googleapis.com/auth/spreadsheets.currentonly']),
    );
  });
});
