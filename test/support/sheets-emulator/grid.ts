/**
 * One tab's grid. Cells are stored row-major: each materialised row keeps a
 * dense value array (trimmed of trailing empties) plus lazily allocated
 * parallel arrays for formulas and input-option flags. Rows past the last
 * written one are not materialised, so a 1000-row grid with 3 rows of data
 * costs 3 small arrays.
 */
import type { Box } from './a1.js';
import { INPUT_NONE, renderCell, type InputFlag } from './cells.js';
import type { Cell, Scalar, ValueRenderOption } from './types.js';

export class Row {
  v: (Scalar | undefined)[] = [];
  f: (string | undefined)[] | undefined = undefined;
  o: number[] | undefined = undefined;

  clone(): Row {
    const r = new Row();
    r.v = this.v.slice();
    if (this.f) r.f = this.f.slice();
    if (this.o) r.o = this.o.slice();
    return r;
  }

  set(c: number, value: Scalar, formula: string | undefined, flag: InputFlag): void {
    this.v[c] = value;
    if (formula !== undefined) (this.f ??= [])[c] = formula;
    else if (this.f && c < this.f.length) this.f[c] = undefined;
    if (flag !== INPUT_NONE) (this.o ??= [])[c] = flag;
    else if (this.o && c < this.o.length) this.o[c] = INPUT_NONE;
  }

  clear(c: number): void {
    if (c >= this.v.length) return;
    this.v[c] = undefined;
    if (this.f && c < this.f.length) this.f[c] = undefined;
    if (this.o && c < this.o.length) this.o[c] = INPUT_NONE;
    if (c === this.v.length - 1) this.trim();
  }

  trim(): void {
    let n = this.v.length;
    while (n > 0 && this.v[n - 1] === undefined) n -= 1;
    this.v.length = n;
    if (this.f && this.f.length > n) this.f.length = n;
    if (this.o && this.o.length > n) this.o.length = n;
  }

  get empty(): boolean {
    return this.v.length === 0;
  }

  spliceCols(at: number, remove: number, insert: number): void {
    if (at >= this.v.length) return;
    const holes = new Array<undefined>(insert);
    this.v.splice(at, remove, ...holes);
    if (this.f && at < this.f.length) this.f.splice(at, remove, ...holes);
    if (this.o && at < this.o.length) this.o.splice(at, remove, ...new Array<number>(insert).fill(INPUT_NONE));
    this.trim();
  }

  /** Moves `count` cells from `from` so that they start at `to` (an index after the removal). */
  moveCols(from: number, count: number, to: number): void {
    const width = Math.max(this.v.length, from + count, to + count);
    const move = <T>(cells: T[], fill: T): void => {
      while (cells.length < width) cells.push(fill);
      const taken = cells.splice(from, count);
      cells.splice(to, 0, ...taken);
    };
    move<Scalar | undefined>(this.v, undefined);
    if (this.f) move<string | undefined>(this.f, undefined);
    if (this.o) move<number>(this.o, INPUT_NONE);
    this.trim();
  }
}

export interface StoredCell {
  value: Scalar;
  formula: string | undefined;
  flag: number;
}

/** A change of the grid's shape, for what lives on ranges (rules, validation, charts, metadata: decor.ts). */
export type Shift =
  | { kind: 'insert' | 'delete'; dim: 'ROWS' | 'COLUMNS'; at: number; count: number }
  | { kind: 'move'; dim: 'ROWS' | 'COLUMNS'; start: number; end: number; destination: number };

export class Sheet {
  rows: (Row | undefined)[] = [];
  /** Told of every insert, delete and move, so that ranges on this grid follow it as Sheets moves them. */
  shifted: ((shift: Shift) => void) | undefined = undefined;

  constructor(
    public sheetId: number,
    public title: string,
    public rowCount: number,
    public columnCount: number,
  ) {}

  clone(): Sheet {
    const s = new Sheet(this.sheetId, this.title, this.rowCount, this.columnCount);
    s.rows = this.rows.map((r) => r?.clone());
    s.shifted = this.shifted;
    return s;
  }

  get(r: number, c: number): StoredCell | undefined {
    const row = this.rows[r];
    const value = row?.v[c];
    if (!row || value === undefined) return undefined;
    return { value, formula: row.f?.[c], flag: row.o?.[c] ?? INPUT_NONE };
  }

  set(r: number, c: number, value: Scalar, formula: string | undefined, flag: InputFlag): void {
    let row = this.rows[r];
    if (!row) {
      row = new Row();
      if (r >= this.rows.length) this.fillTo(r);
      this.rows[r] = row;
    }
    row.set(c, value, formula, flag);
  }

  clear(r: number, c: number): void {
    const row = this.rows[r];
    if (!row) return;
    row.clear(c);
    if (row.empty && r === this.rows.length - 1) this.trimRows();
  }

  clearBox(box: Box): void {
    const rEnd = Math.min(box.r1, this.rows.length - 1);
    for (let r = box.r0; r <= rEnd; r++) {
      const row = this.rows[r];
      if (!row) continue;
      const cEnd = Math.min(box.c1, row.v.length - 1);
      for (let c = box.c0; c <= cEnd; c++) row.clear(c);
    }
    this.trimRows();
  }

