import { SheetsError } from '../errors.js';
import { a1Range, columnLetter, quoteSheetName, wholeSheet } from './a1.js';
import type { CellValues, SheetsClient } from './client.js';
import { mapHeaders, type Layout, type LayoutConfig } from './layout.js';
import { readEntries, type ReadResult } from './table.js';
import { ChunkSizer, chunkTargetBytes, lastUsedColumnStreamed, readChunks, readRows, type RowChunk } from './chunks.js';

export interface OpenedSheet extends ReadResult {
  /** Where the columns are; output and reviewer headers the tab lacks are planned in `missingHeaders`, not added. */
  layout: Layout;
}

/** How many times the columns planned for new headers are found taken before the run gives up. */
const PLAN_TRIES = 3;

/**
 * Reads the tab in one call and maps its columns. Nothing is written: the output
 * columns missing from the header row are only planned (addMissingHeaders adds them
 * right before the first verdict is written), so that a run that ends with nothing to
 * write (no provider usable, a dry run, no rows) leaves the tab as it was.
 */
export async function openSheet(client: SheetsClient, config: LayoutConfig, preread?: CellValues): Promise<OpenedSheet> {
  const values = preread ?? (await readTab(client, config.sheet));
  const layout = mapHeaders(values[config.headerRow - 1] ?? [], config, lastUsedColumn(values));
  return { ...readEntries(values, layout), layout };
}

/** Rows read in one request and turned into entries (`incomplete` rows are this chunk's). */
export interface ChunkRead extends ReadResult {
  firstRow: number;
  lastRow: number;
  /**
   * Set when the header row read with this chunk no longer maps the columns the run's layout
   * does (a person inserted, moved or renamed a column while the tab was read): the rows are
   * parsed under that header only to be counted as left for the next run, never asked. The
   * text says so, naming the tab. The chunks after it are read the same way.
   */
  unverified?: string;
}

export interface StreamedSheet {
  layout: Layout;
  /** The data rows, chunk after chunk, in row order; each row once (`for await` over either). */
  chunks: AsyncIterable<ChunkRead> | Iterable<ChunkRead>;
  /**
   * Starts reading the rows after the first read, if they are not being read yet: at the
   * latest, they are once the second chunk is asked for. Then one chunk is read ahead of
   * the caller, as between later chunks.
   */
  readonly readAhead: () => void;
}

/**
 * Opens the tab for a streamed read: the header rows with the first rows under them (the
 * layout is mapped from that read), then the rest chunk by chunk as the caller iterates
 * (src/sheets/chunks.ts), each chunk read with the header row in the same call
 * (values.batchGet): a chunk whose header no longer maps the layout's columns is marked
 * `unverified` (the run asks nothing from it; its rows are read next run, under the new
 * header). Values already read (watch's `preread`) are one chunk. Like openSheet, nothing is written.
 */
export async function openStreamed(client: SheetsClient, config: LayoutConfig, options: { preread?: CellValues | undefined; targetBytes?: number } = {}): Promise<StreamedSheet> {
  const preread = options.preread;
  if (preread !== undefined) {
    const layout = mapHeaders(preread[config.headerRow - 1] ?? [], config, lastUsedColumn(preread));
    const only: ChunkRead = { ...readEntries(preread, layout), firstRow: 1, lastRow: preread.length };
    return { layout, chunks: [only], readAhead: () => undefined };
  }
  const sizer = new ChunkSizer(options.targetBytes ?? chunkTargetBytes());
  // The header rows and the first rows under them, in one read; a tab shorter than that
  // comes back clipped to its grid, and its end is known (readRows).
  const asked = config.headerRow + sizer.next();
  const { values: first, gridEnd } = await readFirstRows(client, config.sheet, asked);
  sizer.observe(asked, first);
  const firstLast = gridEnd ?? asked;
  // The output columns are planned after the last used column of this first read; a later
  // row using a column further right is found by addMissingHeaders, which checks the planned
  // columns empty before it adds a header (and plans again, reading chunk by chunk).
  const used = lastUsedColumn(first);
  const layout = mapHeaders(first[config.headerRow - 1] ?? [], config, used);
  const head: ChunkRead = { ...readEntries(first, layout), firstRow: 1, lastRow: firstLast };
  const mapped = columnsOf(layout);
  let rest: AsyncGenerator<RowChunk> | undefined;
  let reading = false;
  const readAhead = (): void => {
    if (reading) return;
    reading = true;
    if (gridEnd === undefined) rest = readChunks(client, config.sheet, firstLast + 1, undefined, sizer, { headerRow: config.headerRow, emptyBefore: firstLast - first.length, lastRowRead: lastHeldRow(first, config.headerRow) });
  };
  async function* all(): AsyncGenerator<ChunkRead> {
    yield head;
    readAhead();
    if (rest === undefined) return;
    let moved: string | undefined;
    for await (const chunk of rest) {
      const under = mapHeaders(chunk.header ?? [], config, used);
      // Not re-mapped mid-run: the writer, the planned headers and the look checks hold the
      // first layout; the rows under a moved header are simply left for the next run, which
      // maps the new header from its first read.
      if (moved === undefined && columnsOf(under) !== mapped) {
        moved = `the columns of "${config.sheet}" changed while it was read (a column inserted, moved or renamed above row ${chunk.firstRow}): rows ${chunk.firstRow} onwards were not checked, and are read next run`;
      }
      yield { ...readEntries(chunk.values, moved === undefined ? layout : under, chunk.firstRow), firstRow: chunk.firstRow, lastRow: chunk.lastRow, ...(moved !== undefined ? { unverified: moved } : {}) };
    }
  }
  return { layout, chunks: all(), readAhead };
}

