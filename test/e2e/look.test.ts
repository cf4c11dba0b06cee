import { afterEach, describe, expect, it } from 'vitest';
import { sheets as sheetsApi } from '@googleapis/sheets';
import { SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { LOOK_KEY, VERDICT_LOOKS, VERDICT_MARK_KEY, verdictOf } from '../../src/sheets/index.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const REVIEW = { sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 }, review: { recheck_column: 'Recheck', override_column: 'Reviewer verdict' } };

/** What a person does in the sheet, through the same API a person's add-on would use. */
function personApi(b: Bed) {
  return sheetsApi({ version: 'v4', rootUrl: b.sheets.url, headers: { authorization: 'Bearer person' } }).spreadsheets;
}

const PERSON_RULE = (sheetId: number, column: number) => ({
  ranges: [{ sheetId, startRowIndex: 1, endRowIndex: 500, startColumnIndex: column, endColumnIndex: column + 1 }],
  booleanRule: { condition: { type: 'TEXT_CONTAINS', values: [{ userEnteredValue: 'INVALID' }] }, format: { backgroundColor: { red: 1 }, textFormat: { italic: true } } },
});

function botRules(b: Bed, tab = TAB) {
  return b.sheets.decor(SPREADSHEET_ID, tab).conditionalFormats.filter((rule) => verdictOf(rule) !== undefined);
}

describe('output.format: the look of the bot’s columns', () => {
  it('colours the verdict column, gives the recheck column checkboxes and the reviewer column a list, once, whatever people do', async () => {
    bed = await startBed({ rows: sampleRows(8), config: REVIEW });
    expect((await bed.run()).code).toBe(0);
    const sheetId = bed.sheets.sheetId(SPREADSHEET_ID, TAB);
    let header = bed.values()[0] ?? [];
    const verdict = header.indexOf('Validation');

    // First run: one rule per verdict on the verdict column's data rows, unbounded downwards.
    const rules = botRules(bed);
    expect(rules.map((r) => verdictOf(r)?.text)).toEqual(VERDICT_LOOKS.map((l) => l.text));
    for (const rule of rules) expect(rule['ranges']).toEqual([{ sheetId, startColumnIndex: verdict, endColumnIndex: verdict + 1 }]);
    let { validations } = bed.sheets.decor(SPREADSHEET_ID, TAB);
    const rows = bed.sheets.gridSize(SPREADSHEET_ID, TAB).rowCount;
    expect(validations).toEqual([
      { range: { sheetId, startRowIndex: 1, endRowIndex: rows, startColumnIndex: header.indexOf('Recheck'), endColumnIndex: header.indexOf('Recheck') + 1 }, rule: { condition: { type: 'BOOLEAN' } } },
      {
        range: { sheetId, startRowIndex: 1, endRowIndex: rows, startColumnIndex: header.indexOf('Reviewer verdict'), endColumnIndex: header.indexOf('Reviewer verdict') + 1 },
        rule: { condition: { type: 'ONE_OF_LIST', values: [{ userEnteredValue: 'VALID' }, { userEnteredValue: 'INVALID' }] }, strict: false, showCustomUi: true },
      },
    ]);

    // A person's own rule on the verdict column and own list on the Status column, then a column inserted before Status.
    const api = personApi(bed);
    await api.batchUpdate({
      spreadsheetId: SPREADSHEET_ID,
      requestBody: {
        requests: [
          { addConditionalFormatRule: { rule: PERSON_RULE(sheetId, verdict), index: 0 } },
          { setDataValidation: { range: { sheetId, startRowIndex: 1, endRowIndex: 9, startColumnIndex: 1, endColumnIndex: 2 }, rule: { condition: { type: 'ONE_OF_LIST', values: [{ userEnteredValue: 'Done' }] }, strict: true } } },
        ],
      },
    });
    bed.sheets.insertColumns(SPREADSHEET_ID, TAB, 2, 1);
    // …and the Recheck column dragged to the far left (its checkboxes and mark go with it, as Sheets moves them).
    const recheckNow = (bed.values()[0] ?? []).indexOf('Recheck');
    bed.sheets.moveColumns(SPREADSHEET_ID, TAB, recheckNow + 1, 1, 1);

    // Four more runs that write (so that each checks its pieces).
    for (let run = 0; run < 4; run++) expect((await bed.run('--force')).code).toBe(0);

    header = bed.values()[0] ?? [];
    const moved = header.indexOf('Validation');
    expect(moved).toBe(verdict + 2);
    const all = bed.sheets.decor(SPREADSHEET_ID, TAB).conditionalFormats;
    expect(botRules(bed)).toHaveLength(VERDICT_LOOKS.length);
    for (const rule of botRules(bed)) expect(rule['ranges']).toEqual([{ sheetId, startColumnIndex: moved, endColumnIndex: moved + 1 }]);
    // The person's rule: still first, moved with its column by Sheets, otherwise untouched.
    // (Sheets echoes each colour twice, as backgroundColor and backgroundColorStyle.rgbColor.)
    const theirs = PERSON_RULE(sheetId, moved);
    expect(all[0]).toEqual({ ...theirs, booleanRule: { ...theirs.booleanRule, format: { ...theirs.booleanRule.format, backgroundColorStyle: { rgbColor: { red: 1 } } } } });
    expect(all).toHaveLength(VERDICT_LOOKS.length + 1);
    validations = bed.sheets.decor(SPREADSHEET_ID, TAB).validations;
    expect(header.indexOf('Recheck')).toBe(0);
    const byColumn = validations.map((v) => [v.range['startColumnIndex'] ?? 0, (v.rule['condition'] as { type: string }).type] as const).sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(byColumn).toEqual([
      [0, 'BOOLEAN'],
      [3, 'ONE_OF_LIST'],
      [header.indexOf('Reviewer verdict'), 'ONE_OF_LIST'],
    ]);
    // The person's list on Status (now column D): theirs, untouched.
    expect(validations.find((v) => v.range['startColumnIndex'] === 3)?.rule).toEqual({ condition: { type: 'ONE_OF_LIST', values: [{ userEnteredValue: 'Done' }] }, strict: true });
    const marks = bed.sheets.developerMetadata(SPREADSHEET_ID).filter((m) => m.metadataKey === LOOK_KEY);
    expect(marks.map((m) => [m.metadataValue, (m.location['dimensionRange'] as { startIndex: number }).startIndex])).toEqual([
      ['recheck', 0],
      ['reviewer', header.indexOf('Reviewer verdict')],
    ]);

    // A warm rerun: nothing to ask, nothing to write, at most 2 Sheets calls.
    bed.sheets.resetCalls();
    expect((await bed.run()).code).toBe(0);
    expect(bed.sheets.calls.length).toBeLessThanOrEqual(2);
    expect(bed.sheets.writeCount()).toBe(0);
  });

  it('writes values only with output.format: false', async () => {
    bed = await startBed({ rows: sampleRows(4), config: { ...REVIEW, output: { format: false } } });
    expect((await bed.run()).code).toBe(0);
    expect(bed.sheets.decor(SPREADSHEET_ID, TAB)).toEqual({ conditionalFormats: [], validations: [], charts: [] });
    expect(bed.sheets.calls.filter((c) => c.op === 'get')).toEqual([]);
    expect(bed.sheets.developerMetadata(SPREADSHEET_ID).filter((m) => m.metadataKey === LOOK_KEY)).toEqual([]);
  });

  it('keeps every verdict when Sheets refuses the formats, and says so', async () => {
    bed = await startBed({ rows: sampleRows(4), config: REVIEW });
    bed.sheets.injectFault({ status: 400, message: 'Invalid requests[0].addConditionalFormatRule: something Sheets did not like' }, { match: (c) => c.op === 'batchUpdate' && JSON.stringify(c.body).includes('addConditionalFormatRule') });
    const result = await bed.run();
    expect(result.code).toBe(0);
    const values = bed.values();
    expect(values.slice(1).map((row) => row[col(values, 'Validation')])).toEqual(expect.arrayContaining(['VALID']));
    expect(values.slice(1).every((row) => ['VALID', 'INVALID'].includes(row[col(values, 'Validation')] ?? ''))).toBe(true);
    expect(result.stdout + result.stderr).toMatch(/Sheets refused the bot's colours, checkboxes or lists .*something Sheets did not like.*output\.format: false/s);
    expect(bed.sheets.decor(SPREADSHEET_ID, TAB).conditionalFormats).toEqual([]);
    // The next run that writes tries again, and succeeds.
    expect((await bed.run('--force')).code).toBe(0);
    expect(botRules(bed)).toHaveLength(VERDICT_LOOKS.length);
  });

  it('colours the verdict column of the results tab in results-tab mode, the reviewer columns on the data tab', async () => {
    bed = await startBed({ rows: sampleRows(4), config: { ...REVIEW, output: { sheet: 'Results' } } });
    bed.setConfig({});
    expect((await bed.run()).code).toBe(0);
    const results = bed.sheets.values(SPREADSHEET_ID, 'Results');
    const verdict = col(results, 'Validation');
    const resultsId = bed.sheets.sheetId(SPREADSHEET_ID, 'Results');
    expect(botRules(bed, 'Results').map((r) => r['ranges'])).toEqual(VERDICT_LOOKS.map(() => [{ sheetId: resultsId, startColumnIndex: verdict, endColumnIndex: verdict + 1 }]));
    expect(botRules(bed, TAB)).toEqual([]);
    expect(bed.sheets.decor(SPREADSHEET_ID, TAB).validations.map((v) => (v.rule['condition'] as { type: string }).type)).toEqual(['BOOLEAN', 'ONE_OF_LIST']);
  });
  it('moves its colours after the verdict header when a person moves the header text to another column, leaving none behind', async () => {
    bed = await startBed({ rows: sampleRows(4), config: REVIEW });
    expect((await bed.run()).code).toBe(0);
    const header = bed.values()[0] ?? [];
    const old = header.indexOf('Validation');
    const fresh = header.length;
    // The person types the header in an empty column to the right and clears the old one.
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 1, fresh + 1, 'Validation');
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 1, old + 1, '');
    const second = await bed.run('--json');
    expect(second.code, second.stderr).toBe(0);
    const columns = botRules(bed).flatMap((rule) => ((rule['ranges'] ?? []) as Array<{ startColumnIndex?: number }>).map((r) => r.startColumnIndex ?? 0));
    expect(columns).toEqual(VERDICT_LOOKS.map(() => fresh));
    const marks = bed.sheets.developerMetadata(SPREADSHEET_ID).filter((m) => m.metadataKey === VERDICT_MARK_KEY);
    expect(marks.map((m) => (m.location['dimensionRange'] as { startIndex: number }).startIndex)).toEqual([fresh]);
  });
});
