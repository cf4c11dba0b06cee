/**
 * Two rows with the same id and inputs, one carrying a reviewer's override, are not
 * interchangeable: without the override cell in the identity a write is checked against,
 * a person sorting them past each other during the run put the "(reviewer)" verdict on
 * the row whose override cell is empty (found by the hostile review of issue 10).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, startBed, TAB, type Bed } from '../support/bed.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe('twin rows and a reviewer override', () => {
  it('writes the reviewer verdict only to the row whose override cell holds it, after a sort mid-run', async () => {
    const twin = ['P-1', 'Done', 'Shipped the billing export.', ''];
    const rows = [
      [...twin, 'VALID looks fine to me'],
      [...twin, ''],
      ['P-2', 'Planned', 'Kick-off next week.', '', ''],
      ['P-3', 'Done', 'All done.', '', ''],
    ];
    bed = await startBed({
      rows,
      header: [...HEADER, 'Override', ...OUTPUT_HEADERS],
      llm: { latencyMs: 5 },
      config: { review: { override_column: 'Override' }, llm: { max_workers: 1 } },
    });
    const b = bed;
    let sorted = false;
    // A person sorts by the Override column (empty first) right after the bot's first read.
    b.sheets.onResponse((call) => {
      if (sorted || call.status !== 200 || !/get/i.test(call.op)) return;
      sorted = true;
      b.sheets.sortRows(SPREADSHEET_ID, TAB, 2, (x, y) => (String(x[4] ?? '') === '' ? 0 : 1) - (String(y[4] ?? '') === '' ? 0 : 1));
    });
    const result = await b.run('--json');
    expect(sorted).toBe(true);
    const values = b.values();
    const shown = values
      .slice(1)
      .filter((r) => r[0] === 'P-1')
      .map((r) => ({ override: r[col(values, 'Override')] ?? '', verdict: r[col(values, 'Validation')] ?? '' }));
    // Expected: the row with the override shows "VALID (reviewer)"; its twin without one never shows "(reviewer)".
    const sortedShown = [...shown].sort((a, b) => a.override.localeCompare(b.override));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(sortedShown[1]).toEqual({ override: 'VALID looks fine to me', verdict: 'VALID (reviewer)' });
    expect(sortedShown[0]?.override).toBe('');
    expect(sortedShown[0]?.verdict).not.toMatch(/reviewer/);
  });
});
