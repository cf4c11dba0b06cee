import { pushTo } from '../collections.js';
import { SheetsError } from '../errors.js';
import { columnLetter } from './a1.js';

export const INPUT_FIELDS = ['id', 'status', 'comment', 'completion_date'] as const;
export const OUTPUT_FIELDS = ['verdict', 'issues', 'suggestion', 'checked_at', 'model'] as const;
export type InputField = (typeof INPUT_FIELDS)[number];
export type OutputField = (typeof OUTPUT_FIELDS)[number];

export const REVIEW_FIELDS = ['recheck', 'override'] as const;
export type ReviewField = (typeof REVIEW_FIELDS)[number];

export interface LayoutConfig {
  sheet: string;
  headerRow: number;
  inputs: Partial<Record<InputField, string | undefined>>;
  /** columns.inputs, in config order: further columns the rules speak of (key names it in messages). */
  extras?: ReadonlyArray<{ key: string; header: string }>;
  outputs: Record<OutputField, string>;
  /** Reviewer columns: read by the bot, written only to clear a recheck box. */
  review?: Partial<Record<ReviewField, string | undefined>>;
  /** False when verdicts go to a results tab: the data tab then gets no output columns. */
  outputsInPlace?: boolean;
}

/** Where each configured column is, by 1-based column number. */
export interface Layout {
  sheet: string;
  headerRow: number;
  inputs: Partial<Record<InputField, number>>;
  /** The columns of config.extras, in the same order (shared empty array when there are none). */
  extras: readonly number[];
  outputs: Record<OutputField, number>;
  /** Output headers absent from the sheet: they get the columns after the last header. */
  missingOutputs: OutputField[];
  /** False in results-tab mode: `outputs` then means nothing on this tab. */
  outputsInPlace: boolean;
  review: Partial<Record<ReviewField, number>>;
  /** Every header to add (outputs, then reviewer columns), on consecutive columns after the last header. */
  missingHeaders: Array<{ header: string; column: number }>;
  /** The leftmost and rightmost input columns: the span read to re-identify a row. */
  identitySpan: { first: number; last: number };
  /** The header texts it was mapped from: the columns are found again by them before every write. */
  config: LayoutConfig;
}

/** Where the columns the bot reads or writes are now, found by header in a fresh read. */
export interface Columns {
  inputs: Partial<Record<InputField, number>>;
  /** The extra input columns, in config order (part of a row's identity like the other inputs). */
  extras: readonly number[];
  /** Undefined in results-tab mode (no outputs on the data tab). */
  outputs: Record<OutputField, number> | undefined;
  /** The recheck box, when its header is (still) there. */
  recheck: number | undefined;
  /** The reviewer's override cell: part of a row's identity (twins with and without one differ). */
  override: number | undefined;
}

/** A header the bot needs that is gone (or doubled): writes to its tab stop. */
export interface LostHeader {
  tab: string;
  header: string;
  /** The config key that names it, e.g. output.columns.issues. */
  key: string;
  reason: string;
}

/** Header texts are matched trimmed, with inner spaces folded, case-insensitively (any script). */
export function normalizeHeader(text: string): string {
  return text.normalize('NFC').trim().replace(/\s+/g, ' ').toLocaleLowerCase();
}

/**
 * Finds every configured column in the header row. A missing input column stops the
 * run with the list of headers that do exist; missing output columns are planned at
 * the end of the header row.
 */
