/**
 * r25 review (issue 25, streamed reads): `watch` (and serve's planner) still read the whole
 * tab in ONE values.get per poll (src/commands/watch.ts readPoll:
 * `sheets.read(quoteSheetName(config.sheets.sheet))`; src/server/plan.ts the same), and hand
 * it to the run as `preread`, which openStreamed turns into a single chunk.
 *
 * Defect: the tab that `run` now reads fine in chunks is one that `watch` can never read:
 * Google "returns a timeout error" for a request it processes for more than 180 seconds
 * (https://developers.google.com/sheets/api/limits), which the emulator models (read
 * processing rate + deadline, 504 DEADLINE_EXCEEDED; test/e2e/streamed-read.test.ts "the
 * processing deadline" shows `run` passing on this very setup). So on the largest sheets
 * issue 25 set out to support, every watch poll fails and no row is ever validated, and
 * the whole tab is held in memory once per poll (issue 25: "Peak memory flat in the
 * sheet's size"). README "Large sheets" does not exclude watch or serve.
 *
 * Measured: poll 1 "skipped: Sheets failed to read 'Statuses' ... (after 6 retries) (504 ...)",
 * 7 reads answered 504, 0 rows asked, exit 0. On Google each of those retries is a
 * 180 s request: about 21 minutes per poll lost to reads that cannot succeed.
 *
 * Sources relied on: src/commands/watch.ts readPoll, src/sheets/open.ts openStreamed (a
 * preread is one chunk), the emulator's deadline (test/support/sheets-emulator).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_SHEETS, HEADER, OUTPUT_HEADERS, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { virtualClock } from '../support/virtual-clock.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe('r25: watch on a tab too big for one read', () => {
  it('validates every row of a tab that `run` reads in chunks within the processing deadline', async () => {
    const rows = sampleRows(1500);
    // As streamed-read.test.ts: 20,000 cells a second, a 250 ms deadline; the whole tab takes ~300 ms to process.
    bed = await startBed({ rows, header: [...HEADER, ...OUTPUT_HEADERS], sheets: { readCellsPerSecond: 20_000, deadlineMs: 250, recordBodies: false }, config: { sheets: FAST_SHEETS, llm: { max_workers: 10 } } });
    const clock = virtualClock('2026-11-21T09:00:00Z');
    let log = '';
    const result = await bed.cli(['watch', '--config', bed.configPath, '--every', '60s', '--polls', '1'], { clock, stderr: { write: (s: string) => (log += s) } });
    const deadlines = bed.sheets.calls.filter((c) => c.status === 504).length;
    expect({ code: result.code, llmCalls: bed.llm.callCount(), deadlines }, log.slice(-2000)).toEqual({ code: 0, llmCalls: 1500, deadlines: 0 });
  }, 180_000);
});
