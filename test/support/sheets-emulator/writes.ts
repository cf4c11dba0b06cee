/** Planning and applying value writes, so multi-range writes are all-or-nothing. */
import { columnName, formatBox, type Box, type CellSpan } from './a1.js';
import { inputFlag, interpretInput, type CellWrite, type Evaluate, type InputFlag } from './cells.js';
import { invalidArgument } from './errors.js';
import type { Sheet } from './grid.js';
import type { Dimension, ValueInputOption } from './types.js';
import { gridLimitError } from './workbook.js';

/** Input values interpreted cell by cell, with Google's update counters. */
export interface Interpreted {
  cells: CellWrite[][];
  rows: number;
  cols: number;
  updatedRows: number;
  updatedColumns: number;
  updatedCells: number;
}

export function parseDimension(raw: unknown, field = 'major_dimension'): Dimension {
  if (raw === undefined || raw === null || raw === '' || raw === 'ROWS' || raw === 'DIMENSION_UNSPECIFIED') return 'ROWS';
  if (raw === 'COLUMNS') return 'COLUMNS';
  throw invalidArgument(`Invalid value at '${field}' (type.googleapis.com/google.apps.sheets.v4.Dimension), ${JSON.stringify(raw)}`);
}

function asMatrix(values: unknown, where: string): unknown[][] {
  if (values === undefined || values === null) return [];
  if (!Array.isArray(values)) throw invalidArgument(`Invalid value at '${where}' (type.googleapis.com/google.protobuf.ListValue)`);
  return values.map((row: unknown, i) => {
    if (row === null || row === undefined) return [];
    if (!Array.isArray(row)) throw invalidArgument(`Invalid value at '${where}[${i}]' (type.googleapis.com/google.protobuf.ListValue)`);
    return row as unknown[];
  });
}

function transpose(m: unknown[][]): unknown[][] {
  const out: unknown[][] = [];
  m.forEach((col, c) => {
    col.forEach((v, r) => {
      (out[r] ??= [])[c] = v;
    });
  });
  return Array.from(out, (row) => Array.from(row ?? []));
}

export function interpret(
  values: unknown,
  dimension: Dimension,
  option: ValueInputOption,
  evaluate: Evaluate,
  where = 'data.values',
): Interpreted {
  const matrix = dimension === 'COLUMNS' ? transpose(asMatrix(values, where)) : asMatrix(values, where);
  let cols = 0;
  let updatedRows = 0;
  let updatedCells = 0;
  const touchedCols: boolean[] = [];
  const cells = matrix.map((row, r) => {
    if (row.length > cols) cols = row.length;
    let touched = false;
    const out = row.map((raw, c) => {
      const w = interpretInput(raw, option, evaluate, `${where}[${r}][${c}]`);
      if (w.kind !== 'skip') {
        touched = true;
        updatedCells += 1;
        touchedCols[c] = true;
      }
      return w;
    });
    if (touched) updatedRows += 1;
    return out;
  });
  const updatedColumns = touchedCols.reduce((n, t) => (t ? n + 1 : n), 0);
  return { cells, rows: cells.length, cols, updatedRows, updatedColumns, updatedCells };
}

export interface WritePlan {
  sheet: Sheet;
  /** Top-left cell of the write. */
  row: number;
  col: number;
  data: Interpreted;
  flag: InputFlag;
  /** The box the data covers; undefined when there is no data. */
  extent: Box | undefined;
}

/**
 * Checks a write of `data` starting at the span's top-left: it must stay within
 * the span's explicit bounds and within the grid (unless `growRows`).
 */
export function planWrite(
  sheet: Sheet,
  span: CellSpan | undefined,
  data: Interpreted,
  option: ValueInputOption,
  rangeText: string,
  start?: { row: number; col: number },
): WritePlan {
  const row = start?.row ?? span?.startRow ?? 0;
  const col = start?.col ?? span?.startCol ?? 0;
  const flag = inputFlag(option);
  if (data.rows === 0 || data.cols === 0) return { sheet, row, col, data, flag, extent: undefined };
  const extent = { r0: row, c0: col, r1: row + data.rows - 1, c1: col + data.cols - 1 };
  if (span && !span.single && !start) {
    if (span.endRow !== undefined && extent.r1 > span.endRow) {
      throw invalidArgument(`Requested writing within range [${rangeText}], but tried writing to row [${extent.r1 + 1}]`);
    }
    if (span.endCol !== undefined && extent.c1 > span.endCol) {
      throw invalidArgument(`Requested writing within range [${rangeText}], but tried writing to column [${columnName(extent.c1)}]`);
    }
  }
  return { sheet, row, col, data, flag, extent };
}

export function checkGrid(plan: WritePlan, growRows = false): void {
  const { extent, sheet } = plan;
  if (!extent) return;
  if (extent.c1 >= sheet.columnCount || (!growRows && extent.r1 >= sheet.rowCount)) throw gridLimitError(sheet, extent);
}

export function applyWrite(plan: WritePlan): void {
  const { sheet, row, col, flag } = plan;
  plan.data.cells.forEach((cells, r) => {
    cells.forEach((w, c) => {
      if (w.kind === 'set') sheet.set(row + r, col + c, w.value, w.formula, flag);
      else if (w.kind === 'clear') sheet.clear(row + r, col + c);
    });
  });
}

/** Google's UpdateValuesResponse; zero counters are omitted, as proto3 JSON does. */
export function updateResponse(spreadsheetId: string, plan: WritePlan): Record<string, unknown> {
  const box = plan.extent ?? { r0: plan.row, c0: plan.col, r1: plan.row, c1: plan.col };
  const out: Record<string, unknown> = { spreadsheetId, updatedRange: formatBox(plan.sheet.title, box) };
  if (plan.data.updatedRows) out['updatedRows'] = plan.data.updatedRows;
  if (plan.data.updatedColumns) out['updatedColumns'] = plan.data.updatedColumns;
  if (plan.data.updatedCells) out['updatedCells'] = plan.data.updatedCells;
  return out;
}
