// Issue 18, "also seen": output headers planned from a read that may be seconds old could
// land on a column a person had just started (invariant 1: new output columns go only
// where the whole column is empty).
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const NOTE = 'call back Tuesday';
const FIRST_FREE = HEADER.length + 1;

/** A person types a note in the first free column right after the bot read the whole tab. */
/**
 * A read the bot plans its headers from: the whole tab, or (issue 25, streamed reads) the
 * first chunk of its rows (from row 1). A plan may read further chunks and the tab's size
 * too; the person types once per plan, as when one read was one plan.
 */
function isTabRead(range: string | undefined): boolean {
  const first = /^'[^']*'!1:(\d+)$/.exec(range ?? '');
  return range === `'${TAB}'` || (range?.startsWith(`'${TAB}'!`) === true && first !== null && Number(first[1]) > 1);
}

function typeAfterTheRead(b: Bed, row: number, column: number, value: string, times = 1): void {
  let left = times;
  b.sheets.onResponse((call) => {
    if (left > 0 && call.op === 'values.get' && isTabRead(call.range)) {
      left--;
      b.sheets.setCell(SPREADSHEET_ID, TAB, row, column + (times - 1 - left), value);
    }
  });
}

describe('new output headers go only where the whole column is still empty', () => {
  it('a note typed after the read, in the column the headers were planned for, is left alone', async () => {
    bed = await startBed({ rows: sampleRows(3) });
    typeAfterTheRead(bed, 3, FIRST_FREE, NOTE);
    expect((await bed.run()).code).toBe(0);
    expect(bed.sheets.getCell(SPREADSHEET_ID, TAB, 3, FIRST_FREE)?.value).toBe(NOTE);
    expect(bed.sheets.getCell(SPREADSHEET_ID, TAB, 1, FIRST_FREE)?.value ?? null).toBeNull();
    expect(col(bed.values(), 'Validation')).toBe(FIRST_FREE); // 0-based: the column after the note
    expect(bed.values().slice(1).every((row) => (row[FIRST_FREE] ?? '') !== '')).toBe(true);
  });

  it('watch: a column started between the poll and the run is not taken', async () => {
    bed = await startBed({ rows: sampleRows(3) });
    // The poll's read is the run's read (preread): the note comes after it.
    typeAfterTheRead(bed, 2, FIRST_FREE, NOTE);
    const clock = { now: () => new Date(), sleep: () => Promise.resolve() };
    const result = await bed.cli(['watch', '--config', bed.configPath, '--every', '5s', '--polls', '1'], { clock });
    expect(result.code).toBe(0);
    expect(bed.sheets.getCell(SPREADSHEET_ID, TAB, 2, FIRST_FREE)?.value).toBe(NOTE);
    expect(col(bed.values(), 'Validation')).toBe(FIRST_FREE);
  });

  it('gives up, saying why and naming the headers, when the columns keep being filled', async () => {
    bed = await startBed({ rows: sampleRows(3) });
    typeAfterTheRead(bed, 4, FIRST_FREE, NOTE, 5);
    const result = await bed.run();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('kept being filled');
    expect(result.stderr).toContain('"Validation"');
    expect(bed.values()[0]).toEqual(HEADER);
    // The headers are made before the first write, after the answers (issue 19: a run that
    // cannot write leaves the tab as it was): the answers are kept in the cache, not lost,
    // and written by the next run without asking again.
    const asked = bed.llm.callCount();
    expect(asked).toBeGreaterThan(0);
    expect(bed.values().slice(1).every((row) => row.slice(HEADER.length).every((cell) => cell === '' || cell === NOTE))).toBe(true);
    const again = await bed.run();
    expect(again.code, again.stderr).toBe(0);
    expect(bed.llm.callCount()).toBe(asked);
    const values = bed.values();
    expect(values.slice(1).every((row) => (row[col(values, 'Validation')] ?? '') !== '')).toBe(true);
    // Every note typed meanwhile is still there.
    expect(values[3]?.filter((cell) => cell === NOTE)).toHaveLength(5);
  });
});
