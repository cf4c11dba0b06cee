/**
 * What lives on ranges of a spreadsheet besides values: conditional format rules, data
 * validation and embedded charts. Kept per spreadsheet (like developer metadata), copied
 * for all-or-nothing batch updates, and moved with the grid: Sheets adjusts every range
 * when rows or columns are inserted, deleted or moved ("Conditional formatting rules ...
 * ranges are updated as the sheet changes", and a chart's data ranges follow their cells),
 * so a rule on column F is on column G after a column is inserted before F, and a rule
 * whose every cell was deleted is gone. References:
 * https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/sheets#ConditionalFormatRule
 * https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/other#GridRange
 * https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/charts#EmbeddedChart
 */
import type { Shift } from './grid.js';
import type { Spreadsheet } from './workbook.js';

type Json = Record<string, unknown>;

/** A GridRange as indexes: half-open, `undefined` ends run to the edge of the grid (unbounded, as the API allows). */
export interface Span {
  r0: number;
  r1: number | undefined;
  c0: number;
  c1: number | undefined;
}

export interface CfRule {
  sheetId: number;
  ranges: Span[];
  /** `{ booleanRule }` or `{ gradientRule }`, as sent. */
  body: Json;
}

export interface Validation {
  sheetId: number;
  span: { r0: number; r1: number; c0: number; c1: number };
  rule: Json;
}

export interface Chart {
  /** The tab the chart sits on. */
  sheetId: number;
  chartId: number;
  spec: Json;
  position: Json;
}

export interface Decor {
  rules: CfRule[];
  validations: Validation[];
  charts: Chart[];
}

const store = new WeakMap<Spreadsheet, Decor>();
const listening = new WeakSet<Spreadsheet>();

/** Shift handlers of other range-bound things (developer metadata on columns). */
const others: Array<(book: Spreadsheet, sheetId: number, shift: Shift) => void> = [];

export function onShift(handler: (book: Spreadsheet, sheetId: number, shift: Shift) => void): void {
  others.push(handler);
}

export function decorOf(book: Spreadsheet): Decor {
  let decor = store.get(book);
  if (!decor) {
    decor = { rules: [], validations: [], charts: [] };
    store.set(book, decor);
  }
  if (!listening.has(book)) {
    listening.add(book);
    book.shiftListeners.push((sheetId, shift) => {
      shiftDecor(decorOf(book), sheetId, shift);
      for (const handler of others) handler(book, sheetId, shift);
    });
  }
  return decor;
}

/** A deep copy, for a batch that may have to be undone. */
export function snapshotDecor(book: Spreadsheet): Decor {
  return structuredClone(decorOf(book));
}

export function restoreDecor(book: Spreadsheet, decor: Decor): void {
  store.set(book, decor);
}

/** A deleted tab takes its rules, validation and charts with it (and charts elsewhere lose nothing else). */
export function dropSheetDecor(book: Spreadsheet, sheetId: number): void {
  const decor = decorOf(book);
  decor.rules = decor.rules.filter((r) => r.sheetId !== sheetId);
  decor.validations = decor.validations.filter((v) => v.sheetId !== sheetId);
  decor.charts = decor.charts.filter((c) => c.sheetId !== sheetId);
}

/** One half-open interval after a shift on its dimension; undefined when every index of it was deleted. */
export function shiftInterval(a: number, b: number | undefined, shift: Shift): [number, number | undefined] | undefined {
  if (shift.kind === 'move') return moveInterval(a, b, shift);
  if (shift.kind === 'insert') {
    const { at, count } = shift;
    return [a >= at ? a + count : a, b !== undefined && b > at ? b + count : b];
  }
  {
    const { at, count } = shift;
    const end = at + count;
    const na = a < at ? a : Math.max(at, a - count);
    const nb = b === undefined ? undefined : b <= at ? b : b >= end ? b - count : at;
    if (nb !== undefined && nb <= na) return undefined;
    return [na, nb];
  }
}