export function mapHeaders(headerCells: readonly string[], config: LayoutConfig, lastUsedColumn?: number): Layout {
  const positions = headerPositions(headerCells);
  // New columns go after the last column that holds anything (header or data), so that
  // a column of notes under an empty header cell is never taken.
  let lastUsed = lastUsedColumn ?? 0;
  headerCells.forEach((cell, i) => {
    if (cell.trim() !== '' && i + 1 > lastUsed) lastUsed = i + 1;
  });
  const find = (header: string, what: string): number | undefined => {
    const found = positions.get(normalizeHeader(header));
    if (found && found.length > 1) {
      throw new SheetsError(
        `The header "${header}" (${what}) appears ${found.length} times in row ${config.headerRow} of "${config.sheet}" (columns ${found.map(columnLetter).join(', ')}).`,
        { hint: 'Rename the extra columns so each header is unique.' },
      );
    }
    return found?.[0];
  };

  const inputs: Partial<Record<InputField, number>> = {};
  const missing: string[] = [];
  for (const field of INPUT_FIELDS) {
    const header = config.inputs[field];
    if (header === undefined) continue;
    const column = find(header, `columns.${field}`);
    if (column === undefined) missing.push(`"${header}" (columns.${field})`);
    else inputs[field] = column;
  }
  const extras = extraColumns(config, (extra) => {
    const key = `columns.inputs.${extra.key}`;
    const column = find(extra.header, key);
    if (column === undefined) missing.push(`"${extra.header}" (${key})`);
    return column ?? 0;
  });
  if (missing.length > 0) {
    const existing = headerCells.filter((c) => c.trim() !== '').map((c) => `"${c.trim()}"`);
    throw new SheetsError(
      `Row ${config.headerRow} of "${config.sheet}" has no column ${missing.join(' or ')}. Headers found: ${existing.join(', ') || 'none (the row is empty)'}.`,
      { hint: 'Fix the header texts under columns: in the config, or sheets.header_row if the headers are on another row.' },
    );
  }

  const outputs = {} as Record<OutputField, number>;
  const missingOutputs: OutputField[] = [];
  const inPlace = config.outputsInPlace ?? true;
  for (const field of inPlace ? OUTPUT_FIELDS : []) {
    const column = find(config.outputs[field], `output.columns.${field}`);
    if (column === undefined) missingOutputs.push(field);
    else outputs[field] = column;
  }
  const missingHeaders: Array<{ header: string; column: number }> = [];
  for (const field of missingOutputs) {
    outputs[field] = lastUsed + 1 + missingHeaders.length;
    missingHeaders.push({ header: config.outputs[field], column: outputs[field] });
  }
  const review: Partial<Record<ReviewField, number>> = {};
  for (const field of REVIEW_FIELDS) {
    const header = config.review?.[field];
    if (header === undefined) continue;
    const column = find(header, `review.${field}_column`) ?? lastUsed + 1 + missingHeaders.length;
    if (column > lastUsed) missingHeaders.push({ header, column });
    review[field] = column;
  }
  const used = [...Object.values(inputs), ...extras];
  return {
    config,
    sheet: config.sheet,
    headerRow: config.headerRow,
    inputs,
    extras,
    outputs,
    missingOutputs,
    outputsInPlace: inPlace,
    review,
    missingHeaders,
    identitySpan: { first: used.reduce((a, b) => Math.min(a, b), Infinity), last: used.reduce((a, b) => Math.max(a, b), 0) },
  };
}

const NO_EXTRAS: readonly number[] = Object.freeze([]);

/** The column of each extra input, in config order; one shared empty array for a config without any. */
function extraColumns(config: LayoutConfig, columnOf: (extra: { key: string; header: string }) => number): readonly number[] {
  const extras = config.extras ?? [];
  return extras.length === 0 ? NO_EXTRAS : extras.map(columnOf);
}

/** Each header's columns (1-based) in a header row, by its folded text: two entries mean a doubled header. */
export function headerPositions(headerCells: readonly string[]): Map<string, number[]> {
  const positions = new Map<string, number[]>();
  headerCells.forEach((cell, i) => {
    if (cell.trim() !== '') pushTo(positions, normalizeHeader(cell), i + 1);
  });
  return positions;
}

/**
 * Finds the columns again in a header row read just now (in the same call as the rows
 * about to be written). Every input and output header must be there exactly once;
 * otherwise the header that is gone is returned and the tab is not written any more.
 */
export function locateColumns(headerCells: readonly string[], config: LayoutConfig): { columns: Columns } | { lost: LostHeader } {
  const positions = headerPositions(headerCells);
  let lost: LostHeader | undefined;
  const find = (header: string, key: string): number => {
    const found = positions.get(normalizeHeader(header)) ?? [];
    if (found.length !== 1 && lost === undefined) {
      const reason =
        found.length === 0
          ? `the header "${header}" (${key}) is no longer in row ${config.headerRow} of "${config.sheet}": it was renamed, cleared or its column deleted during the run`
          : `the header "${header}" (${key}) now appears ${found.length} times in row ${config.headerRow} of "${config.sheet}"`;
      lost = { tab: config.sheet, header, key, reason };
    }
    return found[0] ?? 0;
  };
  const inputs: Partial<Record<InputField, number>> = {};
  for (const field of INPUT_FIELDS) {
    const header = config.inputs[field];
    if (header !== undefined) inputs[field] = find(header, `columns.${field}`);
  }
  const extras = extraColumns(config, (extra) => find(extra.header, `columns.inputs.${extra.key}`));
  let outputs: Record<OutputField, number> | undefined;
  if (config.outputsInPlace ?? true) {
    outputs = {} as Record<OutputField, number>;
    for (const field of OUTPUT_FIELDS) outputs[field] = find(config.outputs[field], `output.columns.${field}`);
  }
  if (lost !== undefined) return { lost };
  const once = (header: string | undefined) => {
    const found = header === undefined ? undefined : positions.get(normalizeHeader(header));
    return found?.length === 1 ? found[0] : undefined;
  };
  return { columns: { inputs, extras, outputs, recheck: once(config.review?.recheck), override: once(config.review?.override) } };
}

/** Contiguous runs of output columns, so a row's cells go out as few ranges as possible. */
export function outputSegments(layout: Pick<Layout, 'outputs'>): Array<{ first: number; fields: OutputField[] }> {
  const sorted = OUTPUT_FIELDS.map((field) => ({ field, column: layout.outputs[field] })).sort((a, b) => a.column - b.column);
  const segments: Array<{ first: number; fields: OutputField[] }> = [];
  for (const { field, column } of sorted) {
    const last = segments.at(-1);
    if (last && last.first + last.fields.length === column) last.fields.push(field);
    else segments.push({ first: column, fields: [field] });
  }
  return segments;
}
