import { a1Range } from './a1.js';
import type { CellValues, ValueRange } from './client.js';
import { outputSegments, type Columns, type Layout, type LostHeader, type OutputField } from './layout.js';
import type { PendingWrite, WriteTarget } from './writer.js';

/** The default target: the output columns of the data rows themselves, where their headers are now. */
export class InPlaceTarget implements WriteTarget {
  constructor(private readonly layout: Pick<Layout, 'sheet'>) {}

  ranges(): string[] {
    return [];
  }

  build(placed: readonly PendingWrite[], _read: readonly CellValues[], columns: Columns): Promise<{ data: ValueRange[] } | { lost: LostHeader }> {
    const outputs = columns.outputs;
    if (outputs === undefined) throw new Error('InPlaceTarget needs output columns on the data tab');
    const data: ValueRange[] = [];
    const sorted = placed.slice().sort((a, b) => a.row - b.row);
    // Adjacent rows go out as one range per run of adjacent output columns.
    for (const segment of outputSegments({ outputs })) {
      for (const block of consecutive(sorted)) {
        data.push({
          range: a1Range(this.layout.sheet, { row: block[0]?.row ?? 1, column: segment.first }, { row: block.at(-1)?.row ?? 1, column: segment.first + segment.fields.length - 1 }),
          values: block.map((write) => cellsOf(write, segment.fields)),
        });
      }
    }
    const recheck = columns.recheck;
    for (const write of sorted) {
      // A JSON false written RAW is the boolean a checkbox holds, not the text "FALSE".
      if (write.clearRecheck && recheck !== undefined) data.push({ range: a1Range(this.layout.sheet, { row: write.row, column: recheck }), values: [[false]] });
    }
    return Promise.resolve({ data });
  }
}

const cellsOf = (write: PendingWrite, fields: readonly OutputField[]): string[] => fields.map((field) => write.cells[field]);

/** Runs of writes on adjacent rows (the input is sorted by row). */
function* consecutive(sorted: readonly PendingWrite[]): Generator<PendingWrite[]> {
  let block: PendingWrite[] = [];
  for (const write of sorted) {
    const last = block.at(-1);
    if (last && write.row !== last.row + 1) {
      yield block;
      block = [];
    }
    block.push(write);
  }
  if (block.length > 0) yield block;
}
