/**
 * Review of ebf1879: when the write check fails (a share made read-only by mistake, or a
 * 503 past the retries), the questions the rows needed are never asked, yet the run's
 * summary counts them in `rows.asked` ("Rows that needed a new answer") with no call made
 * and none moved to `rows.deferred` ("Rows left for a later run"). The progress line says
 * "0 answered, 0 errors of N questions". The project's rule (answer-all.ts: "Never asked:
 * left for the next run, as the questions a doomed run had not reached"; r25c-doomed-later-
 * rows-uncounted) is that a question the run did not reach is deferred, not asked: the runs
 * table, the Runs tab and the dashboard otherwise report asking that never happened.
 * The check fails on the first chunk (a fresh tab) or on a later one, after a first chunk
 * whose verdicts were all in the cache. One target and a portfolio of two.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_SHEETS, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, TAB, type Bed } from '../support/bed.js';
import { freshTargets, TEAM_B } from '../support/fresh-targets.js';
import { readInChunksOf } from '../support/read-chunk-bytes.js';

// About 15 sample rows a chunk; the first chunk is the first 2 data rows at this target.
readInChunksOf(3000);

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

interface Rows {
  read: number;
  asked: number;
  deferred: number;
}
interface Summary {
  rows: Rows;
  llm: { calls: number };
}

function summariesOf(stdout: string, portfolio: boolean): Summary[] {
  const parsed = JSON.parse(stdout) as Summary & { targets?: Summary[] };
  return portfolio ? (parsed.targets ?? []) : [parsed];
}

describe.each([
  ['one target', false],
  ['a portfolio of two targets', true],
] as const)('r25j: %s, the write check refused', (_what, portfolio) => {
  it('a fresh tab: the questions never asked are deferred, not counted asked', async () => {
    bed = await freshTargets(portfolio, { rows: 8, teamB: { rows: 8, offset: 40 }, config: { sheets: FAST_SHEETS } });
    bed.sheets.share(SPREADSHEET_ID, 'reader');
    const result = await bed.run('--json');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Share the spreadsheet with \S+ as an Editor/);
    expect(bed.llm.callCount()).toBe(0);
    for (const summary of summariesOf(result.stdout, portfolio)) {
      expect(summary.llm.calls).toBe(0);
      // Every row read on a fresh tab needed a question; none was asked.
      expect(summary.rows.read).toBeGreaterThan(0);
      expect({ asked: summary.rows.asked, deferred: summary.rows.deferred }).toEqual({ asked: 0, deferred: summary.rows.read });
    }
  }, 60_000);

  it('a tab whose bot columns were deleted, the check failing on a later chunk: the same', async () => {
    bed = await freshTargets(portfolio, { rows: 40, teamB: { rows: 40, offset: 40 }, config: { sheets: FAST_SHEETS, output: { write_batch_size: 2 }, llm: { max_workers: 2 } } });
    const b = bed;
    b.env['STATUS_VALIDATOR_READ_CHUNK_BYTES'] = '3000';
    const first = await b.run('--json');
    expect(first.code, first.stderr).toBe(0);
    // A person deletes the bot's columns and rewrites the last ten comments; the share is made read-only by mistake.
    for (const tab of portfolio ? [TAB, TEAM_B] : [TAB]) {
      b.sheets.deleteColumns(SPREADSHEET_ID, tab, HEADER.length + 1, OUTPUT_HEADERS.length);
      for (let row = 32; row <= 41; row++) b.sheets.setCell(SPREADSHEET_ID, tab, row, 3, `Rewritten comment ${row}: the rollout moved to next quarter, TBD`);
    }
    b.sheets.share(SPREADSHEET_ID, 'reader');
    b.llm.reset();
    const second = await b.run('--json');
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/Share the spreadsheet with \S+ as an Editor/);
    expect(b.llm.callCount()).toBe(0);
    for (const summary of summariesOf(second.stdout, portfolio)) {
      expect(summary.llm.calls).toBe(0);
      // Nothing was asked; what the rows read needed is left for the next run.
      expect(summary.rows.asked).toBe(0);
      expect(summary.rows.deferred).toBeGreaterThan(0);
    }
  }, 60_000);
});
