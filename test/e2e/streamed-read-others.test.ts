/**
 * Issue 25 beyond `run`: serve's plan of a request, `estimate` (the survey batch submit
 * shares) and `eval` read the data tab in chunks too, so a tab that one values.get cannot
 * read within Google's processing deadline ("returns a timeout error" past 180 s,
 * https://developers.google.com/sheets/api/limits; the emulator's deadlineMs) works for
 * them as for `run` (test/e2e/streamed-read.test.ts). watch: test/review/r25-read-watch-whole-tab-poll.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_SHEETS, HEADER, OUTPUT_HEADERS, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { SERVE_TOKEN, startServe } from '../support/serve.js';

let bed: Bed | undefined;
let stopServer: (() => Promise<unknown>) | undefined;
afterEach(async () => {
  await stopServer?.();
  await bed?.close();
  bed = undefined;
  stopServer = undefined;
});

/** As streamed-read.test.ts: 20,000 cells a second, a 250 ms deadline; the whole tab (1500 rows) takes ~300 ms to process. */
async function pastTheDeadline(extra: Record<string, unknown> = {}): Promise<Bed> {
  return startBed({ rows: sampleRows(1500), header: [...HEADER, ...OUTPUT_HEADERS, 'Reviewer verdict'], sheets: { readCellsPerSecond: 20_000, deadlineMs: 250, recordBodies: false }, config: { sheets: FAST_SHEETS, llm: { max_workers: 10 }, ...extra } });
}

describe('issue 25: every reader of the data tab reads it in chunks', () => {
  it("serve plans and runs a request on a tab that one read cannot read within the deadline", async () => {
    bed = await pastTheDeadline({ serve: { max_rows: 5000, max_cost_usd: 1000, runs_per_hour: 100 } });
    const served = await startServe(bed);
    stopServer = served.close;
    const started = await served.call('POST', '/runs', SERVE_TOKEN, {});
    expect(started.status, JSON.stringify(started.json) + served.log()).toBe(202);
    await bed.llm.waitForCalls(1500, 120_000);
    await served.idle();
    expect({ llmCalls: bed.llm.callCount(), deadlines: bed.sheets.calls.filter((c) => c.status === 504).length }).toEqual({ llmCalls: 1500, deadlines: 0 });
  }, 180_000);

  it('estimate and eval read such a tab without a 504', async () => {
    bed = await pastTheDeadline({ review: { override_column: 'Reviewer verdict' } });
    const estimate = await bed.cli(['estimate', '--config', bed.configPath]);
    expect(estimate.code, estimate.stderr).toBe(0);
    const evaluated = await bed.cli(['eval', '--config', bed.configPath]);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(bed.sheets.calls.filter((c) => c.status === 504).length).toBe(0);
    expect(bed.sheets.calls.filter((c) => c.op === 'values.get').length).toBeGreaterThan(2);
  }, 120_000);
});
