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
/**
 * The mark on the column the bot coloured (a key of its own: LOOK_KEY marks the validated columns). A palette rule
 * is the bot's when it covers exactly the verdict column, or exactly a column with this mark: after a person moves
 * the verdict header to another column, the rules left on the old one are found and removed.
 */
export const VERDICT_MARK_KEY = 'status-validator.look.verdict';

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
 * found these pieces in place, and in which columns: they are not checked again for
 * CHECKED_FOR_MS, so that a poll that rechecks one row costs no extra read. A run of the
 * CLI has a client of its own.
 */
const checked = new WeakMap<SheetsClient, Map<string, { at: number; columns: ReadonlyArray<number | undefined> }>>();
export const CHECKED_FOR_MS = 10 * 60_000;

export interface LookOptions {
  now?: number;
  /**
   * A run that wrote nothing passes where its own read of the tab put each piece's header
   * (undefined: a tab it did not read). The look was last made after some writes; since
   * then a person may have swapped or moved headers, which no write revealed. When the
   * columns are those the client last found the pieces in, nothing is read; otherwise
   * (or when this client never checked, as in a fresh CLI run: one read, the warm rerun's
   * second call) the look is checked.
   */
  columnsRead?: (piece: LookPiece) => number | undefined;
}

/** Makes sure every piece is there once; returns warnings (never throws). */
export async function keepColumnLook(client: SheetsClient, pieces: readonly LookPiece[], options: LookOptions = {}): Promise<string[]> {
  if (pieces.length === 0) return [];
  const now = options.now ?? Date.now();
  const key = JSON.stringify(pieces);
  const seen = checked.get(client) ?? new Map<string, { at: number; columns: ReadonlyArray<number | undefined> }>();
  checked.set(client, seen);
  const last = seen.get(key);
  const read = options.columnsRead;
  const moved = last !== undefined && read !== undefined && pieces.some((p, i) => read(p) !== undefined && read(p) !== last.columns[i]);
  if (last !== undefined && last.at > now - CHECKED_FOR_MS && !moved) return [];
  const { warnings, columns } = await checkLook(client, pieces);
  if (warnings.length === 0) seen.set(key, { at: now, columns });
  else seen.delete(key);
  return warnings;
}

async function checkLook(client: SheetsClient, pieces: readonly LookPiece[]): Promise<{ warnings: string[]; columns: Array<number | undefined> }> {
  const tabs = [...new Map(pieces.map((p) => [p.tab, p])).values()];
  const columns: Array<number | undefined> = pieces.map(() => undefined);
  let found: Sheet[];
  try {
    found = await client.getSheets(tabs.map((p) => `${quoteSheetName(p.tab)}!${p.headerRow}:${p.headerRow + 1}`), FIELDS, 'read the formats of the output columns');
  } catch (error) {
    return { warnings: [`could not check the colours, checkboxes and lists of the bot's columns (the verdicts are written): ${messageOf(error)}`], columns };
  }
  const warnings: string[] = [];
  const requests: Request[] = [];
  for (const p of tabs) {
    const sheet = list(found).find((s) => normalizeHeader(textOf(s?.properties?.title)) === normalizeHeader(p.tab));
    if (!sheet) continue;
    const header = headerOf(sheet);
    pieces.forEach((q, i) => {
      if (q.tab === p.tab) columns[i] = columnOf(header, q);
    });
    requests.push(...tabRequests(sheet, pieces.filter((q) => q.tab === p.tab), warnings));
  }
  if (requests.length === 0) return { warnings, columns };
  try {
    await client.batchUpdate(requests, `colour the verdict column and add checkboxes and lists (${requests.length} requests)`);
  } catch (error) {
    warnings.push(`Sheets refused the bot's colours, checkboxes or lists (the verdicts are written; nothing of the look was changed): ${messageOf(error)}. Set output.format: false to write values only.`);
  }
  return { warnings, columns };
}

function headerOf(sheet: Sheet): string[] {
  return list(list(list(sheet.data)[0]?.rowData)[0]?.values).map((cell) => normalizeHeader(textOf(cell?.formattedValue)));
}

/** The piece's column (1-based) when exactly one header names it. */
function columnOf(header: readonly string[], piece: LookPiece): number | undefined {
  const columns = header.flatMap((text, i) => (text === normalizeHeader(piece.header) ? [i + 1] : []));
  return columns.length === 1 ? columns[0] : undefined;
}

