/**
 * Review of d468737 ("the write check leaves before the rows are sorted"). Its message says:
 * "The check now also runs when a fresh tab's first rows need no question but their cached
 * verdicts will be written under the missing headers: a read-only share fails the run before
 * any write". The check leaves before the selection, but the selection queues the cached
 * verdicts (ChunkSelector.select → SheetWriter.enqueue), and a full batch starts the writer
 * (kick → pump → the missing headers made) while the check is still on its way: the first
 * write goes out before the check has answered, so "before any write" does not hold.
 * (test/e2e/start-order.test.ts's case only checks the cells unchanged, which a refused
 * write leaves them anyway.) One target and a portfolio.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_SHEETS, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, TAB, type Bed } from '../support/bed.js';
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
] as const)('r25i: %s, fresh tabs whose rows all have a verdict in the cache', (_what, portfolio) => {
  it('shared read-only: no write leaves before the write check has answered', async () => {
    bed = await freshTargets(portfolio, { rows: 20, teamB: { rows: 20, offset: 20 }, config: { sheets: FAST_SHEETS, output: { write_batch_size: 5 }, llm: { max_workers: 4 } } });
    const b = bed;
    const first = await b.run('--json');
    expect(first.code, first.stderr).toBe(0);
    // A person deletes the bot's columns, and the share is made read-only by mistake.
    for (const tab of portfolio ? [TAB, TEAM_B] : [TAB]) b.sheets.deleteColumns(SPREADSHEET_ID, tab, HEADER.length + 1, OUTPUT_HEADERS.length);
    b.sheets.share(SPREADSHEET_ID, 'reader');
    b.llm.reset();
    b.sheets.resetCalls();
    // Google answers a batchUpdate in 100-300 ms: each check is slowed, as there.
    const writesBeforeCheck = writesBeforeChecks(b.sheets, portfolio ? 2 : 1, 200);
    const second = await b.run('--json');
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/Share the spreadsheet with \S+ as an Editor/);
    expect(b.llm.callCount()).toBe(0);
    // Each target's run fails on its check's answer, before any write is sent.
    expect(writesBeforeCheck).toEqual([]);
  });
});
