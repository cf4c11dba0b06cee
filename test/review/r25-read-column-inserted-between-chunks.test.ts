/**
 * r25 review (issue 25, streamed reads): a column a person inserts while a run reads its
 * tab chunk by chunk.
 *
 * Defect: the layout (which column is Status, Comment, Due date, the reviewer's column...)
 * is mapped ONCE, from the first chunk's header row (src/sheets/open.ts openStreamed:
 * `const layout = mapHeaders(first[headerRow - 1] ...)`), and every later chunk is parsed
 * with it (`readEntries(chunk.values, layout, chunk.firstRow)`), although the header row is
 * never read again before those chunks are selected and ASKED. A person inserting a column
 * left of the inputs between two chunk reads (minutes apart on a large tab) makes every row
 * of every later chunk a question built from the wrong cells: the model is paid for
 * questions no row of the sheet asks (status read from the Project column, comment from
 * Status, ...), their answers are committed to the cache under those garbage keys, every
 * one of those writes is then refused by the identity check, and the next run pays for all
 * those rows again. The whole-tab read this replaced was one atomic values.get: header and
 * rows always agreed.
 *
 * Breaks: DESIGN invariant 9 ("A question is never paid for twice": here each row of the
 * late chunks is paid twice over two runs, once for a question nobody asked) and issue 25's
 * "the identity checks before writes stay as strict as today" (they are checked at the
 * write, but the money is spent before it). Measured: on a 100-row tab (first chunk: 2 rows
 * at this target) the first run pays 100 calls, 98 of them for garbage questions whose
 * writes are all skipped, and the second run pays 98 more: 198 calls for 100 questions.
 *
 * Sources relied on: src/sheets/open.ts openStreamed, src/pipeline/run.ts execute (select
 * and ask per chunk, no header re-check), README "Large sheets" (which only warns that a
 * row moved between chunks may be read twice or not at all, not that a moved column
 * poisons every later chunk).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readInChunksOf } from '../support/read-chunk-bytes.js';
import { col, FAST_SHEETS, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, startBed, TAB, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';
import { rowRangeOf } from '../support/row-reads.js';

// About 15 sample rows a chunk (as test/e2e/streamed-read.test.ts).
readInChunksOf(3000);

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe('r25: a column inserted between two chunk reads', () => {
  it('never pays for a question built from the wrong columns: two runs pay for each distinct question once, and every row ends with its own verdict', async () => {
    const rows = sampleRows(100);
    bed = await startBed({ rows, header: [...HEADER, ...OUTPUT_HEADERS], columnCount: 14, config: { sheets: FAST_SHEETS, llm: { max_workers: 4 } } });
    const b = bed;
    let inserted = false;
    b.sheets.onRequest((call) => {
      // The first read of rows under the first chunk: a person has just inserted a column before "Status".
      // A read of rows: values.get of the first chunk, values.batchGet of the header row and each later chunk.
      const m = rowRangeOf(call);
      if (!inserted && m && m[0] > 1) {
        inserted = true;
        b.sheets.insertColumns(SPREADSHEET_ID, TAB, 2, 1);
      }
    });
    const first = await b.run('--json');
    expect(inserted).toBe(true);
    expect(first.code, first.stderr).toBe(0);
    const firstCalls = b.llm.callCount();
    b.llm.reset();
    const second = await b.run('--json');
    expect(second.code, second.stderr).toBe(0);
    const secondCalls = b.llm.callCount();
    const distinct = new Set(rows.map((r) => JSON.stringify(r.slice(1)))).size;
    // Every row shows the verdict its own inputs get, under the moved header.
    const values = b.values();
    const verdict = col(values, 'Validation');
    rows.forEach((row, i) => {
      expect({ row: i + 2, verdict: values[i + 1]?.[verdict] }).toEqual({ row: i + 2, verdict: expectedCells(row).verdict });
    });
    // Each question a row asks paid for once over both runs; none paid for a question no row asks.
    expect({ firstCalls, secondCalls, total: firstCalls + secondCalls }).toEqual({ firstCalls: expect.any(Number) as number, secondCalls: expect.any(Number) as number, total: distinct });
  }, 120_000);
});
