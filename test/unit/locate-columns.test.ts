/**
 * Issue 10: the columns are found again by header before every write (locateColumns),
 * new columns go after the last used column (mapHeaders), and the results tab places
 * its missing columns after its last used column (parseResults). Header rows are outside
 * input: random ones must never escape as an exception.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OUTPUT_FIELDS, locateColumns, mapHeaders, parseResults, type LayoutConfig } from '../../src/sheets/index.js';

const OUTPUTS = { verdict: 'Validation', issues: 'Issues', suggestion: 'Suggested rewrite', checked_at: 'Checked at', model: 'Model' };
const CONFIG: LayoutConfig = {
  sheet: 'Statuses',
  headerRow: 1,
  inputs: { id: 'Project', status: 'Status', comment: 'Comment', completion_date: 'Due date' },
  outputs: OUTPUTS,
  review: { recheck: 'Recheck' },
};
const FULL = ['Project', 'Status', 'Comment', 'Due date', ...Object.values(OUTPUTS), 'Recheck'];

describe('locateColumns', () => {
  it('finds every column where its header is now, whatever the order', () => {
    const moved = ['Model', 'Checked at', 'Owner', 'Project', 'status', ' COMMENT ', 'Due date', 'Validation', 'Issues', 'Suggested rewrite', 'Recheck'];
    expect(locateColumns(moved, CONFIG)).toEqual({
      columns: {
        inputs: { id: 4, status: 5, comment: 6, completion_date: 7 },
        extras: [],
        outputs: { model: 1, checked_at: 2, verdict: 8, issues: 9, suggestion: 10 },
        recheck: 11,
      },
    });
  });

  it.each([
    ['an output header is renamed', FULL.map((h) => (h === 'Issues' ? 'Problems' : h)), 'Issues', 'output.columns.issues', 'no longer in row 1'],
    ['an input header is cleared', FULL.map((h) => (h === 'Comment' ? '' : h)), 'Comment', 'columns.comment', 'no longer in row 1'],
    ['an output header appears twice', [...FULL, 'model'], 'Model', 'output.columns.model', 'appears 2 times'],
  ])('names the header when %s', (_what, header, name, key, reason) => {
    const found = locateColumns(header, CONFIG);
    if (!('lost' in found)) throw new Error('expected a lost header');
    expect(found.lost).toMatchObject({ tab: 'Statuses', header: name, key });
    expect(found.lost.reason).toContain(reason);
  });

  it('does without the recheck box when its header is gone (nothing is written there then)', () => {
    const found = locateColumns(FULL.slice(0, -1), CONFIG);
    expect('columns' in found && found.columns.recheck).toBeUndefined();
  });

  it('needs no output headers in results-tab mode', () => {
    expect(locateColumns(['Project', 'Status', 'Comment', 'Due date'], { ...CONFIG, outputsInPlace: false })).toEqual({
      columns: { inputs: { id: 1, status: 2, comment: 3, completion_date: 4 }, extras: [], outputs: undefined, recheck: undefined },
    });
  });

  it('never throws on any header row, and finds a column only under its own header', () => {
    const cell = fc.oneof(fc.constantFrom(...FULL, '', ' ', 'owner', 'VALIDATION'), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.array(cell, { maxLength: 20 }), (header) => {
        const found = locateColumns(header, CONFIG);
        if ('lost' in found) {
          expect(found.lost.reason).toContain(found.lost.header);
          return;
        }
        for (const field of OUTPUT_FIELDS) expect((header[(found.columns.outputs?.[field] ?? 0) - 1] ?? '').trim().toLowerCase()).toBe(OUTPUTS[field].toLowerCase());
      }),
    );
  });
});

describe('new columns go after the last used column', () => {
  it('plans the outputs after data under an empty header cell', () => {
    const layout = mapHeaders(['Project', 'Status', 'Comment', 'Due date'], CONFIG, 6);
    expect(OUTPUT_FIELDS.map((f) => layout.outputs[f])).toEqual([7, 8, 9, 10, 11]);
    expect(layout.review.recheck).toBe(12);
  });

  it("places missing result columns after the last used column of the results tab, gaps and people's columns kept", () => {
    const values = [
      ['Project', '', 'Validation', 'My notes'],
      ['P-1', '', 'VALID', 'call back', 'stray'],
    ];
    const parsed = parseResults(values, { idHeader: 'Project', outputs: OUTPUTS });
    expect(parsed.columns.id).toBe(1);
    expect(parsed.columns.outputs.verdict).toBe(3);
    expect(parsed.missing).toEqual([
      { header: 'Source row', column: 6 },
      { header: 'Issues', column: 7 },
      { header: 'Suggested rewrite', column: 8 },
      { header: 'Checked at', column: 9 },
      { header: 'Model', column: 10 },
    ]);
  });

  it('never throws on any results tab and never plans a column over a used one', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.oneof(fc.constantFrom('', 'Project', 'Model', 'x'), fc.string({ maxLength: 5 })), { maxLength: 8 }), { maxLength: 6 }), (values) => {
        const parsed = parseResults(values, { idHeader: 'Project', outputs: OUTPUTS });
        const width = values.reduce((w, r) => Math.max(w, r.length), 0);
        for (const m of parsed.missing) expect(m.column).toBeGreaterThan(width);
      }),
    );
  });
});
