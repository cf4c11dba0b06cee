import { Mutex } from 'async-mutex';
import { SheetsError } from '../errors.js';
import { a1Range, columnLetter, quoteSheetName, sameTab } from './a1.js';
import type { CellValues, SheetsClient, ValueRange } from './client.js';
import { OUTPUT_FIELDS, headerPositions, normalizeHeader, type Columns, type LostHeader, type OutputField } from './layout.js';
import { lastUsedColumn } from './open.js';
import { LineIndex, showResults, sourceLink, type ResultLine } from './result-lines.js';
import type { Entry } from './table.js';
import type { Built, PendingWrite, WriteTarget } from './writer.js';

export const SOURCE_ROW_HEADER = 'Source row';

export interface ResultsTabConfig {
  spreadsheetId: string;
  /** The results tab. */
  tab: string;
  /** The data tab, linked to from each result. */
  sourceTab: string;
  /** Header of the id column (the same as the data tab's). */
  idHeader: string;
  outputs: Record<OutputField, string>;
}

/**
 * The process's writers to one results tab take turns: creating the tab and its headers
 * (prepare), and each write attempt. Across processes the append (below) is what keeps
 * lines apart; in one process the turn also spares a second read of a tab just created.
 */
const turns = new Map<string, Mutex>();
function turnOf(spreadsheetId: string, tab: string): Mutex {
  const key = `${spreadsheetId}\u0000${tab.trim().toLocaleLowerCase()}`;
  let mutex = turns.get(key);
  if (!mutex) turns.set(key, (mutex = new Mutex()));
  return mutex;
}

/**
 * Results-tab mode: one row per data row in a tab of its own, upserted by the data row's
 * identity (LineIndex: its data tab, and its id, or its row when it has no id of its
 * own), with a link back to the data row.
 * Several writers may share the tab (the targets of a portfolio, two configs, two
 * processes or hosts), each holding the lock of its own data tab only. So a new line is
 * never written at a row this writer found free (another may have just taken it): it is
 * added with values.append (INSERT_ROWS), Sheets placing it after the last row of the
 * table as the tab is when the request arrives, and rows are inserted, never written
 * over. A line already there is updated in place, at the row where the identity read of
 * this very attempt found it. Before each write attempt, first try and every retry, the
 * tab's header row, id and link columns are re-read (with the data tab's identity
 * check), so a retried append whose answer was lost finds its lines and updates them
 * instead of adding them twice. Every column is found by its header there (people
 * insert, move and delete columns here too); a header that vanished stops the writes.
 */
export class ResultsTab implements WriteTarget {
  /** The tab's lines, as read when it was opened. */
  private lines: ResultLine[] = [];
  /** Ids several rows of the data tab use: those rows' lines go by row number. */
  private ambiguous: ReadonlySet<string> = new Set();
  /** Where the id and link columns were last seen: read with the header, and trusted only if the header confirms them. */
  private at = { id: 1, link: 2 };
  private columnCount = 0;
  private sourceGid = 0;
  /** The columns confirmed for the last identity read built from. */
  private confirmed: { read: readonly CellValues[]; found: Awaited<ReturnType<ResultsTab['confirm']>> } | undefined;

  constructor(
    private readonly client: SheetsClient,
    private readonly config: ResultsTabConfig,
  ) {}

  /** Headers the tab lacked when read (all of them when it did not exist): made by prepare(). */
  private missing: ParsedResults['missing'] = [];
  /** The tab's id, undefined while it does not exist. */
  private sheetId: number | undefined;

  get unmade(): boolean {
    return this.missing.length > 0;
  }

  /** No verdict can show yet: the tab, or its verdict column, is still to make. */
  get blank(): boolean {
    return this.sheetId === undefined || this.missing.some((m) => m.header === this.config.outputs.verdict);
  }

  /** Reads the tab, when it exists, and the data tab's gid. Writes nothing: prepare() makes the tab and its headers. */
  async open(): Promise<void> {
    const meta = await this.client.sheetsMetadata();
    const source = meta.find((s) => sameTab(s.title, this.config.sourceTab));
    this.sourceGid = source?.sheetId ?? 0;
    const own = meta.find((s) => sameTab(s.title, this.config.tab));
    this.sheetId = own?.sheetId;
    this.columnCount = own?.columnCount ?? 0;
    const parsed = parseResults(own ? await this.client.read(quoteSheetName(this.config.tab)) : [], this.config);
    this.at = { id: parsed.columns.id, link: parsed.columns.link };
    this.lines = parsed.lines;
    this.missing = parsed.missing;
  }

