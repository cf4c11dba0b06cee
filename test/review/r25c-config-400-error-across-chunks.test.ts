/**
 * r25c review (commit d7f71df, chunks overlap; held ERRORs per Round): a 400 that every row
 * gets, the run judged misconfigured and stopped (exit 1), yet the ERROR of the first
 * chunk's row is written into the sheet.
 *
 * The defect: the Settler holds the ERROR cells of refused rows back until the RefusalJudge
 * decides (three distinct rows refused with the same 400 before any answer: the
 * configuration's fault, nothing written). Since d7f71df each chunk's held ERRORs travel in
 * its Round, and AnswerRun.ending() calls `settler.release(round)` when the chunk's requests
 * are done, while the judgement is still open: a chunk of one or two rows (the first chunk of
 * a streamed read is two rows at this size) releases its ERROR before the next chunk's
 * refusals make the judgement "config". The row then shows ERROR with a reason that is the
 * configuration's, and the next run's user sees a row failure where there was none.
 *
 * The invariant broken: DESIGN (issue 20, test/e2e/repeated-400.test.ts) "A 400 that repeats
 * for every row is a configuration problem, not a row's failure: the run stops early like a
 * bad key (exit 1, the provider's own message), and writes nothing into the sheet";
 * src/llm/refusal-judge.ts: "Until the first answer of any provider the rows' ERROR cells are
 * held back (the Settler), so that a stopped run writes nothing; a run that ends undecided
 * writes them" — the run, not a chunk. Invariant 5 too: a row ends ERROR for its own failure.
 *
 * Expected: exit 1 and no cell of the tab changed, whatever the chunk size (the ERRORs held
 * back are released only when the judgement says "rows" or the run ends undecided).
 * Measured on d7f71df: exit 1, summary verdicts.error 1, row 2 shows ERROR. The release at a
 * chunk's end predates d7f71df (this test fails at its parent 4e2d0f6 too); d7f71df kept it,
 * per round, where the overlap gave the chance to hold the ERRORs until the judgement.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readInChunksOf } from '../support/read-chunk-bytes.js';
import { col, FAST_SHEETS, HEADER, OUTPUT_HEADERS, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

/** The smallest chunk size allowed: the first chunk is one data row, the next ones about five. */
readInChunksOf(1000);

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** OpenAI's shape for a value it refuses without naming a field the bot could drop (as test/e2e/repeated-400.test.ts). */
const OPENAI_400 = { kind: 'status', status: 400, body: { error: { message: 'Invalid value for temperature.', type: 'invalid_request_error', param: null, code: null } } } as const;

describe('r25c: a 400 every row gets, over small chunks', () => {
  it('stops the run (exit 1) and writes nothing: no ERROR in the first chunk\'s rows either', async () => {
    const rows = sampleRows(12);
    bed = await startBed({ rows, header: [...HEADER, ...OUTPUT_HEADERS], config: { sheets: FAST_SHEETS, llm: { max_workers: 2, max_retries: 1 } }, llm: { latencyMs: 30 } });
    bed.llm.injectFault(OPENAI_400, { times: Infinity });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(1);
    const summary = JSON.parse(result.stdout) as { fatal?: { message: string }; verdicts: { error: number } };
    expect(summary.fatal?.message).toMatch(/the first 3 rows asked were all refused with this same answer/);
    // No row changed: neither ERROR nor a verdict (the output cells were empty before the run).
    const values = bed.values();
    const verdict = col(values, 'Validation');
    const shown = values.slice(1).map((r, i) => ({ row: i + 2, inputs: r.slice(0, HEADER.length), verdict: r[verdict] ?? '' }));
    expect(shown).toEqual(rows.map((r, i) => ({ row: i + 2, inputs: r, verdict: '' })));
    expect(summary.verdicts.error).toBe(0);
  }, 60_000);
});
