/**
 * UpdateCellsRequest (spreadsheets.batchUpdate), values only: "Updates all cells in a
 * range with new data", from `start` (a GridCoordinate) or over `range`, where "if the
 * data in rows does not cover the entire requested range, the fields matching those set
 * in fields will be cleared"; `fields` is required ("At least one field must be
 * specified", the root `*` being all of them).
 * https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/request#UpdateCellsRequest
 * A userEnteredValue is one of stringValue, numberValue, boolValue, formulaValue
 * (ExtendedValue): a stringValue is stored as-is, never parsed, like a RAW write.
 * Formats are accepted and not kept (the emulator keeps values).
 */
import { INPUT_NONE } from './cells.js';
import { checkGridRange, isObject, obj, shown, type Fail, type Json } from './grid-range.js';
import type { Scalar } from './types.js';
import type { Spreadsheet } from './workbook.js';

type Handler = (book: Spreadsheet, req: Json, fail: Fail) => Json;

function valueOf(raw: unknown, where: string, fail: Fail): { value: Scalar; formula?: string } | undefined {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) throw fail(`${where} must be an ExtendedValue.`);
  const kinds = Object.keys(raw);
  if (kinds.length !== 1) throw fail(kinds.length === 0 ? `${where} must set one value.` : `oneof field 'value' is already set. Cannot set '${kinds[1] ?? ''}'`);
  const v = raw[kinds[0] as string];
  switch (kinds[0]) {
    case 'stringValue':
      if (typeof v !== 'string') throw fail(`Invalid value at '${where}.stringValue' (TYPE_STRING), ${shown(v)}`);
      return { value: v };
    case 'numberValue':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw fail(`Invalid value at '${where}.numberValue' (TYPE_DOUBLE), ${shown(v)}`);
      return { value: v };
    case 'boolValue':
      if (typeof v !== 'boolean') throw fail(`Invalid value at '${where}.boolValue' (TYPE_BOOL), ${shown(v)}`);
      return { value: v };
    case 'formulaValue':
      if (typeof v !== 'string' || !v.startsWith('=')) throw fail(`Invalid value at '${where}.formulaValue': a formula starts with =.`);
      return { value: '#NAME?', formula: v };
    default:
      throw fail(`Invalid JSON payload received. Unknown name "${kinds[0] ?? ''}" at '${where}': Cannot find field.`);
  }
}

export const cellHandlers: Record<string, Handler> = {
  updateCells(book, req, fail) {
    const fields = req['fields'];
    if (typeof fields !== 'string' || fields.trim() === '') throw fail('At least one field must be specified.');
    const setsValues = fields.split(',').some((f) => ['*', 'userEnteredValue'].includes(f.trim()) || f.trim().startsWith('userEnteredValue.'));
    const kinds = ['start', 'range'].filter((k) => req[k] !== undefined);
    if (kinds.length !== 1) throw fail(kinds.length === 0 ? 'Either start or range must be specified.' : "oneof field 'area' is already set. Cannot set 'range'");
    const rows = req['rows'] === undefined ? [] : req['rows'];
    if (!Array.isArray(rows)) throw fail('rows must be a list of RowData.');
    let sheet;
    let box;
    if (req['range'] !== undefined) {
      const checked = checkGridRange(book, req['range'], fail);
      sheet = checked.sheet;
      box = { r0: checked.span.r0, r1: checked.span.r1 ?? sheet.rowCount, c0: checked.span.c0, c1: checked.span.c1 ?? sheet.columnCount };
    } else {
      const start = obj(req['start']);
      sheet = book.sheetById(start['sheetId']);
      if (!sheet) throw fail(`No grid with id: ${shown(start['sheetId'] ?? 0)}`);
      const r0 = typeof start['rowIndex'] === 'number' ? start['rowIndex'] : 0;
      const c0 = typeof start['columnIndex'] === 'number' ? start['columnIndex'] : 0;
      const width = rows.reduce<number>((w, row) => Math.max(w, Array.isArray(obj(row)['values']) ? (obj(row)['values'] as unknown[]).length : 0), 0);
      box = { r0, r1: r0 + rows.length, c0, c1: c0 + width };
    }
    if (box.r1 > sheet.rowCount || box.c1 > sheet.columnCount || rows.length > box.r1 - box.r0) {
      throw fail(`Range exceeds grid limits. Max rows: ${sheet.rowCount}, max columns: ${sheet.columnCount}`);
    }
    // Every value is checked before any is set: a bad cell applies nothing.
    const planned: Array<{ r: number; c: number; cell: { value: Scalar; formula?: string } | undefined }> = [];
    for (let r = box.r0; r < box.r1; r++) {
      const values = obj(rows[r - box.r0])['values'];
      const cells = Array.isArray(values) ? values : [];
      if (cells.length > box.c1 - box.c0) throw fail(`Range exceeds grid limits. Max rows: ${sheet.rowCount}, max columns: ${sheet.columnCount}`);
      for (let c = box.c0; c < box.c1; c++) planned.push({ r, c, cell: valueOf(obj(cells[c - box.c0])['userEnteredValue'], `rows[${r - box.r0}].values[${c - box.c0}].userEnteredValue`, fail) });
    }
    if (!setsValues) return {};
    for (const { r, c, cell } of planned) {
      if (cell) sheet.set(r, c, cell.value, cell.formula, INPUT_NONE);
      else sheet.clear(r, c);
    }
    return {};
  },
};
