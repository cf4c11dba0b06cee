/**
 * r25c review (commit d7f71df, chunks overlap): with cache.semantic on, when the previous
 * chunk's last answers doom the run (here OpenAI's 429 insufficient_quota), the next chunk's
 * rows — already selected — are reported as asked although none was asked, and not as
 * deferred although every one is left for the next run.
 *
 * The defect: AnswerRun.answer() (src/pipeline/answer-all.ts) with a semantic cache waits for
 * the previous chunk's end before its semantic pass, and returns that chunk's failure at
 * once: `if (failure) return failure;`, before the chunk's requests are handed to the
 * workers. Without the semantic cache those requests go to the pool, where the doomed
 * Answering defers each one (rows.deferred += , rows.asked -= ). Here they never reach it:
 * ChunkSelector had counted them as asked (the 'selected' event), and nothing takes them
 * back. Measured on d7f71df, 60 rows, the quota exhausted on the last row of the third
 * chunk: asked 37, deferred 1, verdicts 19 — 18 rows "asked" that no model saw; the same run
 * without cache.semantic says asked 19, deferred 19.
 *
 * The contract broken: the summary JSON (DESIGN Contracts; src/pipeline/summary.ts: asked
 * "Rows that needed a new answer" — each gets a verdict or an ERROR in a run that ends —,
 * deferred "Rows left for a later run ... an interruption"), read by the runs table, the Runs
 * tab, the dashboard and the notifications; a flag (cache.semantic) must not change the
 * counts of a run it took no part in.
 *
 * Expected: the same rows counts with and without cache.semantic: asked equals the rows
 * given a verdict or an ERROR, the rest of the rows read deferred.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readInChunksOf } from '../support/read-chunk-bytes.js';
import { FAST_SHEETS, HEADER, OUTPUT_HEADERS, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

/** Chunks of rows 2-3, 3-9, 9-21, 21-39, ... at this size (the reads overlap by one row). */
readInChunksOf(3000);

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

interface Summary {
  rows: { read: number; asked: number; deferred: number };
  verdicts: { valid: number; invalid: number; error: number; needsReview: number };
}

async function doomedRun(semantic: boolean): Promise<Summary> {
  const rows = sampleRows(60);
  // Slow enough answers that the fourth chunk is selected while the third chunk's last ones are in flight.
  bed = await startBed({
    rows,
    header: [...HEADER, ...OUTPUT_HEADERS],
    config: { sheets: FAST_SHEETS, llm: { max_workers: 3 }, ...(semantic ? { cache: { semantic: true, semantic_threshold: 0.99 } } : {}) },
    llm: { latencyMs: 150 },
  });
  // The account runs out of quota on the third chunk's last row (the tab's row 21).
  const quotaComment = rows[19]?.[2] ?? '';
  bed.llm.injectFault({ kind: 'insufficient_quota' }, { times: Infinity, match: (row) => row?.comment === quotaComment });
  const result = await bed.run('--json');
  expect(result.code, result.stderr).toBe(1);
  const summary = JSON.parse(result.stdout) as Summary;
  await bed.close();
  bed = undefined;
  return summary;
}

describe('r25c: a doomed run with cache.semantic, the next chunk already selected', () => {
  it('counts the next chunk\'s rows as deferred, not asked', async () => {
    const semantic = await doomedRun(true);
    const given = semantic.verdicts.valid + semantic.verdicts.invalid + semantic.verdicts.error + semantic.verdicts.needsReview;
    expect({ asked: semantic.rows.asked, deferred: semantic.rows.deferred }).toEqual({ asked: given, deferred: semantic.rows.read - given });
    const plain = await doomedRun(false);
    expect({ read: semantic.rows.read, asked: semantic.rows.asked, deferred: semantic.rows.deferred }).toEqual({ read: plain.rows.read, asked: plain.rows.asked, deferred: plain.rows.deferred });
  }, 60_000);
});
