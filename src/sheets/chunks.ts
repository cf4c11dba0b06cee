import { SheetsError } from '../errors.js';
import { quoteSheetName } from './a1.js';
import type { CellValues, SheetsClient } from './client.js';

/**
 * What one read of rows aims to stay under. Google recommends "a 2 MB maximum payload"
 * (Sheets API "Usage limits", https://developers.google.com/sheets/api/limits) and times
 * out a request it processes for more than 180 seconds (same page): a tab is read in
 * chunks of rows, each sized from the bytes per row seen so far to answer within this.
 * The margin below 2 MB absorbs rows denser than any seen before.
 */
export const CHUNK_TARGET_BYTES = 1_500_000;
/** The first read's rows (the header rows come on top): small, since nothing is known of the rows yet. */
export const FIRST_CHUNK_ROWS = 1_000;
/** The bytes a row is guessed to weigh before any is read: a wide row, so that the first read stays within a small target too. */
const GUESSED_ROW_BYTES = 1_500;
/** However sparse the rows, one read asks for at most this many: a stretch of empty rows must not make the next read huge when the data resumes. */
export const MAX_CHUNK_ROWS = 50_000;
/**
 * Over an empty stretch (a read that came back with no rows, or the empty rows trailing a
 * read) the next read asks for this many times the empty rows just crossed: empty rows cost
 * no payload, and a tab of 10 rows on a 1,000,000-row grid (what an import or "add 1000
 * rows" leaves) is then read to its end in four reads, not a hundred (the read quota is 60
 * a minute per user, https://developers.google.com/sheets/api/limits).
 */
const EMPTY_GROWTH = 16;
/**
 * The bound on such a read, in normal chunks (the rows that fit the target at the densest
 * rows seen, at most MAX_CHUNK_ROWS): what a dense resumption can cost. Should the data
 * resume, as dense as any row seen, right where a grown read starts, its answer weighs at
 * most this many targets (128 × 1.5 MB ≈ 190 MB) — the price of crossing a long empty
 * stretch in a few reads instead of one read per chunk of emptiness (a 1,000,000-row grid of
 * short rows needs about that many rows in its last of four reads). A stretch shorter than
 * 8 chunks is crossed by reads of at most 16× its length, so only a dense block right after
 * thousands of empty rows can make one answer that large; should it pass Sheets' 180-second
 * deadline (same page), the read fails as the whole-tab read did.
 */
const EMPTY_CHUNKS_MAX = 128;
/** However long the empty stretch, a read asks for at most this many rows. */
export const MAX_EMPTY_CHUNK_ROWS = 1_000_000;

/** The target a test may shrink (STATUS_VALIDATOR_READ_CHUNK_BYTES), so that a small sheet is read in many chunks. */
export function chunkTargetBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['STATUS_VALIDATOR_READ_CHUNK_BYTES'];
  if (raw === undefined || raw.trim() === '') return CHUNK_TARGET_BYTES;
  const bytes = Number(raw);
  if (!Number.isInteger(bytes) || bytes < 1) throw new RangeError(`STATUS_VALIDATOR_READ_CHUNK_BYTES must be a whole number of bytes ≥ 1, got "${raw}"`);
  return bytes;
}

/** About what the rows weigh in a values.get answer (JSON: quotes, commas, brackets). */
export function valuesBytes(values: CellValues): number {
  let bytes = 0;
  for (const row of values) {
    bytes += 3;
    for (const cell of row) bytes += Buffer.byteLength(cell) + 3;
  }
  return bytes;
}

/**
 * How many rows the next read asks for: as many as fit the target at the densest bytes
 * per row seen so far (a sparse stretch never loosens it), at most twice the last read
 * (a guess grows step by step, never in one leap), and at most `maxRows`.
 */
export class ChunkSizer {
  /** The most bytes per returned row of any read so far (0 while every read came back empty). */
  private densest = 0;
  /** Rows the last read asked for; 0 before the first. */
  private last = 0;
  private readonly first: number;

