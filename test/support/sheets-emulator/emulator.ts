/** The emulator object tests hold: server lifecycle plus direct access to the sheets. */
import { defaultEvaluate, flagOption } from './cells.js';
import type { Sheet } from './grid.js';
import { metadataOf, type DeveloperMetadata } from './developer-metadata.js';
import { decorOf, gridRangeOf } from './decor.js';
import { ruleJson } from './format-requests.js';
import { chartJson } from './chart-requests.js';
import { picturePage, type PictureOptions } from './picture.js';
import { Pipeline } from './pipeline.js';
import { share, type Role } from './sharing.js';
import { viewPage } from './view.js';
import { listen, type RunningServer } from './server.js';
import type {
  Cell,
  CellState,
  Fault,
  FaultOptions,
  RecordedCall,
  RequestHook,
  ResponseHook,
  Scalar,
  SheetsEmulatorOptions,
  TabSeed,
} from './types.js';
import { DEFAULT_COLUMNS, DEFAULT_ROWS, Spreadsheet } from './workbook.js';

/** Rows and columns in the test hooks are 1-based, like the sheet UI. */
export interface SheetsEmulator {
  /** 'http://127.0.0.1:PORT/' — pass as the client's rootUrl. */
  readonly url: string;
  readonly port: number;
  /** Every request in arrival order; `status` is filled in when it is answered. */
  readonly calls: RecordedCall[];
  /** `email` (or `iss`) of the last bearer JWT seen. */
  readonly lastCaller: string | undefined;
  /** Every caller seen so far. */
  readonly callers: ReadonlySet<string>;
  /** Errors thrown by request hooks (each also answered the request with 500). */
  readonly hookErrors: readonly unknown[];
  close(): Promise<void>;

  addSpreadsheet(id: string, tabs: TabSeed[], opts?: { title?: string }): void;
  removeSpreadsheet(id: string): void;
  values(id: string, tab: string): string[][];
  getCell(id: string, tab: string, row: number, col: number): CellState | undefined;
  /** Puts a value as-is (no formula/number parsing); `null` empties the cell. */
  setCell(id: string, tab: string, row: number, col: number, value: Cell): void;
  setFormula(id: string, tab: string, row: number, col: number, formula: string): void;
  /** Inserts rows so the first new one is `beforeRow`; the grid grows by rows.length. */
  insertRows(id: string, tab: string, beforeRow: number, rows: Cell[][]): void;
  deleteRows(id: string, tab: string, startRow: number, count: number): void;
  /** Inserts `count` empty columns so the first new one is `beforeColumn` (1-based); the grid grows. */
  insertColumns(id: string, tab: string, beforeColumn: number, count?: number): void;
  deleteColumns(id: string, tab: string, startColumn: number, count?: number): void;
  /** Moves columns start..start+count-1 to before `beforeColumn` (counted before the move, as moveDimension does). */
  moveColumns(id: string, tab: string, startColumn: number, count: number, beforeColumn: number): void;
  /** Stable-sorts rows fromRow..last data row; the comparator sees raw values (`null` = empty). */
  sortRows(id: string, tab: string, fromRow: number, compare: (a: Cell[], b: Cell[]) => number): void;
  gridSize(id: string, tab: string): { rowCount: number; columnCount: number };
  setGridSize(id: string, tab: string, size: { rowCount?: number; columnCount?: number }): void;
  sheetId(id: string, tab: string): number;
  tabs(id: string): string[];
  setForbidden(id: string, forbidden: boolean): void;
  /**
   * Shares the spreadsheet as Drive does: 'writer' (Editor, the default), 'commenter' or
   * 'reader' (may read, writes get 403), 'none' (403 on everything); with `caller` (a
   * service-account email) for that caller only.
   */
  share(id: string, role: Role, caller?: string): void;
  /** The spreadsheet's developer metadata (none is ever shown in the sheet). */
  developerMetadata(id: string): DeveloperMetadata[];

  /** A tab's conditional format rules, data validations (as GridRanges) and charts, as spreadsheets.get shows them. */
  decor(id: string, tab: string): TabDecor;

  /** The spreadsheet as a person sees it (values, rule formats, checkboxes, charts), as a self-contained HTML page (picture.ts). */
  picture(id: string, options?: PictureOptions): string;

