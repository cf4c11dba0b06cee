/** `spreadsheets.batchUpdate`: structural requests, applied all-or-nothing. */
import { cellHandlers } from './cell-requests.js';
import { chartHandlers } from './chart-requests.js';
import { dropSheetDecor, restoreDecor, snapshotDecor } from './decor.js';
import { developerMetadataHandlers, dropSheetMetadata, restoreMetadata, snapshotMetadata } from './developer-metadata.js';
import { formatHandlers } from './format-requests.js';
import { invalidArgument, type ApiError } from './errors.js';
import type { Sheet } from './grid.js';
import type { Dimension } from './types.js';
import type { Spreadsheet } from './workbook.js';

type Json = Record<string, unknown>;
type Handler = (book: Spreadsheet, req: Json, fail: (msg: string) => ApiError) => Json;

function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

function idText(v: unknown): string {
  return typeof v === 'number' || typeof v === 'string' ? String(v) : '0';
}

function int(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
}

function dimension(v: unknown, fail: (msg: string) => ApiError): Dimension {
  if (v === 'ROWS' || v === 'COLUMNS') return v;
  throw fail('dimension must be ROWS or COLUMNS');
}

function dimRange(book: Spreadsheet, raw: unknown, fail: (msg: string) => ApiError): { sheet: Sheet; dim: Dimension; start: number; end: number; count: number } {
  const range = obj(raw);
  const sheet = book.sheetById(range['sheetId']);
  if (!sheet) throw fail(`No grid with id: ${idText(range['sheetId'])}`);
  const dim = dimension(range['dimension'], fail);
  const start = int(range['startIndex']) ?? 0;
  const count = dim === 'ROWS' ? sheet.rowCount : sheet.columnCount;
  const end = int(range['endIndex']) ?? count;
  if (start < 0 || end <= start) throw fail(`Invalid dimension range: startIndex ${start}, endIndex ${end}`);
  return { sheet, dim, start, end, count };
}

function fieldSet(fields: unknown, fail: (msg: string) => ApiError): (path: string) => boolean {
  if (typeof fields !== 'string' || fields.trim() === '') throw fail('You must specify which fields you want updated.');
  const list = fields.split(',').map((f) => f.trim());
  return (path) => list.some((f) => f === '*' || f === path || path.startsWith(`${f}.`));
}

