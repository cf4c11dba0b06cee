/** What a POST /runs asks for. */
export interface RunAsk {
  /** Row ids (columns.id) to recheck; undefined for the whole sheet. */
  rows: string[] | undefined;
  force: boolean;
  /** The target by name (config targets[].name). */
  target?: string;
  /** The spreadsheet the caller is in (the Apps Script knows it): maps to its targets. */
  spreadsheetId?: string;
  /** The tab the caller is on: a target's data tab (or its results tab). */
  sheet?: string;
}

const FIELDS = new Set(['rows', 'force', 'target', 'spreadsheet_id', 'sheet']);
const MAX_ID_CHARS = 200;
/** Tab names are at most 100 characters in Sheets; ids and target names are shorter still. */
const MAX_NAME_CHARS = 200;

/**
 * The body `{"rows": ["P-0012", ...], "force": false, "spreadsheet_id": "1AbC...",
 * "sheet": "Statuses", "target": "programme-a"}`, every field optional. Unknown fields
 * are refused by name (a typo such as "row" would otherwise run the whole sheet).
 */
export function parseRunAsk(body: Record<string, unknown>): { ok: true; ask: RunAsk } | { ok: false; error: string } {
  for (const field of Object.keys(body)) {
    if (!FIELDS.has(field)) {
      return {
        ok: false,
        error: `unknown field "${field.slice(0, 40)}": the body takes "rows" (a list of row ids), "force" (true or false), "target" (a target's name), "spreadsheet_id" and "sheet" (the tab)`,
      };
    }
  }
  const { rows, force } = body;
  if (force !== undefined && typeof force !== 'boolean') return { ok: false, error: 'field "force" must be true or false' };
  const named: Pick<RunAsk, 'target' | 'spreadsheetId' | 'sheet'> = {};
  for (const [field, key] of [['target', 'target'], ['spreadsheet_id', 'spreadsheetId'], ['sheet', 'sheet']] as const) {
    const value = body[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_NAME_CHARS) return { ok: false, error: `field "${field}" must be a text of 1 to ${MAX_NAME_CHARS} characters` };
    // Tab names may carry spaces of their own: only the target's name and the id are trimmed.
    named[key] = key === 'sheet' ? value : value.trim();
  }
  if (named.sheet !== undefined && named.spreadsheetId === undefined) return { ok: false, error: 'field "sheet" needs "spreadsheet_id" too (a tab name is only known within its spreadsheet)' };
  if (rows === undefined) return { ok: true, ask: { rows: undefined, force: force ?? false, ...named } };
  if (!Array.isArray(rows) || rows.length === 0) return { ok: false, error: 'field "rows" must be a non-empty list of row ids, e.g. ["P-0012"]' };
  const ids: string[] = [];
  for (const [i, id] of rows.entries()) {
    if (typeof id !== 'string' || id.trim() === '' || id.length > MAX_ID_CHARS) return { ok: false, error: `field "rows" item ${i + 1} must be a row id (a text of 1 to ${MAX_ID_CHARS} characters)` };
    ids.push(id.trim());
  }
  return { ok: true, ask: { rows: [...new Set(ids)], force: force ?? false, ...named } };
}
