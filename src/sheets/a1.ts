/** A1 notation helpers. Rows and columns are 1-based, as people and the API count them. */

/** Quotes a tab name for A1 notation: always quoted, inner apostrophes doubled. */
export function quoteSheetName(name: string): string {
  return `'${name.replace(/'/g, "''")}'`;
}

/** 1 → A, 26 → Z, 27 → AA. */
export function columnLetter(column: number): string {
  if (!Number.isInteger(column) || column < 1) throw new RangeError(`column must be a whole number ≥ 1, got ${column}`);
  let n = column;
  let out = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    out = String.fromCharCode(65 + rem) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

/** A rectangular range on one tab: `'Tab'!B2:D2`, or whole rows / open ends when omitted. */
export function a1Range(sheet: string, from: { row: number; column: number }, to?: { row?: number; column: number }): string {
  const start = `${columnLetter(from.column)}${from.row}`;
  const end = to ? `${columnLetter(to.column)}${to.row ?? ''}` : '';
  return `${quoteSheetName(sheet)}!${start}${end ? `:${end}` : ''}`;
}

/** The whole tab, as `'Tab'`. */
export function wholeSheet(sheet: string): string {
  return quoteSheetName(sheet);
}

/**
 * Tab names as Sheets compares them: it refuses two tabs whose names differ only in case
 * and resolves ranges regardless of case (socialpoint-labs/sheetfu#26, appsmith#5293).
 */
export function sameTab(a: string, b: string): boolean {
  return a.trim().toLocaleLowerCase() === b.trim().toLocaleLowerCase();
}
