/** Cutting text to a length without splitting a character (a UTF-16 surrogate pair). */

/** The first `max` UTF-16 units of a text, never ending on half of a surrogate pair (an emoji). */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** `text` in at most `max` UTF-16 units for a cell or a message: a cut ends in "…" (counted in the `max`). */
export function clipText(text: string, max: number): string {
  return text.length <= max ? text : `${cutText(text, max - 1)}…`;
}
