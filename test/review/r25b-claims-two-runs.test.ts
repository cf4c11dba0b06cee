/**
 * Review of issue 25 (claims coalesced per loop turn), end to end: two runs at once, each on
 * its own tab holding the same rows (the same questions), sharing one cache (a SQLite file,
 * then one PostgreSQL database). Invariant 9: each question is paid for once, whichever run
 * asks it; each row of both tabs gets its verdict.
 *
 * Fails on both engines, and already failed before today's changes (at cb86718): ~30 of 40
 * questions are paid twice. Why: a run looks its chunk's keys up in the cache when it selects
 * the chunk (nothing there yet), and claims each question only when a worker takes it, seconds
 * later. By then the other run has often asked it, committed the verdict and RELEASED its
 * claim: the claim is free, this run wins it, and asks again without looking the cache up
 * once more (src/pipeline/answering.ts askClaimed -> ClaimBook.split in src/pipeline/claims.ts:
 * `mine` goes straight to this.ask; only `theirs` ever looks for a committed verdict).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { FAST_SHEETS, postgresBed } from '../support/instances.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const OTHER = 'Statuses copy';
const OUTPUTS = ['Validation', 'Issues', 'Suggestion', 'Checked at'];

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`two runs on two tabs with the same rows, one cache (${engine})`, () => {
    it('pay for each question once, and both tabs get every verdict', { timeout: 90_000 }, async () => {
      const rows = sampleRows(40);
      const options = { rows, header: [...HEADER, ...OUTPUTS], moreTabs: [{ title: OTHER, rows: [[...HEADER, ...OUTPUTS], ...rows] }], llm: { latencyMs: 40 }, config: { sheets: FAST_SHEETS, llm: { max_workers: 6 } } };
      bed = engine === 'sqlite' ? await startBed(options) : (await postgresBed(options)).bed;
      bed.setConfig({ targets: [{ name: 'first', sheet: TAB }, { name: 'second', sheet: OTHER }] });
      const b = bed;
      const [one, two] = await Promise.all([b.run('--target', 'first'), b.run('--target', 'second')]);
      expect(one.code, one.stderr).toBe(0);
      expect(two.code, two.stderr).toBe(0);
      expect(b.llm.callCount(), 'each question asked once across both runs').toBe(rows.length);
      for (const tab of [TAB, OTHER]) {
        const values = b.sheets.values(SPREADSHEET_ID, tab);
        const verdictCol = col(values, 'Validation');
        rows.forEach((row, i) => expect(values[i + 1]?.[verdictCol], `${tab} row ${i + 2}`).toBe(expectedCells(row).verdict));
      }
    });
  });
}
