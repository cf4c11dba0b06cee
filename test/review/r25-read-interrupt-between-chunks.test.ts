/**
 * r25 review (issue 25, streamed reads): Ctrl-C (SIGINT) while a streamed run is between
 * chunks.
 *
 * Defect: the rows of the chunks not yet read when the run stops are counted nowhere. The
 * run's summary (--json, the runs table, the Runs tab) says `rows.deferred` = "Rows left
 * for a later run by --limit or an interruption" (src/pipeline/summary.ts), and on a
 * whole-tab read an interrupted run of 40 rows reports read 40, deferred 40 - answered
 * (asserted by test/e2e/crash.test.ts "interrupt (SIGINT / SIGTERM)"). With chunked reads
 * execute() just `break`s out of the chunk loop (src/pipeline/run.ts), so `rows.read` and
 * `rows.deferred` only cover the chunks read: the summary tells the user (and the Runs tab,
 * the dashboard) that almost nothing is left for the next run while most of the tab was
 * never looked at. Same run, same moment of the signal, different counts depending only
 * on the chunk size: issue 25 promised every guarantee of the whole-tab read across chunks.
 *
 * Sources relied on: test/e2e/crash.test.ts (the same scenario with one chunk), the
 * RunSummary doc comments in src/pipeline/summary.ts, src/pipeline/run.ts execute.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { runRows, spawnRun, waitForChild, type Child } from '../support/inspect.js';
import type { RecordedRequest } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

const FAST_SHEETS = { read_quota_per_minute: 6000, write_quota_per_minute: 6000 };
const delivered = (r: RecordedRequest) => r.status === 200 && r.endedAt !== undefined && typeof r.content === 'string';

let bed: Bed | undefined;
let child: Child | undefined;
afterEach(async () => {
  if (child && child.process.exitCode === null) {
    child.process.kill('SIGKILL');
    await child.exited;
  }
  child = undefined;
  await bed?.close();
  bed = undefined;
});

describe('r25: SIGINT between chunks', () => {
  it('counts every row it did not get to as left for the next run, as a whole-tab read does', async () => {
    const rows = sampleRows(40);
    bed = await startBed({ rows, llm: { latencyMs: 300 }, config: { llm: { max_workers: 4 }, sheets: FAST_SHEETS } });
    // About 15 sample rows a chunk; the first chunk is 2 rows at this target.
    bed.env['STATUS_VALIDATOR_READ_CHUNK_BYTES'] = '3000';
    const b = bed;
    const cacheFile = String((b.config.cache as { path: string }).path);
    child = spawnRun(b);
    const c = child;
    await waitForChild(c, 'a few answers in', () => b.llm.requests.filter(delivered).length >= 6, 30_000);
    c.process.kill('SIGINT');
    const exit = await c.exited;
    expect(exit.code, c.stderr()).toBe(130);
    const answered = b.llm.requests.filter(delivered).length;
    expect(answered).toBeLessThan(40);
    const runs = runRows(cacheFile);
    expect(runs[0]).toMatchObject({ status: 'interrupted' });
    const summary = JSON.parse(runs[0]?.summary ?? '{}') as { rows: { read: number; deferred: number } };
    // The tab has 40 rows; those not answered are left for the next run, and the summary says so
    // (rows.deferred, as crash.test.ts asserts of a one-chunk run). Measured on this branch:
    // read 8, deferred 0 — 32 rows never mentioned.
    expect({ deferred: summary.rows.deferred, readPlusNotRead: summary.rows.read }).toMatchObject({ deferred: 40 - answered });
  }, 60_000);
});
