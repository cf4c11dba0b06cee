/**
 * Issue 25, item 2: the identity read before a write of thousands of rows names one range
 * per run of rows. values.batchGet carries them in its URL, which Google's front end
 * refuses past about 8 KB (414, an HTML page); the client sends such a read as
 * values.batchGetByDataFilter, its ranges in a POST body, in one read call.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_GET_URL_BYTES, SheetsClient } from '../../src/sheets/client.js';
import { SheetsError } from '../../src/errors.js';
import { SPREADSHEET_ID, TAB, testPrivateKey } from '../support/bed.js';
import { URL_LIMIT_BYTES, startSheetsEmulator, type SheetsEmulator } from '../support/sheets-emulator/index.js';

let emu: SheetsEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const ROWS = 3000;

async function setup(readsPerMinute = 6000): Promise<{ emu: SheetsEmulator; client: SheetsClient }> {
  const e = await startSheetsEmulator({ readQuotaPerMinute: readsPerMinute });
  emu = e;
  e.addSpreadsheet(SPREADSHEET_ID, [{ title: TAB, rows: Array.from({ length: ROWS }, (_, i) => [`PRJ-${i + 1}`, `comment ${i + 1}`]) }]);
  const client = new SheetsClient({
    spreadsheetId: SPREADSHEET_ID,
    key: { client_email: 'bot@t.iam.gserviceaccount.com', private_key: testPrivateKey() },
    apiRoot: e.url,
    readsPerMinute: 6000,
    writesPerMinute: 6000,
    maxRetries: 0,
  });
  return { emu: e, client };
}

/** Every other row, one range each: the shape of a write whose rows are scattered. */
const scattered = (count: number): string[] => Array.from({ length: count }, (_, i) => `'${TAB}'!${2 * i + 1}:${2 * i + 1}`);

describe('the Sheets emulator refuses long URLs as Google does', () => {
  it('answers a values.batchGet whose URL passes 8 KB with 414 and an HTML page, before the quota', async () => {
    const { emu: e } = await setup(1);
    const query = scattered(400)
      .map((r) => `ranges=${encodeURIComponent(r)}`)
      .join('&');
    const url = `${e.url}v4/spreadsheets/${SPREADSHEET_ID}/values:batchGet?${query}`;
    expect(url.length).toBeGreaterThan(URL_LIMIT_BYTES);
    const response = await fetch(url, { headers: { authorization: 'Bearer x.eyJlbWFpbCI6ImJvdEB0In0.x' } });
    expect(response.status).toBe(414);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(await response.text()).toMatch(/is too large to process/);
    expect(e.calls.at(-1)?.status).toBe(414);
    // Refused by the front end: the one read a minute is still there.
    const short = await fetch(`${e.url}v4/spreadsheets/${SPREADSHEET_ID}/values:batchGet?ranges=A1`, { headers: { authorization: 'Bearer x.eyJlbWFpbCI6ImJvdEB0In0.x' } });
    expect(short.status).toBe(200);
  });

  it('serves values.batchGetByDataFilter: each a1Range filter gets its values, with the filter that matched', async () => {
    const { emu: e } = await setup();
    const response = await fetch(`${e.url}v4/spreadsheets/${SPREADSHEET_ID}/values:batchGetByDataFilter`, {
      method: 'POST',
      headers: { authorization: 'Bearer x.eyJlbWFpbCI6ImJvdEB0In0.x', 'content-type': 'application/json' },
      body: JSON.stringify({ dataFilters: [{ a1Range: `'${TAB}'!A3:B4` }, { a1Range: `'${TAB}'!B10` }], majorDimension: 'ROWS' }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { valueRanges: Array<{ valueRange: { values: string[][] }; dataFilters: Array<{ a1Range: string }> }> };
    expect(body.valueRanges.map((m) => m.valueRange.values)).toEqual([
      [
        ['PRJ-3', 'comment 3'],
        ['PRJ-4', 'comment 4'],
      ],
      [['comment 10']],
    ]);
    expect(body.valueRanges[1]?.dataFilters).toEqual([{ a1Range: `'${TAB}'!B10` }]);
    expect(e.calls.at(-1)).toMatchObject({ kind: 'read', op: 'values.batchGetByDataFilter', ranges: [`'${TAB}'!A3:B4`, `'${TAB}'!B10`] });
  });

  it('answers any body sent to values.batchGetByDataFilter with values or a 400, never a 500', async () => {
    const { emu: e } = await setup();
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything(), fc.record({ dataFilters: fc.array(fc.oneof(fc.anything(), fc.record({ a1Range: fc.string() }))), majorDimension: fc.anything() })), async (body) => {
        const response = await fetch(`${e.url}v4/spreadsheets/${SPREADSHEET_ID}/values:batchGetByDataFilter`, {
          method: 'POST',
          headers: { authorization: 'Bearer x.eyJlbWFpbCI6ImJvdEB0In0.x', 'content-type': 'application/json' },
          body: JSON.stringify(body) ?? '',
        });
        expect([200, 400]).toContain(response.status);
      }),
      { numRuns: 150 },
    );
  });
});

describe('reads of many ranges', () => {
  it('reads 1,500 scattered rows in one read call, their ranges in a POST body, each answer in its place', async () => {
    const { emu: e, client } = await setup();
    const ranges = [`'${TAB}'!1:1`, ...scattered(1500), `'${TAB}'!1:1`];
    const values = await client.readMany(ranges);
    expect(values).toHaveLength(ranges.length);
    expect(values[0]).toEqual([['PRJ-1', 'comment 1']]);
    expect(values[2]).toEqual([['PRJ-3', 'comment 3']]);
    expect(values[1500]).toEqual([['PRJ-2999', 'comment 2999']]);
    expect(values.at(-1)).toEqual([['PRJ-1', 'comment 1']]);
    const reads = e.calls.filter((c) => c.kind === 'read');
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ op: 'values.batchGetByDataFilter', status: 200 });
    expect(reads[0]?.urlBytes).toBeLessThan(MAX_GET_URL_BYTES);
  });

  it('keeps a read of a few ranges a values.batchGet under the URL limit', async () => {
    const { emu: e, client } = await setup();
    const values = await client.readMany(scattered(20));
    expect(values[19]).toEqual([['PRJ-39', 'comment 39']]);
    expect(e.calls.at(-1)).toMatchObject({ op: 'values.batchGet', status: 200 });
    expect(e.calls.at(-1)?.urlBytes).toBeLessThanOrEqual(MAX_GET_URL_BYTES);
  });

  it('fails a read whose one range is too long for a URL with a SheetsError that names it, without retrying', async () => {
    const { client } = await setup();
    // One range too long for any URL (values.get has no POST form): a 414 that names what was read.
    const error = await client.read(`'${TAB}'!A1:B${'9'.repeat(9000)}`).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SheetsError);
    expect((error as SheetsError).status).toBe(414);
    expect((error as SheetsError).message).toMatch(/read 'Statuses'!A1:B9+ in spreadsheet .*URL is too long \(414\)/);
    expect((error as SheetsError).hint).toMatch(/Nothing was changed/);
  });
});
