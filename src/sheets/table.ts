import { createHash } from 'node:crypto';
import type { CellValues } from './client.js';
import { OUTPUT_FIELDS, type Layout, type OutputField } from './layout.js';

export interface RowInputs {
  status: string;
  comment: string;
  completion_date: string;
}

/** One data row of the sheet, as read. */
export interface Entry {
  /** 1-based sheet row number at the time of reading. */
  row: number;
  /** The id column's value ('' when no id column is configured). */
  id: string;
  inputs: RowInputs;
  /** The output cells as they are in the sheet now. */
  outputs: Record<OutputField, string>;
  /** Hash of id + inputs: what "the same row" means when re-identifying before a write. */
  fingerprint: string;
  /** The reviewer columns' cells as they are ('' when not configured). */
  review: { recheck: string; override: string };
}

export interface ReadResult {
  entries: Entry[];
  /** Rows with an id or a date but neither status nor comment: nothing to check. */
  incomplete: number[];
}

const cellAt = (cells: readonly string[], column: number | undefined): string =>
  column === undefined ? '' : (cells[column - 1] ?? '').trim();

/** The identity of a row from its cells (a full row, or a slice starting at `offset`). */
export function rowFingerprint(cells: readonly string[], layout: Layout, offset = 1): string {
  const at = (column: number | undefined) => (column === undefined ? '' : cellAt(cells, column - offset + 1));
  const { id, status, comment, completion_date } = layout.inputs;
  return fingerprintOf(at(id), { status: at(status), comment: at(comment), completion_date: at(completion_date) });
}

export function fingerprintOf(id: string, inputs: RowInputs): string {
  return createHash('sha256')
    .update(JSON.stringify([id, inputs.status, inputs.comment, inputs.completion_date]))
    .digest('base64url')
    .slice(0, 22);
}

/** Turns the tab's values (row 1 first) into entries, skipping blank rows. */
export function readEntries(values: CellValues, layout: Layout): ReadResult {
  const entries: Entry[] = [];
  const incomplete: number[] = [];
  for (let index = layout.headerRow; index < values.length; index++) {
    const cells = values[index] ?? [];
    const row = index + 1;
    const id = cellAt(cells, layout.inputs.id);
    const inputs: RowInputs = {
      status: cellAt(cells, layout.inputs.status),
      comment: cellAt(cells, layout.inputs.comment),
      completion_date: cellAt(cells, layout.inputs.completion_date),
    };
    if (inputs.status === '' && inputs.comment === '') {
      if (id !== '' || inputs.completion_date !== '') incomplete.push(row);
      continue;
    }
    const outputs = {} as Record<OutputField, string>;
    // In results-tab mode the outputs are filled in from that tab afterwards.
    for (const field of OUTPUT_FIELDS) outputs[field] = layout.outputsInPlace ? (cells[layout.outputs[field] - 1] ?? '') : '';
    const review = { recheck: cellAt(cells, layout.review.recheck), override: cellAt(cells, layout.review.override) };
    entries.push({ row, id, inputs, outputs, fingerprint: fingerprintOf(id, inputs), review });
  }
  return { entries, incomplete };
}