  /** Index of the last row with any value in columns c0..c1 (rows r0.. ), or -1. */
  lastDataRow(c0 = 0, c1 = Number.MAX_SAFE_INTEGER, r0 = 0): number {
    for (let r = this.rows.length - 1; r >= r0; r--) {
      const row = this.rows[r];
      if (!row) continue;
      const cEnd = Math.min(c1, row.v.length - 1);
      for (let c = c0; c <= cEnd; c++) if (row.v[c] !== undefined) return r;
    }
    return -1;
  }

  /** Rendered values of a box, trailing empty cells and rows trimmed; `""` for inner gaps. */
  read(box: Box, option: ValueRenderOption): Scalar[][] {
    const out: Scalar[][] = [];
    let lastNonEmpty = -1;
    const rEnd = Math.min(box.r1, this.rows.length - 1);
    for (let r = box.r0; r <= rEnd; r++) {
      const row = this.rows[r];
      const cells: Scalar[] = [];
      if (row) {
        const cEnd = Math.min(box.c1, row.v.length - 1);
        let last = -1;
        for (let c = box.c0; c <= cEnd; c++) {
          const v = row.v[c];
          if (v === undefined) {
            cells.push('');
          } else {
            cells.push(renderCell(v, row.f?.[c], option));
            last = c - box.c0;
          }
        }
        cells.length = last + 1;
      }
      out.push(cells);
      if (cells.length > 0) lastNonEmpty = out.length - 1;
    }
    out.length = lastNonEmpty + 1;
    return out;
  }

  /** Raw values of a row for test hooks: `null` for empty cells. */
  rowView(r: number): Cell[] {
    const row = this.rows[r];
    if (!row) return [];
    return Array.from(row.v, (v) => (v === undefined ? null : v));
  }

  insertRows(at: number, count: number): void {
    this.shifted?.({ kind: 'insert', dim: 'ROWS', at, count });
    this.rowCount += count;
    if (at >= this.rows.length) return;
    const tail = this.rows.slice(at);
    this.rows.length = at;
    for (let i = 0; i < count; i++) this.rows.push(undefined);
    for (const row of tail) this.rows.push(row);
  }

  deleteRows(at: number, count: number): void {
    this.shifted?.({ kind: 'delete', dim: 'ROWS', at, count });
    this.rowCount -= count;
    if (at < this.rows.length) this.rows.splice(at, count);
    this.trimRows();
  }

  insertCols(at: number, count: number): void {
    this.shifted?.({ kind: 'insert', dim: 'COLUMNS', at, count });
    this.columnCount += count;
    for (const row of this.rows) row?.spliceCols(at, 0, count);
  }

  deleteCols(at: number, count: number): void {
    this.shifted?.({ kind: 'delete', dim: 'COLUMNS', at, count });
    this.columnCount -= count;
    for (const row of this.rows) row?.spliceCols(at, count, 0);
    this.trimRows();
  }

  /**
   * moveDimension on COLUMNS: `destination` is counted before the source is removed, as
   * the API documents for MoveDimensionRequest.destinationIndex.
   */
  moveCols(start: number, end: number, destination: number): void {
    this.shifted?.({ kind: 'move', dim: 'COLUMNS', start, end, destination });
    const count = end - start;
    const to = destination > start ? destination - count : destination;
    for (const row of this.rows) row?.moveCols(start, count, to);
    this.trimRows();
  }

  /** moveDimension on ROWS, with the same destination rule. */
  moveRows(start: number, end: number, destination: number): void {
    this.shifted?.({ kind: 'move', dim: 'ROWS', start, end, destination });
    const count = end - start;
    const to = destination > start ? destination - count : destination;
    while (this.rows.length < Math.max(end, destination)) this.rows.push(undefined);
    const taken = this.rows.splice(start, count);
    this.rows.splice(to, 0, ...taken);
    this.trimRows();
  }

  /** Sets the grid size; data outside the new grid is dropped. */
  resize(rowCount: number, columnCount: number): void {
    if (rowCount < this.rows.length) this.rows.length = rowCount;
    if (columnCount < this.columnCount) {
      for (const row of this.rows) {
        if (row && row.v.length > columnCount) {
          row.v.length = columnCount;
          row.trim();
        }
      }
    }
    this.rowCount = rowCount;
    this.columnCount = columnCount;
    this.trimRows();
  }

  /** Stable sort of rows from..lastDataRow with a comparator over raw row values. */
  sortRows(from: number, compare: (a: Cell[], b: Cell[]) => number): void {
    const end = this.lastDataRow() + 1;
    if (end - from < 2) return;
    const slice = this.rows.slice(from, end).map((row, i) => ({ row, view: this.rowView(from + i) }));
    slice.sort((a, b) => compare(a.view, b.view));
    slice.forEach((item, i) => {
      this.rows[from + i] = item.row;
    });
    this.trimRows();
  }

  private fillTo(r: number): void {
    while (this.rows.length < r) this.rows.push(undefined);
  }

  private trimRows(): void {
    let n = this.rows.length;
    while (n > 0) {
      const row = this.rows[n - 1];
      if (row && !row.empty) break;
      n -= 1;
    }
    this.rows.length = n;
  }
}