  /**
   * Creates the tab and adds the headers it lacks, right before the first write (a run
   * that writes nothing leaves the spreadsheet as it was). In turn with the process's
   * other writers to this tab: a target sharing it may have created it meanwhile.
   */
  async prepare(): Promise<void> {
    if (this.missing.length === 0) return;
    await this.exclusive(async () => {
      if (this.sheetId === undefined) {
        try {
          this.sheetId = await this.client.addTab(this.config.tab);
          this.columnCount = 26;
        } catch (error) {
          if (!(error instanceof SheetsError) || !/already exists/i.test(error.message)) throw error;
          await this.reread(true); // made meanwhile by a target sharing it
        }
      } else {
        // Read minutes ago: the columns planned for the headers are checked still empty (invariant 1).
        await this.reread(false);
      }
      if (this.missing.length === 0 || this.sheetId === undefined) return;
      const rightmost = this.missing.reduce((max, m) => Math.max(max, m.column), 0);
      if (rightmost > this.columnCount) {
        await this.client.appendDimension(this.sheetId, 'COLUMNS', rightmost - this.columnCount);
        this.columnCount = rightmost;
      }
      await this.client.write(this.missing.map((m) => ({ range: a1Range(this.config.tab, { row: 1, column: m.column }), values: [[m.header]] })));
      this.missing = [];
    });
  }

  /** The tab as it is now: where its id and link columns are, which headers it lacks (its lines were shown already), and its size when `meta`. */
  private async reread(meta: boolean): Promise<void> {
    if (meta) {
      const own = (await this.client.sheetsMetadata()).find((s) => sameTab(s.title, this.config.tab));
      if (!own) throw new SheetsError(`The results tab "${this.config.tab}" disappeared during the run.`, { hint: 'Run again: it is created anew.' });
      this.sheetId = own.sheetId;
      this.columnCount = own.columnCount;
    }
    const parsed = parseResults(await this.client.read(quoteSheetName(this.config.tab)), this.config);
    this.at = { id: parsed.columns.id, link: parsed.columns.link };
    this.missing = parsed.missing;
  }

  /** Shows each data row the results its line holds; returns the ids several rows share (each of those rows gets a line by its row). */
  show(entries: Entry[]): ReadonlySet<string> {
    this.ambiguous = showResults(entries, this.lines, this.sourceGid);
    this.lines = [];
    return this.ambiguous;
  }

  ranges(): string[] {
    return this.rangesAt(this.at);
  }

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return turnOf(this.config.spreadsheetId, this.config.tab).runExclusive(work);
  }

  async build(placed: readonly PendingWrite[], read: readonly CellValues[], columns: Columns): Promise<Built | { lost: LostHeader }> {
    // The writer may build one attempt's read again for fewer rows (a body past the cap): the columns are confirmed once per read.
    if (this.confirmed?.read !== read) this.confirmed = { read, found: await this.confirm(read) };
    const found = this.confirmed.found;
    if ('lost' in found) return found;
    const { cols, ids, links } = found;
    const index = new LineIndex(this.sourceGid, this.ambiguous);
    const used = Math.max(ids.length, links.length);
    for (let i = 1; i < used; i++) index.add(i + 1, ids[i]?.[0] ?? '', links[i]?.[0] ?? '');
    const data: ValueRange[] = [];
    // New lines, in the order they are appended; the index knows them by -(their place + 1).
    const added: string[][] = [];
    const width = Math.max(cols.id, cols.link, ...OUTPUT_FIELDS.map((f) => cols.outputs[f]));
    for (const write of placed) {
      const cells: Array<[number, string]> = [
        [cols.id, write.id],
        [cols.link, sourceLink(this.config.spreadsheetId, this.sourceGid, write.row)],
        ...OUTPUT_FIELDS.map((f) => [cols.outputs[f], write.cells[f]] as [number, string]),
      ];
      const row = index.find(write.id, write.row);
      if (row === undefined || row < 0) {
        // The whole row from column A, as values.append writes it from the table's first column.
        const line = row === undefined ? new Array<string>(width).fill('') : (added[-row - 1] as string[]);
        for (const [column, value] of cells) line[column - 1] = value;
        if (row === undefined) index.assign(write.id, write.row, -added.push(line));
      } else {
        for (const range of contiguous(this.config.tab, row, cells)) data.push(range);
      }
      if (write.clearRecheck && columns.recheck !== undefined) {
        data.push({ range: a1Range(this.config.sourceTab, { row: write.row, column: columns.recheck }), values: [[false]] });
      }
    }
    return added.length > 0 ? { data, append: { range: quoteSheetName(this.config.tab), rows: added } } : { data };
  }

  /**
   * The columns by the header read in this attempt, and the id and link columns under
   * their headers. When either header is no longer over the column read with it (a
   * person moved it), the header and the right columns are read again, together.
   */
  private async confirm(read: readonly CellValues[]): Promise<{ cols: ResultColumns; ids: CellValues; links: CellValues } | { lost: LostHeader }> {
    let header = read[0]?.[0] ?? [];
    let ids = read[1] ?? [];
    let links = read[2] ?? [];
    let readAt = this.at;
    for (let tries = 0; ; tries++) {
      const found = locateResults(header, this.config);
      if ('lost' in found) return found;
      if (found.cols.id === readAt.id && found.cols.link === readAt.link) {
        this.at = readAt;
        return { cols: found.cols, ids, links };
      }
      if (tries >= 3) throw new SheetsError(`The "${this.config.tab}" tab kept changing while it was being read.`, { hint: 'Run again once people have finished editing it.' });
      readAt = { id: found.cols.id, link: found.cols.link };
      const [headerRead, idsRead, linksRead] = await this.client.readMany(this.rangesAt(readAt));
      header = headerRead?.[0] ?? [];
      ids = idsRead ?? [];
      links = linksRead ?? [];
    }
  }

  private rangesAt(at: { id: number; link: number }): string[] {
    const tab = quoteSheetName(this.config.tab);
    const id = columnLetter(at.id);
    const link = columnLetter(at.link);
    return [`${tab}!1:1`, `${tab}!${id}:${id}`, `${tab}!${link}:${link}`];
  }

}

