/**
 * Review of issue 25 (ClaimBook's look-up now on process.nextTick), crossed with several
 * targets: two runs at once sharing one cache (one SQLite file, as two processes on one disk
 * do, then one PostgreSQL database, as two hosts on one cache.url do; r25b-claims-two-runs.test.ts runs the same with one target a run, and passes), each
 * run a portfolio of two targets, all four tabs holding the same rows (the same questions).
 * Invariant 9: "a question is never paid for twice: ... not by two targets of one run, not
 * by two instances sharing one cache".
 *
 * Fails: a portfolio of several targets answers through its QuestionBoard only
 * (src/pipeline/answering.ts `answer`: `if (this.options.board) answerShared(...) else if
 * (this.options.claims) askClaimed(...)`), so its questions are never claimed in the store,
 * and the other run, which cannot see that board, asks them too. Not made by today's
 * commits (the board and the claims were exclusive before them): found crossing the
 * ClaimBook's cases with several targets, as the review asked.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, col, deepMerge, startBed, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { FAST_SHEETS, postgresBed } from '../support/instances.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const OUTPUTS = ['Validation', 'Issues', 'Suggestion', 'Checked at'];
const COPIES = ['Copy 2', 'Copy 3', 'Copy 4'];

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`two runs at once, each a portfolio of two targets, one cache (${engine})`, () => {
    it('pay for each question once, and every tab gets every verdict', { timeout: 60_000 }, async () => {
      const rows = sampleRows(24);
      const tab = [[...HEADER, ...OUTPUTS], ...rows];
      const options = { rows, header: [...HEADER, ...OUTPUTS], moreTabs: COPIES.map((title) => ({ title, rows: tab })), llm: { latencyMs: 40 }, config: { sheets: FAST_SHEETS, llm: { max_workers: 4 } } };
      bed = engine === 'sqlite' ? await startBed(options) : (await postgresBed(options)).bed;
      bed.setConfig({ targets: [{ name: 'first', sheet: TAB }, { name: 'second', sheet: 'Copy 2' }] });
      // The other run: the same config (the same cache), its own two tabs.
      const otherConfig = path.join(bed.dir, 'other.yaml');
      writeFileSync(otherConfig, stringify(deepMerge(bed.config, { targets: [{ name: 'third', sheet: 'Copy 3' }, { name: 'fourth', sheet: 'Copy 4' }] })));
      const b = bed;
      const [one, two] = await Promise.all([b.run(), b.cli(['run', '--config', otherConfig])]);
      expect(one.code, one.stderr).toBe(0);
      expect(two.code, two.stderr).toBe(0);
      for (const title of [TAB, ...COPIES]) {
        const values = b.sheets.values(SPREADSHEET_ID, title);
        const verdictCol = col(values, 'Validation');
        rows.forEach((row, i) => expect(values[i + 1]?.[verdictCol], `${title} row ${i + 2}`).toBe(expectedCells(row).verdict));
      }
      expect(b.llm.callCount(), 'each question asked once across both runs').toBe(rows.length);
    });
  });
}
