/** The answer sizes a store keeps (src/llm/reserve.ts): a JSON list of whole token counts. */

/** More than the reserve's window ever holds: a hand-edited row cannot make a run read megabytes. */
const MAX_SIZES = 1000;

/** The text stored for a list of sizes (only whole numbers ≥ 0 are kept). */
export function sizesText(sizes: readonly number[]): string {
  return JSON.stringify(sizes.filter((n) => Number.isSafeInteger(n) && n >= 0).slice(-MAX_SIZES));
}

/** The sizes in a stored text; a damaged text (a hand edit, a restored dump) reads as none. */
export function sizesOf(text: string | null | undefined): number[] {
  if (typeof text !== 'string') return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  return value.filter((n): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0).slice(-MAX_SIZES);
}