  constructor(
    private readonly targetBytes: number = CHUNK_TARGET_BYTES,
    private readonly maxRows: number = MAX_CHUNK_ROWS,
    first: number = Math.max(1, Math.min(FIRST_CHUNK_ROWS, Math.floor(targetBytes / GUESSED_ROW_BYTES))),
  ) {
    if (!(targetBytes >= 1)) throw new RangeError(`targetBytes must be ≥ 1, got ${targetBytes}`);
    if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError(`maxRows must be a whole number ≥ 1, got ${maxRows}`);
    if (!Number.isInteger(first) || first < 1) throw new RangeError(`first must be a whole number ≥ 1, got ${first}`);
    this.first = Math.min(first, maxRows);
  }

  /** The rows of the next read (≥ 1). */
  next(): number {
    if (this.last === 0) return this.first;
    const fit = this.densest > 0 ? Math.floor(this.targetBytes / this.densest) : Infinity;
    return Math.max(1, Math.min(this.maxRows, fit, this.last * 2));
  }

  /** A read asked for `asked` rows and got `values` (trailing empty rows trimmed, as values.get does). */
  observe(asked: number, values: CellValues): void {
    this.last = asked;
    if (values.length === 0) return;
    this.densest = Math.max(this.densest, valuesBytes(values) / values.length);
  }
}

/** Rows read in one request: `values[i]` is sheet row `firstRow + i`; rows from `firstRow + values.length` to `lastRow` are empty. */
export interface RowChunk {
  firstRow: number;
  lastRow: number;
  values: CellValues;
  /** The header row, read in the same call as the rows (when readChunks was given a header row): the columns the rows were read under. */
  header?: string[];
}

/** The last row of an A1 range as Sheets echoes it ("'Tab'!A1:J1000" → 1000); undefined when it names none. */
export function lastRowOf(range: string | undefined): number | undefined {
  const cells = range?.slice(range.lastIndexOf('!') + 1) ?? '';
  const end = /(?::[A-Z]*|^[A-Z]*)(\d+)$/i.exec(cells);
  return end?.[1] === undefined ? undefined : Number(end[1]);
}

/**
 * Reads rows `from`..`to` (1-based, inclusive) of a tab in one request. `gridEnd`: the
 * grid's last row when the request reached past it (Sheets clips the range it echoes to
 * the grid), else undefined.
 */
export async function readRows(client: SheetsClient, tab: string, from: number, to: number): Promise<{ values: CellValues; gridEnd: number | undefined }> {
  const { values, range } = await client.readRange(`${quoteSheetName(tab)}!${from}:${to}`);
  const last = lastRowOf(range);
  return { values, gridEnd: last !== undefined && last < to ? last : undefined };
}

/**
 * Reads the header row and rows `from`..`to` in one values.batchGet: the rows and the header
 * they are parsed under come from one call, as the whole-tab read's did (a column a person
 * inserts between two chunk reads is seen in the header read with the rows it moved).
 */
export async function readRowsUnder(client: SheetsClient, tab: string, headerRow: number, from: number, to: number): Promise<{ values: CellValues; gridEnd: number | undefined; header: string[] }> {
  const [header, rows] = await client.readRanges([`${quoteSheetName(tab)}!${headerRow}:${headerRow}`, `${quoteSheetName(tab)}!${from}:${to}`]);
  const last = lastRowOf(rows?.range);
  return { values: rows?.values ?? [], gridEnd: last !== undefined && last < to ? last : undefined, header: header?.values[0] ?? [] };
}

/**
 * Reads rows `from` to the end of the grid in chunks the sizer sizes. Where the tab ends
 * is the grid's (`rowCount` when known, else the clipped range of the read that reached
 * it, else the tab's metadata when a read starts past it): never guessed from a short
 * answer, since values.get trims trailing empty rows and a sheet may have long empty
 * stretches. The next chunk is read while the caller works on the current one (one read
 * ahead, no more: the rows held stay bounded). A grid that shrank meanwhile (rows
 * deleted) ends the reading where it now ends.
 */
