/**
 * Review of ebf1879 ("no write is tried before [the write check] answers",
 * SheetWriter.holdUntil). Where the tab is not fresh (its verdicts are there; only a header
 * the config gained since is missing, the reviewers' recheck column being the commit's own
 * example), the check is made after the rows are sorted, once there is something to ask,
 * and only then handed to the writer (holdUntil). But the sorting queues the verdicts the
 * cache knows, and a full batch starts the writer's loop at once: it looks at the gate
 * (none yet), then waits for the write quota's slots (Sheets' 60 writes a minute: about a
 * second after the run's first calls), and once they come it makes the missing header and
 * writes, whether or not the check made meanwhile has answered. On a share made read-only
 * by mistake that is a write tried, and refused, before the check says so. One target and
 * a portfolio of two, one chunk (a tab of a few rows), Sheets' default quotas.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_QUOTAS, HEADER, SPREADSHEET_ID, TAB, type Bed } from '../support/bed.js';
import { freshTargets, TEAM_B } from '../support/fresh-targets.js';
import { writesBeforeChecks } from '../support/inspect.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe.each([
  ['one target', false],
  ['a portfolio of two targets', true],
] as const)('r25j: %s, a validated tab gaining a reviewer column, shared read-only, the write check slow', (_what, portfolio) => {
  it('tries no write before the write check has answered', async () => {
    bed = await freshTargets(portfolio, { rows: 12, teamB: { rows: 12, offset: 40 }, config: { sheets: { read_quota_per_minute: 6000, write_quota_per_minute: 6000 }, output: { write_batch_size: 2 }, llm: { max_workers: 2 } } });
    const b = bed;
    const first = await b.run('--json');
    expect(first.code, first.stderr).toBe(0);
    // The owner turns on the reviewers' recheck box (a header the bot adds with its next write);
    // a person clears two verdicts (the cache knows them) and rewrites two comments (questions).
    // Then the share is made read-only by mistake. Sheets' usual quotas from here on.
    b.setConfig({ review: { recheck_column: 'Recheck' }, sheets: DEFAULT_QUOTAS });
    for (const tab of portfolio ? [TAB, TEAM_B] : [TAB]) {
      for (const row of [2, 3]) b.sheets.setCell(SPREADSHEET_ID, tab, row, HEADER.length + 1, null);
      for (const row of [12, 13]) b.sheets.setCell(SPREADSHEET_ID, tab, row, 3, `Rewritten comment ${row}: the rollout moved to next quarter, TBD`);
    }
    b.sheets.share(SPREADSHEET_ID, 'reader');
    b.llm.reset();
    b.sheets.resetCalls();
    // Google answers a batchUpdate in 100-300 ms, more on a busy day: each check is slowed.
    const writesBeforeCheck = writesBeforeChecks(b.sheets, portfolio ? 2 : 1, 2500);
    const second = await b.run('--json');
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/Share the spreadsheet with \S+ as an Editor/);
    expect(b.llm.callCount()).toBe(0);
    expect(writesBeforeCheck).toEqual([]);
  }, 60_000);
});
