/**
 * The Sheets emulator shares a spreadsheet as Drive does (Viewer / Commenter may read,
 * only an Editor may write; 403 PERMISSION_DENIED "The caller does not have permission"
 * otherwise, before the request's content is even looked at), and keeps developer
 * metadata, which a batchUpdate rolls back with everything else when one request fails.
 */
import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { JWT } from 'google-auth-library';
import { afterEach, describe, expect, it } from 'vitest';
import { testPrivateKey } from '../support/bed.js';
import { startSheetsEmulator, type SheetsEmulator } from '../support/sheets-emulator/index.js';

const BOT = 'bot@proj.iam.gserviceaccount.com';
const OTHER = 'other@proj.iam.gserviceaccount.com';
const ID = 'sheet-1';
let emu: SheetsEmulator | undefined;

afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

function client(url: string, email = BOT): sheets_v4.Sheets {
  const auth = new JWT({ email, key: testPrivateKey(), scopes: ['https://www.googleapis.com/auth/spreadsheets'] });
  auth.useJWTAccessWithScope = true;
  return sheets({ version: 'v4', auth, rootUrl: url, retry: false });
}

async function start(): Promise<SheetsEmulator> {
  emu = await startSheetsEmulator();
  emu.addSpreadsheet(ID, [{ title: 'Tab', rows: [['Project', 'Status']] }]);
  return emu;
}

async function failure(p: Promise<unknown>): Promise<{ status: number | undefined; body: unknown }> {
  try {
    await p;
  } catch (err) {
    const e = err as { status?: number; response?: { data?: unknown } };
    return { status: e.status, body: e.response?.data };
  }
  throw new Error('expected the request to fail');
}

const DENIED = { error: { code: 403, message: 'The caller does not have permission', status: 'PERMISSION_DENIED' } };

const metadataRequest = (key: string): sheets_v4.Schema$Request => ({
  createDeveloperMetadata: { developerMetadata: { metadataKey: key, location: { spreadsheet: true }, visibility: 'PROJECT' } },
});

describe('sharing in the Sheets emulator', () => {
  it('lets a viewer read but answers every kind of write with 403 PERMISSION_DENIED', async () => {
    const e = await start();
    e.share(ID, 'reader', BOT);
    const api = client(e.url);
    const read = await api.spreadsheets.values.get({ spreadsheetId: ID, range: 'Tab!A1:B1' });
    expect(read.data.values).toEqual([['Project', 'Status']]);
    const writes: Array<Promise<unknown>> = [
      api.spreadsheets.values.update({ spreadsheetId: ID, range: 'Tab!C1', valueInputOption: 'RAW', requestBody: { values: [['x']] } }),
      api.spreadsheets.values.batchUpdate({ spreadsheetId: ID, requestBody: { valueInputOption: 'RAW', data: [{ range: 'Tab!C1', values: [['x']] }] } }),
      api.spreadsheets.batchUpdate({ spreadsheetId: ID, requestBody: { requests: [metadataRequest('k')] } }),
      // Not even valid: permission comes first, so it is a 403 all the same.
      api.spreadsheets.batchUpdate({ spreadsheetId: ID, requestBody: { requests: [] } }),
    ];
    for (const write of writes) expect(await failure(write)).toEqual({ status: 403, body: DENIED });
    expect(e.values(ID, 'Tab')[0]).toEqual(['Project', 'Status']);
    expect(e.developerMetadata(ID)).toEqual([]);
  });

  it('treats a commenter like a viewer, an editor as allowed, and shares per caller over the default', async () => {
    const e = await start();
    e.share(ID, 'none');
    e.share(ID, 'commenter', BOT);
    e.share(ID, 'writer', OTHER);
    const write = (email: string) => client(e.url, email).spreadsheets.values.update({ spreadsheetId: ID, range: 'Tab!C1', valueInputOption: 'RAW', requestBody: { values: [['x']] } });
    expect((await failure(write(BOT))).status).toBe(403);
    await write(OTHER);
    expect(e.values(ID, 'Tab')[0]?.[2]).toBe('x');
    expect((await failure(client(e.url, 'third@proj.iam.gserviceaccount.com').spreadsheets.get({ spreadsheetId: ID }))).status).toBe(403);
    // Sharing with everyone again replaces the per-caller roles.
    e.share(ID, 'writer');
    await write(BOT);
  });
});

describe('developer metadata in the Sheets emulator', () => {
  it('creates and deletes in one batchUpdate, replying with the entry made and the entries deleted', async () => {
    const e = await start();
    const api = client(e.url);
    const response = await api.spreadsheets.batchUpdate({
      spreadsheetId: ID,
      requestBody: { requests: [metadataRequest('probe'), { deleteDeveloperMetadata: { dataFilter: { developerMetadataLookup: { metadataKey: 'probe' } } } }] },
    });
    const created = response.data.replies?.[0]?.createDeveloperMetadata?.developerMetadata;
    expect(created).toMatchObject({ metadataKey: 'probe', visibility: 'PROJECT', location: { locationType: 'SPREADSHEET', spreadsheet: true } });
    expect(created?.metadataId).toBeGreaterThan(0);
    expect(response.data.replies?.[1]?.deleteDeveloperMetadata?.deletedDeveloperMetadata?.map((m) => m.metadataId)).toEqual([created?.metadataId]);
    expect(e.developerMetadata(ID)).toEqual([]);
  });

  it('refuses an entry without a key or a visibility, as Google does', async () => {
    const e = await start();
    const api = client(e.url);
    const noKey = await failure(api.spreadsheets.batchUpdate({ spreadsheetId: ID, requestBody: { requests: [{ createDeveloperMetadata: { developerMetadata: { location: { spreadsheet: true }, visibility: 'PROJECT' } } }] } }));
    expect(noKey.status).toBe(400);
    const noVisibility = await failure(api.spreadsheets.batchUpdate({ spreadsheetId: ID, requestBody: { requests: [{ createDeveloperMetadata: { developerMetadata: { metadataKey: 'k', location: { spreadsheet: true } } } }] } }));
    expect(noVisibility.status).toBe(400);
  });

  it('rolls a created entry back when a later request of the same batch fails', async () => {
    const e = await start();
    const api = client(e.url);
    const failed = await failure(api.spreadsheets.batchUpdate({ spreadsheetId: ID, requestBody: { requests: [metadataRequest('kept?'), { deleteSheet: { sheetId: 999 } }] } }));
    expect(failed.status).toBe(400);
    expect(e.developerMetadata(ID)).toEqual([]);
  });
});
