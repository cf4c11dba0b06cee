// Issue 18, "also seen": two targets (or two configs) sharing one results tab overwrote each other's lines.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { HEADER, SPREADSHEET_ID, TAB, deepMerge, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const review = (b: Bed) => b.sheets.values(SPREADSHEET_ID, 'Review');

/**
 * Two configs (a config refuses two of its own targets on one results tab) over two tabs
 * of one spreadsheet, both writing to the "Review" tab.
 */
async function shared(teamB: string[][]) {
  // The results tab exists already (two configs creating it at once is another matter).
  const results = [['Project', 'Source row', 'Validation', 'Issues', 'Suggested rewrite', 'Checked at', 'Model']];
  bed = await startBed({ rows: sampleRows(3), moreTabs: [{ title: 'Team B', rows: [HEADER, ...teamB] }, { title: 'Review', rows: results }], config: { output: { sheet: 'Review', write_batch_size: 1 } }, llm: { latencyMs: 50 }, sheets: { latencyMs: 40 } });
  const other = path.join(bed.dir, 'team-b.yaml');
  writeFileSync(other, stringify(deepMerge(bed.config, { sheets: { sheet: 'Team B' }, cache: { path: path.join(bed.dir, 'team-b.sqlite') } })));
  const b = bed;
  return { b, runBoth: () => Promise.all([b.run(), b.cli(['run', '--config', other])]) };
}

/** The data rows (gid and row) the results tab's lines link to, sorted. */
function linked(b: Bed): string[] {
  return review(b)
    .slice(1)
    .map((line) => /#gid=(\d+)&range=(\d+):/.exec(line[1] ?? '')?.slice(1, 3).join(':') ?? `no link: ${JSON.stringify(line)}`)
    .sort();
}

describe('two configs sharing one results tab', () => {
  it('the same ids in both data tabs: each data row keeps its own line, and a second run writes nothing', async () => {
    const { b, runBoth } = await shared(sampleRows(6).slice(3).map((r, i) => [`PRJ-000${i + 1}`, ...r.slice(1)]));
    expect((await runBoth()).map((r) => r.code)).toEqual([0, 0]);
    const [ga, gb] = [b.sheets.sheetId(SPREADSHEET_ID, TAB), b.sheets.sheetId(SPREADSHEET_ID, 'Team B')];
    expect(linked(b)).toEqual([`${ga}:2`, `${ga}:3`, `${ga}:4`, `${gb}:2`, `${gb}:3`, `${gb}:4`].sort());
    // Each line shows its own row's verdict: the rewrite quotes that row's comment.
    for (const [tab, gid] of [[TAB, ga], ['Team B', gb]] as const) {
      const rows = b.sheets.values(SPREADSHEET_ID, tab).slice(1);
      rows.forEach((row, i) => {
        const line = review(b).find((l) => (l[1] ?? '').includes(`#gid=${gid}&range=${i + 2}:`));
        expect(line?.[4]).toBe(`Rewrite: ${row[2] ?? ''}`);
      });
    }
    const writes = b.sheets.writeCount();
    expect((await runBoth()).map((r) => r.code)).toEqual([0, 0]);
    expect(b.sheets.writeCount(), 'the configs overwrote each other: a second run wrote again').toBe(writes);
  });

  it('new lines of both configs, written at the same time, all land on lines of their own', async () => {
    const { b, runBoth } = await shared(sampleRows(6).slice(3));
    // The first check-read of the results tab before a write answers late (past the
    // process's one-read-a-second pacing, so the other config's read goes meanwhile): the other
    // config writes its new lines meanwhile, onto the rows that read found free.
    let held = false;
    b.sheets.onResponse(async (call) => {
      if (held || call.op !== 'values.batchGet' || !(call.ranges ?? []).some((r) => r.includes('Review'))) return;
      held = true;
      await new Promise((resolve) => setTimeout(resolve, 2500));
    });
    expect((await runBoth()).map((r) => r.code)).toEqual([0, 0]);
    expect(held).toBe(true);
    expect(review(b).slice(1).map((l) => l[0]).sort()).toEqual(sampleRows(6).map((r) => r[0]));
  });
});
