import { pushTo } from '../collections.js';
import { SheetsError } from '../errors.js';
import { quoteSheetName } from './a1.js';
import { ChunkSizer, chunkTargetBytes, readChunks } from './chunks.js';
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
export async function locate(client: SheetsClient, layout: Layout, batch: readonly PendingWrite[], extraRanges: readonly string[], alsoWanted: () => Iterable<string> = () => []): Promise<Located | { lost: LostHeader }> {
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
    if (rowFingerprint(byRow.get(write.row) ?? [], columns) !== write.fingerprint) return relocate(client, layout, batch, extra, alsoWanted());
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

/** How many times a search for moved rows starts again when the header changed while it read the tab in chunks. */
const SEARCH_TRIES = 2;

/**
 * Some rows are not where they were: the tab is read again, in chunks (a tab `run` reads
 * in chunks is too large for one read: Google times out a request after 180 s and
 * recommends 2 MB a payload, https://developers.google.com/sheets/api/limits), and every
 * row of the batch found by its identity. Only the identities asked for (the batch's and
 * those of the writes still pending) are kept, so that memory stays flat in the tab's
 * size. The header row is read again after the last chunk: a column moved meanwhile means
 * the rows were matched with stale columns, and the search starts again.
 */
async function relocate(client: SheetsClient, layout: Layout, batch: readonly PendingWrite[], extra: CellValues[], alsoWanted: Iterable<string>): Promise<Located | { lost: LostHeader }> {
  const wanted = new Set(batch.map((w) => w.fingerprint));
  for (const fingerprint of alsoWanted) wanted.add(fingerprint);
  for (let tries = 1; ; tries++) {
    const search = await searchTab(client, layout, wanted);
    if ('lost' in search) return search;
    const again = locateColumns((await client.read(`${quoteSheetName(layout.sheet)}!${layout.headerRow}:${layout.headerRow}`))[0] ?? [], layout.config);
    if ('lost' in again) return again;
    if (sameColumns(again.columns, search.columns)) return place(batch, search, extra);
    if (tries >= SEARCH_TRIES) {
      // Columns kept moving while the tab was read: nothing of the batch is written this attempt's way.
      return { placed: [], skipped: batch.map((w) => ({ row: w.readRow ?? w.row, id: w.id, reason: 'the columns moved while the bot looked for the row; it will be checked again on the next run' })), moved: 0, columns: again.columns, extra, where: new Map(), from: [], readBytes: search.readBytes };
    }
  }
}

/** One pass over the tab in chunks: its columns (from the header in the first chunk) and where each wanted identity is. */
async function searchTab(client: SheetsClient, layout: Layout, wanted: ReadonlySet<string>): Promise<{ columns: Columns; where: Map<string, number[]>; readBytes: number } | { lost: LostHeader }> {
  const where = new Map<string, number[]>();
  let found: { columns: Columns } | { lost: LostHeader } | undefined;
  let readBytes = 0;
  for await (const chunk of readChunks(client, layout.sheet, 1, undefined, new ChunkSizer(chunkTargetBytes()))) {
    chunk.values.forEach((cells, offset) => {
      readBytes += cellBytes(cells);
      const row = chunk.firstRow + offset;
      if (row === layout.headerRow) found = locateColumns(cells, layout.config);
      else if (row > layout.headerRow && found !== undefined && !('lost' in found)) {
        const fingerprint = rowFingerprint(cells, found.columns);
        if (wanted.has(fingerprint)) pushTo(where, fingerprint, row);
      }
    });
    // The header row is in the first chunk (it holds at least the rows up to it): without it, nothing below can be matched.
    if (found === undefined || 'lost' in found) break;
  }
  // A tab emptied down to its header row (the read trimmed it away): the header is what the empty row says.
  found ??= locateColumns([], layout.config);
  if ('lost' in found) return found;
  return { columns: found.columns, where, readBytes };
}

function sameColumns(a: Columns, b: Columns): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Places each write of the batch where its identity was found: still in its place, or in exactly one other. */
function place(batch: readonly PendingWrite[], search: { columns: Columns; where: Map<string, number[]>; readBytes: number }, extra: CellValues[]): Located {
  const { columns, where, readBytes } = search;
  const placed: PendingWrite[] = [];
  const from: number[] = [];
  const skipped: SkippedWrite[] = [];
  const taken = new Set<number>();
  let moved = 0;
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
