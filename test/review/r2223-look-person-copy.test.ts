/**
 * Review of issue 23 (invariant 11: "no format, rule or chart a person made is changed";
 * found again "by what it is, never by position"). The bot decides a conditional format
 * rule is its own by its condition and format alone, whatever range it covers. A person
 * who copies the verdict column's look onto another column of the tab (Format painter /
 * paste format only: Sheets creates rules with the same condition and format on the
 * pasted range, https://support.google.com/docs/answer/78413) has a rule the bot then
 * counts as one of its own: the next run deletes the person's rule.
 */
import { afterEach, expect, it } from 'vitest';
import { sheets as sheetsApi } from '@googleapis/sheets';
import { SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { VERDICT_LOOKS, verdictOf } from '../../src/sheets/index.js';
import { verdictRule } from '../../src/sheets/column-look.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

function personApi(b: Bed) {
  return sheetsApi({ version: 'v4', rootUrl: b.sheets.url, headers: { authorization: 'Bearer person' } }).spreadsheets;
}

/** The columns (0-based) the palette's rules colour, one entry per rule range. */
function paletteColumns(b: Bed): number[] {
  return b.sheets
    .decor(SPREADSHEET_ID, TAB)
    .conditionalFormats.filter((rule) => verdictOf(rule) !== undefined)
    .flatMap((rule) => ((rule['ranges'] ?? []) as Array<{ startColumnIndex?: number }>).map((r) => r.startColumnIndex ?? 0));
}

it('leaves a person’s copy of the verdict look on another column alone', async () => {
  bed = await startBed({ rows: sampleRows(6), config: { sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 } } });
  expect((await bed.run()).code).toBe(0);
  const sheetId = bed.sheets.sheetId(SPREADSHEET_ID, TAB);
  const verdict = (bed.values()[0] ?? []).indexOf('Validation');
  expect(paletteColumns(bed).filter((c) => c === verdict)).toHaveLength(VERDICT_LOOKS.length);

  // The person's own "Status" column (B, index 1) gets the same look for VALID/INVALID texts they type.
  const copied = VERDICT_LOOKS.slice(0, 2).map((look) => verdictRule(look, sheetId, 1, 2));
  await personApi(bed).batchUpdate({ spreadsheetId: SPREADSHEET_ID, requestBody: { requests: copied.map((rule, index) => ({ addConditionalFormatRule: { rule, index } })) } });
  expect(paletteColumns(bed).filter((c) => c === 1)).toHaveLength(2);

  // A new row, so that the run has something to do; the person's rules must survive it.
  bed.sheets.insertRows(SPREADSHEET_ID, TAB, 3, [['PRJ-NEW', 'Planned', 'Kick-off done; next: design review by Friday.', '']]);
  const second = await bed.run();
  expect(second.code, second.stderr).toBe(0);
  expect(paletteColumns(bed).filter((c) => c === 1)).toHaveLength(2);
  expect(paletteColumns(bed).filter((c) => c === verdict)).toHaveLength(VERDICT_LOOKS.length);
});
