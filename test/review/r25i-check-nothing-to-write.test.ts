/**
 * Review of d468737: the write check is now made whenever the first chunk has rows and a
 * header is missing (`chunk.entries.length > 0 && writer.firstWriteMakes`), before the rows
 * are sorted — not only when something will be asked or written (before: `ask.length > 0`).
 * A run with nothing to write (every verdict in place, the only missing header a reviewer
 * column the config gained since, which the bot adds with its next write) now sends a write
 * to the sheet at every run, and on a share made read-only fails with exit 1 where it had
 * nothing to do. README: a run that "has nothing to write leaves the sheet exactly as it
 * was"; lazy-headers.test.ts: no rows to ask, no write at all. One target and a portfolio.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_SHEETS, SPREADSHEET_ID, type Bed } from '../support/bed.js';
import { freshTargets } from '../support/fresh-targets.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** Every row validated and written; then the owner turns on the reviewers' recheck box, whose header the tab lacks until the bot next writes. */
async function validatedThenRecheckColumn(portfolio: boolean): Promise<Bed> {
  const b = await freshTargets(portfolio, { rows: 6, teamB: { rows: 5, offset: 20 }, config: { sheets: FAST_SHEETS } });
  const first = await b.run('--json');
  expect(first.code, first.stderr).toBe(0);
  b.setConfig({ review: { recheck_column: 'Recheck' } });
  b.sheets.resetCalls();
  b.llm.reset();
  return b;
}

describe.each([
  ['one target', false],
  ['a portfolio of two targets', true],
] as const)('r25i: %s, a run with nothing to ask and nothing to write', (_what, portfolio) => {
  it('sends no write to the sheet, not even the write check', async () => {
    bed = await validatedThenRecheckColumn(portfolio);
    const before = bed.sheets.tabs(SPREADSHEET_ID).map((tab) => bed?.sheets.values(SPREADSHEET_ID, tab));
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(bed.llm.callCount()).toBe(0);
    expect(bed.sheets.tabs(SPREADSHEET_ID).map((tab) => bed?.sheets.values(SPREADSHEET_ID, tab))).toEqual(before);
    expect(bed.sheets.writeCount()).toBe(0);
  });

  it('on a share made read-only, succeeds: it has nothing to do (exit 0)', async () => {
    bed = await validatedThenRecheckColumn(portfolio);
    bed.sheets.share(SPREADSHEET_ID, 'reader');
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(bed.llm.callCount()).toBe(0);
  });
});
