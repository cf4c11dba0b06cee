// Review of issue 19 item 3 (h): "what the sheet shows" after a write skipped because a
// person edited the row mid-run. ShownCounts.after() drops every change whose row has
// the skipped write's id, so when two rows share an id (the bot accepts that: it writes
// each by its fingerprint) and only one of them was skipped, the other row's write, which
// went through, is not counted either: the summary says a row is unchecked that the
// sheet shows as checked. The counts must be those of the sheet (issue 19.3).
import { afterEach, expect, it } from 'vitest';
import { col, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, startBed, TAB, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

const FAST_SHEETS = { read_quota_per_minute: 6000, write_quota_per_minute: 6000 };

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

it('a skipped write of one of two rows sharing an id leaves the other row counted as written', async () => {
  const rows = sampleRows(4);
  // Rows 2 and 3 of the tab share the id "DUP" (other comments: two questions).
  rows[0] = ['DUP', ...rows[0]!.slice(1)];
  rows[1] = ['DUP', ...rows[1]!.slice(1)];
  bed = await startBed({ rows, header: [...HEADER, ...OUTPUT_HEADERS], config: { llm: { max_workers: 1 }, output: { write_batch_size: 10 }, sheets: FAST_SHEETS } });
  const b = bed;
  let reads = 0;
  b.sheets.onRequest((call) => {
    // The verify read before the (single) write: a person has just edited row 2's comment.
    if (call.kind === 'read' && ++reads === 2) b.sheets.setCell(SPREADSHEET_ID, TAB, 2, 3, 'Edited by a person while the bot was asking.');
  });
  const result = await b.run('--json');
  expect(result.code, result.stderr).toBe(0);
  const summary = JSON.parse(result.stdout) as { writes: { skipped: Array<{ id: string; row: number }> }; sheetShows: { valid: number; invalid: number; unchecked: number; rows: number } };
  // The emulator's truth: row 2 skipped, rows 3-5 written.
  expect(summary.writes.skipped).toEqual([expect.objectContaining({ id: 'DUP', row: 2 })]);
  const values = b.values();
  const verdicts = values.slice(1).map((r) => r[col(values, 'Validation')] ?? '');
  expect(verdicts.filter((v) => v === '')).toHaveLength(1);
  expect(summary.sheetShows).toMatchObject({
    rows: 4,
    unchecked: 1,
    valid: verdicts.filter((v) => v === 'VALID').length,
    invalid: verdicts.filter((v) => v === 'INVALID').length,
  });
});
