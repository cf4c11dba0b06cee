/**
 * r25c review (streamed reads, chunks overlapping since d7f71df): a ticked box on a row of a
 * later chunk whose question an earlier chunk's row asked again this run is answered (the box
 * unticked) but not counted in rows.rechecked.
 *
 * The defect: selectWork (src/pipeline/select.ts) counts `rechecked` only for rows it turns
 * into questions; a ticked row under a key this run already asked (askedThisRun: `givenNow`)
 * is "shared" and its box unticked with the new answer, yet never counted. In one selection
 * both ticked rows are one job and both are counted. The summary (JSON, runs table, Runs tab)
 * then reports fewer rechecks than the reviewers asked for and got, depending only on where
 * the chunk boundaries fall. Predates d7f71df (same counts at its parent 4e2d0f6); the overlap
 * holds such a row back (`later`) and selects it again alone, with the same miscount.
 *
 * The contract broken: RunSummary.rows.rechecked, "Rows asked again because their recheck box
 * was ticked or their verdict was old" (src/pipeline/summary.ts), and issue 25's promise that
 * a streamed read keeps every guarantee of the whole-tab read (test/review/
 * r25-read-chunked-counts-equal.test.ts: the same sheet reports the same counts whatever
 * the chunk size).
 *
 * Expected: rows.rechecked is 2 with chunks of ~15 rows, as with one chunk (measured: one
 * chunk 2, chunks 1).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_SHEETS, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
let saved: string | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
  if (saved === undefined) delete process.env['STATUS_VALIDATOR_READ_CHUNK_BYTES'];
  else process.env['STATUS_VALIDATOR_READ_CHUNK_BYTES'] = saved;
});

async function recheckRun(chunkBytes: string): Promise<{ rechecked: number; calls: number; boxes: string[] }> {
  process.env['STATUS_VALIDATOR_READ_CHUNK_BYTES'] = chunkBytes;
  const rows = sampleRows(40);
  // Index 20 (the tab's row 22, a later chunk) asks exactly what index 12 (row 14) asks.
  rows[20] = [...(rows[12] ?? [])];
  rows[20][0] = 'PRJ-TWIN';
  const b = await startBed({ rows, header: [...HEADER, ...OUTPUT_HEADERS, 'Recheck'], config: { sheets: FAST_SHEETS, llm: { max_workers: 3 }, review: { recheck_column: 'Recheck' } } });
  bed = b;
  expect((await b.run()).code).toBe(0);
  // A reviewer ticks both rows' boxes (column K).
  b.sheets.setCell(SPREADSHEET_ID, TAB, 14, 10, true);
  b.sheets.setCell(SPREADSHEET_ID, TAB, 22, 10, true);
  b.llm.reset();
  const result = await b.run('--json');
  expect(result.code, result.stderr).toBe(0);
  const values = b.values();
  const box = col(values, 'Recheck');
  const out = { rechecked: (JSON.parse(result.stdout) as { rows: { rechecked: number } }).rows.rechecked, calls: b.llm.callCount(), boxes: [values[13]?.[box] ?? '', values[21]?.[box] ?? ''] };
  await b.close();
  bed = undefined;
  return out;
}

describe('r25c: ticked boxes on two rows asking one question, in two chunks', () => {
  it('counts both rows as rechecked, as one chunk does', async () => {
    saved = process.env['STATUS_VALIDATOR_READ_CHUNK_BYTES'];
    const whole = await recheckRun('100000000');
    const chunked = await recheckRun('3000');
    expect(whole).toEqual({ rechecked: 2, calls: 1, boxes: ['FALSE', 'FALSE'] });
    expect(chunked).toEqual(whole);
  }, 60_000);
});
