/** A stored JSON text; a damaged one (a crash mid-write, a hand edit, a restored dump) reads as null rather than failing the read. */
export function parsedJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
