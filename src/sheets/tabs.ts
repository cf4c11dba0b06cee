import { SheetsError } from '../errors.js';
import { a1Range, columnLetter, quoteSheetName } from './a1.js';
import type { CellValues, SheetsClient } from './client.js';
import { headerPositions, normalizeHeader } from './layout.js';
import { growColumnsTo, lastUsedColumn } from './open.js';

/**
 * Appends rows to a tab the bot owns (run history), creating the tab with its header row
 * the first time. `rows` are aligned with `header`; each cell goes under its header's
 * text in the tab's row 1, wherever that is: a tab made by an older version (fewer
 * columns) or whose columns people moved or added keeps every value in its own column.
 * A header the tab lacks is added after its last used column (a column wholly empty),
 * never over a person's cells; a header found twice stops the append (which column is
 * the bot's cannot be told), with a message saying so.
 */
export interface AppendOptions {
  /**
   * The header of a column whose cell tells each appended row apart (the Runs tab's "Run
   * id"). With it, an append whose answer was lost (a reset connection, a 503 after the
   * rows went in) is not made again blindly: before each retry the column is read, and
   * rows already there are not appended twice. Without it, an append is tried once.
   */
  identity?: string;
  /** Internal: the tab was found created by another run meanwhile. */
  retried?: boolean;
}

export async function appendToOwnTab(client: SheetsClient, tab: string, header: string[], rows: string[][], options: AppendOptions = {}): Promise<void> {
  const range = quoteSheetName(tab);
  let top: CellValues;
  try {
    top = await client.read(`${range}!1:1`);
  } catch (error) {
    if (!missingTab(error)) throw error;
    try {
      await client.addTab(tab);
    } catch (adding) {
      // Another run (a target sharing this tab) created it meanwhile: append to it as it now is.
      if (options.retried || !(adding instanceof SheetsError) || !/already exists/i.test(adding.message)) throw adding;
      return appendToOwnTab(client, tab, header, rows, { ...options, retried: true });
    }
    await headerThenRows(client, tab, header, rows, options.identity);
    return;
  }
  let columns = columnsOf(tab, top[0] ?? [], header);
  if (columns.includes(undefined)) {
    // Some header is missing: the whole tab says which columns are free (one more read, only now).
    const values = await client.read(range);
    if (values.every((row) => row.every((cell) => cell.trim() === ''))) {
      await headerThenRows(client, tab, header, rows, options.identity);
      return;
    }
    columns = columnsOf(tab, values[0] ?? [], header);
    let next = lastUsedColumn(values) + 1;
    const added: Array<{ text: string; column: number }> = [];
    columns = columns.map((column, i) => {
      if (column !== undefined) return column;
      added.push({ text: header[i] ?? '', column: next });
      return next++;
    });
    await growColumnsTo(client, tab, next - 1);
    await client.write(added.map((a) => ({ range: a1Range(tab, { row: 1, column: a.column }), values: [[a.text]] })));
  }
  const at = columns as number[];
  const width = Math.max(0, ...at);
  const placed = rows.map((row) => {
    // Cells of columns that are not the bot's stay '' in the new row: it is inserted, so nothing is overwritten.
    const cells = Array<string>(width).fill('');
    row.forEach((value, i) => {
      const column = at[i];
      if (column !== undefined) cells[column - 1] = value;
    });
    return cells;
  });
  await appendOnce(client, tab, placed, identityOf(header, at, rows, options.identity));
}

/** Where each row's identity goes (its column in the tab) and the rows' values there. */
function identityOf(header: readonly string[], columns: readonly number[], rows: readonly string[][], identity: string | undefined): { column: number; values: string[] } | undefined {
  if (identity === undefined) return undefined;
  const i = header.findIndex((h) => normalizeHeader(h) === normalizeHeader(identity));
  const column = columns[i];
  if (i < 0 || column === undefined) return undefined;
  const values = rows.map((row) => (row[i] ?? '').trim());
  // Rows that cannot be told apart cannot be looked for.
  return values.every((v) => v !== '') ? { column, values } : undefined;
}

/**
 * Appends rows once. A retryable failure may come after the rows went in (the answer
 * lost): the identity column is read before each retry, and rows found there are
 * appended no more. Without an identity the client retries as for any call, which may
 * add a row twice when an answer is lost.
 */
async function appendOnce(client: SheetsClient, tab: string, rows: string[][], identity: { column: number; values: string[] } | undefined): Promise<void> {
  const range = quoteSheetName(tab);
  if (!identity) return client.append(range, rows);
  const letter = columnLetter(identity.column);
  for (let attempt = 0; ; attempt++) {
    try {
      await client.append(range, rows, { retry: false });
      return;
    } catch (error) {
      if (!(await client.retryPause('write', error, attempt))) throw error;
      const present = new Set((await client.read(`${range}!${letter}:${letter}`)).map((row) => (row[0] ?? '').trim()));
      if (identity.values.every((v) => present.has(v))) return;
    }
  }
}

/**
 * A new or empty tab: the header goes to row 1 at its place (not appended), so that two runs
 * creating the tab at once (targets sharing it) write the same header to the same cells,
 * and their rows are appended after it.
 */
async function headerThenRows(client: SheetsClient, tab: string, header: string[], rows: string[][], identity: string | undefined): Promise<void> {
  // A new tab is 26 columns wide (addSheet's default grid): a longer header needs the room first.
  if (header.length > 26) await growColumnsTo(client, tab, header.length);
  await client.write([{ range: a1Range(tab, { row: 1, column: 1 }, { row: 1, column: header.length }), values: [header] }]);
  await appendOnce(client, tab, rows, identityOf(header, header.map((_, i) => i + 1), rows, identity));
}

/** Each header's column (1-based) in a header row, undefined when absent; a header found twice is an error. */
export function columnsOf(tab: string, row: readonly string[], header: readonly string[]): Array<number | undefined> {
  const positions = headerPositions(row);
  return header.map((text) => {
    const found = positions.get(normalizeHeader(text)) ?? [];
    if (found.length > 1) {
      throw new SheetsError(`The "${tab}" tab has the header "${text}" ${found.length} times in row 1 (columns ${found.map(columnLetter).join(', ')}), so which column is the bot's cannot be told.`, {
        hint: `Rename or clear the extra "${text}" header in the "${tab}" tab; the runs are kept in the cache meanwhile (status-validator runs lists them).`,
      });
    }
    return found[0];
  });
}

const missingTab = (error: unknown) => error instanceof SheetsError && /Unable to parse range|tab does not exist/i.test(error.message);

/**
 * Replaces the whole content of a tab the bot owns (published rules), creating it
 * the first time. Never used on a tab people edit.
 */
export async function replaceOwnTab(client: SheetsClient, tab: string, rows: string[][]): Promise<void> {
  try {
    await client.clear(quoteSheetName(tab));
  } catch (error) {
    if (!missingTab(error)) throw error;
    await client.addTab(tab);
  }
  const width = rows.reduce((w, r) => Math.max(w, r.length), 0);
  await client.write([{ range: `${quoteSheetName(tab)}!A1`, values: rows.map((r) => [...r, ...Array<string>(width - r.length).fill('')]) }]);
}
