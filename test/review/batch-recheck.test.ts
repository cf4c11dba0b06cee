/**
 * Review, item (a) crossed with --mode batch (invariant 9; issue 18 item 1: "a question
 * asked again must be asked again, once"). A row chosen to be asked again (a ticked
 * Recheck box) is sent in a Batch API job by `run --mode batch`; the job's answer is saved
 * to the cache, but the write that follows (writeFromCache: a run with --limit 0) selects
 * the ticked row AGAIN as a question to ask, defers it under the limit of 0, and so never
 * writes the fresh verdict nor unticks the box. The row keeps the old verdict, the box
 * stays ticked, and the next run pays for the same question a second time.
 */
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { defaultVerdict } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';
import { cachedVerdicts } from '../support/inspect.js';
import { finishingClock } from '../support/virtual-clock.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

it('run --mode batch over a ticked Recheck box: the batch answer is written, the box unticked, and nothing is paid for again', async () => {
  bed = await startBed({ rows: sampleRows(4), config: { review: { recheck_column: 'Recheck' } } });
  const b = bed;
  expect((await b.run()).code).toBe(0);
  expect(b.llm.callCount()).toBe(4);
  const box = col(b.values(), 'Recheck') + 1;
  b.sheets.setCell(SPREADSHEET_ID, TAB, 3, box, true);
  b.llm.setRespond((row, req) => ({ ...defaultVerdict(row, req), issues: ['second look'] }));

  const batch = await b.cli(['run', '--config', b.configPath, '--mode', 'batch', '--every', '1s'], { clock: finishingClock(b) });
  expect(batch.code, batch.stdout + batch.stderr).toBe(0);
  expect(b.llm.batchLineCount()).toBe(1);
  const values = b.values();
  // The batch's answer is in the cache (saved by batch results)...
  expect(cachedVerdicts(path.join(b.dir, 'cache.sqlite')).some((v) => v.issues.includes('second look'))).toBe(true);
  // ...and must be on the row.
  expect(values[2]?.[col(values, 'Issues')]).toBe('second look');
  expect(b.sheets.getCell(SPREADSHEET_ID, TAB, 3, box)).toMatchObject({ value: false });

  // The question was answered by the batch: a run afterwards asks nothing.
  expect((await b.run()).code).toBe(0);
  expect(b.llm.callCount()).toBe(4);
});

it.each([
  ['--recheck-older-than 7d', { config: {}, flags: ['--recheck-older-than', '7d'] }],
  ['review.recheck_older_than: 7d', { config: { review: { recheck_older_than: '7d' } }, flags: [] as string[] }],
] as const)('run --mode batch over a verdict older than %s: the batch answer is written with its time, and nothing is paid for again', async (_what, { config, flags }) => {
  bed = await startBed({ rows: sampleRows(4), config });
  const b = bed;
  expect((await b.run()).code).toBe(0);
  expect(b.llm.callCount()).toBe(4);
  const checked = col(b.values(), 'Checked at') + 1;
  b.sheets.setCell(SPREADSHEET_ID, TAB, 3, checked, '2020-01-01T00:00:00.000Z');
  b.llm.setRespond((row, req) => ({ ...defaultVerdict(row, req), issues: ['second look'] }));

  const batch = await b.cli(['run', '--config', b.configPath, '--mode', 'batch', '--every', '1s', ...flags], { clock: finishingClock(b) });
  expect(batch.code, batch.stdout + batch.stderr).toBe(0);
  expect(b.llm.batchLineCount()).toBe(1);
  const values = b.values();
  expect(values[2]?.[col(values, 'Issues')]).toBe('second look');
  expect(Date.parse(values[2]?.[col(values, 'Checked at')] ?? '')).toBeGreaterThan(Date.parse('2026-01-01'));
  // The other rows were not old: untouched, not asked.
  expect(values.slice(1).filter((r) => r[col(values, 'Issues')] === 'second look')).toHaveLength(1);

  expect((await b.run(...flags)).code).toBe(0);
  expect(b.llm.callCount()).toBe(4);
  expect(b.llm.batchLineCount()).toBe(1);
});
