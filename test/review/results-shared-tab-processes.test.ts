// Review of issue 18 "also seen" (b): "two configs sharing one results tab overwrite each
// other's lines". The fix makes the writers to one results tab take turns (an async-mutex)
// within ONE process; two configs are as often two processes (two cron lines, `run` next
// to `serve`, two hosts): each holds the lock of its own data tab only, reads the results
// tab, finds the same free rows and writes its new lines there, the second over the first.
// A data row's line is lost (invariant 1: the bot changed a cell that was not the row's own).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { HEADER, SPREADSHEET_ID, TAB, deepMerge, startBed, type Bed } from '../support/bed.js';
import { spawnRun } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

it('two configs in two processes, writing new lines to one results tab at the same time: every data row keeps a line of its own', async () => {
  const results = [['Project', 'Source row', 'Validation', 'Issues', 'Suggested rewrite', 'Checked at', 'Model']];
  bed = await startBed({ rows: sampleRows(3), moreTabs: [{ title: 'Team B', rows: [HEADER, ...sampleRows(6).slice(3)] }, { title: 'Review', rows: results }], config: { output: { sheet: 'Review', write_batch_size: 1 } }, llm: { latencyMs: 50 } });
  const b = bed;
  const other = path.join(b.dir, 'team-b.yaml');
  writeFileSync(other, stringify(deepMerge(b.config, { sheets: { sheet: 'Team B' }, cache: { path: path.join(b.dir, 'team-b.sqlite') } })));
  // The first check-read of the results tab before a write answers late: the other
  // process writes its new lines meanwhile, onto the rows that read found free.
  let held = false;
  b.sheets.onResponse(async (call) => {
    if (held || call.op !== 'values.batchGet' || !(call.ranges ?? []).some((r) => r.includes('Review'))) return;
    held = true;
    await new Promise((resolve) => setTimeout(resolve, 8000));
  });
  const child = spawnRun(b); // Statuses, in a process of its own
  const here = await b.cli(['run', '--config', other]); // Team B, in this one
  const exit = await child.exited;
  expect([exit.code, here.code], child.stderr() + here.stderr).toEqual([0, 0]);
  expect(held).toBe(true);
  const review = b.sheets.values(SPREADSHEET_ID, 'Review');
  expect(review.slice(1).map((l) => l[0]).sort()).toEqual(sampleRows(6).map((r) => r[0]));
  expect(b.sheets.values(SPREADSHEET_ID, TAB)).toHaveLength(4);
}, 60_000);

it('a new line whose append was applied but whose answer was lost is not added twice by the retry', async () => {
  const results = [['Project', 'Source row', 'Validation', 'Issues', 'Suggested rewrite', 'Checked at', 'Model']];
  bed = await startBed({ rows: sampleRows(3), moreTabs: [{ title: 'Review', rows: results }], config: { output: { sheet: 'Review', write_batch_size: 10 } } });
  const b = bed;
  // Served (the lines are in the tab), then answered 503: the bot cannot tell it went through.
  b.sheets.injectFault({ status: 503, afterServe: true }, { match: (call) => call.op === 'values.append' && (call.range ?? '').includes('Review') });
  const result = await b.run('--json');
  expect(result.code, result.stderr).toBe(0);
  expect(b.sheets.pendingFaults()).toBe(0);
  const lines = b.sheets.values(SPREADSHEET_ID, 'Review').slice(1);
  expect(lines.map((l) => l[0]).sort()).toEqual(sampleRows(3).map((r) => r[0]));
  expect(lines.every((l) => /^(VALID|INVALID)$/.test(l[2] ?? ''))).toBe(true);
  // And a second run finds every line: nothing to write.
  const again = JSON.parse((await b.run('--json')).stdout) as { writes: { rowsWritten: number } };
  expect(again.writes.rowsWritten).toBe(0);
});
