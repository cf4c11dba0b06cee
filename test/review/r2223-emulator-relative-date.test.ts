/**
 * Review of issue 23's emulator ("accepts exactly what Google accepts"): a ConditionValue's
 * relativeDate is "Valid only if the type is DATE_BEFORE, DATE_AFTER, DATE_ON_OR_BEFORE or
 * DATE_ON_OR_AFTER. Relative dates are not supported in data validation. They are
 * supported only in conditional formatting and conditional filters."
 * (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/other#ConditionValue,
 * as mirrored at https://googleapis.dev/dotnet/Google.Apis.Sheets.v4/latest/api/Google.Apis.Sheets.v4.Data.ConditionValue.html).
 * The emulator's checkCondition takes a relativeDate on any condition type and in data
 * validation too, so a test of a request Google answers 400 passes here.
 */
import { afterEach, expect, it } from 'vitest';
import { sheets as sheetsApi } from '@googleapis/sheets';
import { SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

async function status(b: Bed, request: Record<string, unknown>): Promise<number> {
  const api = sheetsApi({ version: 'v4', rootUrl: b.sheets.url, headers: { authorization: 'Bearer person' } }).spreadsheets;
  try {
    const answer = await api.batchUpdate({ spreadsheetId: SPREADSHEET_ID, requestBody: { requests: [request] } }, { retry: false });
    return answer.status;
  } catch (error) {
    return (error as { status?: number; code?: number }).status ?? Number((error as { code?: number }).code);
  }
}

it('refuses a relativeDate on a TEXT_EQ format rule and in a data validation, as Sheets does', async () => {
  bed = await startBed({ rows: sampleRows(3) });
  const sheetId = bed.sheets.sheetId(SPREADSHEET_ID, TAB);
  const range = { sheetId, startRowIndex: 1, endRowIndex: 4, startColumnIndex: 3, endColumnIndex: 4 };
  const textEqRelative = { addConditionalFormatRule: { index: 0, rule: { ranges: [range], booleanRule: { condition: { type: 'TEXT_EQ', values: [{ relativeDate: 'TODAY' }] }, format: { backgroundColor: { red: 1 } } } } } };
  const validationRelative = { setDataValidation: { range, rule: { condition: { type: 'DATE_AFTER', values: [{ relativeDate: 'TODAY' }] } } } };
  // The control: the same relative date on DATE_BEFORE in a format rule is what Google takes.
  const fine = { addConditionalFormatRule: { index: 0, rule: { ranges: [range], booleanRule: { condition: { type: 'DATE_BEFORE', values: [{ relativeDate: 'TODAY' }] }, format: { backgroundColor: { red: 1 } } } } } };
  expect(await status(bed, fine)).toBe(200);
  expect({ textEq: await status(bed, textEqRelative), validation: await status(bed, validationRelative) }).toEqual({ textEq: 400, validation: 400 });
});