type ResultColumns = ParsedResults['columns'];

/** The results tab's columns in a header row read just now; every one must be there, once. */
function locateResults(header: readonly string[], config: Pick<ResultsTabConfig, 'tab' | 'idHeader' | 'outputs'>): { cols: ResultColumns } | { lost: LostHeader } {
  const positions = headerPositions(header);
  const wanted: Array<[string, string]> = [
    [config.idHeader, 'columns.id'],
    [SOURCE_ROW_HEADER, 'output.sheet'],
    ...OUTPUT_FIELDS.map((f) => [config.outputs[f], `output.columns.${f}`] as [string, string]),
  ];
  const at: number[] = [];
  for (const [text, key] of wanted) {
    const found = positions.get(normalizeHeader(text)) ?? [];
    if (found.length !== 1) {
      const why = found.length === 0 ? 'is no longer in row 1: it was renamed, cleared or its column deleted during the run' : `now appears ${found.length} times in row 1`;
      return { lost: { tab: config.tab, header: text, key, reason: `the header "${text}" (${key}) of the "${config.tab}" tab ${why}` } };
    }
    at.push(found[0] ?? 0);
  }
  const [id = 0, link = 0, ...outputs] = at;
  return { cols: { id, link, outputs: Object.fromEntries(OUTPUT_FIELDS.map((f, i) => [f, outputs[i] ?? 0])) as Record<OutputField, number> } };
}

/** Cells of one row as few ranges as possible: one per run of adjacent columns. */
function contiguous(tab: string, row: number, cells: Array<[number, string]>): ValueRange[] {
  const sorted = [...cells].sort((a, b) => a[0] - b[0]);
  const out: ValueRange[] = [];
  let start = 0;
  for (let i = 1; i <= sorted.length; i++) {
    const previous = sorted[i - 1];
    const current = sorted[i];
    if (current && previous && current[0] === previous[0] + 1) continue;
    const run = sorted.slice(start, i);
    const first = run[0]?.[0] ?? 1;
    out.push({ range: a1Range(tab, { row, column: first }, { row, column: first + run.length - 1 }), values: [run.map(([, v]) => v)] });
    start = i;
  }
  return out;
}

export interface ParsedResults {
  columns: { id: number; link: number; outputs: Record<OutputField, number> };
  /** The tab's lines that have an id or a link (LineIndex tells whose each is). */
  lines: ResultLine[];
  /** Headers the tab lacks, with the columns they get after the last used column. */
  missing: Array<{ header: string; column: number }>;
}

/** Finds the result columns by header (people may reorder them) and the lines. */
export function parseResults(values: CellValues, config: Pick<ResultsTabConfig, 'idHeader' | 'outputs'>): ParsedResults {
  const header = values[0] ?? [];
  const wanted = [config.idHeader, SOURCE_ROW_HEADER, ...OUTPUT_FIELDS.map((f) => config.outputs[f])];
  const found = new Map(header.map((h, i) => [normalizeHeader(h), i + 1] as const));
  // After the last used column of the tab (header or data), gaps and people's columns included.
  let next = lastUsedColumn(values) + 1;
  const missing: Array<{ header: string; column: number }> = [];
  const columnOf = (text: string) => {
    const at = found.get(normalizeHeader(text));
    if (at !== undefined) return at;
    missing.push({ header: text, column: next });
    return next++;
  };
  const [id = 1, link = 2, ...outputs] = wanted.map(columnOf);
  const columns = { id, link, outputs: Object.fromEntries(OUTPUT_FIELDS.map((f, i) => [f, outputs[i] ?? 0])) as Record<OutputField, number> };
  const lines: ResultLine[] = [];
  values.slice(1).forEach((row, i) => {
    const lineId = (row[id - 1] ?? '').trim();
    const linkCell = row[link - 1] ?? '';
    if (lineId !== '' || linkCell.trim() !== '') lines.push({ line: i + 2, id: lineId, link: linkCell, outputs: Object.fromEntries(OUTPUT_FIELDS.map((f) => [f, row[columns.outputs[f] - 1] ?? ''])) as Record<OutputField, string> });
  });
  return { columns, lines, missing };
}
