/**
 * DEFECT (issue 25 item 1, src/sheets/locate.ts): the identity read before a write asks
 * for the batch's rows as runs of whole rows (`'Tab'!10:13`). When a person deletes the
 * last rows of a tab whose grid ends with its data (a sheet made by import, a form's
 * responses tab, a tab grown by values.append — all have exactly as many grid rows as
 * rows of data), the run starts past the grid and Google refuses the whole read with a
 * 400 "Range ('Tab'!10:13) exceeds grid limits. Max rows: 9, max columns: …" — reads
 * too, not only writes (nithinmurali/pygsheets#416 and #528: values.get / get_all_values
 * answered "exceeds grid limits"; googleapis/sloth#1096). The emulator models exactly this
 * (test/support/sheets-emulator/workbook.ts, clippedBox).
 *
 * locate() does not catch it: the 400 is not retryable, the writer records it as its
 * failure, and the run fails its writes instead of skipping the vanished rows. Invariant 1
 * (DESIGN.md): "a row that vanished or changed is skipped and left for the next run" — a
 * deleted row is the commonest edit of all.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, startBed, TAB, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

const FAST_SHEETS = { read_quota_per_minute: 6000, write_quota_per_minute: 6000 };

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/**
 * A run over `rows` on a tab whose grid ends with its data (header + rows, as after an import
 * or values.append), written 4 rows a batch; just before the identity read of the batch
 * holding rows 10–13, a person deletes 4 rows from row `deleteAt`.
 */
async function runDeletingBeforeLastBatch(rows: string[][], deleteAt: number): Promise<{ b: Bed; result: Awaited<ReturnType<Bed['run']>> }> {
  bed = await startBed({
    rows,
    header: [...HEADER, ...OUTPUT_HEADERS],
    rowCount: rows.length + 1,
    llm: { latencyMs: 5 },
    config: { llm: { max_workers: 1 }, output: { write_batch_size: 4 }, sheets: FAST_SHEETS },
  });
  const b = bed;
  let deleted = false;
  b.sheets.onRequest((call) => {
    if (deleted || call.kind !== 'read') return;
    const last = (call.ranges ?? []).some((range) => {
      const m = /!(\d+):(\d+)$/.exec(range);
      return m !== null && Number(m[1]) >= 10;
    });
    if (!last) return;
    deleted = true;
    b.sheets.deleteRows(SPREADSHEET_ID, TAB, deleteAt, 4);
  });
  const result = await b.run('--json');
  expect(deleted).toBe(true);
  return { b, result };
}

describe('rows deleted at the end of a tab whose grid ends with its data', () => {
  it('skips the deleted rows and writes the others, instead of failing the writes with "exceeds grid limits"', async () => {
    const rows = sampleRows(12);
    // A person deletes rows 10–13 just before the identity read of the batch holding them.
    const { b, result } = await runDeletingBeforeLastBatch(rows, 10);
    expect(b.sheets.hookErrors).toEqual([]);
    expect(`${result.stdout}\n${result.stderr}`).not.toMatch(/exceeds grid limits/);
    expect(result.code, result.stderr).toBe(0);

    const values = b.values();
    expect(values).toHaveLength(9);
    const [verdictCol, suggestionCol] = ['Validation', 'Suggested rewrite'].map((h) => col(values, h));
    // Rows 2–9 survived and show their own verdicts.
    for (const row of values.slice(1)) {
      expect({ verdict: row[verdictCol ?? -1] ?? '', suggestion: row[suggestionCol ?? -1] ?? '' }, String(row[0])).toEqual(expectedCells(row));
    }
    const summary = JSON.parse(result.stdout) as { writes: { skipped: Array<{ id: string }> } };
    expect(summary.writes.skipped.map((s) => s.id).sort()).toEqual(rows.slice(8).map((r) => String(r[0])).sort());
  });

  it('finds rows that moved up past the grid (rows deleted above them) and writes them where they are now', async () => {
    const rows = sampleRows(12);
    // Rows 2–5 go: rows 10–13 are now rows 6–9, and the grid ends at row 9.
    const { b, result } = await runDeletingBeforeLastBatch(rows, 2);
    expect(b.sheets.hookErrors).toEqual([]);
    expect(result.code, result.stderr).toBe(0);

    const values = b.values();
    expect(values.map((row) => row[0])).toEqual(['Project', ...rows.slice(4).map((r) => r[0])]);
    const [verdictCol, suggestionCol] = ['Validation', 'Suggested rewrite'].map((h) => col(values, h));
    // Every surviving row shows its own verdict, the four that moved past the old grid included.
    for (const row of values.slice(1)) {
      expect({ verdict: row[verdictCol ?? -1] ?? '', suggestion: row[suggestionCol ?? -1] ?? '' }, String(row[0])).toEqual(expectedCells(row));
    }
    const summary = JSON.parse(result.stdout) as { writes: { rowsMoved: number; skipped: Array<{ id: string }> } };
    expect(summary.writes.rowsMoved).toBeGreaterThanOrEqual(4);
    const deletedIds = new Set(rows.slice(0, 4).map((r) => String(r[0])));
    for (const s of summary.writes.skipped) expect(deletedIds.has(s.id), s.id).toBe(true);
  });
});
