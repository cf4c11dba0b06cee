/** A spreadsheet: its tabs, range resolution against them, and grid-limit checks. */
import { formatBox, parseA1, type Box, type CellSpan } from './a1.js';
import { invalidArgument, unparsableRange, type ApiError } from './errors.js';
import { Sheet, type Shift } from './grid.js';

export const DEFAULT_ROWS = 1000;
export const DEFAULT_COLUMNS = 26;

export interface ResolvedRange {
  sheet: Sheet;
  /** Undefined when the range names the whole tab. */
  span: CellSpan | undefined;
}

export interface SheetProperties {
  sheetId: number;
  title: string;
  index: number;
  sheetType: 'GRID';
  gridProperties: { rowCount: number; columnCount: number };
}

export function gridLimitError(sheet: Sheet, box: Box): ApiError {
  return invalidArgument(
    `Range (${formatBox(sheet.title, box, { alwaysQuote: true })}) exceeds grid limits. ` +
      `Max rows: ${sheet.rowCount}, max columns: ${sheet.columnCount}`,
  );
}

/** The part of the grid a read or clear covers: open ends and overhang clipped to the grid. */
export function clippedBox(sheet: Sheet, span: CellSpan | undefined): Box {
  if (!span) return { r0: 0, c0: 0, r1: sheet.rowCount - 1, c1: sheet.columnCount - 1 };
  const box = {
    r0: span.startRow,
    c0: span.startCol,
    r1: Math.min(span.endRow ?? sheet.rowCount - 1, sheet.rowCount - 1),
    c1: Math.min(span.endCol ?? sheet.columnCount - 1, sheet.columnCount - 1),
  };
  if (box.r0 >= sheet.rowCount || box.c0 >= sheet.columnCount) {
    throw gridLimitError(sheet, { r0: span.startRow, c0: span.startCol, r1: span.endRow ?? span.startRow, c1: span.endCol ?? span.startCol });
  }
  return box;
}

/** How Google echoes a resolved range (single cells stay single). */
export function echoRange(sheet: Sheet, span: CellSpan | undefined, box: Box): string {
  return formatBox(sheet.title, box, { single: span?.single === true });
}

export class Spreadsheet {
  sheets: Sheet[] = [];
  forbidden = false;
  /** Told of every grid shift of any tab (decor.ts keeps rules, validation, charts and metadata on their cells). */
  readonly shiftListeners: Array<(sheetId: number, shift: Shift) => void> = [];

  constructor(
    readonly id: string,
    public title: string,
  ) {}

  sheetByTitle(title: string): Sheet | undefined {
    const exact = this.sheets.find((s) => s.title === title);
    if (exact) return exact;
    const lower = title.toLowerCase();
    return this.sheets.find((s) => s.title.toLowerCase() === lower);
  }

  sheetById(sheetId: unknown): Sheet | undefined {
    const id = sheetId === undefined || sheetId === null ? 0 : Number(sheetId);
    return this.sheets.find((s) => s.sheetId === id);
  }

  /** Resolves an A1 range to a tab; 400 "Unable to parse range" when it cannot. */
  resolve(range: unknown): ResolvedRange {
    const text = typeof range === 'string' ? range : '';
    const parsed = parseA1(text);
    if (!parsed) throw unparsableRange(text);
    const sheet = parsed.sheet === undefined ? this.sheets[0] : this.sheetByTitle(parsed.sheet);
    if (!sheet) throw unparsableRange(text);
    return { sheet, span: parsed.cells };
  }

  addSheet(opts: { title?: string | undefined; rowCount?: number | undefined; columnCount?: number | undefined; sheetId?: number | undefined; index?: number | undefined }): Sheet {
    const title = opts.title ?? this.freshTitle();
    if (this.sheetByTitle(title)) {
      throw invalidArgument(`A sheet with the name "${title}" already exists. Please enter another name.`);
    }
    if (opts.sheetId !== undefined && this.sheetById(opts.sheetId)) {
      throw invalidArgument(`Sheet with id ${opts.sheetId} already exists.`);
    }
    const sheetId = opts.sheetId ?? this.freshSheetId();
    const sheet = new Sheet(sheetId, title, opts.rowCount ?? DEFAULT_ROWS, opts.columnCount ?? DEFAULT_COLUMNS);
    sheet.shifted = (shift) => {
      for (const listener of this.shiftListeners) listener(sheetId, shift);
    };
    const index = Math.max(0, Math.min(opts.index ?? this.sheets.length, this.sheets.length));
    this.sheets.splice(index, 0, sheet);
    return sheet;
  }

  properties(sheet: Sheet): SheetProperties {
    return {
      sheetId: sheet.sheetId,
      title: sheet.title,
      index: this.sheets.indexOf(sheet),
      sheetType: 'GRID',
      gridProperties: { rowCount: sheet.rowCount, columnCount: sheet.columnCount },
    };
  }

  metadata(): Record<string, unknown> {
    return {
      spreadsheetId: this.id,
      properties: { title: this.title, locale: 'en_US', autoRecalc: 'ON_CHANGE', timeZone: 'Etc/GMT' },
      sheets: this.sheets.map((s) => ({ properties: this.properties(s) })),
      spreadsheetUrl: `https://docs.google.com/spreadsheets/d/${this.id}/edit`,
    };
  }

  /** Deep copy of the tabs, for all-or-nothing batch updates. */
  snapshot(): Sheet[] {
    return this.sheets.map((s) => s.clone());
  }

  restore(sheets: Sheet[]): void {
    this.sheets = sheets;
  }

  private freshSheetId(): number {
    return this.sheets.reduce((max, s) => Math.max(max, s.sheetId + 1), 0);
  }

  private freshTitle(): string {
    let n = this.sheets.length + 1;
    while (this.sheetByTitle(`Sheet${n}`)) n += 1;
    return `Sheet${n}`;
  }
}
