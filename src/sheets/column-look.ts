/**
 * The look of the bot's columns (output.format): the verdict column coloured by
 * conditional format rules, checkboxes on the recheck column, a VALID/INVALID list on
 * the reviewer column. Invariant 11: each piece is found again by what it is, never by
 * position, so that no run adds it twice and nothing a person made is changed:
 *
 * - a verdict rule is the bot's when it is exactly one of the palette's rules (the
 *   condition TEXT_EQ on a verdict text and the palette's format): a person's rule,
 *   however similar, differs in some field and is left alone;
 * - a validation is the bot's when developer metadata the bot put on the same column
 *   says so. Metadata on a column moves with it when columns are inserted, deleted or
 *   moved, as the rules' and validations' ranges do
 *   (https://developers.google.com/sheets/api/guides/metadata), so after a person's
 *   edits the bot finds its pieces where Sheets put them.
 *
 * One read (spreadsheets.get of the header rows) tells what is there; everything missing
 * goes in one atomic batchUpdate. Nothing here throws: a refusal is a warning, the
 * verdicts are values and are written whatever happens to their colours.
 */
import type { sheets_v4 } from '@googleapis/sheets';
import { SheetsError } from '../errors.js';
import { columnLetter, quoteSheetName } from './a1.js';
import type { SheetsClient } from './client.js';
import { normalizeHeader } from './layout.js';
import { VERDICT_LOOKS, rgb, type VerdictLook } from './palette.js';
import { sameJson } from './same-json.js';

export type LookKind = 'verdict' | 'recheck' | 'reviewer';

/** One column to dress: which tab, which header, what it gets. */
export interface LookPiece {
  tab: string;
  headerRow: number;
  header: string;
  kind: LookKind;
}

/** The developer metadata key the bot marks its validated columns with; the value says which piece. */
export const LOOK_KEY = 'status-validator.look';

type Request = sheets_v4.Schema$Request;
type Sheet = sheets_v4.Schema$Sheet;

/** The format rule of one verdict, exactly as the bot sends it (and finds it again). */
export function verdictRule(look: VerdictLook, sheetId: number, headerRow: number, column: number): sheets_v4.Schema$ConditionalFormatRule {
  return {
    // From the header row down, open-ended: rows appended or inserted under the header (a results tab grows by
    // INSERT_ROWS right under it) fall inside the range, and no verdict text is a header.
    ranges: [{ sheetId, startRowIndex: headerRow - 1, startColumnIndex: column - 1, endColumnIndex: column }],
    booleanRule: {
      condition: { type: 'TEXT_EQ', values: [{ userEnteredValue: look.text }] },
      format: {
        backgroundColor: rgb(look.fill),
        textFormat: { foregroundColor: rgb(look.ink), bold: look.bold, italic: look.italic, strikethrough: look.strikethrough },
      },
    },
  };
}

/** The validation each reviewer column gets: checkboxes, or a list that is not strict (a note may follow the verdict). */
export function validationRule(kind: Exclude<LookKind, 'verdict'>): sheets_v4.Schema$DataValidationRule {
  if (kind === 'recheck') return { condition: { type: 'BOOLEAN' } };
  return { condition: { type: 'ONE_OF_LIST', values: [{ userEnteredValue: 'VALID' }, { userEnteredValue: 'INVALID' }] }, strict: false, showCustomUi: true };
}

/** Whether a rule read back is one of the palette's (its ranges aside): the bot's own. */
export function verdictOf(rule: sheets_v4.Schema$ConditionalFormatRule): VerdictLook | undefined {
  const boolean = rule?.booleanRule;
  const text = boolean?.condition?.values?.[0]?.userEnteredValue;
  const look = VERDICT_LOOKS.find((l) => l.text === text);
  if (!look || !boolean) return undefined;
  return sameJson(boolean, verdictRule(look, 0, 0, 1).booleanRule) ? look : undefined;
}

const FIELDS = 'sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),conditionalFormats,data(rowData(values(formattedValue,dataValidation)),columnMetadata(developerMetadata(metadataId,metadataKey,metadataValue))))';

/**
 * When a client (a watch, schedule or serve process keeps one for all its runs) last
 * found these pieces in place: they are not checked again for CHECKED_FOR_MS, so that a
 * poll that rechecks one row costs no extra read. A run of the CLI has a client of its own.
 */
const checked = new WeakMap<SheetsClient, Map<string, number>>();
export const CHECKED_FOR_MS = 10 * 60_000;

/** Makes sure every piece is there once; returns warnings (never throws). */
export async function keepColumnLook(client: SheetsClient, pieces: readonly LookPiece[], now = Date.now()): Promise<string[]> {
  if (pieces.length === 0) return [];
  const key = JSON.stringify(pieces);
  const seen = checked.get(client) ?? new Map<string, number>();
  checked.set(client, seen);
  if ((seen.get(key) ?? -Infinity) > now - CHECKED_FOR_MS) return [];
  const warnings = await checkLook(client, pieces);
  if (warnings.length === 0) seen.set(key, now);
  return warnings;
}

