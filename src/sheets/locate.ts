import { pushTo } from '../collections.js';
import { quoteSheetName, wholeSheet } from './a1.js';
import type { CellValues, SheetsClient } from './client.js';
import { locateColumns, type Columns, type Layout, type LostHeader } from './layout.js';
import { rowFingerprint } from './table.js';
import type { PendingWrite, SkippedWrite } from './writer.js';

/** Above this many rows between the first and last row of a batch, small batches re-read rows one range each. */
const SPARSE_SPAN = 2000;
/** Up to this many rows a batch may be re-read as one range per row (the ranges go in the URL). */
const SPARSE_ROWS = 100;

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
}

/**
 * Re-identifies the rows of a batch right before one write attempt (invariant 1). One
 * read call brings the header row, the batch's rows (whole rows: the columns may have
 * moved) and the target's ranges; the columns are found again by header in it, and each
 * row by its identity. Rows not where they were are looked up in one read of the whole
 * tab, which then decides the columns too (a person may have edited in between).
 */
export async function locate(client: SheetsClient, layout: Layout, batch: readonly PendingWrite[], extraRanges: readonly string[]): Promise<Located | { lost: LostHeader }> {
  const tab = quoteSheetName(layout.sheet);
  let low = Infinity;
  let high = 0;
  for (const write of batch) {
    low = Math.min(low, write.row);
    high = Math.max(high, write.row);
  }
  const sparse = high - low > SPARSE_SPAN && batch.length <= SPARSE_ROWS;
  const rowRanges = sparse ? batch.map((w) => `${tab}!${w.row}:${w.row}`) : [`${tab}!${low}:${high}`];
  const header = `${tab}!${layout.headerRow}:${layout.headerRow}`;
  const results = await client.readMany([header, ...rowRanges, ...extraRanges]);
  const extra = results.slice(1 + rowRanges.length);
  const found = locateColumns(results[0]?.[0] ?? [], layout.config);
  if ('lost' in found) return found;
  const { columns } = found;
  const byRow = new Map<number, readonly string[]>();
  if (sparse) batch.forEach((w, i) => byRow.set(w.row, results[1 + i]?.[0] ?? []));
  const dense = sparse ? [] : (results[1] ?? []);
  const current = (row: number): readonly string[] => (sparse ? (byRow.get(row) ?? []) : (dense[row - low] ?? []));

  const placed: PendingWrite[] = [];
  for (const write of batch) {
    if (rowFingerprint(current(write.row), columns) !== write.fingerprint) return relocate(client, layout, batch, extra);
    placed.push(write);
  }
  return { placed, skipped: [], moved: 0, columns, extra };
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
  const skipped: SkippedWrite[] = [];
  const taken = new Set<number>();
  let moved = 0;
  for (const write of batch) {
    const rows = (where.get(write.fingerprint) ?? []).filter((row) => !taken.has(row));
    // Still in its place (even with a twin elsewhere), or found in exactly one other place.
    const row = rows.includes(write.row) ? write.row : rows.length === 1 ? rows[0] : undefined;
    if (row !== undefined) {
      if (row !== write.row) moved++;
      placed.push(row === write.row ? { ...write } : { ...write, readRow: write.readRow ?? write.row, row });
      taken.add(row);
    } else {
      const reason =
        rows.length === 0
          ? 'the row was edited or deleted during the run; it will be checked again on the next run'
          : `${rows.length} rows now have the same id and inputs; not guessing which one, will retry on the next run`;
      skipped.push({ row: write.readRow ?? write.row, id: write.id, reason });
    }
  }
  return { placed, skipped, moved, columns, extra, where };
}
