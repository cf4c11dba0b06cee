import { generateKeyPairSync } from 'node:crypto';
import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { JWT } from 'google-auth-library';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  parseA1,
  startSheetsEmulator,
  type SheetsEmulator,
  type SheetsEmulatorOptions,
  type TabSeed,
} from '../support/sheets-emulator/index.js';

const EMAIL = 'bot@proj.iam.gserviceaccount.com';
const ID = 'sheet-1';
let pem = '';
let emu: SheetsEmulator | undefined;

beforeAll(() => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
});

afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

function client(url: string, retry = false): sheets_v4.Sheets {
  const auth = new JWT({ email: EMAIL, key: pem, scopes: ['https://www.googleapis.com/auth/spreadsheets'] });
  auth.useJWTAccessWithScope = true;
  return sheets({ version: 'v4', auth, rootUrl: url, retry });
}

async function start(
  tabs: TabSeed[] = [{ title: 'Tab' }],
  opts: SheetsEmulatorOptions = {},
): Promise<{ emu: SheetsEmulator; api: sheets_v4.Sheets }> {
  const e = await startSheetsEmulator(opts);
  emu = e;
  e.addSpreadsheet(ID, tabs);
  return { emu: e, api: client(e.url) };
}

interface ApiFailure {
  status: number | undefined;
  message: string;
  body: { error?: { code?: number; message?: string; status?: string } } | undefined;
  code: string | number | undefined;
}

async function failure(p: Promise<unknown>): Promise<ApiFailure> {
  try {
    await p;
  } catch (err) {
    const e = err as { status?: number; message: string; code?: string | number; response?: { data?: ApiFailure['body'] } };
    return { status: e.status, message: e.message, body: e.response?.data, code: e.code };
  }
  throw new Error('expected the request to fail');
}

