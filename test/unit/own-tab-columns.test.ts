/** The Runs tab's header row is outside input (people edit it): placing cells by it never goes wrong. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SheetsError } from '../../src/errors.js';
import { RUNS_HEADER } from '../../src/report/index.js';
import { columnsOf } from '../../src/sheets/tabs.js';
import { normalizeHeader } from '../../src/sheets/index.js';

/** A header cell: one of ours (in another case, padded), a person's text, or empty. */
const cell = fc.oneof(
  fc.constantFrom(...RUNS_HEADER).map((h) => h),
  fc.constantFrom(...RUNS_HEADER).map((h) => `  ${h.toUpperCase()} `),
  fc.string({ maxLength: 12 }),
  fc.constant(''),
);

describe('columnsOf (placing the Runs tab cells by header text)', () => {
  it('either finds each header in a column holding that text, no two headers in one column, or refuses with a SheetsError naming the doubled header', () => {
    fc.assert(
      fc.property(fc.array(cell, { maxLength: 40 }), (row) => {
        let columns: Array<number | undefined>;
        try {
          columns = columnsOf('Runs', row, RUNS_HEADER);
        } catch (error) {
          expect(error).toBeInstanceOf(SheetsError);
          const doubled = RUNS_HEADER.find((h) => row.filter((c) => c.trim() !== '' && normalizeHeader(c) === normalizeHeader(h)).length > 1);
          expect(doubled).toBeDefined();
          expect((error as SheetsError).message).toContain(`"${doubled ?? ''}"`);
          return;
        }
        expect(columns).toHaveLength(RUNS_HEADER.length);
        const used = columns.filter((c): c is number => c !== undefined);
        expect(new Set(used).size).toBe(used.length);
        columns.forEach((column, i) => {
          const wanted = normalizeHeader(RUNS_HEADER[i] ?? '');
          if (column === undefined) expect(row.some((c) => c.trim() !== '' && normalizeHeader(c) === wanted)).toBe(false);
          else expect(normalizeHeader(row[column - 1] ?? '')).toBe(wanted);
        });
      }),
      { numRuns: 2000 },
    );
  });
});
