/** What a POST /runs asks for. */
export interface RunAsk {
  /** Row ids (columns.id) to recheck; undefined for the whole sheet. */
  rows: string[] | undefined;
  force: boolean;
}

const FIELDS = new Set(['rows', 'force']);
const MAX_ID_CHARS = 200;

/**
 * The body `{"rows": ["P-0012", ...], "force": false}`, both optional. Unknown fields are
 * refused by name (a typo such as "row" would otherwise run the whole sheet).
 */
export function parseRunAsk(body: Record<string, unknown>): { ok: true; ask: RunAsk } | { ok: false; error: string } {
  for (const field of Object.keys(body)) {
    if (!FIELDS.has(field)) return { ok: false, error: `unknown field "${field.slice(0, 40)}": the body takes "rows" (a list of row ids) and "force" (true or false)` };
  }
  const { rows, force } = body;
  if (force !== undefined && typeof force !== 'boolean') return { ok: false, error: 'field "force" must be true or false' };
  if (rows === undefined) return { ok: true, ask: { rows: undefined, force: force ?? false } };
  if (!Array.isArray(rows) || rows.length === 0) return { ok: false, error: 'field "rows" must be a non-empty list of row ids, e.g. ["P-0012"]' };
  const ids: string[] = [];
  for (const [i, id] of rows.entries()) {
    if (typeof id !== 'string' || id.trim() === '' || id.length > MAX_ID_CHARS) return { ok: false, error: `field "rows" item ${i + 1} must be a row id (a text of 1 to ${MAX_ID_CHARS} characters)` };
    ids.push(id.trim());
  }
  return { ok: true, ask: { rows: [...new Set(ids)], force: force ?? false } };
}
