/**
 * Issue 10, item 7: people insert, delete and move columns as well as rows, and Google
 * refuses a request body past its front end's limit. The emulator does both, through the
 * API and through test hooks that run between two requests or during a backoff.
 */
import { generateKeyPairSync } from 'node:crypto';
import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { JWT } from 'google-auth-library';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PAYLOAD_LIMIT_BYTES, startSheetsEmulator, type SheetsEmulator, type TabSeed } from '../support/sheets-emulator/index.js';

const ID = 'sheet-cols';
let pem = '';
let emu: SheetsEmulator | undefined;

beforeAll(() => {
  pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
});
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function start(tabs: TabSeed[]): Promise<{ emu: SheetsEmulator; api: sheets_v4.Sheets }> {
  const e = await startSheetsEmulator();
  emu = e;
  e.addSpreadsheet(ID, tabs);
  const auth = new JWT({ email: 'bot@p.iam.gserviceaccount.com', key: pem, scopes: ['https://www.googleapis.com/auth/spreadsheets'] });
  auth.useJWTAccessWithScope = true;
  return { emu: e, api: sheets({ version: 'v4', auth, rootUrl: e.url, retry: false }) };
}

const GRID = [
  ['a', 'b', 'c', 'd'],
  ['1', '2', '3', '4'],
];

async function statusOf(p: Promise<unknown>): Promise<{ status: number | undefined; message: string }> {
  try {
    await p;
  } catch (error) {
    const e = error as { status?: number; response?: { data?: { error?: { message?: string } } } };
    return { status: e.status, message: e.response?.data?.error?.message ?? '' };
  }
  throw new Error('expected the request to fail');
}

describe('sheets emulator: columns', () => {
  it('inserts and deletes columns through batchUpdate, shifting every row', async () => {
    const { emu, api } = await start([{ title: 'Tab', rows: GRID, columnCount: 6 }]);
    await api.spreadsheets.batchUpdate({
      spreadsheetId: ID,
      requestBody: {
        requests: [
          { insertDimension: { range: { sheetId: 0, dimension: 'COLUMNS', startIndex: 1, endIndex: 2 } } },
          { deleteDimension: { range: { sheetId: 0, dimension: 'COLUMNS', startIndex: 3, endIndex: 4 } } },
        ],
      },
    });
    expect(emu.values(ID, 'Tab')).toEqual([
      ['a', '', 'b', 'd'],
      ['1', '', '2', '4'],
    ]);
    expect(emu.gridSize(ID, 'Tab').columnCount).toBe(6);
  });

  it('moves columns with moveDimension, the destination counted before the source is removed', async () => {
    const { emu, api } = await start([{ title: 'Tab', rows: GRID, columnCount: 6 }]);
    // Columns A:B to before E (index 4): they end up after D.
    await api.spreadsheets.batchUpdate({
      spreadsheetId: ID,
      requestBody: { requests: [{ moveDimension: { source: { sheetId: 0, dimension: 'COLUMNS', startIndex: 0, endIndex: 2 }, destinationIndex: 4 } }] },
    });
    expect(emu.values(ID, 'Tab')).toEqual([
      ['c', 'd', 'a', 'b'],
      ['3', '4', '1', '2'],
    ]);
    // The fourth column (now b) to the front.
    emu.moveColumns(ID, 'Tab', 4, 1, 1);
    expect(emu.values(ID, 'Tab')[0]).toEqual(['b', 'c', 'd', 'a']);
  });

  it('moves rows with moveDimension too', async () => {
    const { emu, api } = await start([{ title: 'Tab', rows: [['h'], ['1'], ['2'], ['3']] }]);
    await api.spreadsheets.batchUpdate({
      spreadsheetId: ID,
      requestBody: { requests: [{ moveDimension: { source: { sheetId: 0, dimension: 'ROWS', startIndex: 3, endIndex: 4 }, destinationIndex: 1 } }] },
    });
    expect(emu.values(ID, 'Tab')).toEqual([['h'], ['3'], ['1'], ['2']]);
  });

  it('refuses a move past the grid with a 400 and changes nothing', async () => {
    const { emu, api } = await start([{ title: 'Tab', rows: GRID, columnCount: 4 }]);
    const refused = await statusOf(
      api.spreadsheets.batchUpdate({
        spreadsheetId: ID,
        requestBody: { requests: [{ moveDimension: { source: { sheetId: 0, dimension: 'COLUMNS', startIndex: 0, endIndex: 1 }, destinationIndex: 9 } }] },
      }),
    );
    expect(refused.status).toBe(400);
    expect(emu.values(ID, 'Tab')).toEqual(GRID);
  });

  it('test hooks insert, delete and move columns and clear or rename header cells', async () => {
    const { emu } = await start([{ title: 'Tab', rows: GRID, columnCount: 6 }]);
    emu.insertColumns(ID, 'Tab', 2, 2);
    expect(emu.values(ID, 'Tab')[0]).toEqual(['a', '', '', 'b', 'c', 'd']);
    expect(emu.gridSize(ID, 'Tab').columnCount).toBe(8);
    emu.deleteColumns(ID, 'Tab', 2, 2);
    emu.setCell(ID, 'Tab', 1, 2, null);
    emu.setCell(ID, 'Tab', 1, 3, 'renamed');
    expect(emu.values(ID, 'Tab')).toEqual([
      ['a', '', 'renamed', 'd'],
      ['1', '2', '3', '4'],
    ]);
    expect(() => emu.moveColumns(ID, 'Tab', 6, 2, 1)).toThrow(/cannot move/);
  });
});

