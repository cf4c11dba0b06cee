import { createHash } from 'node:crypto';
import type { CellValues } from './client.js';
import { OUTPUT_FIELDS, type Layout, type OutputField } from './layout.js';

export interface RowInputs {
  status: string;
  comment: string;
  completion_date: string;
  /**
   * The columns.inputs cells (trimmed), in config order; absent when the config has no
   * extra inputs, so that such rows hold nothing more than before (and hash as before).
   */
  extra?: readonly string[];
}

/** One data row of the sheet, as read. */
export interface Entry {
  /** 1-based sheet row number at the time of reading. */
  row: number;
  /** The id column's value ('' when no id column is configured). */
  id: string;
  inputs: RowInputs;
  /** The output cells as they are in the sheet now. */
  outputs: Readonly<Record<OutputField, string>>;
  /** The reviewer columns' cells as they are ('' when not configured). */
  review: Readonly<{ recheck: string; override: string }>;
}

// Every row of a first run has blank outputs and most have blank reviewer cells: they
// share these (frozen) objects instead of holding one each — on a 100,000-row sheet,
// that is 200,000 objects fewer for the whole run.
const NO_OUTPUTS: Readonly<Record<OutputField, string>> = Object.freeze({ verdict: '', issues: '', suggestion: '', checked_at: '', model: '' });
const NO_REVIEW = Object.freeze({ recheck: '', override: '' });

export interface ReadResult {
  entries: Entry[];
  /** Rows with an id or a date but no status, comment or extra input: nothing to check. */
  incomplete: number[];
}

const cellAt = (cells: readonly string[], column: number | undefined): string =>
  column === undefined ? '' : (cells[column - 1] ?? '').trim();

/** The identity of a row from its cells (a full row, or a slice starting at `offset`). */
export function rowFingerprint(cells: readonly string[], layout: Pick<Layout, 'inputs'> & { extras?: readonly number[]; override?: number | undefined }, offset = 1): string {
  const at = (column: number | undefined) => (column === undefined ? '' : cellAt(cells, column - offset + 1));
  const { id, status, comment, completion_date } = layout.inputs;
  const inputs: RowInputs = { status: at(status), comment: at(comment), completion_date: at(completion_date) };
  if (layout.extras !== undefined && layout.extras.length > 0) inputs.extra = layout.extras.map(at);
  return fingerprintOf(at(id), inputs, at(layout.override));
}

/**
 * Hash of id + inputs + the reviewer's override cell: what "the same row" means when
 * re-identifying a row before a write. The override is part of it because it decides
 * what the row's verdict cells say: two rows with the same id and inputs, one under a
 * reviewer's verdict, are not interchangeable when a sort swaps them. Computed only for
 * rows about to be written (a warm run hashes nothing).
 */
export function fingerprintOf(id: string, inputs: RowInputs, override = ''): string {
  // The extras come last and only when configured: a config without them hashes exactly
  // as before issue 14, so no row of an existing sheet looks edited after the upgrade.
  const parts: unknown[] = [id, inputs.status, inputs.comment, inputs.completion_date, override];
  if (inputs.extra !== undefined) parts.push(inputs.extra);
  // 128 bits, encoded from the bytes (a slice of a longer string would keep it alive).
  return createHash('sha256')
    .update(JSON.stringify(parts))
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

/**
 * Turns the tab's values into entries, skipping blank rows and the rows down to the
 * header row. `values[0]` is sheet row `firstRow` (1: the whole tab; else a chunk of it).
 */
export function readEntries(values: CellValues, layout: Layout, firstRow = 1): ReadResult {
  const entries: Entry[] = [];
  const incomplete: number[] = [];
  for (let index = Math.max(0, layout.headerRow + 1 - firstRow); index < values.length; index++) {
    const cells = values[index] ?? [];
    const row = firstRow + index;
    const id = cellAt(cells, layout.inputs.id);
    const inputs: RowInputs = {
      status: cellAt(cells, layout.inputs.status),
      comment: cellAt(cells, layout.inputs.comment),
      completion_date: cellAt(cells, layout.inputs.completion_date),
    };
    if (layout.extras.length > 0) inputs.extra = layout.extras.map((column) => cellAt(cells, column));
    if (inputs.status === '' && inputs.comment === '' && (inputs.extra === undefined || inputs.extra.every((cell) => cell === ''))) {
      if (id !== '' || inputs.completion_date !== '') incomplete.push(row);
      continue;
    }
    const recheck = cellAt(cells, layout.review.recheck);
    const override = cellAt(cells, layout.review.override);
    const review = recheck === '' && override === '' ? NO_REVIEW : { recheck, override };
    // In results-tab mode the outputs are filled in from that tab afterwards.
    entries.push({ row, id, inputs, outputs: layout.outputsInPlace ? outputsIn(cells, layout) : NO_OUTPUTS, review });
  }
  return { entries, incomplete };
}

function outputsIn(cells: readonly string[], layout: Layout): Readonly<Record<OutputField, string>> {
  const at = (field: OutputField) => cells[layout.outputs[field] - 1] ?? '';
  if (OUTPUT_FIELDS.every((field) => at(field) === '')) return NO_OUTPUTS;
  return { verdict: at('verdict'), issues: at('issues'), suggestion: at('suggestion'), checked_at: at('checked_at'), model: at('model') };
}
