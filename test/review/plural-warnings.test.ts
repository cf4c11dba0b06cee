// Review of issue 19 item 5 (k), "plurals agree with their counts" (27bc277, 1c32476): the
// run's warnings about single rows still read as plurals. One incomplete row gives
// "1 row has neither status nor comment and were skipped (rows 5)"; one ticked box under a
// reviewer's verdict gives "recheck boxes ticked in rows 2 were left ticked"; one
// unreadable reviewer cell gives "reviewer verdicts not understood in rows 3".
import { afterEach, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

it('warnings about one row speak of one row', async () => {
  const rows = sampleRows(3);
  rows.push(['PRJ-0099', '', '', '']); // row 5: neither status nor comment
  bed = await startBed({ rows, config: { review: { recheck_column: 'Recheck', override_column: 'Reviewer' } } });
  const b = bed;
  expect((await b.run()).code).toBe(0);
  const values = b.values();
  b.sheets.setCell(SPREADSHEET_ID, TAB, 2, col(values, 'Reviewer') + 1, 'VALID: fine by me');
  b.sheets.setCell(SPREADSHEET_ID, TAB, 2, col(values, 'Recheck') + 1, true);
  b.sheets.setCell(SPREADSHEET_ID, TAB, 3, col(values, 'Reviewer') + 1, 'maybe?');
  const result = await b.run('--json');
  const { warnings } = JSON.parse(result.stdout) as { warnings: string[] };
  const text = warnings.join('\n');
  expect(text).toContain('1 row has neither status nor comment');
  expect(text).toMatch(/\brow 2\b/);
  expect(text).toMatch(/\brow 3\b/);
  // No singular count followed by a plural verb or noun.
  expect(text, text).not.toMatch(/\b(and were skipped \(rows \d+\)|boxes ticked in rows \d+ were|not understood in rows \d+:)/);
});
