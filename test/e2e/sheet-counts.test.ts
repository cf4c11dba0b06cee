/** Issue 19, item 3: the summary tells this run's answers apart from what the sheet shows. */
import { afterEach, describe, expect, it } from 'vitest';
import type { SheetCounts } from '../../src/pipeline/summary.js';
import { HEADER, SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows, targetRows } from '../support/sample-data.js';
import { virtualClock } from '../support/virtual-clock.js';

const TEAM_B = 'Team B';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** What `sheetShows` holds in run --json (the summary's own type: the test reads the same fields). */
type Counts = SheetCounts;
interface Summary {
  target: string;
  verdicts: { valid: number; invalid: number; error: number };
  rows: { read: number; asked: number };
  sheetShows: Counts | null;
}

/** What the verdict column of a tab shows, counted from the emulator (the truth the summary must match). */
function countTab(b: Bed, tab: string): Pick<Counts, 'needsReview' | 'valid' | 'invalid' | 'error' | 'unchecked' | 'reviewerValid' | 'reviewerInvalid'> {
  const values = b.sheets.values(SPREADSHEET_ID, tab);
  const cells = values.slice(1).map((r) => r[col(values, 'Validation')] ?? '');
  const count = (v: string) => cells.filter((c) => c === v).length;
  return { needsReview: count('NEEDS REVIEW'), valid: count('VALID'), invalid: count('INVALID'), error: count('ERROR'), unchecked: count(''), reviewerValid: count('VALID (reviewer)'), reviewerInvalid: count('INVALID (reviewer)') };
}

describe('what the sheet shows, told apart from what the run asked', () => {
  it('a second run asks nothing and still says how many rows are VALID and INVALID; --json adds sheetShows and keeps verdicts', async () => {
    bed = await startBed({ rows: sampleRows(8) });
    const first = await bed.run('--json');
    expect(first.code).toBe(0);
    const one = JSON.parse(first.stdout) as Summary;
    expect(one.verdicts.valid + one.verdicts.invalid).toBe(8);
    expect(one.sheetShows).toMatchObject({ rows: 8, ...countTab(bed, TAB), needsReview: 0, other: 0, incomplete: 0 });
    expect(one.sheetShows?.valid).toBe(one.verdicts.valid);

    const second = await bed.run('--json');
    const two = JSON.parse(second.stdout) as Summary;
    expect(two.verdicts).toMatchObject({ valid: 0, invalid: 0, error: 0 });
    expect(two.sheetShows).toEqual(one.sheetShows);

    const text = await bed.run();
    expect(text.stdout).toMatch(/this run's answers\s+none: no row needed the model/);
    const shown = countTab(bed, TAB);
    expect(text.stdout).toMatch(new RegExp(`the sheet now shows\\s+${shown.valid} VALID, ${shown.invalid} INVALID \\(8 rows\\)`));
  });

  it('a dry run over a checked sheet reports the sheet as it is; one with rows in ERROR and a reviewer verdict counts them', async () => {
    bed = await startBed({ rows: sampleRows(6), config: { review: { override_column: 'Reviewer verdict', min_confidence: 0.6 } } });
    bed.llm.setRespond((row) => ({ is_valid: true, issues: [], rewrite_suggestion: '', confidence: String(row.comment).includes('PRJ-0004') ? 0.3 : 0.95 }));
    bed.llm.injectFault({ kind: 'status', status: 400 }, { times: Infinity, match: (row) => String(row?.comment ?? '').includes('PRJ-0002') });
    const first = await bed.run('--json');
    expect(first.code).toBe(3);
    const one = JSON.parse(first.stdout) as Summary;
    expect(one.sheetShows).toMatchObject({ rows: 6, ...countTab(bed, TAB) });
    expect(one.sheetShows).toMatchObject({ error: 1, needsReview: 1 });
    expect(first.stdout).not.toContain('NEEDS REVIEW (');

    const values = bed.values();
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 3, col(values, 'Reviewer verdict') + 1, 'VALID: fine by me');
    const dry = await bed.run('--json', '--dry-run');
    const d = JSON.parse(dry.stdout) as Summary;
    // Nothing written: the sheet still shows what the first run left.
    expect(d.sheetShows).toEqual(one.sheetShows);

    bed.llm.clearFaults();
    const fixed = await bed.run('--json');
    expect(fixed.code).toBe(0);
    const f = JSON.parse(fixed.stdout) as Summary;
    expect(f.sheetShows).toMatchObject({ rows: 6, ...countTab(bed, TAB) });
    expect(f.sheetShows?.error).toBe(0);
    expect(f.sheetShows).toMatchObject({ reviewerValid: 1, needsReview: 1 });
    const text = await bed.run();
    const now = countTab(bed, TAB);
    expect(text.stdout).toMatch(new RegExp(`the sheet now shows\\s+${now.valid} VALID, ${now.invalid} INVALID, 1 NEEDS REVIEW, 1 by a reviewer \\(1 VALID, 0 INVALID\\) \\(6 rows\\)`));
  });

  it('a portfolio shows a line per target of what its tab shows, and the runs command and the Runs tab carry the sheet counts', async () => {
    const b = await startBed({ rows: targetRows('A', 6, 0), moreTabs: [{ title: TEAM_B, rows: [HEADER, ...targetRows('B', 4, 20)] }], config: { report: { runs_sheet: 'Runs' } } });
    bed = b;
    b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: TEAM_B }] });
    expect((await b.run()).code).toBe(0);
    const again = await b.run();
    expect(again.code).toBe(0);
    const a = countTab(b, TAB);
    const tb = countTab(b, TEAM_B);
    expect(again.stdout).toContain('What the tabs show now');
    const row = (name: string) => again.stdout.split('\n').find((l) => l.trimStart().startsWith(name) && !l.includes('"'));
    expect(row('programme-a')?.trim().split(/\s+/).slice(1, 5)).toEqual(['6', String(a.valid), String(a.invalid), '0']);
    expect(row('team-b')?.trim().split(/\s+/).slice(1, 5)).toEqual(['4', String(tb.valid), String(tb.invalid), '0']);

    const json = JSON.parse((await b.run('--json')).stdout) as { total: { sheetShows: Counts }; targets: Summary[] };
    expect(json.total.sheetShows).toMatchObject({ rows: 10, valid: a.valid + tb.valid, invalid: a.invalid + tb.invalid });

    const runs = await b.cli(['runs', '--config', b.configPath]);
    expect(runs.stdout).toContain(`the sheet showed after it: ${a.valid} VALID, ${a.invalid} INVALID (6 rows)`);
    const tab = b.sheets.values(SPREADSHEET_ID, 'Runs');
    const last = tab[tab.length - 1] ?? [];
    const mine = last[col(tab, 'Target')] === 'team-b' ? tb : a;
    expect([last[col(tab, 'Sheet VALID')], last[col(tab, 'Sheet INVALID')], last[col(tab, 'Sheet ERROR')], last[col(tab, 'Sheet not checked')]]).toEqual([String(mine.valid), String(mine.invalid), '0', '0']);
    // Valid/Invalid stay this run's answers (none: it asked nothing).
    expect([last[col(tab, 'Valid')], last[col(tab, 'Invalid')]]).toEqual(['0', '0']);
  });

  it('watch logs, for a poll that asks only the ticked row, its one answer and what the whole sheet shows', async () => {
    bed = await startBed({ rows: sampleRows(6), config: { review: { recheck_column: 'Recheck' } } });
    const b = bed;
    const clock = virtualClock('2026-11-21T09:00:00Z', (poll) => {
      if (poll === 1) b.sheets.setCell(SPREADSHEET_ID, TAB, 4, col(b.values(), 'Recheck') + 1, true);
    });
    let log = '';
    const result = await b.cli(['watch', '--config', b.configPath, '--every', '60s', '--polls', '2'], { clock, stderr: { write: (t: string) => (log += t) } });
    expect(result.code).toBe(0);
    const shown = countTab(b, TAB);
    const runs = log.split('\n').filter((l) => l.includes('(watch) completed'));
    expect(runs).toHaveLength(2);
    expect(runs[1]).toMatch(/6 rows, 1 asked \(answers: (1 VALID, 0 INVALID|0 VALID, 1 INVALID), 0 ERROR\), 1 LLM call, 1 row written/);
    expect(runs[1]).toContain(`; the sheet shows ${shown.valid} VALID, ${shown.invalid} INVALID (6 rows)`);
  });
});