async function checkLook(client: SheetsClient, pieces: readonly LookPiece[]): Promise<string[]> {
  const tabs = [...new Map(pieces.map((p) => [p.tab, p])).values()];
  let found: Sheet[];
  try {
    found = await client.getSheets(tabs.map((p) => `${quoteSheetName(p.tab)}!${p.headerRow}:${p.headerRow + 1}`), FIELDS, 'read the formats of the output columns');
  } catch (error) {
    return [`could not check the colours, checkboxes and lists of the bot's columns (the verdicts are written): ${messageOf(error)}`];
  }
  const warnings: string[] = [];
  const requests: Request[] = [];
  for (const p of tabs) {
    const sheet = list(found).find((s) => normalizeHeader(textOf(s?.properties?.title)) === normalizeHeader(p.tab));
    if (!sheet) continue;
    requests.push(...tabRequests(sheet, pieces.filter((q) => q.tab === p.tab), warnings));
  }
  if (requests.length === 0) return warnings;
  try {
    await client.batchUpdate(requests, `colour the verdict column and add checkboxes and lists (${requests.length} requests)`);
  } catch (error) {
    warnings.push(`Sheets refused the bot's colours, checkboxes or lists (the verdicts are written; nothing of the look was changed): ${messageOf(error)}. Set output.format: false to write values only.`);
  }
  return warnings;
}

/** What one tab lacks, as requests: stale pieces of the bot removed first, then what is missing. */
export function tabRequests(sheet: Sheet, pieces: readonly LookPiece[], warnings: string[]): Request[] {
  const sheetId = typeof sheet.properties?.sheetId === 'number' ? sheet.properties.sheetId : 0;
  const grid = list(sheet.data)[0];
  const rows = list(grid?.rowData);
  const header = list(rows[0]?.values).map((cell) => normalizeHeader(textOf(cell?.formattedValue)));
  const firstRow = list(rows[1]?.values);
  const columnMeta = list(grid?.columnMetadata);
  const requests: Request[] = [];
  for (const piece of pieces) {
    const columns = header.flatMap((text, i) => (text === normalizeHeader(piece.header) ? [i + 1] : []));
    if (columns.length !== 1) {
      if (columns.length > 1) warnings.push(`the "${piece.header}" header is in ${columns.length} columns of "${piece.tab}" (${columns.map(columnLetter).join(', ')}): its ${what(piece.kind)} was not added; keep one`);
      continue;
    }
    const column = columns[0] as number;
    const headerRow = piece.headerRow;
    if (piece.kind === 'verdict') {
      requests.push(...verdictRequests(sheet, sheetId, headerRow, column));
      continue;
    }
    const marks = columnMeta.flatMap((meta, i) => list(meta?.developerMetadata).filter((m) => m?.metadataKey === LOOK_KEY && m.metadataValue === piece.kind).map((m) => ({ column: i + 1, id: m.metadataId ?? 0 })));
    if (marks.some((m) => m.column === column)) continue;
    // Marks of this piece elsewhere: its column lost its header (the text moved, not the column). The old validation goes with the mark.
    for (const stale of marks) {
      requests.push({ deleteDeveloperMetadata: { dataFilter: { developerMetadataLookup: { metadataId: stale.id } } } });
      if (sameJson(firstRow[stale.column - 1]?.dataValidation, validationRule(piece.kind))) requests.push({ setDataValidation: { range: columnRange(sheetId, headerRow, stale.column) } });
    }
    const present = firstRow[column - 1]?.dataValidation;
    if (present && !sameJson(present, validationRule(piece.kind))) {
      warnings.push(`the "${piece.header}" column of "${piece.tab}" has a validation someone set: the bot leaves it as it is (no ${what(piece.kind)} added)`);
      continue;
    }
    if (!present) requests.push({ setDataValidation: { range: columnRange(sheetId, headerRow, column), rule: validationRule(piece.kind) } });
    requests.push({
      createDeveloperMetadata: {
        developerMetadata: { metadataKey: LOOK_KEY, metadataValue: piece.kind, visibility: 'DOCUMENT', location: { dimensionRange: { sheetId, dimension: 'COLUMNS', startIndex: column - 1, endIndex: column } } },
      },
    });
  }
  return requests;
}

/** The verdict rules: nothing when each is there once on the column; else the bot's are replaced, after the person's. */
function verdictRequests(sheet: Sheet, sheetId: number, headerRow: number, column: number): Request[] {
  const rules = list(sheet.conditionalFormats);
  const ours = rules.flatMap((rule, index) => (verdictOf(rule) ? [{ rule, index }] : []));
  const wanted = VERDICT_LOOKS.map((look) => verdictRule(look, sheetId, headerRow, column));
  const inPlace = wanted.every((w) => ours.filter((o) => sameJson(o.rule, w)).length === 1) && ours.length === wanted.length;
  if (inPlace) return [];
  // Highest index first: each delete leaves the indexes below it as they were.
  const deletes = ours.map((o) => o.index).sort((a, b) => b - a).map((index): Request => ({ deleteConditionalFormatRule: { sheetId, index } }));
  const kept = rules.length - ours.length;
  // After the person's rules: where both apply, theirs wins.
  return [...deletes, ...wanted.map((rule, i): Request => ({ addConditionalFormatRule: { rule, index: kept + i } }))];
}

function columnRange(sheetId: number, headerRow: number, column: number): sheets_v4.Schema$GridRange {
  return { sheetId, startRowIndex: headerRow, startColumnIndex: column - 1, endColumnIndex: column };
}

function what(kind: LookKind): string {
  return kind === 'verdict' ? 'colours' : kind === 'recheck' ? 'checkboxes' : 'VALID/INVALID list';
}

/** What Sheets answers is read defensively: a list where a list is expected, text where text is. */
export function list<T>(v: readonly T[] | null | undefined): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

export function textOf(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function messageOf(error: unknown): string {
  return error instanceof SheetsError || error instanceof Error ? error.message : String(error);
}