function moveInterval(a: number, b: number | undefined, shift: Extract<Shift, { kind: 'move' }>): [number, number | undefined] {
  const { start, end, destination } = shift;
  const size = end - start;
  const to = destination > start ? destination - size : destination;
  const pos = (i: number): number => {
    if (i >= start && i < end) return to + (i - start);
    const j = i >= end ? i - size : i;
    return j >= to ? j + size : j;
  };
  if (b === undefined) return [pos(a), undefined];
  const first = pos(a);
  const last = pos(b - 1);
  return [Math.min(first, last), Math.max(first, last) + 1];
}

export function shiftSpan(span: Span, shift: Shift): Span | undefined {
  const rows = shift.dim === 'ROWS';
  const moved = rows ? shiftInterval(span.r0, span.r1, shift) : shiftInterval(span.c0, span.c1, shift);
  if (!moved) return undefined;
  return rows ? { ...span, r0: moved[0], r1: moved[1] } : { ...span, c0: moved[0], c1: moved[1] };
}

function shiftDecor(decor: Decor, sheetId: number, shift: Shift): void {
  decor.rules = decor.rules.flatMap((rule) => {
    if (rule.sheetId !== sheetId) return [rule];
    const ranges = rule.ranges.flatMap((span) => shiftSpan(span, shift) ?? []);
    // A rule none of whose cells is left is removed, as Sheets does.
    return ranges.length > 0 ? [{ ...rule, ranges }] : [];
  });
  decor.validations = decor.validations.flatMap((v) => {
    if (v.sheetId !== sheetId) return [v];
    const span = shiftSpan(v.span, shift);
    return span && span.r1 !== undefined && span.c1 !== undefined ? [{ ...v, span: { r0: span.r0, r1: span.r1, c0: span.c0, c1: span.c1 } }] : [];
  });
  // A chart's data ranges may be on any tab: every GridRange naming this one follows it.
  for (const chart of decor.charts) chart.spec = shiftGridRanges(chart.spec, sheetId, shift) as Json;
}

const INDEX_KEYS = ['startRowIndex', 'endRowIndex', 'startColumnIndex', 'endColumnIndex'];

/** Walks JSON and shifts every GridRange-shaped object on `sheetId`; a range wholly deleted becomes an empty one. */
export function shiftGridRanges(value: unknown, sheetId: number, shift: Shift): unknown {
  if (Array.isArray(value)) return value.map((v) => shiftGridRanges(v, sheetId, shift));
  if (value === null || typeof value !== 'object') return value;
  const o = value as Json;
  if ((o['sheetId'] ?? 0) === sheetId && INDEX_KEYS.some((k) => k in o)) {
    const span = shiftSpan(spanOf(o), shift);
    return span ? gridRangeOf(sheetId, span) : { sheetId, startRowIndex: 0, endRowIndex: 0, startColumnIndex: 0, endColumnIndex: 0 };
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, shiftGridRanges(v, sheetId, shift)]));
}

/** A checked GridRange's indexes (absent start = 0, absent end = unbounded). */
export function spanOf(range: Json): Span {
  const n = (k: string): number | undefined => (typeof range[k] === 'number' ? range[k] : undefined);
  return { r0: n('startRowIndex') ?? 0, r1: n('endRowIndex'), c0: n('startColumnIndex') ?? 0, c1: n('endColumnIndex') };
}

/** A span as the API echoes a GridRange: zero starts and unbounded ends omitted. */
export function gridRangeOf(sheetId: number, span: Span): Json {
  const out: Json = { sheetId };
  if (span.r0 !== 0) out['startRowIndex'] = span.r0;
  if (span.r1 !== undefined) out['endRowIndex'] = span.r1;
  if (span.c0 !== 0) out['startColumnIndex'] = span.c0;
  if (span.c1 !== undefined) out['endColumnIndex'] = span.c1;
  return out;
}

/** The validation rule of one cell, if any. */
export function validationAt(book: Spreadsheet, sheetId: number, r: number, c: number): Json | undefined {
  const found = decorOf(book).validations.find((v) => v.sheetId === sheetId && r >= v.span.r0 && r < v.span.r1 && c >= v.span.c0 && c < v.span.c1);
  return found?.rule;
}