  /** Runs before each request is served (after it is recorded); returns an unsubscribe function. */
  onRequest(hook: RequestHook): () => void;
  /** Runs after each request is served, before the client gets the answer (see ResponseHook). */
  onResponse(hook: ResponseHook): () => void;
  /** Largest request body accepted (400 past it, as Google's front end answers). */
  setPayloadLimit(bytes: number): void;
  injectFault(fault: Fault, opts?: FaultOptions): void;
  clearFaults(): void;
  pendingFaults(): number;
  readCount(): number;
  writeCount(): number;
  /** Empties `calls` and zeroes the read/write counters. */
  resetCalls(): void;
  /** Forgets the requests counted in the quota windows. */
  resetQuota(): void;
  setQuota(quota: { readPerMinute?: number; writePerMinute?: number }): void;
  setLatency(ms: number): void;
  /** Reads processed at this many cells a second (Infinity: at once), within `deadlineMs` (Google: 180 s). */
  setReadRate(cellsPerSecond: number, deadlineMs?: number): void;
}

export interface TabDecor {
  conditionalFormats: Array<Record<string, unknown>>;
  validations: Array<{ range: Record<string, unknown>; rule: Record<string, unknown> }>;
  charts: Array<Record<string, unknown>>;
}

function seedRows(sheet: Sheet, rows: Cell[][], startRow = 0): void {
  rows.forEach((row, r) => {
    row.forEach((v, c) => {
      if (v !== null && v !== '') sheet.set(startRow + r, c, v, undefined, 0);
    });
  });
}

class Emulator implements SheetsEmulator {
  constructor(
    private readonly server: RunningServer,
    private readonly pipe: Pipeline,
  ) {}

