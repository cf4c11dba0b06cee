import { pushTo } from '../collections.js';
import { SheetsError } from '../errors.js';
import { quoteSheetName, wholeSheet } from './a1.js';
import type { CellValues, SheetsClient } from './client.js';
import { locateColumns, type Columns, type Layout, type LostHeader } from './layout.js';
import { rowFingerprint } from './table.js';
import type { PendingWrite, SkippedWrite } from './writer.js';

/**
 * Rows between two rows of a write read with them rather than cut into two ranges: a
 * row read for nothing costs its cells, a range more about 25 characters of request.
 */
const GAP_READ = 4;

/** One write attempt's view of the tab: where its columns and rows are now. */
export interface Located {
  /** The writes with their current row numbers. */
  placed: PendingWrite[];
  skipped: SkippedWrite[];
  /** Rows found at another position than when read. */
  moved: number;
  columns: Columns;
  /** The target's own ranges, read in the same call. */
  extra: CellValues[];
  /** Every identity's rows, when the whole tab had to be read: fixes the positions of later writes. */
  where?: Map<string, number[]>;
  /** For each placed write, its index in the batch (placed writes keep the batch's order). */
  from: number[];
  /** About how many bytes of cells the identity read brought for the batch's rows (the whole tab's, when it had to be read). */
  readBytes: number;
}

/**
 * Re-identifies the rows of a batch right before one write attempt (invariant 1). One
 * read call brings the header row, the batch's rows (whole rows: the columns may have
 * moved) and the target's ranges; the columns are found again by header in it, and each
 * row by its identity. Rows not where they were are looked up in one read of the whole
 * tab, which then decides the columns too (a person may have edited in between).
 */
export async function locate(client: SheetsClient, layout: Layout, batch: readonly PendingWrite[], extraRanges: readonly string[]): Promise<Located | { lost: LostHeader }> {
  const { runs, results } = await readRuns(client, layout, rowRuns(batch), extraRanges);
  const extra = results.slice(1 + runs.length);
  const found = locateColumns(results[0]?.[0] ?? [], layout.config);
  if ('lost' in found) return found;
  const { columns } = found;
  const byRow = new Map<number, readonly string[]>();
  let readBytes = 0;
  runs.forEach(([first], i) => {
    (results[1 + i] ?? []).forEach((cells, offset) => {
      byRow.set(first + offset, cells);
      readBytes += cellBytes(cells);
    });
  });

  const placed: PendingWrite[] = [];
  for (const write of batch) {
    if (rowFingerprint(byRow.get(write.row) ?? [], columns) !== write.fingerprint) return relocate(client, layout, batch, extra);
    placed.push(write);
  }
  return { placed, skipped: [], moved: 0, columns, extra, from: placed.map((_, i) => i), readBytes };
}

/**
 * One read of the header row, the runs of rows and the extra ranges. A run that starts
 * past the grid's last row makes Google refuse the whole read (400 "Range ('Tab'!10:13)
 * exceeds grid limits. Max rows: 9, …"): a person deleted the tab's last rows, on a tab
 * whose grid ends with its data (an import, a form's responses, values.append). The grid's
 * row count is then learned (one metadata call) and only the runs within it read again;
 * the rows past it are not in the answer, so they fail the identity check and are looked
 * for in the whole tab (relocate): moved up when rows above them went, or skipped as
 * vanished (invariant 1). Runs are cut, never the check.
 */
async function readRuns(client: SheetsClient, layout: Layout, wanted: Array<[number, number]>, extraRanges: readonly string[]): Promise<{ runs: Array<[number, number]>; results: CellValues[] }> {
  const tab = quoteSheetName(layout.sheet);
  const header = `${tab}!${layout.headerRow}:${layout.headerRow}`;
  let runs = wanted;
  for (;;) {
    try {
      const results = await client.readMany([header, ...runs.map(([first, last]) => `${tab}!${first}:${last}`), ...extraRanges]);
      return { runs, results };
    } catch (error) {
      if (!(error instanceof SheetsError) || !/exceeds grid limits/i.test(error.message)) throw error;
      const rowCount = (await client.metadata(layout.sheet)).rowCount;
      // Every run already within the grid: the refusal is about another range (the header, the target's), not deleted rows.
      if (runs.every(([, last]) => last <= rowCount)) throw error;
      runs = runs.filter(([first]) => first <= rowCount).map(([first, last]): [number, number] => [first, Math.min(last, rowCount)]);
    }
  }
}

/** The batch's rows as runs [first, last] of rows read together (gaps of up to GAP_READ rows are read too), in order. */
export function rowRuns(batch: readonly PendingWrite[]): Array<[number, number]> {
  const rows = [...new Set(batch.map((w) => w.row))].sort((a, b) => a - b);
  const runs: Array<[number, number]> = [];
  for (const row of rows) {
    const last = runs.at(-1);
    if (last && row - last[1] <= GAP_READ + 1) last[1] = row;
    else runs.push([row, row]);
  }
  return runs;
}

/**
 * About what a row's cells weigh in a values response: its UTF-8 bytes and the JSON around
 * each cell. Counted in bytes, not UTF-16 units: a CJK character is one unit but three
 * bytes on the wire, and a read sized from units would answer three times its cap.
 */
export function cellBytes(cells: readonly string[]): number {
  let bytes = 2;
  // Buffer.byteLength counts without encoding (a lone surrogate as U+FFFD's 3 bytes, as sent); measured faster than a scan in JS, ~30 ns a short cell.
  for (const cell of cells) bytes += Buffer.byteLength(cell, 'utf8') + 3;
  return bytes;
}

/** Some rows are not where they were: read the whole tab once and find every row of the batch in it. */
async function relocate(client: SheetsClient, layout: Layout, batch: readonly PendingWrite[], extra: CellValues[]): Promise<Located | { lost: LostHeader }> {
  const values = await client.read(wholeSheet(layout.sheet));
  const found = locateColumns(values[layout.headerRow - 1] ?? [], layout.config);
  if ('lost' in found) return found;
  const { columns } = found;
  const where = new Map<string, number[]>();
  for (let index = layout.headerRow; index < values.length; index++) pushTo(where, rowFingerprint(values[index] ?? [], columns), index + 1);
  const placed: PendingWrite[] = [];
  const from: number[] = [];
  const skipped: SkippedWrite[] = [];
  const taken = new Set<number>();
  let moved = 0;
  let readBytes = 0;
  for (const cells of values) readBytes += cellBytes(cells);
  for (const [index, write] of batch.entries()) {
    const rows = (where.get(write.fingerprint) ?? []).filter((row) => !taken.has(row));
    // Still in its place (even with a twin elsewhere), or found in exactly one other place.
    const row = rows.includes(write.row) ? write.row : rows.length === 1 ? rows[0] : undefined;
    if (row !== undefined) {
      if (row !== write.row) moved++;
      placed.push(row === write.row ? { ...write } : { ...write, readRow: write.readRow ?? write.row, row });
      from.push(index);
      taken.add(row);
    } else {
      const reason =
        rows.length === 0
          ? 'the row was edited or deleted during the run; it will be checked again on the next run'
          : `${rows.length} rows now have the same id and inputs; not guessing which one, will retry on the next run`;
      skipped.push({ row: write.readRow ?? write.row, id: write.id, reason });
    }
  }
  return { placed, skipped, moved, columns, extra, where, from, readBytes };
}
