/**
 * spreadsheets.get: the spreadsheet's properties and tabs, each tab's conditional format
 * rules, charts and developer metadata, and grid data (cells with their validation,
 * column metadata) for the requested `ranges` when asked for. As the reference says:
 * "includeGridData: True if grid data should be returned. This parameter is ignored if a
 * field mask was set in the request", so a mask naming `sheets.data` is what asks for
 * grid data; with `ranges`, only the tabs they name are returned. `fields` is the
 * partial-response mask of Google APIs (`a,b.c,d(e,f)`, `/` as a path separator too;
 * https://developers.google.com/sheets/api/guides/field-masks).
 * Reference: https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/get
 */
import { ruleJson } from './format-requests.js';
import { chartJson } from './chart-requests.js';
import { decorOf, validationAt } from './decor.js';
import { columnMetadataOf, placedMetadataOf } from './developer-metadata.js';
import { invalidArgument } from './errors.js';
import type { Sheet } from './grid.js';
import { clippedBox } from './workbook.js';
import type { Spreadsheet } from './workbook.js';
import type { Box } from './a1.js';

type Json = Record<string, unknown>;
/** A parsed mask: each name to its sub-mask, `true` for "all of it". */
export type Mask = Map<string, Mask | true>;

/** Parses a partial-response mask; 400 on one that does not parse, as Google answers. */
export function parseMask(text: string): Mask {
  let i = 0;
  const bad = (): never => {
    throw invalidArgument(`Invalid field selection ${text}`);
  };
  const list = (closing: boolean): Mask => {
    const mask: Mask = new Map();
    for (;;) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_*./]/.test(text[i] ?? '')) i++;
      const path = text.slice(start, i).trim().split(/[./]/);
      if (path.some((p) => p === '')) bad();
      let sub: Mask | true = true;
      if (text[i] === '(') {
        i++;
        sub = list(true);
        if (text[i] !== ')') bad();
        i++;
      }
      merge(mask, path, sub);
      while (text[i] === ' ') i++;
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (closing ? text[i] === ')' : i === text.length) return mask;
      return bad();
    }
  };
  return list(false);
}

function merge(mask: Mask, path: string[], sub: Mask | true): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  const leaf = rest.length === 0 ? sub : (() => {
    const inner: Mask = new Map();
    merge(inner, rest, sub);
    return inner;
  })();
  const had = mask.get(head);
  if (had === true || leaf === true) mask.set(head, true);
  else if (had) for (const [k, v] of leaf) merge(had, [k], v);
  else mask.set(head, leaf);
}

/** Keeps what the mask selects; arrays are masked element by element. */
export function applyMask(value: unknown, mask: Mask | true): unknown {
  if (mask === true) return value;
  if (Array.isArray(value)) return value.map((v) => applyMask(v, mask));
  if (value === null || typeof value !== 'object') return value;
  if (mask.has('*')) return value;
  const out: Json = {};
  for (const [k, sub] of mask) {
    const v = (value as Json)[k];
    if (v !== undefined) out[k] = applyMask(v, sub);
  }
  return out;
}

function wantsData(mask: Mask | undefined, includeGridData: boolean): boolean {
  if (!mask) return includeGridData;
  const sheets = mask.get('sheets') ?? mask.get('*');
  return sheets === true || (sheets instanceof Map && (sheets.has('data') || sheets.has('*')));
}

/** One GridData block: the cells of `box` (values, validation) and its columns' metadata. */
function gridData(book: Spreadsheet, sheet: Sheet, box: Box, whole: boolean): Json {
  const meta = columnMetadataOf(book, sheet.sheetId);
  const rowData: Json[] = [];
  // A requested range is returned whole; the whole grid stops after its last row with values.
  const lastRow = whole ? Math.min(box.r1, sheet.lastDataRow()) : box.r1;
  for (let r = box.r0; r <= lastRow; r++) {
    const values: Json[] = [];
    for (let c = box.c0; c <= box.c1; c++) {
      const cell: Json = {};
      const stored = sheet.get(r, c);
      if (stored) {
        cell['formattedValue'] = typeof stored.value === 'boolean' ? (stored.value ? 'TRUE' : 'FALSE') : String(stored.value);
        cell['userEnteredValue'] = stored.formula !== undefined ? { formulaValue: stored.formula } : typeof stored.value === 'number' ? { numberValue: stored.value } : typeof stored.value === 'boolean' ? { boolValue: stored.value } : { stringValue: stored.value };
      }
      const validation = validationAt(book, sheet.sheetId, r, c);
      if (validation) cell['dataValidation'] = structuredClone(validation);
      values.push(cell);
    }
    while (values.length > 0 && Object.keys(values.at(-1) ?? {}).length === 0) values.pop();
    rowData.push(values.length > 0 ? { values } : {});
  }
  const columnMetadata = Array.from({ length: box.c1 - box.c0 + 1 }, (_, i) => {
    const found = meta.get(box.c0 + i);
    return { pixelSize: 100, ...(found ? { developerMetadata: found } : {}) };
  });
  return { ...(box.r0 > 0 ? { startRow: box.r0 } : {}), ...(box.c0 > 0 ? { startColumn: box.c0 } : {}), rowData, columnMetadata };
}

export function getSpreadsheet(book: Spreadsheet, query: URLSearchParams): Json {
  const fields = query.get('fields');
  const mask = fields !== null && fields.trim() !== '' ? parseMask(fields) : undefined;
  const ranges = query.getAll('ranges').map((r) => book.resolve(r));
  const data = wantsData(mask, query.get('includeGridData') === 'true');
  const decor = decorOf(book);
  const named = new Set(ranges.map((r) => r.sheet));
  const tabs = ranges.length > 0 ? book.sheets.filter((s) => named.has(s)) : book.sheets;
  const sheets = tabs.map((sheet) => {
    const out: Json = { properties: book.properties(sheet) };
    const rules = decor.rules.filter((r) => r.sheetId === sheet.sheetId);
    if (rules.length > 0) out['conditionalFormats'] = rules.map(ruleJson);
    const charts = decor.charts.filter((c) => c.sheetId === sheet.sheetId);
    if (charts.length > 0) out['charts'] = charts.map(chartJson);
    const metadata = placedMetadataOf(book, sheet.sheetId);
    if (metadata.length > 0) out['developerMetadata'] = metadata;
    if (data) {
      const boxes = ranges.length > 0 ? ranges.filter((r) => r.sheet === sheet).map((r) => clippedBox(sheet, r.span)) : [{ r0: 0, c0: 0, r1: sheet.rowCount - 1, c1: sheet.columnCount - 1 }];
      out['data'] = boxes.map((box) => gridData(book, sheet, box, ranges.length === 0));
    }
    return out;
  });
  const spreadsheetMetadata = placedMetadataOf(book, undefined);
  const full: Json = { ...book.metadata(), sheets, ...(spreadsheetMetadata.length > 0 ? { developerMetadata: spreadsheetMetadata } : {}) };
  return mask ? (applyMask(full, mask) as Json) : full;
}