  get url(): string {
    return this.server.url;
  }
  get port(): number {
    return this.server.port;
  }
  get calls(): RecordedCall[] {
    return this.pipe.calls;
  }
  get lastCaller(): string | undefined {
    return this.pipe.lastCaller;
  }
  get callers(): ReadonlySet<string> {
    return this.pipe.callers;
  }
  get hookErrors(): readonly unknown[] {
    return this.pipe.hookErrors;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  addSpreadsheet(id: string, tabs: TabSeed[], opts: { title?: string } = {}): void {
    const book = new Spreadsheet(id, opts.title ?? id);
    tabs.forEach((tab, i) => {
      const rows = tab.rows ?? [];
      const width = rows.reduce((w, r) => Math.max(w, r.length), 0);
      if ((tab.rowCount !== undefined && tab.rowCount < rows.length) || (tab.columnCount !== undefined && tab.columnCount < width)) {
        throw new Error(`sheets-emulator: seed rows of '${tab.title}' do not fit its grid`);
      }
      const sheet = book.addSheet({
        title: tab.title,
        sheetId: tab.sheetId ?? (i === 0 ? 0 : undefined),
        rowCount: tab.rowCount ?? Math.max(DEFAULT_ROWS, rows.length),
        columnCount: tab.columnCount ?? Math.max(DEFAULT_COLUMNS, width),
      });
      seedRows(sheet, rows);
    });
    if (book.sheets.length === 0) book.addSheet({ title: 'Sheet1', sheetId: 0 });
    this.pipe.books.set(id, book);
  }

  removeSpreadsheet(id: string): void {
    this.pipe.books.delete(id);
  }

  values(id: string, tab: string): string[][] {
    const sheet = this.tab(id, tab);
    const box = { r0: 0, c0: 0, r1: sheet.rowCount - 1, c1: sheet.columnCount - 1 };
    return sheet.read(box, 'FORMATTED_VALUE') as string[][];
  }

  getCell(id: string, tab: string, row: number, col: number): CellState | undefined {
    const cell = this.tab(id, tab).get(row - 1, col - 1);
    if (!cell) return undefined;
    const out: CellState = { value: cell.value };
    if (cell.formula !== undefined) out.formula = cell.formula;
    const option = flagOption(cell.flag);
    if (option) out.inputOption = option;
    return out;
  }

  setCell(id: string, tab: string, row: number, col: number, value: Cell): void {
    const sheet = this.cellSheet(id, tab, row, col);
    if (value === null || value === '') sheet.clear(row - 1, col - 1);
    else sheet.set(row - 1, col - 1, value, undefined, 0);
  }

  setFormula(id: string, tab: string, row: number, col: number, formula: string): void {
    const sheet = this.cellSheet(id, tab, row, col);
    const text = formula.startsWith('=') ? formula : `=${formula}`;
    const value: Scalar = this.pipe.evaluate(text);
    sheet.set(row - 1, col - 1, value, text, 0);
  }

  insertRows(id: string, tab: string, beforeRow: number, rows: Cell[][]): void {
    const sheet = this.tab(id, tab);
    const at = beforeRow - 1;
    if (at < 0 || at > sheet.rowCount) throw new Error(`sheets-emulator: cannot insert before row ${beforeRow}`);
    const width = rows.reduce((w, r) => Math.max(w, r.length), 0);
    if (width > sheet.columnCount) throw new Error('sheets-emulator: inserted rows are wider than the grid');
    sheet.insertRows(at, rows.length);
    seedRows(sheet, rows, at);
  }

  deleteRows(id: string, tab: string, startRow: number, count: number): void {
    const sheet = this.tab(id, tab);
    if (startRow < 1 || count < 1 || startRow - 1 + count > sheet.rowCount) {
      throw new Error(`sheets-emulator: cannot delete ${count} rows from row ${startRow}`);
    }
    sheet.deleteRows(startRow - 1, count);
  }

  sortRows(id: string, tab: string, fromRow: number, compare: (a: Cell[], b: Cell[]) => number): void {
    this.tab(id, tab).sortRows(Math.max(0, fromRow - 1), compare);
  }

  insertColumns(id: string, tab: string, beforeColumn: number, count = 1): void {
    const sheet = this.tab(id, tab);
    if (beforeColumn < 1 || beforeColumn - 1 > sheet.columnCount || count < 1) throw new Error(`sheets-emulator: cannot insert ${count} columns before column ${beforeColumn}`);
    sheet.insertCols(beforeColumn - 1, count);
  }

  deleteColumns(id: string, tab: string, startColumn: number, count = 1): void {
    const sheet = this.tab(id, tab);
    if (startColumn < 1 || count < 1 || startColumn - 1 + count > sheet.columnCount || count === sheet.columnCount) {
      throw new Error(`sheets-emulator: cannot delete ${count} columns from column ${startColumn}`);
    }
    sheet.deleteCols(startColumn - 1, count);
  }

  moveColumns(id: string, tab: string, startColumn: number, count: number, beforeColumn: number): void {
    const sheet = this.tab(id, tab);
    const start = startColumn - 1;
    const destination = beforeColumn - 1;
    if (start < 0 || count < 1 || start + count > sheet.columnCount || destination < 0 || destination > sheet.columnCount) {
      throw new Error(`sheets-emulator: cannot move ${count} columns from column ${startColumn} to before column ${beforeColumn}`);
    }
    if (destination < start || destination > start + count) sheet.moveCols(start, start + count, destination);
  }

  gridSize(id: string, tab: string): { rowCount: number; columnCount: number } {
    const { rowCount, columnCount } = this.tab(id, tab);
    return { rowCount, columnCount };
  }

  setGridSize(id: string, tab: string, size: { rowCount?: number; columnCount?: number }): void {
    const sheet = this.tab(id, tab);
    sheet.resize(size.rowCount ?? sheet.rowCount, size.columnCount ?? sheet.columnCount);
  }

  sheetId(id: string, tab: string): number {
    return this.tab(id, tab).sheetId;
  }

  tabs(id: string): string[] {
    return this.book(id).sheets.map((s) => s.title);
  }

  setForbidden(id: string, forbidden: boolean): void {
    this.book(id).forbidden = forbidden;
  }

  share(id: string, role: Role, caller?: string): void {
    share(this.book(id), role, caller);
  }

  developerMetadata(id: string): DeveloperMetadata[] {
    return metadataOf(this.book(id));
  }

  decor(id: string, tab: string): TabDecor {
    const book = this.book(id);
    const sheetId = this.tab(id, tab).sheetId;
    const decor = decorOf(book);
    return {
      conditionalFormats: decor.rules.filter((r) => r.sheetId === sheetId).map(ruleJson),
      validations: decor.validations.filter((v) => v.sheetId === sheetId).map((v) => ({ range: gridRangeOf(sheetId, v.span), rule: structuredClone(v.rule) })),
      charts: decor.charts.filter((c) => c.sheetId === sheetId).map(chartJson),
    };
  }

  picture(id: string, options?: PictureOptions): string {
    return picturePage(this.book(id), options);
  }

  onRequest(hook: RequestHook): () => void {
    return this.pipe.onRequest(hook);
  }
  onResponse(hook: ResponseHook): () => void {
    return this.pipe.onResponse(hook);
  }
  setPayloadLimit(bytes: number): void {
    this.pipe.payloadLimitBytes = bytes;
  }
  injectFault(fault: Fault, opts?: FaultOptions): void {
    this.pipe.injectFault(fault, opts);
  }
  clearFaults(): void {
    this.pipe.clearFaults();
  }
  pendingFaults(): number {
    return this.pipe.pendingFaults();
  }
  readCount(): number {
    return this.pipe.reads;
  }
  writeCount(): number {
    return this.pipe.writes;
  }
  resetCalls(): void {
    this.pipe.calls.length = 0;
    this.pipe.reads = 0;
    this.pipe.writes = 0;
  }
  resetQuota(): void {
    this.pipe.readQuota.reset();
    this.pipe.writeQuota.reset();
  }
  setQuota(quota: { readPerMinute?: number; writePerMinute?: number }): void {
    if (quota.readPerMinute !== undefined) this.pipe.readQuota.limit = quota.readPerMinute;
    if (quota.writePerMinute !== undefined) this.pipe.writeQuota.limit = quota.writePerMinute;
  }
  setLatency(ms: number): void {
    this.pipe.latencyMs = ms;
  }
  setReadRate(cellsPerSecond: number, deadlineMs?: number): void {
    this.pipe.readCellsPerSecond = cellsPerSecond;
    if (deadlineMs !== undefined) this.pipe.deadlineMs = deadlineMs;
  }

  private book(id: string): Spreadsheet {
    const book = this.pipe.books.get(id);
    if (!book) throw new Error(`sheets-emulator: no spreadsheet '${id}'`);
    return book;
  }

  private tab(id: string, title: string): Sheet {
    const sheet = this.book(id).sheetByTitle(title);
    if (!sheet) throw new Error(`sheets-emulator: no tab '${title}' in '${id}'`);
    return sheet;
  }

  private cellSheet(id: string, tab: string, row: number, col: number): Sheet {
    const sheet = this.tab(id, tab);
    if (row < 1 || col < 1 || row > sheet.rowCount || col > sheet.columnCount) {
      throw new Error(`sheets-emulator: cell (${row}, ${col}) is outside the ${sheet.rowCount}x${sheet.columnCount} grid of '${tab}'`);
    }
    return sheet;
  }
}

export async function startSheetsEmulator(opts: SheetsEmulatorOptions = {}): Promise<SheetsEmulator> {
  const pipe = new Pipeline(
    opts.now ?? Date.now,
    opts.readQuotaPerMinute ?? Infinity,
    opts.writeQuotaPerMinute ?? Infinity,
    { read: opts.projectReadQuotaPerMinute ?? Infinity, write: opts.projectWriteQuotaPerMinute ?? Infinity },
    opts.latencyMs ?? 0,
    opts.requireAuth ?? true,
    opts.recordBodies ?? true,
    opts.evaluateFormula ?? defaultEvaluate,
  );
  if (opts.payloadLimitBytes !== undefined) pipe.payloadLimitBytes = opts.payloadLimitBytes;
  if (opts.readCellsPerSecond !== undefined) pipe.readCellsPerSecond = opts.readCellsPerSecond;
  if (opts.deadlineMs !== undefined) pipe.deadlineMs = opts.deadlineMs;
  // The read-only HTML view (view.ts) first: it is no API call, so neither recorded nor counted.
  const server = await listen(opts.port ?? 0, async (req) => viewPage(req, pipe.books) ?? pipe.handle(req));
  return new Emulator(server, pipe);
}