const handlers: Record<string, Handler> = {
  appendDimension(book, req, fail) {
    const sheet = book.sheetById(req['sheetId']);
    if (!sheet) throw fail(`No grid with id: ${idText(req['sheetId'])}`);
    const dim = dimension(req['dimension'], fail);
    const length = int(req['length']) ?? 0;
    if (length <= 0) throw fail('length must be greater than zero');
    if (dim === 'ROWS') sheet.rowCount += length;
    else sheet.columnCount += length;
    return {};
  },
  insertDimension(book, req, fail) {
    const { sheet, dim, start, end, count } = dimRange(book, req['range'], fail);
    if (start > count) throw fail(`Range startIndex ${start} is past the end of the grid (${count})`);
    if (dim === 'ROWS') sheet.insertRows(start, end - start);
    else sheet.insertCols(start, end - start);
    return {};
  },
  deleteDimension(book, req, fail) {
    const { sheet, dim, start, end, count } = dimRange(book, req['range'], fail);
    const stop = Math.min(end, count);
    if (start >= count) throw fail(`Range startIndex ${start} is past the end of the grid (${count})`);
    if (start === 0 && stop === count) {
      throw fail(`You can't delete all the ${dim === 'ROWS' ? 'rows' : 'columns'} on the sheet.`);
    }
    if (dim === 'ROWS') sheet.deleteRows(start, stop - start);
    else sheet.deleteCols(start, stop - start);
    return {};
  },
  // MoveDimensionRequest: `destinationIndex` is "the zero-based start index of where to
  // move the source data to, based on the coordinates *before* the source data is
  // removed from the grid" (Sheets API v4 reference, spreadsheets.batchUpdate). People
  // drag columns in the UI; the API does the same.
  moveDimension(book, req, fail) {
    const { sheet, dim, start, end, count } = dimRange(book, req['source'], fail);
    const destination = int(req['destinationIndex']);
    if (destination === undefined) throw fail('destinationIndex is required');
    if (end > count || destination < 0 || destination > count) throw fail(`Invalid move: source ${start}-${end}, destinationIndex ${destination}, grid size ${count}`);
    if (destination >= start && destination <= end) return {};
    if (dim === 'ROWS') sheet.moveRows(start, end, destination);
    else sheet.moveCols(start, end, destination);
    return {};
  },
  addSheet(book, req, fail) {
    const props = obj(req['properties']);
    const grid = obj(props['gridProperties']);
    const title = typeof props['title'] === 'string' ? props['title'] : undefined;
    const sheetId = int(props['sheetId']);
    if (title !== undefined && book.sheetByTitle(title)) {
      throw fail(`A sheet with the name "${title}" already exists. Please enter another name.`);
    }
    if (sheetId !== undefined && book.sheetById(sheetId)) throw fail(`Sheet with id ${sheetId} already exists.`);
    const sheet = book.addSheet({
      title,
      sheetId,
      index: int(props['index']),
      rowCount: int(grid['rowCount']),
      columnCount: int(grid['columnCount']),
    });
    return { addSheet: { properties: book.properties(sheet) } };
  },
  deleteSheet(book, req, fail) {
    const sheet = book.sheetById(req['sheetId']);
    if (!sheet) throw fail(`No sheet with id: ${idText(req['sheetId'])}`);
    if (book.sheets.length === 1) throw fail("You can't remove all the sheets in a document.");
    book.sheets.splice(book.sheets.indexOf(sheet), 1);
    dropSheetDecor(book, sheet.sheetId);
    dropSheetMetadata(book, sheet.sheetId);
    return {};
  },
  updateSheetProperties(book, req, fail) {
    const props = obj(req['properties']);
    const has = fieldSet(req['fields'], fail);
    const sheet = book.sheetById(props['sheetId']);
    if (!sheet) throw fail(`No grid with id: ${idText(props['sheetId'])}`);
    const grid = obj(props['gridProperties']);
    const rows = has('gridProperties.rowCount') ? int(grid['rowCount']) ?? sheet.rowCount : sheet.rowCount;
    const cols = has('gridProperties.columnCount') ? int(grid['columnCount']) ?? sheet.columnCount : sheet.columnCount;
    if (rows < 1 || cols < 1) throw fail('Grid must have at least one row and one column.');
    const title = has('title') && typeof props['title'] === 'string' ? props['title'] : undefined;
    if (title !== undefined && title !== sheet.title && book.sheetByTitle(title)) {
      throw fail(`A sheet with the name "${title}" already exists. Please enter another name.`);
    }
    sheet.resize(rows, cols);
    if (title !== undefined) sheet.title = title;
    const index = has('index') ? int(props['index']) : undefined;
    if (index !== undefined) {
      book.sheets.splice(book.sheets.indexOf(sheet), 1);
      book.sheets.splice(Math.max(0, Math.min(index, book.sheets.length)), 0, sheet);
    }
    return {};
  },
  updateSpreadsheetProperties(book, req, fail) {
    const props = obj(req['properties']);
    const has = fieldSet(req['fields'], fail);
    if (has('title') && typeof props['title'] === 'string') book.title = props['title'];
    return {};
  },
  ...developerMetadataHandlers,
  ...formatHandlers,
  ...chartHandlers,
  ...cellHandlers,
};

export const SUPPORTED_REQUESTS = Object.keys(handlers);

export function batchUpdate(book: Spreadsheet, body: Json): Json {
  const requests = Array.isArray(body['requests']) ? (body['requests'] as unknown[]) : [];
  if (requests.length === 0) throw invalidArgument('Must specify at least one request.');
  const snapshot = requests.length > 1 ? book.snapshot() : undefined;
  const metadata = requests.length > 1 ? snapshotMetadata(book) : undefined;
  const decor = requests.length > 1 ? snapshotDecor(book) : undefined;
  const spreadsheetTitle = book.title;
  try {
    const replies = requests.map((raw, i) => {
      const req = obj(raw);
      const kinds = Object.keys(req);
      const kind = kinds[0];
      if (kind === undefined) throw invalidArgument(`Invalid requests[${i}]: No request set.`);
      if (kinds.length > 1) throw invalidArgument(`Invalid requests[${i}]: oneof field 'kind' is already set. Cannot set '${kinds[1] ?? ''}'`);
      const handler = handlers[kind];
      if (!handler) {
        throw invalidArgument(`Invalid JSON payload received. Unknown name "${kind}" at 'requests[${i}]': Cannot find field.`);
      }
      const fail = (msg: string): ApiError => invalidArgument(`Invalid requests[${i}].${kind}: ${msg}`);
      return handler(book, obj(req[kind]), fail);
    });
    return { spreadsheetId: book.id, replies };
  } catch (err) {
    if (snapshot) {
      book.restore(snapshot);
      book.title = spreadsheetTitle;
    }
    if (metadata) restoreMetadata(book, metadata);
    if (decor) restoreDecor(book, decor);
    throw err;
  }
}
