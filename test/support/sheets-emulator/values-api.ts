/** Handlers of the `spreadsheets.values.*` endpoints. */
import { formatBox } from './a1.js';
import { parseInputOption, parseRenderOption, type Evaluate } from './cells.js';
import { invalidArgument } from './errors.js';
import type { Sheet } from './grid.js';
import type { Dimension, Scalar } from './types.js';
import { clippedBox, echoRange, type Spreadsheet } from './workbook.js';
import { applyWrite, checkGrid, interpret, parseDimension, planWrite, updateResponse, type WritePlan } from './writes.js';

type Json = Record<string, unknown>;

export interface ValuesContext {
  book: Spreadsheet;
  query: URLSearchParams;
  body: Json;
  evaluate: Evaluate;
}

function transposeRendered(rows: Scalar[][]): Scalar[][] {
  const width = rows.reduce((w, r) => Math.max(w, r.length), 0);
  const out: Scalar[][] = [];
  for (let c = 0; c < width; c++) {
    const col = rows.map((r) => r[c] ?? '');
    let n = col.length;
    while (n > 0 && col[n - 1] === '') n -= 1;
    col.length = n;
    out.push(col);
  }
  return out;
}

function valueRange(book: Spreadsheet, range: string, render: unknown, dimension: Dimension): Json {
  const { sheet, span } = book.resolve(range);
  const box = clippedBox(sheet, span);
  const rows = sheet.read(box, parseRenderOption(render));
  const values = dimension === 'COLUMNS' ? transposeRendered(rows) : rows;
  const out: Json = { range: echoRange(sheet, span, box), majorDimension: dimension };
  if (values.length > 0) out['values'] = values;
  return out;
}

export function getValues(ctx: ValuesContext, range: string): Json {
  const dim = parseDimension(ctx.query.get('majorDimension') ?? undefined);
  return valueRange(ctx.book, range, ctx.query.get('valueRenderOption') ?? undefined, dim);
}

export function batchGetValues(ctx: ValuesContext): Json {
  const ranges = ctx.query.getAll('ranges');
  const dim = parseDimension(ctx.query.get('majorDimension') ?? undefined);
  const render = ctx.query.get('valueRenderOption') ?? undefined;
  const out: Json = { spreadsheetId: ctx.book.id };
  if (ranges.length > 0) out['valueRanges'] = ranges.map((r) => valueRange(ctx.book, r, render, dim));
  return out;
}

/**
 * spreadsheets.values.batchGetByDataFilter: a read whose ranges travel in a POST body, not
 * in the URL (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values/batchGetByDataFilter):
 * "Ranges that match any of the data filters in the request will be returned", each as a
 * MatchedValueRange with the filters that matched it. Only a1Range filters are modelled.
 */
export function batchGetValuesByDataFilter(ctx: ValuesContext): Json {
  const filters = Array.isArray(ctx.body['dataFilters']) ? (ctx.body['dataFilters'] as unknown[]) : [];
  const dim = parseDimension(ctx.body['majorDimension']);
  const render = ctx.body['valueRenderOption'];
  const matched = filters.map((filter, i) => {
    const range = filter !== null && typeof filter === 'object' ? (filter as Json)['a1Range'] : undefined;
    if (typeof range !== 'string') throw invalidArgument(`Invalid data_filters[${i}]: this emulator models a1Range filters only.`);
    return { valueRange: valueRange(ctx.book, range, render, dim), dataFilters: [{ a1Range: range }] };
  });
  const out: Json = { spreadsheetId: ctx.book.id };
  if (matched.length > 0) out['valueRanges'] = matched;
  return out;
}

function withData(resp: Json, plan: WritePlan, include: unknown, render: unknown): Json {
  if (include !== true && include !== 'true') return resp;
  const renderOption = parseRenderOption(render, 'response_value_render_option');
  const box = plan.extent ?? { r0: plan.row, c0: plan.col, r1: plan.row, c1: plan.col };
  const values = plan.sheet.read(box, renderOption);
  const updatedData: Json = { range: formatBox(plan.sheet.title, box), majorDimension: 'ROWS' };
  if (values.length > 0) updatedData['values'] = values;
  return { ...resp, updatedData };
}

export function updateValues(ctx: ValuesContext, range: string): Json {
  const { book, query, body } = ctx;
  const option = parseInputOption(query.get('valueInputOption') ?? undefined);
  const { sheet, span } = book.resolve(range);
  const data = interpret(body['values'], parseDimension(body['majorDimension']), option, ctx.evaluate, 'data.values');
  const plan = planWrite(sheet, span, data, option, range);
  checkGrid(plan);
  applyWrite(plan);
  return withData(updateResponse(book.id, plan), plan, query.get('includeValuesInResponse'), query.get('responseValueRenderOption') ?? undefined);
}

