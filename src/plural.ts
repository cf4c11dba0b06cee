/** "1 call", "3 calls", "1,200 rows": a count and its noun, agreed. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}

/** "row 5", "rows 2, 3, …": the rows named, the noun agreeing with how many there are (`total`, when only the first are given). */
export function rowList(rows: readonly (number | string)[], shown = 10, total = rows.length): string {
  const named = rows.slice(0, shown).join(', ');
  return `${total === 1 ? 'row' : 'rows'} ${named}${total > Math.min(shown, rows.length) ? ', …' : ''}`;
}
