/**
 * Review of ebf1879 ("no write is tried before [the write check] answers"). Where the
 * tab is not fresh (its verdict column is there; only a header the config gained since is
 * missing, the reviewers' recheck column being the commit's own example), the check is
 * made only once a chunk has something to ask. A first chunk with nothing to ask but
 * verdicts the cache knows to write (cells a person cleared, new rows twin to old ones)
 * starts the writer with no check at all: the missing header and those verdicts are
 * written unchecked. On a share made read-only, that write is refused (403), and
 * SheetWriter.firstWriteMakes is false from then on (prepared is set): when a later chunk
 * has rows to ask, no check is made, and the run pays the model for every one of them
 * before failing at close() on the refused write.
 *
 * DESIGN / lazy-headers.test.ts: a share made read-only by mistake fails the run before any
 * model call is paid for and before any write is tried, naming the account to share with.
 * One target and a portfolio of two.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_SHEETS, HEADER, SPREADSHEET_ID, TAB, type Bed } from '../support/bed.js';
import { freshTargets, TEAM_B } from '../support/fresh-targets.js';
import { readInChunksOf } from '../support/read-chunk-bytes.js';
import { isWriteCheck } from '../support/inspect.js';

// About 15 sample rows a chunk; the first chunk is the first 2 data rows at this target.
readInChunksOf(3000);

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe.each([
  ['one target', false],
  ['a portfolio of two targets', true],
] as const)('r25j: %s, a validated tab gaining a reviewer column, shared read-only', (_what, portfolio) => {
  it('fails before any answer is paid for and before any write is tried, though the first rows only need cached verdicts written', async () => {
    bed = await freshTargets(portfolio, { rows: 40, teamB: { rows: 40, offset: 40 }, config: { sheets: FAST_SHEETS, output: { write_batch_size: 2 }, llm: { max_workers: 2 } } });
    const b = bed;
    b.env['STATUS_VALIDATOR_READ_CHUNK_BYTES'] = '3000';
    const first = await b.run('--json');
    expect(first.code, first.stderr).toBe(0);
    // The owner turns on the reviewers' recheck box (a header the bot adds with its next write),
    // a person clears the verdicts of the first two rows (the cache knows them), and the last
    // ten rows get new comments (questions to ask). Then the share is made read-only by mistake.
    b.setConfig({ review: { recheck_column: 'Recheck' } });
    for (const tab of portfolio ? [TAB, TEAM_B] : [TAB]) {
      for (const row of [2, 3]) b.sheets.setCell(SPREADSHEET_ID, tab, row, HEADER.length + 1, null);
      for (let row = 32; row <= 41; row++) b.sheets.setCell(SPREADSHEET_ID, tab, row, 3, `Rewritten comment ${row}: the rollout moved to next quarter, TBD`);
    }
    b.sheets.share(SPREADSHEET_ID, 'reader');
    b.llm.reset();
    b.sheets.resetCalls();
    const writesBeforeCheck: string[] = [];
    let checks = 0;
    b.sheets.onRequest((call) => {
      if (isWriteCheck(call)) checks++;
      else if (call.kind === 'write' && checks === 0) writesBeforeCheck.push(`${call.op} ${JSON.stringify(call.ranges ?? call.range ?? '')}`);
    });
    const second = await b.run('--json');
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/Share the spreadsheet with \S+ as an Editor/);
    // Nothing may be paid for on a share the bot cannot write to.
    expect(b.llm.callCount()).toBe(0);
    expect(writesBeforeCheck).toEqual([]);
  }, 60_000);
});