/**
 * spreadsheets.values.append as Google documents it
 * (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values/append,
 * https://developers.google.com/sheets/api/guides/values#append_values): the input range is
 * searched for a "table" of existing data and the values go to the row after its last row,
 * found by the server when the request arrives (two writers appending at once never land
 * on one row). insertDataOption INSERT_ROWS inserts rows for the new data (what was below
 * moves down, nothing is written over); OVERWRITE (the default) writes over whatever is
 * there, though adding past the end of the sheet still adds rows. A whole-tab range (or a
 * single cell) searches every column: the table ends at the tab's last row with data.
 */
export function appendValues(ctx: ValuesContext, range: string): Json {
  const { book, query, body } = ctx;
  const option = parseInputOption(query.get('valueInputOption') ?? undefined);
  const insert = query.get('insertDataOption') ?? 'OVERWRITE';
  if (insert !== 'OVERWRITE' && insert !== 'INSERT_ROWS') {
    throw invalidArgument(`Invalid value at 'insert_data_option' (type.googleapis.com/google.apps.sheets.v4.InsertDataOption), "${insert}"`);
  }
  const { sheet, span } = book.resolve(range);
  const r0 = span?.startRow ?? 0;
  const c0 = span?.startCol ?? 0;
  const wholeWidth = !span || span.single;
  const last = sheet.lastDataRow(c0, wholeWidth ? Number.MAX_SAFE_INTEGER : (span.endCol ?? Number.MAX_SAFE_INTEGER), r0);
  const at = last >= 0 ? last + 1 : r0;
  const data = interpret(body['values'], parseDimension(body['majorDimension']), option, ctx.evaluate, 'data.values');
  const plan = planWrite(sheet, span, data, option, range, { row: at, col: c0 });
  checkGrid(plan, true);
  if (plan.extent) {
    if (insert === 'INSERT_ROWS') sheet.insertRows(at, data.rows);
    else if (plan.extent.r1 >= sheet.rowCount) sheet.rowCount = plan.extent.r1 + 1;
  }
  applyWrite(plan);
  const out: Json = { spreadsheetId: book.id };
  if (last >= 0) out['tableRange'] = tableRange(sheet, r0, c0, last);
  const updates = withData(updateResponse(book.id, plan), plan, query.get('includeValuesInResponse'), query.get('responseValueRenderOption') ?? undefined);
  out['updates'] = updates;
  return out;
}

function tableRange(sheet: Sheet, r0: number, c0: number, last: number): string {
  const width = sheet.rows[last]?.v.length ?? c0 + 1;
  return formatBox(sheet.title, { r0, c0, r1: last, c1: Math.max(c0, width - 1) });
}

export function batchUpdateValues(ctx: ValuesContext): Json {
  const { book, body } = ctx;
  const option = parseInputOption(body['valueInputOption']);
  const data = Array.isArray(body['data']) ? (body['data'] as unknown[]) : [];
  const plans = data.map((item, i) => {
    const entry = (item ?? {}) as Json;
    const range = typeof entry['range'] === 'string' ? entry['range'] : '';
    const { sheet, span } = book.resolve(range);
    const parsed = interpret(entry['values'], parseDimension(entry['majorDimension'], `data[${i}].major_dimension`), option, ctx.evaluate, `data[${i}].values`);
    const plan = planWrite(sheet, span, parsed, option, range);
    checkGrid(plan);
    return plan;
  });
  plans.forEach(applyWrite);
  const responses = plans.map((p) =>
    withData(updateResponse(book.id, p), p, body['includeValuesInResponse'], body['responseValueRenderOption']),
  );
  const sum = (k: 'updatedRows' | 'updatedColumns' | 'updatedCells'): number => plans.reduce((n, p) => n + p.data[k], 0);
  const sheets = new Set(plans.filter((p) => p.data.updatedCells > 0).map((p) => p.sheet));
  const out: Json = { spreadsheetId: book.id };
  if (sum('updatedRows')) out['totalUpdatedRows'] = sum('updatedRows');
  if (sum('updatedColumns')) out['totalUpdatedColumns'] = sum('updatedColumns');
  if (sum('updatedCells')) out['totalUpdatedCells'] = sum('updatedCells');
  if (sheets.size) out['totalUpdatedSheets'] = sheets.size;
  if (responses.length) out['responses'] = responses;
  return out;
}

function clearOne(book: Spreadsheet, range: string): string {
  const { sheet, span } = book.resolve(range);
  const box = clippedBox(sheet, span);
  sheet.clearBox(box);
  return echoRange(sheet, span, box);
}

export function clearValues(ctx: ValuesContext, range: string): Json {
  return { spreadsheetId: ctx.book.id, clearedRange: clearOne(ctx.book, range) };
}

export function batchClearValues(ctx: ValuesContext): Json {
  const ranges = Array.isArray(ctx.body['ranges']) ? (ctx.body['ranges'] as unknown[]) : [];
  // Resolve everything first so a bad range clears nothing.
  ranges.forEach((r) => {
    const { sheet, span } = ctx.book.resolve(r);
    clippedBox(sheet, span);
  });
  const out: Json = { spreadsheetId: ctx.book.id };
  if (ranges.length) out['clearedRanges'] = ranges.map((r) => clearOne(ctx.book, String(r)));
  return out;
}
