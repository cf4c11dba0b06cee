/**
 * r25 review (issue 25, streamed reads): the same sheet, run once with one chunk (a huge
 * STATUS_VALIDATOR_READ_CHUNK_BYTES) and once in many small chunks, must report the same
 * run: the summary (--json, the runs table, the Runs tab, the dashboard built from it) is
 * what the user and the dashboard see, and issue 25 promised streamed reads with "every
 * guarantee of the whole-tab read".
 *
 * The sheet: 60 rows, three rows asking exactly what an earlier row asks (a twin in the
 * same chunk, two twins chunks later), a row with neither status nor comment, on a cold run.
 * The verdicts written must be the same and so must the counts, field by field.
 *
 * Defect found (see the failure): a twin of an earlier row in a later chunk is counted as
 * "fromCache" (answered from the cache) instead of "deduplicated" (shared a question with
 * an identical row), although its answer was paid for by this very run; summaries of the
 * same sheet then differ with the chunk size only, and "fromCache" claims a saving no
 * cache made. Measured: one chunk gives asked 59, deduplicated 3, fromCache 0, verdicts
 * valid 38 / invalid 21; small chunks give asked 57, deduplicated 1, fromCache 2, verdicts
 * valid 37 / invalid 20 — the two late twins vanish from the verdict counts (the Runs tab's
 * and the dashboard's VALID/INVALID figures) although both rows got a verdict written.
 * Same LLM calls (56), same cells written: only the report is wrong.
 *
 * Sources relied on: RunSummary's doc comments (src/pipeline/summary.ts: fromCache "Rows
 * answered from the cache", asked "Rows that needed a new answer", deduplicated "Of those,
 * rows that shared a question with an identical row"), src/pipeline/chunk-select.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_SHEETS, HEADER, OUTPUT_HEADERS, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
let saved: string | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
  if (saved === undefined) delete process.env['STATUS_VALIDATOR_READ_CHUNK_BYTES'];
  else process.env['STATUS_VALIDATOR_READ_CHUNK_BYTES'] = saved;
});

function sheetRows(): string[][] {
  const rows = sampleRows(60);
  const twin = (from: number, to: number, id: string) => {
    rows[to] = [...(rows[from] ?? [])];
    rows[to][0] = id;
  };
  twin(0, 1, 'PRJ-TWIN-A'); // same chunk as its original
  twin(2, 45, 'PRJ-TWIN-B'); // chunks later
  twin(3, 58, 'PRJ-TWIN-C'); // chunks later
  rows[30] = ['PRJ-EMPTY', '', '', '2026-12-01'];
  return rows;
}

interface Summary {
  rows: Record<string, number>;
  verdicts: Record<string, number>;
  llm: { questions: number; calls: number };
  sheetShows: Record<string, number> | null;
  writes: { rowsWritten: number; skipped: unknown[] };
}

async function runWith(chunkBytes: string): Promise<{ summary: Summary; calls: number; values: string[][] }> {
  process.env['STATUS_VALIDATOR_READ_CHUNK_BYTES'] = chunkBytes;
  bed = await startBed({ rows: sheetRows(), header: [...HEADER, ...OUTPUT_HEADERS], config: { sheets: FAST_SHEETS, llm: { max_workers: 3 } } });
  const result = await bed.run('--json');
  expect(result.code, result.stderr).toBe(0);
  const out = { summary: JSON.parse(result.stdout) as Summary, calls: bed.llm.callCount(), values: bed.values().map((r) => r.slice(0, 5)) };
  await bed.close();
  bed = undefined;
  return out;
}

describe('r25: one chunk or many, the same run', () => {
  it('reports the same counts and writes the same verdicts whatever the chunk size', async () => {
    saved = process.env['STATUS_VALIDATOR_READ_CHUNK_BYTES'];
    const whole = await runWith('100000000');
    const chunked = await runWith('3000');
    expect(chunked.values).toEqual(whole.values);
    expect(chunked.calls).toBe(whole.calls);
    const pick = (s: Summary) => ({ rows: s.rows, verdicts: s.verdicts, questions: s.llm.questions, calls: s.llm.calls, sheetShows: s.sheetShows, rowsWritten: s.writes.rowsWritten, skipped: s.writes.skipped });
    expect(pick(chunked.summary)).toEqual(pick(whole.summary));
  }, 120_000);
});