export function readChunks(
  client: SheetsClient,
  tab: string,
  from: number,
  rowCount: number | undefined,
  sizer: ChunkSizer,
  options: { headerRow?: number; emptyBefore?: number; lastRowRead?: { row: number; cells: readonly string[] } | undefined } = {},
): AsyncGenerator<RowChunk> {
  let end = rowCount ?? Infinity;
  // The empty rows just crossed (trailing the last read, or whole empty reads): the next read grows over them (EMPTY_GROWTH).
  let empty = options.emptyBefore ?? 0;
  const headerRow = options.headerRow;
  // With the header row (a run's read): the last row read that held anything, and where.
  // Each read starts at that row (the empty rows under it cost no payload): found further
  // down, it says rows were inserted above meanwhile, and the rows it was followed by before
  // (already read, now shifted down) are not read twice. Not found (the row edited, rows
  // deleted above, or more rows inserted than the read holds): the rows are taken from
  // where the last read ended, as without it.
  let remembered = headerRow === undefined ? undefined : options.lastRowRead;
  const fetch = async (from: number): Promise<RowChunk | undefined> => {
    for (;;) {
      if (from > end) return undefined;
      const start = remembered !== undefined && remembered.row < from && from - remembered.row <= MAX_CHUNK_ROWS ? remembered.row : from;
      const normal = sizer.next();
      const rows = empty > 0 ? Math.max(normal, Math.min(MAX_EMPTY_CHUNK_ROWS, EMPTY_CHUNKS_MAX * normal, EMPTY_GROWTH * empty)) : normal;
      const last = Math.min(end, from + rows - 1);
      try {
        const read: { values: CellValues; gridEnd: number | undefined; header?: string[] } = headerRow === undefined ? await readRows(client, tab, start, last) : await readRowsUnder(client, tab, headerRow, start, last);
        if (read.gridEnd !== undefined) end = read.gridEnd;
        const lastRow = Math.min(last, end);
        // Where the last row held was read before, if it still holds what it held then (see above).
        const at = start === from || remembered === undefined ? -1 : indexOfRow(read.values, remembered.cells);
        const skip = at >= 0 ? at + 1 : from - start;
        const values = read.values.slice(skip);
        const firstRow = start + skip;
        // Sized on the rows new to this read: the row read again is no measure of what follows.
        sizer.observe(last - from + 1, values);
        const span = Math.max(0, lastRow - firstRow + 1);
        empty = values.length === 0 ? empty + span : span - values.length;
        if (headerRow !== undefined) {
          const lastHeld = values.findLastIndex((row) => row.length > 0);
          const cells = values[lastHeld];
          if (cells !== undefined) remembered = { row: firstRow + lastHeld, cells };
        }
        return { firstRow, lastRow, values, ...(read.header !== undefined ? { header: read.header } : {}) };
      } catch (error) {
        if (!(error instanceof SheetsError) || !/exceeds grid limits/i.test(error.message)) throw error;
        const now = (await client.metadata(tab)).rowCount;
        if (now >= end || now >= last) throw error;
        end = now;
      }
    }
  };
  // The first read starts now, not when the caller first asks: a caller still working on rows
  // it read itself (openStreamed's first read) has the next chunk read meanwhile, one ahead as
  // later. Before, a run's second chunk was read only once its first was answered: every
  // worker stood idle for that read (bench B1).
  const first = fetch(from);
  first.catch(() => undefined);
  return (async function* chunks(): AsyncGenerator<RowChunk> {
    let next = first;
    for (;;) {
      const chunk = await next;
      if (chunk === undefined) return;
      next = fetch(chunk.lastRow + 1);
      // A read ahead that fails while the caller works is seen when its turn comes, not as an unhandled rejection.
      next.catch(() => undefined);
      yield chunk;
    }
  })();
}

/** Where a row read before is among `values` (same cells, trailing empty cells ignored), or -1. */
function indexOfRow(values: CellValues, row: readonly string[]): number {
  const trimmed = (cells: readonly string[]): number => {
    let n = cells.length;
    while (n > 0 && cells[n - 1] === '') n--;
    return n;
  };
  const length = trimmed(row);
  return values.findIndex((cells) => trimmed(cells) === length && row.slice(0, length).every((cell, i) => cells[i] === cell));
}

/**
 * The rightmost column with a value in any row, read chunk by chunk (nothing kept but the
 * count): where the bot may add its output headers on a tab too large to hold at once.
 */
export async function lastUsedColumnStreamed(client: SheetsClient, tab: string, targetBytes: number = CHUNK_TARGET_BYTES): Promise<number> {
  let last = 0;
  for await (const chunk of readChunks(client, tab, 1, undefined, new ChunkSizer(targetBytes))) {
    for (const row of chunk.values) if (row.length > last) last = row.length;
  }
  return last;
}