/** What one tab lacks, as requests: stale pieces of the bot removed first, then what is missing. */
export function tabRequests(sheet: Sheet, pieces: readonly LookPiece[], warnings: string[]): Request[] {
  const sheetId = typeof sheet.properties?.sheetId === 'number' ? sheet.properties.sheetId : 0;
  const grid = list(sheet.data)[0];
  const header = headerOf(sheet);
  const firstRow = list(list(grid?.rowData)[1]?.values);
  // Every mark of the bot on this tab: which column holds which piece's validation, as Sheets moved them.
  const allMarks: Array<{ column: number; kind: Exclude<LookKind, 'verdict'>; id: number }> = [];
  list(grid?.columnMetadata).forEach((meta, i) => {
    for (const m of list(meta?.developerMetadata)) {
      const kind = m?.metadataValue;
      if (m?.metadataKey === LOOK_KEY && (kind === 'recheck' || kind === 'reviewer')) allMarks.push({ column: i + 1, kind, id: m.metadataId ?? 0 });
    }
  });
  // Where each validation piece goes this time: a column another piece goes to is not cleared as stale.
  const targets = new Set(pieces.flatMap((p) => (p.kind === 'verdict' ? [] : [columnOf(header, p)]).filter((c): c is number => c !== undefined)));
  const verdictMarks = list(grid?.columnMetadata).flatMap((meta, i) => list(meta?.developerMetadata).flatMap((m) => (m?.metadataKey === VERDICT_MARK_KEY ? [{ column: i + 1, id: m.metadataId ?? 0 }] : [])));
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
      requests.push(...verdictRequests(sheet, sheetId, headerRow, column, verdictMarks));
      continue;
    }
    const kind = piece.kind;
    const marks = allMarks.filter((m) => m.kind === kind);
    if (marks.some((m) => m.column === column)) continue;
    // Marks of this piece elsewhere: its column lost its header (the text moved, not the column). The old
    // validation goes with the mark, unless another piece of the bot takes that column now (it sets its own there).
    for (const stale of marks) {
      requests.push({ deleteDeveloperMetadata: { dataFilter: { developerMetadataLookup: { metadataId: stale.id } } } });
      if (!targets.has(stale.column) && sameJson(firstRow[stale.column - 1]?.dataValidation, validationRule(kind))) requests.push({ setDataValidation: { range: columnRange(sheetId, headerRow, stale.column) } });
    }
    const present = firstRow[column - 1]?.dataValidation;
    // The bot's own other validation, left here by a header swap (its mark says so and it is exactly the bot's): replaced.
    const ours = present !== undefined && present !== null && allMarks.some((m) => m.column === column && sameJson(present, validationRule(m.kind)));
    if (present && !ours && !sameJson(present, validationRule(kind))) {
      warnings.push(`the "${piece.header}" column of "${piece.tab}" has a validation someone set: the bot leaves it as it is (no ${what(kind)} added)`);
      continue;
    }
    if (!present || ours) requests.push({ setDataValidation: { range: columnRange(sheetId, headerRow, column), rule: validationRule(kind) } });
    requests.push({
      createDeveloperMetadata: {
        developerMetadata: { metadataKey: LOOK_KEY, metadataValue: kind, visibility: 'DOCUMENT', location: { dimensionRange: { sheetId, dimension: 'COLUMNS', startIndex: column - 1, endIndex: column } } },
      },
    });
  }
  return requests;
}

/**
 * The verdict rules: nothing when each is there once on the column and the column carries the mark; else the bot's
 * are replaced, after the person's. A rule is the bot's only when it is exactly one of the palette's AND covers
 * exactly the verdict column from its header row down, or exactly a column the bot marked as its verdict column: a
 * person's copy of the look on another column (format painter) is theirs and left alone.
 */
function verdictRequests(sheet: Sheet, sheetId: number, headerRow: number, column: number, marks: ReadonlyArray<{ column: number; id: number }>): Request[] {
  const rules = list(sheet.conditionalFormats);
  const wanted = VERDICT_LOOKS.map((look) => verdictRule(look, sheetId, headerRow, column));
  const rangeAt = (c: number): unknown => verdictRule(VERDICT_LOOKS[0] as VerdictLook, sheetId, headerRow, c).ranges;
  const columns = [column, ...marks.map((m) => m.column)];
  const ours = rules.flatMap((rule, index) => (verdictOf(rule) && columns.some((c) => sameJson(rule?.ranges, rangeAt(c))) ? [{ rule, index }] : []));
  const marked = marks.length === 1 && marks[0]?.column === column;
  const inPlace = wanted.every((w) => ours.filter((o) => sameJson(o.rule, w)).length === 1) && ours.length === wanted.length;
  const markRequests: Request[] = marked
    ? []
    : [
        ...marks.map((m): Request => ({ deleteDeveloperMetadata: { dataFilter: { developerMetadataLookup: { metadataId: m.id } } } })),
        { createDeveloperMetadata: { developerMetadata: { metadataKey: VERDICT_MARK_KEY, metadataValue: 'verdict', visibility: 'DOCUMENT', location: { dimensionRange: { sheetId, dimension: 'COLUMNS', startIndex: column - 1, endIndex: column } } } } },
      ];
  if (inPlace) return markRequests;
  // Highest index first: each delete leaves the indexes below it as they were.
  const deletes = ours.map((o) => o.index).sort((a, b) => b - a).map((index): Request => ({ deleteConditionalFormatRule: { sheetId, index } }));
  const kept = rules.length - ours.length;
  // After the person's rules: where both apply, theirs wins.
  return [...deletes, ...wanted.map((rule, i): Request => ({ addConditionalFormatRule: { rule, index: kept + i } })), ...markRequests];
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
