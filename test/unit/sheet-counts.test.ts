/** Issue 19, item 3: what the sheet shows after a run, counted from the cells read and the writes that went through. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, ShownCounts } from '../../src/pipeline/shown.js';
import { describeSheet } from '../../src/report/index.js';
import type { Entry } from '../../src/sheets/index.js';

const KINDS = ['VALID', 'INVALID', 'NEEDS REVIEW', 'ERROR', 'VALID (reviewer)', 'INVALID (reviewer)', ''];
/** A verdict cell: one the bot writes, one a person typed in another case or spacing, or anything. */
const cell = fc.oneof(fc.constantFrom(...KINDS), fc.constantFrom(...KINDS).map((k) => ` ${k.toLowerCase().replace(' ', '   ')} `), fc.string({ maxLength: 20 }));

const entry = (row: number, id: string, verdict: string): Entry => ({ row, id, inputs: { status: 's', comment: 'c', completion_date: '', extra: {} } as unknown as Entry['inputs'], outputs: { verdict, issues: '', suggestion: '', checked_at: '', model: '' }, review: { recheck: '', override: '' } });

describe('bucketOf (a verdict cell, as people read it)', () => {
  it('puts every cell, whatever it holds, in exactly one known count, ignoring case and spaces', () => {
    fc.assert(
      fc.property(cell, (text) => {
        const bucket = bucketOf(text);
        expect(['valid', 'invalid', 'needsReview', 'error', 'reviewerValid', 'reviewerInvalid', 'unchecked', 'other']).toContain(bucket);
        expect(bucketOf(`  ${text.toUpperCase()}  `)).toBe(bucket);
      }),
    );
    expect(KINDS.map(bucketOf)).toEqual(['valid', 'invalid', 'needsReview', 'error', 'reviewerValid', 'reviewerInvalid', 'unchecked']);
    expect(bucketOf('VALIDATED')).toBe('other');
  });
});

describe('ShownCounts', () => {
  it('equals a count of the sheet after the writes the writer got to (in order), skipped ones leaving their row as it was', () => {
    fc.assert(
      fc.property(
        fc.array(cell, { minLength: 1, maxLength: 30 }),
        fc.array(fc.record({ at: fc.nat(), to: fc.constantFrom('VALID', 'INVALID', 'ERROR', 'NEEDS REVIEW', 'VALID (reviewer)') }), { maxLength: 40 }),
        fc.nat(),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.nat({ max: 3 }),
        (cells, writes, got, skips, incomplete) => {
          const entries = cells.map((c, i) => entry(i + 2, `P-${i}`, c));
          const shown = new ShownCounts();
          shown.read(entries, incomplete);
          // One write per row at most in a run (a row is a rewrite or a question, not both).
          const queued = [...new Map(writes.map((w) => [w.at % entries.length, w])).entries()].map(([i, w]) => ({ entry: entries[i] as Entry, to: w.to }));
          for (const q of queued) shown.queue(q.entry, q.to);
          const reached = queued.slice(0, got % (queued.length + 1));
          const skipped = [...new Set(skips.map((s) => s % Math.max(1, reached.length)))].filter((i) => i < reached.length).map((i) => reached[i] as (typeof reached)[number]);
          const writtenRows = reached.filter((r) => !skipped.includes(r));
          const counts = shown.after({ rowsWritten: writtenRows.length, skipped: skipped.map((s) => ({ row: s.entry.row, id: s.entry.id, reason: 'edited' })) });
          // The sheet, simulated: the cells read, with the written rows changed.
          const sheet = cells.slice();
          for (const w of writtenRows) sheet[w.entry.row - 2] = w.to;
          const expected = { rows: cells.length + incomplete, valid: 0, invalid: 0, needsReview: 0, error: 0, reviewerValid: 0, reviewerInvalid: 0, unchecked: 0, incomplete, other: 0 };
          for (const c of sheet) expected[bucketOf(c)]++;
          expect(counts).toEqual(expected);
          const sum = counts ? Object.entries(counts).filter(([k]) => k !== 'rows').reduce((n, [, v]) => n + Number(v), 0) : -1;
          expect(sum).toBe(cells.length + incomplete);
        },
      ),
    );
  });

  it('is null when the tab was never read (a run that failed first)', () => {
    expect(new ShownCounts().after({ rowsWritten: 0, skipped: [] })).toBeNull();
  });

  it('reads as a person would: VALID and INVALID always, the rest when there are any, with plurals right', () => {
    const base = { rows: 1, valid: 1, invalid: 0, needsReview: 0, error: 0, reviewerValid: 0, reviewerInvalid: 0, unchecked: 0, incomplete: 0, other: 0 };
    expect(describeSheet(base)).toBe('1 VALID, 0 INVALID (1 row)');
    expect(describeSheet({ ...base, rows: 1207, valid: 1000, invalid: 100, needsReview: 3, error: 2, reviewerValid: 1, unchecked: 100, incomplete: 1 })).toBe(
      '1,000 VALID, 100 INVALID, 3 NEEDS REVIEW, 2 ERROR, 1 by a reviewer (1 VALID, 0 INVALID), 100 not checked yet, 1 without status or comment (1,207 rows)',
    );
  });
});
