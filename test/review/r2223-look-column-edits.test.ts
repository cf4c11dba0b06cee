/**
 * Review of issue 23 (invariant 11: "after a person inserts, deletes or moves columns ...
 * neither duplicates nor leaves stale pieces"), crossed with header_row ≠ 1 and the
 * review columns: a person swaps the recheck and reviewer headers (the columns stay, or
 * equally: types them the other way round). After the next run the "Recheck" column still
 * has the VALID/INVALID list and the "Reviewer verdict" column the checkboxes: a reviewer
 * typing "INVALID: owner missing" meets a checkbox column that flags it as invalid input.
 * (Were the look checked, tabRequests would find each mark on the other's column, clear
 * both validations as stale and take the other's validation for "a validation someone
 * set": two false warnings and no piece. Deleting the verdict column and moving the recheck
 * column were checked too and hold.)
 */
import { afterEach, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { LOOK_KEY, VERDICT_LOOKS, verdictOf } from '../../src/sheets/index.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const CONFIG = { sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000, header_row: 2 }, review: { recheck_column: 'Recheck', override_column: 'Reviewer verdict' } };

function header(b: Bed): string[] {
  return b.values()[1] ?? [];
}

function state(b: Bed) {
  const decor = b.sheets.decor(SPREADSHEET_ID, TAB);
  const ruleColumns = decor.conditionalFormats
    .filter((rule) => verdictOf(rule) !== undefined)
    .flatMap((rule) => ((rule['ranges'] ?? []) as Array<{ startColumnIndex?: number }>).map((r) => r.startColumnIndex ?? 0));
  const validations = decor.validations.map((v) => ({ column: (v.range as { startColumnIndex?: number }).startColumnIndex ?? 0, type: String((v.rule as { condition?: { type?: string } }).condition?.type) }));
  const marks = b.sheets.developerMetadata(SPREADSHEET_ID).filter((m) => m.metadataKey === LOOK_KEY);
  return { ruleColumns, validations, marks: marks.length };
}

function expectOneOfEach(b: Bed): void {
  const h = header(b);
  const s = state(b);
  expect(s.ruleColumns).toEqual(VERDICT_LOOKS.map(() => h.indexOf('Validation')));
  expect(s.validations.sort((x, y) => x.column - y.column)).toEqual(
    [
      { column: h.indexOf('Recheck'), type: 'BOOLEAN' },
      { column: h.indexOf('Reviewer verdict'), type: 'ONE_OF_LIST' },
    ].sort((x, y) => x.column - y.column),
  );
  expect(s.marks).toBe(2);
}

it('one copy of each piece, and no false warning, after a person swaps the recheck and reviewer headers', async () => {
  bed = await startBed({ header: ['Weekly statuses'], rows: [HEADER, ...sampleRows(6)], config: CONFIG });
  expect((await bed.run()).code).toBe(0);
  expectOneOfEach(bed);

  // The person swaps the two headers' texts (the columns stay; the pieces' marks stay with the columns).
  const h = header(bed);
  const recheck = h.indexOf('Recheck') + 1;
  const reviewer = h.indexOf('Reviewer verdict') + 1;
  bed.sheets.setCell(SPREADSHEET_ID, TAB, 2, recheck, 'Reviewer verdict');
  bed.sheets.setCell(SPREADSHEET_ID, TAB, 2, reviewer, 'Recheck');
  const result = await bed.run('--json');
  expect(result.code, result.stderr).toBe(0);
  const summary = JSON.parse(result.stdout) as { warnings: string[] };
  expect(summary.warnings.filter((w) => /validation someone set/.test(w))).toEqual([]);
  expectOneOfEach(bed);
});

it('one copy of each piece, and no false warning, after the header swap and a run that writes (the look is checked)', async () => {
  bed = await startBed({ header: ['Weekly statuses'], rows: [HEADER, ...sampleRows(6)], config: CONFIG });
  expect((await bed.run()).code).toBe(0);
  const h = header(bed);
  bed.sheets.setCell(SPREADSHEET_ID, TAB, 2, h.indexOf('Recheck') + 1, 'Reviewer verdict');
  bed.sheets.setCell(SPREADSHEET_ID, TAB, 2, h.indexOf('Reviewer verdict') + 1, 'Recheck');
  // A new row: the run writes, so the look is checked after its writes.
  bed.sheets.insertRows(SPREADSHEET_ID, TAB, 4, [['PRJ-NEW', 'Planned', 'Kick-off done; next: design review by Friday.', '']]);
  const result = await bed.run('--json');
  expect(result.code, result.stderr).toBe(0);
  const summary = JSON.parse(result.stdout) as { warnings: string[] };
  expect(summary.warnings.filter((w) => /validation someone set/.test(w))).toEqual([]);
  expectOneOfEach(bed);
});
