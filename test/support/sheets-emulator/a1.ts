/** A1 notation: parsing (`'My Tab'!A2:C`, `Tab!2:5`, `A1`, ...) and formatting. */

/** 0-based inclusive cell span; an undefined bound is open (to the grid edge). */
export interface CellSpan {
  startRow: number;
  startCol: number;
  endRow: number | undefined;
  endCol: number | undefined;
  /** Written as one cell (`B2`), not a span. */
  single: boolean;
}

export interface ParsedRange {
  /** Tab title, unquoted; undefined means the first sheet. */
  sheet: string | undefined;
  /** Undefined when the range names a whole tab. */
  cells: CellSpan | undefined;
}

/** 0-based inclusive rectangle. */
export interface Box {
  r0: number;
  c0: number;
  r1: number;
  c1: number;
}

const MAX_COLUMNS = 18278; // ZZZ

export function columnName(index: number): string {
  let n = index + 1;
  let out = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    out = String.fromCharCode(65 + rem) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

export function columnIndex(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

interface Endpoint {
  row: number | undefined;
  col: number | undefined;
}

const ENDPOINT = /^\$?([A-Za-z]{0,3})\$?(\d*)$/;

function parseEndpoint(text: string): Endpoint | null {
  const m = ENDPOINT.exec(text);
  if (!m) return null;
  const letters = m[1] ?? '';
  const digits = m[2] ?? '';
  if (!letters && !digits) return null;
  const row = digits ? Number(digits) - 1 : undefined;
  if (row !== undefined && (row < 0 || !Number.isSafeInteger(row))) return null;
  const col = letters ? columnIndex(letters) : undefined;
  if (col !== undefined && col >= MAX_COLUMNS) return null;
  return { row, col };
}

function ordered(a: number | undefined, b: number | undefined): [number | undefined, number | undefined] {
  return a !== undefined && b !== undefined && a > b ? [b, a] : [a, b];
}

/** Parses the part after `!`; null when it is not A1 notation. */
export function parseCells(text: string): CellSpan | null {
  const parts = text.split(':');
  if (parts.length === 1) {
    const p = parseEndpoint(parts[0] ?? '');
    if (!p || p.row === undefined || p.col === undefined) return null;
    return { startRow: p.row, startCol: p.col, endRow: p.row, endCol: p.col, single: true };
  }
  if (parts.length !== 2) return null;
  const a = parseEndpoint(parts[0] ?? '');
  const b = parseEndpoint(parts[1] ?? '');
  if (!a || !b) return null;
  const aColOnly = a.row === undefined;
  const aRowOnly = a.col === undefined;
  const bColOnly = b.row === undefined;
  const bRowOnly = b.col === undefined;
  // `A:5` / `5:A` mix a column-only bound with a row-only bound.
  if ((aColOnly && bRowOnly) || (aRowOnly && bColOnly)) return null;
  const [startRow, endRow] = ordered(a.row ?? 0, b.row);
  const [startCol, endCol] = ordered(a.col ?? 0, b.col);
  return { startRow: startRow ?? 0, startCol: startCol ?? 0, endRow, endCol, single: false };
}

function readQuoted(text: string): { name: string; rest: string } | null {
  let name = '';
  let i = 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "'") {
      if (text[i + 1] === "'") {
        name += "'";
        i += 2;
        continue;
      }
      return { name, rest: text.slice(i + 1) };
    }
    name += ch;
    i += 1;
  }
  return null;
}

/** Parses an A1 range; null when it cannot be parsed at all. */
export function parseA1(input: string): ParsedRange | null {
  const text = input.trim();
  if (!text) return null;
  if (text.startsWith("'")) {
    const q = readQuoted(text);
    if (!q || !q.name) return null;
    if (q.rest === '') return { sheet: q.name, cells: undefined };
    if (!q.rest.startsWith('!')) return null;
    const cells = parseCells(q.rest.slice(1));
    return cells ? { sheet: q.name, cells } : null;
  }
  const bang = text.lastIndexOf('!');
  if (bang >= 0) {
    const sheet = text.slice(0, bang);
    const cells = parseCells(text.slice(bang + 1));
    return sheet && cells ? { sheet, cells } : null;
  }
  const cells = parseCells(text);
  return cells ? { sheet: undefined, cells } : { sheet: text, cells: undefined };
}

const BARE_TITLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CELL_LIKE = /^([A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*|true|false)$/i;

/** Quotes a tab title the way Google echoes it: bare only when unambiguous. */
export function quoteTitle(title: string, always = false): string {
  if (!always && BARE_TITLE.test(title) && !CELL_LIKE.test(title)) return title;
  return `'${title.replace(/'/g, "''")}'`;
}

export function cellName(row: number, col: number): string {
  return `${columnName(col)}${row + 1}`;
}

export function formatBox(title: string, box: Box, opts: { single?: boolean; alwaysQuote?: boolean } = {}): string {
  const start = cellName(box.r0, box.c0);
  const one = opts.single === true || (box.r0 === box.r1 && box.c0 === box.c1);
  const cells = one ? start : `${start}:${cellName(box.r1, box.c1)}`;
  return `${quoteTitle(title, opts.alwaysQuote === true)}!${cells}`;
}
