/**
 * r25 review (issue 25, streamed reads): the writer's identity check, when a batch's rows
 * are no longer where they were read, still reads the WHOLE tab in one values.get
 * (src/sheets/locate.ts relocate: `client.read(wholeSheet(layout.sheet))`), once per batch.
 *
 * Defect: on the tabs issue 25 is for (too large for one read: Google times out a request
 * it processes for more than 180 s, https://developers.google.com/sheets/api/limits, which
 * the emulator models with a read processing rate and a deadline answering 504), one row a
 * person inserts at the top while the run works moves every row under it: every later
 * write batch then needs relocate's whole-tab read, which can never succeed. The verdicts,
 * paid for and committed, are not written (the run fails its writes after retries), and
 * each attempt holds the whole tab in memory ("Peak memory flat in the sheet's size").
 * Invariant 1 says "a row that moved is written where it now is": here no moved row is.
 * test/e2e/streamed-read.test.ts "the processing deadline" shows the same setup read fine
 * by the chunked run: only the write path still reads the tab whole.
 *
 * Sources relied on: src/sheets/locate.ts relocate, the emulator's read deadline
 * (test/support/sheets-emulator/pipeline.ts), DESIGN.md invariant 1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readInChunksOf } from '../support/read-chunk-bytes.js';
import { col, FAST_SHEETS, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, startBed, TAB, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

// The chunk target scaled down with the deadline, as test/e2e/streamed-read.test.ts scales both
// (a 250 ms deadline at 20,000 cells a second is ~5,000 cells a read, where Google's is 180 s
// for a 2 MB read): the run's reads and the search for moved rows both keep to it.
readInChunksOf(3000);
let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});
describe('r25: rows moved on a tab too large for one read', () => {
  it('writes every verdict where its row now is after a person inserts a row at the top', async () => {
    const rows = sampleRows(1500);
    // As streamed-read.test.ts: 20,000 cells a second, a 250 ms deadline; the whole tab (~13,500 cells) takes ~700 ms to process.
    bed = await startBed({ rows, header: [...HEADER, ...OUTPUT_HEADERS], sheets: { readCellsPerSecond: 20_000, deadlineMs: 250, recordBodies: false }, config: { sheets: FAST_SHEETS, llm: { max_workers: 10 } } });
    const b = bed;
    let inserted = false;
    b.sheets.onResponse((call) => {
      // Once the first write is done (not between a batch's check and its write): a person adds a project at the top of the list.
      if (!inserted && call.kind === 'write' && call.status === 200) {
        inserted = true;
        b.sheets.insertRows(SPREADSHEET_ID, TAB, 2, [['PRJ-NEW', 'Planned', 'Added by a person during the run.', '2026-12-24']]);
      }
    });
    const result = await b.run('--json');
    expect(inserted).toBe(true);
    const deadlines = b.sheets.calls.filter((c) => c.status === 504).length;
    const values = b.values();
    const verdict = col(values, 'Validation');
    // Every original row is now one lower (row i+3), with its own verdict. Measured on this
    // branch: exit 1, "Sheets failed to read 'Statuses' ... (after 6 retries) (504 ...)", 7
    // reads answered 504, only the first batch (written before the insertion) in the sheet: 1,490 rows without their verdict.
    const wrong = rows.map((row, i) => ({ row: i + 3, shown: values[i + 2]?.[verdict] ?? '', want: expectedCells(row).verdict })).filter((r) => r.shown !== r.want);
    expect({ code: result.code, deadlines, rowsWithoutTheirVerdict: wrong.length }, result.stderr.slice(-1500)).toEqual({ code: 0, deadlines: 0, rowsWithoutTheirVerdict: 0 });
  }, 300_000);
});
