/** "1 call", "3 calls", "1,200 rows": a count and its noun, agreed. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${grouped(count)} ${count === 1 ? one : many}`;
}

/**
 * A number as `toLocaleString('en-US')` writes it ("1,200", "-3,400,000"), a whole number
 * without it: the first toLocaleString of a process loads ICU's number formats, 11-19 ms
 * of a run's start spent on its first progress line (issue 25, bench B1). Any other number
 * (a fraction, NaN, ±Infinity, beyond 2^53) still goes through it.
 */
export function grouped(value: number): string {
  if (!Number.isSafeInteger(value)) return value.toLocaleString('en-US');
  const digits = String(Math.abs(value));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let at = out.length; at < digits.length; at += 3) out += `,${digits.slice(at, at + 3)}`;
  return value < 0 || Object.is(value, -0) ? `-${out}` : out;
}

/** "row 5", "rows 2, 3, …": the rows named, the noun agreeing with how many there are (`total`, when only the first are given). */
export function rowList(rows: readonly (number | string)[], shown = 10, total = rows.length): string {
  const named = rows.slice(0, shown).join(', ');
  return `${total === 1 ? 'row' : 'rows'} ${named}${total > Math.min(shown, rows.length) ? ', …' : ''}`;
}
