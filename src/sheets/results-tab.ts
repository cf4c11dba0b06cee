import { SheetsError } from '../errors.js';
import { a1Range, columnLetter, quoteSheetName } from './a1.js';
import type { CellValues, SheetsClient, ValueRange } from './client.js';
import { OUTPUT_FIELDS, normalizeHeader, type OutputField } from './layout.js';
import type { PendingWrite, WriteTarget } from './writer.js';

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
  /** Where the data tab's recheck box is, to untick it when a verdict lands. */
  recheckColumn?: number | undefined;
}

/**
 * Results-tab mode: one row per data row in a tab of its own, upserted by id, with a
 * link back to the data row. Rows are written at explicit positions (never appended),
 * so a retried write lands on the same cells: nothing is duplicated, nothing cleared.
 * Before each write the id column is re-read in the same call as the identity check,
 * so rows a person sorted or deleted in the results tab are found where they are.
 */
export class ResultsTab implements WriteTarget {
  /** Current results by id, as read when the tab was opened. */
  readonly byId = new Map<string, Record<OutputField, string>>();
  private columns: { id: number; link: number; outputs: Record<OutputField, number> } | undefined;
  private rowCount = 0;
  private sourceGid = 0;

  constructor(
    private readonly client: SheetsClient,
    private readonly config: ResultsTabConfig,
  ) {}

  /** Reads the tab (creating it with its header when missing, unless read-only) and the data tab's gid. */
  async open(readOnly: boolean): Promise<void> {
    const meta = await this.client.sheetsMetadata();
    const source = meta.find((s) => s.title === this.config.sourceTab);
    this.sourceGid = source?.sheetId ?? 0;
    const own = meta.find((s) => s.title === this.config.tab);
    const values = own ? await this.client.read(quoteSheetName(this.config.tab)) : [];
    this.rowCount = own?.rowCount ?? 0;
    const parsed = parseResults(values, this.config);
    this.columns = parsed.columns;
    for (const [id, outputs] of parsed.byId) this.byId.set(id, outputs);
    const missing = parsed.missing;
    if (readOnly || missing.length === 0) return;
    if (!own) {
      await this.client.addTab(this.config.tab);
      this.rowCount = 1000;
    }
    await this.client.write(missing.map((m) => ({ range: a1Range(this.config.tab, { row: 1, column: m.column }), values: [[m.header]] })));
  }

  ranges(): string[] {
    const id = columnLetter(this.cols().id);
    return [`${quoteSheetName(this.config.tab)}!${id}:${id}`];
  }

  async build(placed: readonly PendingWrite[], read: readonly CellValues[]): Promise<ValueRange[]> {
    const cols = this.cols();
    const ids = read[0] ?? [];
    const rowOf = new Map<string, number>();
    ids.forEach((cells, i) => {
      const key = (cells[0] ?? '').trim();
      if (i > 0 && key !== '' && !rowOf.has(key)) rowOf.set(key, i + 1);
    });
    let next = Math.max(2, ids.length + 1);
    const data: ValueRange[] = [];
    for (const write of placed) {
      let row = rowOf.get(write.id);
      if (row === undefined) {
        row = next++;
        rowOf.set(write.id, row);
      }
      const cells: Array<[number, string]> = [
        [cols.id, write.id],
        [cols.link, this.link(write.row)],
        ...OUTPUT_FIELDS.map((f) => [cols.outputs[f], write.cells[f]] as [number, string]),
      ];
      data.push(...contiguous(this.config.tab, row, cells));
      if (write.clearRecheck && this.config.recheckColumn !== undefined) {
        data.push({ range: a1Range(this.config.sourceTab, { row: write.row, column: this.config.recheckColumn }), values: [[false]] });
      }
    }
    if (next - 1 > this.rowCount) await this.grow(next - 1);
    return data;
  }

  /** A link to the data row: #gid selects the tab, range the row. */
  private link(row: number): string {
    return `https://docs.google.com/spreadsheets/d/${this.config.spreadsheetId}/edit#gid=${this.sourceGid}&range=${row}:${row}`;
  }

  private async grow(rows: number): Promise<void> {
    const meta = (await this.client.sheetsMetadata()).find((s) => s.title === this.config.tab);
    if (!meta) throw new SheetsError(`The results tab "${this.config.tab}" disappeared during the run.`, { hint: 'Run again: it is created anew.' });
    this.rowCount = meta.rowCount;
    if (rows > meta.rowCount) {
      await this.client.appendDimension(meta.sheetId, 'ROWS', Math.max(rows - meta.rowCount, 1000));
      this.rowCount = Math.max(rows, meta.rowCount + 1000);
    }
  }

  private cols(): { id: number; link: number; outputs: Record<OutputField, number> } {
    if (!this.columns) throw new Error('ResultsTab.open() must run before writing');
    return this.columns;
  }
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
  byId: Map<string, Record<OutputField, string>>;
  /** Headers the tab lacks, with the columns they get after the last header. */
  missing: Array<{ header: string; column: number }>;
}

/** Finds the result columns by header (people may reorder them) and the results by id. */
export function parseResults(values: CellValues, config: Pick<ResultsTabConfig, 'idHeader' | 'outputs'>): ParsedResults {
  const header = values[0] ?? [];
  const wanted = [config.idHeader, SOURCE_ROW_HEADER, ...OUTPUT_FIELDS.map((f) => config.outputs[f])];
  const found = new Map(header.map((h, i) => [normalizeHeader(h), i + 1] as const));
  let next = header.filter((h) => h.trim() !== '').length + 1;
  const missing: Array<{ header: string; column: number }> = [];
  const columnOf = (text: string) => {
    const at = found.get(normalizeHeader(text));
    if (at !== undefined) return at;
    missing.push({ header: text, column: next });
    return next++;
  };
  const [id = 1, link = 2, ...outputs] = wanted.map(columnOf);
  const columns = { id, link, outputs: Object.fromEntries(OUTPUT_FIELDS.map((f, i) => [f, outputs[i] ?? 0])) as Record<OutputField, number> };
  const byId = new Map<string, Record<OutputField, string>>();
  for (const row of values.slice(1)) {
    const key = (row[id - 1] ?? '').trim();
    if (key !== '') byId.set(key, Object.fromEntries(OUTPUT_FIELDS.map((f) => [f, row[columns.outputs[f] - 1] ?? ''])) as Record<OutputField, string>);
  }
  return { columns, byId, missing };
}
