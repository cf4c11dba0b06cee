/**
 * Whether what Sheets returns is what the bot sent: Sheets omits false, zero and empty
 * fields, answers colours as floats and each colour twice (backgroundColor and
 * backgroundColorStyle.rgbColor).
 */
/** Deep equality of JSON, absent and default-valued fields alike (what Sheets returns omits false and empty). */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  // Colours come back as floats (0.8352941): three decimals tell the palette's apart.
  if (typeof v === 'number') return v === 0 ? undefined : Math.round(v * 1000) / 1000;
  if (v === null || typeof v !== 'object') return v === false ? undefined : v;
  const entries = Object.entries(v as Record<string, unknown>)
    // Sheets returns each colour twice (backgroundColor and backgroundColorStyle.rgbColor): one is enough to compare.
    .filter(([k]) => !k.endsWith('ColorStyle'))
    .map(([k, x]) => [k, canonical(x)] as const)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

