/**
 * Review of d61a1ed (a portfolio's questions claimed in the store): a store that refuses a
 * claim must end the run with that failure (or, as before d61a1ed, with every verdict
 * written), never abandon a target.
 *
 * Fails: the CLI exits 0, having printed "[first] done: 0 answered" and nothing at all for
 * `second`, no summary, no error, and no row of either tab holds a verdict. Why:
 * src/pipeline/answering.ts answerShared takes the keys on the QuestionBoard (`board.claim`),
 * then calls askOwn -> askClaimed -> ClaimBook.split, which now may REJECT (the claim
 * statement refused; likewise a commit of a `known` verdict or a waitFor read failing). The
 * rejection leaves answerShared before `mine.forEach((i, k) => settle(i, ...))`: the board's
 * promises for those keys never resolve, and the other target's worker waiting on them
 * (`await answer` in `theirs`) waits forever. Nothing else keeps Node's event loop alive, so
 * the process simply drains and exits with code 0 (in a long-lived `serve`, the target would
 * hang for good, its run lock held). Before d61a1ed askOwn was `this.ask`, which never
 * rejects (this test passes there). With one target (no board) the same refusal fails the
 * run cleanly, naming the cause (the second test, which holds).
 *
 * The refusal is a real one SQLite gives: RAISE(ABORT) from a trigger on the claims table
 * (https://www.sqlite.org/lang_createtrigger.html#raise), standing for a full disk
 * ("database or disk is full", SQLITE_FULL), the claim being the write. Invariants 5 (a
 * failure ends the run with its reason, no row silently left) and 12's spirit (a run whose
 * rows were not answered is no success for cron).
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/cache/open.js';
import { HEADER, SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { expectedCells, exitedWithin, spawnRun, type Child } from '../support/inspect.js';
import { FAST_SHEETS, stopAll } from '../support/instances.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
const children: Child[] = [];
afterEach(async () => {
  await stopAll(children);
  await bed?.close();
  bed = undefined;
});

const OUTPUTS = ['Validation', 'Issues', 'Suggestion', 'Checked at'];
const OTHER = 'Copy 2';

async function refusingClaims(rows: ReturnType<typeof sampleRows>): Promise<Bed> {
  const made = await startBed({ rows, header: [...HEADER, ...OUTPUTS], moreTabs: [{ title: OTHER, rows: [[...HEADER, ...OUTPUTS], ...rows] }], llm: { latencyMs: 40 }, config: { sheets: FAST_SHEETS, llm: { max_workers: 4 } } });
  made.setConfig({ targets: [{ name: 'first', sheet: TAB }, { name: 'second', sheet: OTHER }] });
  const file = (made.config.cache as { path: string }).path;
  // The schema as the bot makes it, then the claims table refusing every write.
  const store = await openStore({ path: file });
  await store.close();
  const db = new Database(file);
  db.exec(`CREATE TRIGGER refuse_claims BEFORE INSERT ON claims BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;`);
  db.close();
  return made;
}


describe('a store that refuses claims (SQLite)', () => {
  it('ends a portfolio of two targets on the same rows with the failure, or with every verdict written', { timeout: 60_000 }, async () => {
    const rows = sampleRows(16);
    bed = await refusingClaims(rows);
    const child = spawnRun(bed);
    children.push(child);
    const end = await exitedWithin(child, 25_000);
    const output = `${child.stdout()}${child.stderr()}`;
    expect(end, `the portfolio run must end; its output so far:\n${output.slice(-2000)}`).not.toBe('hung');
    const { code } = end as { code: number | null };
    // Each target tells its end (done, or why it stopped): a target that never does was abandoned.
    for (const target of ['first', 'second']) expect(output, `target ${target} tells its end`).toMatch(new RegExp(`\\[${target}\\] (done|stopped|failed|error)`, 'i'));
    if (code === 0) {
      // A success: then every row of both tabs holds its verdict (before d61a1ed no claim was made here, and so it went).
      for (const title of [TAB, OTHER]) {
        const values = bed.sheets.values(SPREADSHEET_ID, title);
        const verdictCol = col(values, 'Validation');
        rows.forEach((row, i) => expect(values[i + 1]?.[verdictCol], `exit 0, yet ${title} row ${i + 2} has no verdict`).toBe(expectedCells(row).verdict));
      }
    } else expect(output, 'a failure tells its reason').toMatch(/disk is full/);
  });

  it('ends a run of one target with the failure (holds)', { timeout: 60_000 }, async () => {
    bed = await refusingClaims(sampleRows(16));
    const child = spawnRun(bed, '--target', 'first');
    children.push(child);
    const end = await exitedWithin(child, 25_000);
    expect(end, `the run must end; its stderr so far:\n${child.stderr().slice(-2000)}`).not.toBe('hung');
    expect((end as { code: number | null }).code, 'a run whose claims the store refused is no success').not.toBe(0);
    expect(`${child.stdout()}${child.stderr()}`, 'the reason is told').toMatch(/disk is full/);
  });
});