describe('sheets emulator: payload limit', () => {
  it("answers a body past the limit with Google's 400 and writes nothing; it still counts against the quota", async () => {
    const { emu, api } = await start([{ title: 'Tab', rows: [['x']] }]);
    expect(PAYLOAD_LIMIT_BYTES).toBe(10_485_760);
    emu.setPayloadLimit(2_000);
    emu.setQuota({ writePerMinute: 2 });
    const big = Array.from({ length: 100 }, (_, i) => ({ range: `Tab!A${i + 1}`, values: [['y'.repeat(30)]] }));
    const refused = await statusOf(api.spreadsheets.values.batchUpdate({ spreadsheetId: ID, requestBody: { valueInputOption: 'RAW', data: big } }));
    expect(refused).toEqual({ status: 400, message: 'Request payload size exceeds the limit: 2000 bytes.' });
    expect(emu.values(ID, 'Tab')).toEqual([['x']]);
    await api.spreadsheets.values.batchUpdate({ spreadsheetId: ID, requestBody: { valueInputOption: 'RAW', data: big.slice(0, 5) } });
    expect(emu.values(ID, 'Tab')[4]).toEqual(['y'.repeat(30)]);
    expect((await statusOf(api.spreadsheets.values.update({ spreadsheetId: ID, range: 'Tab!B1', valueInputOption: 'RAW', requestBody: { values: [['z']] } }))).status).toBe(429);
  });
});

describe('sheets emulator: response hooks', () => {
  it('runs a response hook after the request is served and before the client gets the answer', async () => {
    const { emu, api } = await start([{ title: 'Tab', rows: [['h'], ['b'], ['a']] }]);
    emu.injectFault({ status: 429, headers: { 'retry-after': '1' } }, { kind: 'write' });
    const seen: number[] = [];
    emu.onResponse((call) => {
      seen.push(call.status);
      // A person sorts while the client backs off after the 429.
      if (call.status === 429) emu.sortRows(ID, 'Tab', 2, (x, y) => String(x[0]).localeCompare(String(y[0])));
    });
    const refused = await statusOf(api.spreadsheets.values.update({ spreadsheetId: ID, range: 'Tab!B2', valueInputOption: 'RAW', requestBody: { values: [['for b']] } }));
    expect(refused.status).toBe(429);
    expect(emu.values(ID, 'Tab')).toEqual([['h'], ['a'], ['b']]);
    expect(seen).toEqual([429]);
  });
});