/** The last data row of a read that holds anything, and its row (the read starts at row 1). */
function lastHeldRow(values: CellValues, headerRow: number): { row: number; cells: string[] } | undefined {
  for (let i = values.length - 1; i >= headerRow; i--) {
    const cells = values[i];
    if (cells !== undefined && cells.length > 0) return { row: i + 1, cells };
  }
  return undefined;
}

/** What a layout maps, as one comparable text: the columns rows are read from and written to, and the headers still missing. */
/**
 * Where the columns a row is read by are: inputs, extras, outputs and reviewer columns, by
 * position. A header still to add counts at the column planned for it, so the bot adding
 * its own output headers there between two chunks (before its first write) changes nothing
 * here; a person's insert, move or rename does.
 */
function columnsOf(layout: Layout): string {
  return JSON.stringify([layout.inputs, layout.extras, layout.outputsInPlace ? layout.outputs : null, layout.review]);
}

/**
 * Adds the headers `layout` planned and the tab still lacks after the last used column of
 * the grid (header or data: a column is taken only when all of it is empty), growing the
 * grid first when the sheet has no room. Returns the headers added.
 */
export async function addMissingHeaders(client: SheetsClient, planned: Layout): Promise<string[]> {
  const config = planned.config;
  let layout = planned;
  // The plan comes from a read that may be minutes old (the run's first read, watch's
  // poll): a person may have started a column where it puts the new headers, or added
  // a header. Those columns are checked empty right before the headers go in (invariant
  // 1); when one is taken, the tab is read again and the headers planned anew.
  for (let tries = 1; layout.missingHeaders.length > 0 && !(await plannedColumnsEmpty(client, config, layout)); tries++) {
    if (tries >= PLAN_TRIES) {
      throw new SheetsError(`The columns where the bot would add its output headers in "${config.sheet}" (after the last used column) kept being filled while the run was writing.`, {
        hint: `Run again once people have finished editing (the answers are kept, not asked again), or add the headers yourself: ${layout.missingHeaders.map((h) => `"${h.header}"`).join(', ')}.`,
      });
    }
    // The header row, and the last used column found chunk by chunk: a large tab is never held whole.
    const header = await client.read(`${quoteSheetName(config.sheet)}!${config.headerRow}:${config.headerRow}`);
    layout = mapHeaders(header[0] ?? [], config, await lastUsedColumnStreamed(client, config.sheet));
  }
  if (layout.missingHeaders.length === 0) return [];
  await addHeaders(client, layout, config);
  return layout.missingHeaders.map((h) => h.header);
}

/** The first rows of the tab; when it does not exist, says which tabs do (one more read, on failure only). */
async function readFirstRows(client: SheetsClient, tab: string, rows: number): ReturnType<typeof readRows> {
  try {
    return await readRows(client, tab, 1, rows);
  } catch (error) {
    if (!(error instanceof SheetsError) || error.status !== 400 || !/tab does not exist|unable to parse range/i.test(error.message)) throw error;
    await client.metadata(tab); // throws the message listing the tabs that exist
    throw error;
  }
}

/** Reads the tab; when it does not exist, says which tabs do (one more read, on failure only). */
async function readTab(client: SheetsClient, tab: string): Promise<CellValues> {
  try {
    return await client.read(wholeSheet(tab));
  } catch (error) {
    if (!(error instanceof SheetsError) || error.status !== 400 || !/tab does not exist/i.test(error.message)) throw error;
    await client.metadata(tab); // throws the message listing the tabs that exist
    throw error;
  }
}

/** The rightmost column with a value in any row (the read is trimmed of trailing empty cells). */
export function lastUsedColumn(values: CellValues): number {
  let last = 0;
  for (const row of values) if (row.length > last) last = row.length;
  return last;
}

/** Whether the whole columns planned for the missing headers are still empty (one read of just those columns). */
async function plannedColumnsEmpty(client: SheetsClient, config: LayoutConfig, layout: Layout): Promise<boolean> {
  const columns = layout.missingHeaders.map((h) => h.column);
  const first = columnLetter(Math.min(...columns));
  const last = columnLetter(Math.max(...columns));
  try {
    const found = await client.read(`${quoteSheetName(config.sheet)}!${first}:${last}`);
    return found.every((row) => row.every((cell) => cell.trim() === ''));
  } catch (error) {
    // Columns past the grid do not exist yet: empty (Sheets answers 400 "exceeds grid limits").
    if (error instanceof SheetsError && /exceeds grid limits/i.test(error.message)) return true;
    throw error;
  }
}

async function addHeaders(client: SheetsClient, layout: Layout, config: LayoutConfig): Promise<void> {
  let first = Infinity;
  let rightmost = 0;
  for (const { column } of layout.missingHeaders) {
    first = Math.min(first, column);
    rightmost = Math.max(rightmost, column);
  }
  // Missing headers are planned on consecutive columns, so one range covers them.
  const headers = [
    {
      range: a1Range(config.sheet, { row: config.headerRow, column: first }, { row: config.headerRow, column: rightmost }),
      values: [layout.missingHeaders.map((h) => h.header)],
    },
  ];
  try {
    // Most tabs have room (new ones have 26 columns): try first, grow only when refused.
    await client.write(headers);
  } catch (error) {
    if (!(error instanceof SheetsError) || !/exceeds grid limits/i.test(error.message)) throw error;
    await growColumnsTo(client, config.sheet, rightmost);
    await client.write(headers);
  }
}

/** Widens a tab's grid to at least `columns` columns (Sheets refuses a write past the grid). */
export async function growColumnsTo(client: SheetsClient, tab: string, columns: number): Promise<void> {
  const meta = await client.metadata(tab);
  if (columns > meta.columnCount) await client.appendDimension(meta.sheetId, 'COLUMNS', columns - meta.columnCount);
}
