/** `text` cut to at most `max` characters for a terminal column; a cut ends in "…" (counted in the `max`). */
export function clip(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return max <= 0 ? '' : `${chars.slice(0, max - 1).join('')}…`;
}