describe('sheets emulator: reading', () => {
  it('serves spreadsheet metadata with every tab and its grid size', async () => {
    const { api } = await start([{ title: 'Tab', rows: [['a']] }, { title: 'Small', rowCount: 10, columnCount: 3, sheetId: 77 }]);
    const res = await api.spreadsheets.get({ spreadsheetId: ID, fields: 'spreadsheetId,sheets.properties' });
    expect(res.data.spreadsheetId).toBe(ID);
    expect(res.data.sheets?.map((s) => s.properties)).toEqual([
      { sheetId: 0, title: 'Tab', index: 0, sheetType: 'GRID', gridProperties: { rowCount: 1000, columnCount: 26 } },
      { sheetId: 77, title: 'Small', index: 1, sheetType: 'GRID', gridProperties: { rowCount: 10, columnCount: 3 } },
    ]);
  });

  it('renders strings by default, typed values with UNFORMATTED_VALUE', async () => {
    const { api } = await start([{ title: 'Tab', rows: [['name', 42, true, 1.5]] }]);
    const formatted = await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A1:D1' });
    expect(formatted.data.values).toEqual([['name', '42', 'TRUE', '1.5']]);
    const typed = await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A1:D1', valueRenderOption: 'UNFORMATTED_VALUE' });
    expect(typed.data.values).toEqual([['name', 42, true, 1.5]]);
  });

  it('trims trailing empty cells and rows but keeps inner gaps as empty strings', async () => {
    const { api } = await start([{ title: 'Tab', rows: [['a', null, 'c', null], [], ['x'], [null], []] }]);
    const res = await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab' });
    expect(res.data).toEqual({ range: 'Tab!A1:Z1000', majorDimension: 'ROWS', values: [['a', '', 'c'], [], ['x']] });
    const clipped = await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A1:B3' });
    expect(clipped.data.values).toEqual([['a'], [], ['x']]);
    const empty = await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!D1:F9' });
    expect(empty.data).toEqual({ range: 'Tab!D1:F9', majorDimension: 'ROWS' });
  });

  it('echoes the normalised range, clipped to the grid', async () => {
    const { api } = await start([{ title: 'Tab', rows: [['h1', 'h2']] }, { title: 'Other' }]);
    const cases: Array<[string, string]> = [
      ['Tab', 'Tab!A1:Z1000'],
      ['Tab!A:C', 'Tab!A1:C1000'],
      ['Tab!2:5', 'Tab!A2:Z5'],
      ['Tab!A2:C', 'Tab!A2:C1000'],
      ['Tab!b3', 'Tab!B3'],
      ['Tab!C4:A1', 'Tab!A1:C4'],
      ['Tab!A1:AZ5000', 'Tab!A1:Z1000'],
      ['A1:B2', 'Tab!A1:B2'],
      ['Other!A1', 'Other!A1'],
    ];
    for (const [asked, echoed] of cases) {
      const res = await api.spreadsheets.values.get({ spreadsheetId: ID, range: asked });
      expect(res.data.range, asked).toBe(echoed);
    }
  });

  it('quotes tab names with spaces and apostrophes, and reads Cyrillic tabs', async () => {
    const { api } = await start([
      { title: 'My Tab', rows: [['spaced']] },
      { title: "It's", rows: [['x', 'apostrophe']] },
      { title: 'Статусы', rows: [['Готово']] },
    ]);
    const res = await api.spreadsheets.values.batchGet({ spreadsheetId: ID, ranges: ["'My Tab'!A1:C5", "'It''s'!B1", "'Статусы'!A1"] });
    expect(res.data.valueRanges?.map((v) => [v.range, v.values])).toEqual([
      ["'My Tab'!A1:C5", [['spaced']]],
      ["'It''s'!B1", [['apostrophe']]],
      ["'Статусы'!A1", [['Готово']]],
    ]);
  });

  it('answers 400 "Unable to parse range" for an unknown tab or unparsable A1', async () => {
    const { api } = await start();
    for (const range of ['Nope!A1', 'Tab!A1:B2:C3', "'Tab!A1", 'Tab!A:5']) {
      const f = await failure(api.spreadsheets.values.get({ spreadsheetId: ID, range }));
      expect(f.status).toBe(400);
      expect(f.body?.error).toEqual({ code: 400, message: `Unable to parse range: ${range}`, status: 'INVALID_ARGUMENT' });
    }
  });

  it('rejects a read that starts outside the grid', async () => {
    const { api } = await start([{ title: 'Tab', rowCount: 5, columnCount: 2 }]);
    const f = await failure(api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A6' }));
    expect(f.message).toBe("Range ('Tab'!A6) exceeds grid limits. Max rows: 5, max columns: 2");
  });

  it('returns columns when majorDimension is COLUMNS', async () => {
    const { api } = await start([{ title: 'Tab', rows: [['a', 'b'], ['c']] }]);
    const res = await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A1:B2', majorDimension: 'COLUMNS' });
    expect(res.data.values).toEqual([['a', 'c'], ['b']]);
  });
});

describe('sheets emulator: writing', () => {
  it('stores a USER_ENTERED formula but keeps a RAW one as text', async () => {
    const { emu, api } = await start();
    await api.spreadsheets.values.update({ spreadsheetId: ID, range: 'Tab!A1', valueInputOption: 'USER_ENTERED', requestBody: { values: [['=SUM(1,2)']] } });
    await api.spreadsheets.values.update({ spreadsheetId: ID, range: 'Tab!B1', valueInputOption: 'RAW', requestBody: { values: [['=SUM(1,2)']] } });
    expect(emu.getCell(ID, 'Tab', 1, 1)).toEqual({ value: '#NAME?', formula: '=SUM(1,2)', inputOption: 'USER_ENTERED' });
    expect(emu.getCell(ID, 'Tab', 1, 2)).toEqual({ value: '=SUM(1,2)', inputOption: 'RAW' });
    const shown = await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A1:B1' });
    expect(shown.data.values).toEqual([['#NAME?', '=SUM(1,2)']]);
    const formulas = await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A1:B1', valueRenderOption: 'FORMULA' });
    expect(formulas.data.values).toEqual([['=SUM(1,2)', '=SUM(1,2)']]);
  });

  it('parses numbers and booleans under USER_ENTERED, keeps them as text under RAW', async () => {
    const { emu, api } = await start();
    const values = [['007', 'true', "'=not a formula", '1.50']];
    await api.spreadsheets.values.update({ spreadsheetId: ID, range: 'Tab!A1', valueInputOption: 'USER_ENTERED', requestBody: { values } });
    await api.spreadsheets.values.update({ spreadsheetId: ID, range: 'Tab!A2', valueInputOption: 'RAW', requestBody: { values } });
    const res = await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A1:D2', valueRenderOption: 'UNFORMATTED_VALUE' });
    expect(res.data.values).toEqual([
      [7, true, '=not a formula', 1.5],
      ['007', 'true', "'=not a formula", '1.50'],
    ]);
    expect(emu.values(ID, 'Tab')[0]).toEqual(['7', 'TRUE', '=not a formula', '1.5']);
  });

  it('leaves a cell unchanged for null and clears it for an empty string', async () => {
    const { emu, api } = await start([{ title: 'Tab', rows: [['keep', 'drop', 'old']] }]);
    await api.spreadsheets.values.update({ spreadsheetId: ID, range: 'Tab!A1', valueInputOption: 'RAW', requestBody: { values: [[null, '', 'new']] } });
    expect(emu.values(ID, 'Tab')).toEqual([['keep', '', 'new']]);
    expect(emu.getCell(ID, 'Tab', 1, 2)).toBeUndefined();
  });

  it('rejects a write past the last column until the grid grows', async () => {
    const { emu, api } = await start();
    const write = (): Promise<unknown> =>
      api.spreadsheets.values.update({ spreadsheetId: ID, range: 'Tab!AA1', valueInputOption: 'RAW', requestBody: { values: [['late']] } });
    const f = await failure(write());
    expect(f.status).toBe(400);
    expect(f.body?.error).toEqual({
      code: 400,
      status: 'INVALID_ARGUMENT',
      message: "Range ('Tab'!AA1) exceeds grid limits. Max rows: 1000, max columns: 26",
    });
    const grown = await api.spreadsheets.batchUpdate({
      spreadsheetId: ID,
      requestBody: { requests: [{ appendDimension: { sheetId: 0, dimension: 'COLUMNS', length: 1 } }] },
    });
    expect(grown.data).toEqual({ spreadsheetId: ID, replies: [{}] });
    expect(emu.gridSize(ID, 'Tab')).toEqual({ rowCount: 1000, columnCount: 27 });
    await write();
    expect(emu.getCell(ID, 'Tab', 1, 27)?.value).toBe('late');
  });

  it('refuses data that does not fit an explicit range', async () => {
    const { api } = await start();
    const f = await failure(
      api.spreadsheets.values.update({ spreadsheetId: ID, range: 'Tab!A1:B1', valueInputOption: 'RAW', requestBody: { values: [['a', 'b', 'c']] } }),
    );
    expect(f.message).toBe('Requested writing within range [Tab!A1:B1], but tried writing to column [C]');
  });

  it('reports the updated range and counts of values.update', async () => {
    const { api } = await start([{ title: 'My Tab' }]);
    const res = await api.spreadsheets.values.update({
      spreadsheetId: ID,
      range: "'My Tab'!B2",
      valueInputOption: 'RAW',
      includeValuesInResponse: true,
      requestBody: { values: [['a', null], [null, 'd']] },
    });
    expect(res.data).toEqual({
      spreadsheetId: ID,
      updatedRange: "'My Tab'!B2:C3",
      updatedRows: 2,
      updatedColumns: 2,
      updatedCells: 2,
      updatedData: { range: "'My Tab'!B2:C3", majorDimension: 'ROWS', values: [['a'], ['', 'd']] },
    });
  });

  it('writes columns when majorDimension is COLUMNS', async () => {
    const { emu, api } = await start();
    await api.spreadsheets.values.update({
      spreadsheetId: ID,
      range: 'Tab!A1',
      valueInputOption: 'RAW',
      requestBody: { majorDimension: 'COLUMNS', values: [['a', 'b'], ['c']] },
    });
    expect(emu.values(ID, 'Tab')).toEqual([['a', 'c'], ['b']]);
  });

  it('values.batchUpdate writes every range and totals the counts', async () => {
    const { emu, api } = await start([{ title: 'Tab' }, { title: 'Log' }]);
    const res = await api.spreadsheets.values.batchUpdate({
      spreadsheetId: ID,
      requestBody: {
        valueInputOption: 'RAW',
        data: [
          { range: 'Tab!C2', values: [['ok']] },
          { range: 'Tab!C3:D3', values: [['ok', 'note']] },
          { range: 'Log!A1', values: [['entry']] },
        ],
      },
    });
    expect(res.data).toEqual({
      spreadsheetId: ID,
      totalUpdatedRows: 3,
      totalUpdatedColumns: 4,
      totalUpdatedCells: 4,
      totalUpdatedSheets: 2,
      responses: [
        { spreadsheetId: ID, updatedRange: 'Tab!C2', updatedRows: 1, updatedColumns: 1, updatedCells: 1 },
        { spreadsheetId: ID, updatedRange: 'Tab!C3:D3', updatedRows: 1, updatedColumns: 2, updatedCells: 2 },
        { spreadsheetId: ID, updatedRange: 'Log!A1', updatedRows: 1, updatedColumns: 1, updatedCells: 1 },
      ],
    });
    expect(emu.values(ID, 'Tab')).toEqual([[], ['', '', 'ok'], ['', '', 'ok', 'note']]);
  });

  it('values.batchUpdate writes nothing when one range is out of the grid', async () => {
    const { emu, api } = await start([{ title: 'Tab', rowCount: 3, rows: [['header']] }]);
    const f = await failure(
      api.spreadsheets.values.batchUpdate({
        spreadsheetId: ID,
        requestBody: { valueInputOption: 'RAW', data: [{ range: 'Tab!A2', values: [['first']] }, { range: 'Tab!A4', values: [['too far']] }] },
      }),
    );
    expect(f.message).toBe("Range ('Tab'!A4) exceeds grid limits. Max rows: 3, max columns: 26");
    expect(emu.values(ID, 'Tab')).toEqual([['header']]);
  });

  it('values.batchUpdate requires a valid valueInputOption', async () => {
    const { api } = await start();
    const missing = await failure(api.spreadsheets.values.batchUpdate({ spreadsheetId: ID, requestBody: { data: [{ range: 'Tab!A1', values: [['x']] }] } }));
    expect(missing.status).toBe(400);
    expect(missing.message).toContain('valueInputOption');
    const invalid = await failure(
      api.spreadsheets.values.batchUpdate({ spreadsheetId: ID, requestBody: { valueInputOption: 'SHOUT', data: [{ range: 'Tab!A1', values: [['x']] }] } }),
    );
    expect(invalid.body?.error?.status).toBe('INVALID_ARGUMENT');
  });

  it('appends after the last non-empty row; INSERT_ROWS grows a full grid', async () => {
    const { emu, api } = await start([{ title: 'Tab', rowCount: 3, rows: [['h1', 'h2'], ['a', 'b'], [null, 'c']] }]);
    const res = await api.spreadsheets.values.append({
      spreadsheetId: ID,
      range: 'Tab!A1',
      valueInputOption: 'RAW',
      insertDataOption: 'INSERT_ROWS',
      requestBody: { values: [['d', 'e'], ['f']] },
    });
    expect(res.data).toEqual({
      spreadsheetId: ID,
      tableRange: 'Tab!A1:B3',
      updates: { spreadsheetId: ID, updatedRange: 'Tab!A4:B5', updatedRows: 2, updatedColumns: 2, updatedCells: 3 },
    });
    expect(emu.gridSize(ID, 'Tab').rowCount).toBe(5);
    expect(emu.values(ID, 'Tab')).toEqual([['h1', 'h2'], ['a', 'b'], ['', 'c'], ['d', 'e'], ['f']]);
  });

  it('appends to the table found in the range: INSERT_ROWS moves what is below down, OVERWRITE writes over it; two appends take two rows', async () => {
    // Column A's table ends at row 2; column B holds a note on row 3, outside the range A:A.
    const rows = [['h1', 'h2'], ['a', ''], ['', 'note']];
    const { emu: e, api } = await start([{ title: 'Tab', rows }]);
    e.addSpreadsheet('over', [{ title: 'Tab', rows }]);
    e.addSpreadsheet('both', [{ title: 'Tab', rows: [['h1'], ['a']] }]);
    await api.spreadsheets.values.append({ spreadsheetId: ID, range: 'Tab!A:A', valueInputOption: 'RAW', insertDataOption: 'INSERT_ROWS', requestBody: { values: [['x']] } });
    expect(e.values(ID, 'Tab')).toEqual([['h1', 'h2'], ['a'], ['x'], ['', 'note']]);
    await api.spreadsheets.values.append({ spreadsheetId: 'over', range: 'Tab!A:A', valueInputOption: 'RAW', insertDataOption: 'OVERWRITE', requestBody: { values: [['x']] } });
    expect(e.values('over', 'Tab')).toEqual([['h1', 'h2'], ['a'], ['x', 'note']]);
    // The whole tab: the table ends at its last row with data, and each append finds the end anew.
    await Promise.all(['p', 'q'].map((v) => api.spreadsheets.values.append({ spreadsheetId: 'both', range: 'Tab', valueInputOption: 'RAW', insertDataOption: 'INSERT_ROWS', requestBody: { values: [[v]] } })));
    expect(e.values('both', 'Tab').map((r) => r[0]).sort()).toEqual(['a', 'h1', 'p', 'q']);
  });

  it('batchClear empties the listed ranges and a values.clear empties one', async () => {
    const { emu, api } = await start([{ title: 'Tab', rows: [['a', 'b'], ['c', 'd'], ['e', 'f']] }]);
    const res = await api.spreadsheets.values.batchClear({ spreadsheetId: ID, requestBody: { ranges: ['Tab!B1:B2', 'Tab!A3'] } });
    expect(res.data).toEqual({ spreadsheetId: ID, clearedRanges: ['Tab!B1:B2', 'Tab!A3'] });
    expect(emu.values(ID, 'Tab')).toEqual([['a'], ['c'], ['', 'f']]);
    await api.spreadsheets.values.clear({ spreadsheetId: ID, range: 'Tab' });
    expect(emu.values(ID, 'Tab')).toEqual([]);
  });
});

describe('sheets emulator: structural batchUpdate', () => {
  it('inserts and deletes rows, shifting the data', async () => {
    const { emu, api } = await start([{ title: 'Tab', rows: [['1'], ['2'], ['3']] }]);
    await api.spreadsheets.batchUpdate({
      spreadsheetId: ID,
      requestBody: {
        requests: [
          { insertDimension: { range: { sheetId: 0, dimension: 'ROWS', startIndex: 1, endIndex: 3 } } },
          { deleteDimension: { range: { sheetId: 0, dimension: 'ROWS', startIndex: 0, endIndex: 1 } } },
        ],
      },
    });
    expect(emu.values(ID, 'Tab')).toEqual([[], [], ['2'], ['3']]);
    expect(emu.gridSize(ID, 'Tab').rowCount).toBe(1001);
  });

  it('adds a sheet and resizes it with updateSheetProperties', async () => {
    const { emu, api } = await start();
    const added = await api.spreadsheets.batchUpdate({
      spreadsheetId: ID,
      requestBody: { requests: [{ addSheet: { properties: { title: 'Log', gridProperties: { rowCount: 5, columnCount: 4 } } } }] },
    });
    const props = added.data.replies?.[0]?.addSheet?.properties;
    expect(props).toMatchObject({ title: 'Log', index: 1, sheetType: 'GRID', gridProperties: { rowCount: 5, columnCount: 4 } });
    await api.spreadsheets.batchUpdate({
      spreadsheetId: ID,
      requestBody: {
        requests: [{ updateSheetProperties: { properties: { sheetId: props?.sheetId ?? -1, gridProperties: { rowCount: 50, columnCount: 2 } }, fields: 'gridProperties.rowCount' } }],
      },
    });
    expect(emu.gridSize(ID, 'Log')).toEqual({ rowCount: 50, columnCount: 4 });
  });

  it('rejects unknown request kinds and rolls back the whole batch on any failure', async () => {
    const { emu, api } = await start();
    const unknown = await failure(api.spreadsheets.batchUpdate({ spreadsheetId: ID, requestBody: { requests: [{ mergeCells: {} }] } }));
    expect(unknown.status).toBe(400);
    expect(unknown.message).toContain('mergeCells');
    const f = await failure(
      api.spreadsheets.batchUpdate({
        spreadsheetId: ID,
        requestBody: {
          requests: [
            { appendDimension: { sheetId: 0, dimension: 'ROWS', length: 10 } },
            { addSheet: { properties: { title: 'Tab' } } },
          ],
        },
      }),
    );
    expect(f.message).toContain('already exists');
    expect(emu.gridSize(ID, 'Tab').rowCount).toBe(1000);
  });
});

describe('sheets emulator: errors, auth and quotas', () => {
  it('answers 404 NOT_FOUND for an unknown spreadsheet', async () => {
    const { api } = await start();
    const f = await failure(api.spreadsheets.get({ spreadsheetId: 'missing' }));
    expect(f.status).toBe(404);
    expect(f.body?.error).toEqual({ code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' });
  });

  it('answers 403 PERMISSION_DENIED for a forbidden spreadsheet', async () => {
    const { emu, api } = await start();
    emu.setForbidden(ID, true);
    const f = await failure(api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A1' }));
    expect(f.status).toBe(403);
    expect(f.body?.error).toEqual({ code: 403, message: 'The caller does not have permission', status: 'PERMISSION_DENIED' });
    emu.setForbidden(ID, false);
    await expect(api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A1' })).resolves.toBeDefined();
  });

  it('answers 401 UNAUTHENTICATED without a bearer token and records the JWT caller otherwise', async () => {
    const { emu, api } = await start();
    const res = await fetch(`${emu.url}v4/spreadsheets/${ID}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { status: string } }).error.status).toBe('UNAUTHENTICATED');
    expect(emu.lastCaller).toBeUndefined();
    await api.spreadsheets.get({ spreadsheetId: ID });
    expect(emu.lastCaller).toBe(EMAIL);
    expect(emu.calls.at(-1)?.caller).toBe(EMAIL);
  });

  it('answers 429 RESOURCE_EXHAUSTED past the write quota until the window slides', async () => {
    let now = 1_000_000;
    const { emu, api } = await start([{ title: 'Tab' }], { writeQuotaPerMinute: 2, now: () => now });
    const write = (v: string): Promise<unknown> =>
      api.spreadsheets.values.batchUpdate({ spreadsheetId: ID, requestBody: { valueInputOption: 'RAW', data: [{ range: 'Tab!A1', values: [[v]] }] } });
    await write('1');
    now += 30_000;
    await write('2');
    const f = await failure(write('3'));
    expect(f.status).toBe(429);
    expect(f.body?.error?.status).toBe('RESOURCE_EXHAUSTED');
    expect(f.message).toMatch(
      /^Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets\.googleapis\.com'/,
    );
    // Reads have their own (unlimited) quota.
    await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A1' });
    now += 30_001; // the first write leaves the window
    await write('4');
    expect(emu.values(ID, 'Tab')).toEqual([['4']]);
    expect(emu.calls.map((c) => c.status)).toEqual([200, 200, 429, 200, 200]);
  });

  it('answers 429 with the Read metric past the read quota', async () => {
    const { api } = await start([{ title: 'Tab' }], { readQuotaPerMinute: 1, now: () => 0 });
    await api.spreadsheets.get({ spreadsheetId: ID });
    const f = await failure(api.spreadsheets.values.batchGet({ spreadsheetId: ID, ranges: ['Tab!A1'] }));
    expect(f.status).toBe(429);
    expect(f.message).toContain("quota metric 'Read requests' and limit 'Read requests per minute per user'");
  });
});

describe('sheets emulator: test hooks', () => {
  it('a hook can insert rows before a request is served', async () => {
    const { emu, api } = await start([{ title: 'Tab', rows: [['header'], ['row 2']] }]);
    let fired = 0;
    const off = emu.onRequest((call) => {
      if (call.op !== 'values.get') return;
      fired += 1;
      emu.insertRows(ID, 'Tab', 2, [['inserted by a person']]);
    });
    const first = await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A:A' });
    expect(first.data.values).toEqual([['header'], ['inserted by a person'], ['row 2']]);
    off();
    await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A:A' });
    expect(fired).toBe(1);
    expect(emu.gridSize(ID, 'Tab').rowCount).toBe(1001);
  });

  it('an async hook can sort and delete rows between two requests', async () => {
    const { emu, api } = await start([{ title: 'Tab', rows: [['name'], ['c'], ['a'], ['b']] }]);
    emu.onRequest(async (call) => {
      if (call.kind !== 'write') return;
      await new Promise((r) => setTimeout(r, 5));
      emu.sortRows(ID, 'Tab', 2, (x, y) => String(x[0]).localeCompare(String(y[0])));
      emu.deleteRows(ID, 'Tab', 2, 1);
    });
    await api.spreadsheets.values.update({ spreadsheetId: ID, range: 'Tab!B2', valueInputOption: 'RAW', requestBody: { values: [['mark']] } });
    expect(emu.values(ID, 'Tab')).toEqual([['name'], ['b', 'mark'], ['c']]);
  });

  it('injected faults answer the next matching requests, then stop', async () => {
    const { emu, api } = await start();
    emu.injectFault({ status: 503, headers: { 'retry-after': '1' } }, { kind: 'write', times: 2 });
    const write = (): Promise<unknown> =>
      api.spreadsheets.values.update({ spreadsheetId: ID, range: 'Tab!A1', valueInputOption: 'RAW', requestBody: { values: [['x']] } });
    await api.spreadsheets.get({ spreadsheetId: ID }); // reads are not matched
    const f = await failure(write());
    expect(f.status).toBe(503);
    expect(f.body?.error).toEqual({ code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' });
    await failure(write());
    await write();
    expect(emu.pendingFaults()).toBe(0);
    expect(emu.calls.map((c) => `${c.op}:${c.status}`)).toEqual(['get:200', 'values.update:503', 'values.update:503', 'values.update:200']);
  });

  it('a fault can be matched on the request and can drop the connection', async () => {
    const { emu, api } = await start([{ title: 'Tab' }, { title: 'Other' }]);
    emu.injectFault({ status: 0, destroySocket: true }, { match: (c) => c.range?.startsWith('Other') === true });
    await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A1' });
    const f = await failure(api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Other!A1' }));
    expect(f.status).toBeUndefined();
    expect(f.code).toBe('ECONNRESET');
  });

  it('the client retries a 503 on GET by itself unless retry is off', async () => {
    const { emu } = await start();
    emu.injectFault({ status: 503 }, { kind: 'read' });
    const retrying = client(emu.url, true);
    const res = await retrying.spreadsheets.get({ spreadsheetId: ID });
    expect(res.status).toBe(200);
    expect(emu.calls.map((c) => c.status)).toEqual([503, 200]);
  });

  it('records every call with its kind, op, range(s), input option and status', async () => {
    const { emu, api } = await start();
    await api.spreadsheets.values.get({ spreadsheetId: ID, range: "'Tab'!A1:B2" });
    await api.spreadsheets.values.batchGet({ spreadsheetId: ID, ranges: ['Tab!A1', 'Tab!B1'] });
    await api.spreadsheets.values.append({ spreadsheetId: ID, range: 'Tab!A1', valueInputOption: 'USER_ENTERED', requestBody: { values: [['x']] } });
    await api.spreadsheets.values.batchUpdate({ spreadsheetId: ID, requestBody: { valueInputOption: 'RAW', data: [{ range: 'Tab!C1', values: [['y']] }] } });
    expect(emu.calls.map(({ kind, op, range, ranges, valueInputOption, status }) => ({ kind, op, range, ranges, valueInputOption, status }))).toEqual([
      { kind: 'read', op: 'values.get', range: "'Tab'!A1:B2", ranges: undefined, valueInputOption: undefined, status: 200 },
      { kind: 'read', op: 'values.batchGet', range: undefined, ranges: ['Tab!A1', 'Tab!B1'], valueInputOption: undefined, status: 200 },
      { kind: 'write', op: 'values.append', range: 'Tab!A1', ranges: undefined, valueInputOption: 'USER_ENTERED', status: 200 },
      { kind: 'write', op: 'values.batchUpdate', range: undefined, ranges: ['Tab!C1'], valueInputOption: 'RAW', status: 200 },
    ]);
    expect(emu.calls[3]?.body).toMatchObject({ data: [{ range: 'Tab!C1', values: [['y']] }] });
    expect([emu.readCount(), emu.writeCount()]).toEqual([2, 2]);
    emu.resetCalls();
    expect([emu.calls.length, emu.readCount(), emu.writeCount()]).toEqual([0, 0, 0]);
  });

  it('delays every request by latencyMs', async () => {
    const { api } = await start([{ title: 'Tab' }], { latencyMs: 60 });
    const t0 = performance.now();
    await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A1' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
  });

  it('setCell and setFormula change what the API reads', async () => {
    const { emu, api } = await start();
    emu.setCell(ID, 'Tab', 2, 2, 5);
    emu.setFormula(ID, 'Tab', 2, 3, '=B2*2');
    const res = await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!B2:C2', valueRenderOption: 'FORMULA' });
    expect(res.data.values).toEqual([[5, '=B2*2']]);
    expect(() => emu.setCell(ID, 'Tab', 1001, 1, 'x')).toThrow(/outside/);
  });

  it('close() ends open keep-alive connections', async () => {
    const { emu: e, api } = await start();
    await api.spreadsheets.get({ spreadsheetId: ID });
    await e.close();
    emu = undefined;
    const f = await failure(api.spreadsheets.get({ spreadsheetId: ID }));
    expect(f.status).toBeUndefined();
  });

  it('serves a 50k-row sheet in one read and appends to it without copying it', async () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => [`id-${i}`, i, i % 2 === 0, `status ${i}`]);
    const { emu, api } = await start([{ title: 'Big', rows }], { recordBodies: false });
    const read = await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Big!A2:D' });
    expect(read.data.values).toHaveLength(49_999);
    expect(read.data.values?.[49_998]).toEqual(['id-49999', '49999', 'FALSE', 'status 49999']);
    const res = await api.spreadsheets.values.append({ spreadsheetId: ID, range: 'Big', valueInputOption: 'RAW', requestBody: { values: [['new']] } });
    expect(res.data.updates?.updatedRange).toBe('Big!A50001');
    expect(emu.gridSize(ID, 'Big').rowCount).toBe(50_001);
  });
});

describe('sheets emulator: A1 parser', () => {
  it('parses quoted, open-ended and whole-row ranges', () => {
    expect(parseA1("'It''s'!B2")).toEqual({ sheet: "It's", cells: { startRow: 1, startCol: 1, endRow: 1, endCol: 1, single: true } });
    expect(parseA1('Tab!A2:C')).toEqual({ sheet: 'Tab', cells: { startRow: 1, startCol: 0, endRow: undefined, endCol: 2, single: false } });
    expect(parseA1('Tab!2:5')).toEqual({ sheet: 'Tab', cells: { startRow: 1, startCol: 0, endRow: 4, endCol: undefined, single: false } });
    expect(parseA1('Статусы')).toEqual({ sheet: 'Статусы', cells: undefined });
    expect(parseA1('Tab!A0')).toBeNull();
  });
});
