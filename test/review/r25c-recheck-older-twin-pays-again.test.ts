/**
 * r25c review (streamed reads; chunks overlap since d7f71df): with `--recheck-older-than`, a
 * question asked again because its verdict is old has a twin in the next chunk; the twin
 * keeps showing the old "Checked at", so the next run with the same age finds it old again
 * and pays for the same question a second time (one chunk: both rows get the new answer, the
 * next run asks nothing — this test passes with STATUS_VALIDATOR_READ_CHUNK_BYTES=100000000).
 *
 * The defects (two paths to the same wrong sheet):
 *  - Since d7f71df: ChunkSelector.select(chunk, answering=true) holds a row back (`later`)
 *    only when its key was asked this run and the store has no verdict for it; an old verdict
 *    is a verdict, so while the new answer is in flight the twin is not held back, and
 *    selectWork takes the known verdict under a key this run asked as this run's answer
 *    (askedThisRun): the OLD one is what the twin gets.
 *  - Before d7f71df too (this test also fails at its parent 4e2d0f6): once the new verdict is
 *    known, selectWork (src/pipeline/select.ts) counts the shared twin as up to date when the
 *    sheet shows the same verdict, issues, rewrite and model (`showsVerdict` ignores
 *    checked_at), so the stale row is not rewritten and keeps its old "Checked at".
 * Either way the next run finds the twin old, and the cache's verdict (minutes old) does not
 * answer that request (answersRequest: only a Batch API job's answer does): asked again.
 *
 * The invariant broken: invariant 9, "A question is never paid for twice"; README: "the
 * questions it asked (... so that a question met again further down is not paid twice, even
 * with --force)"; issue 25: a streamed read keeps every guarantee of the whole-tab read.
 *
 * Expected: both rows show today's verdict after the recheck run, and a second run with the
 * same --recheck-older-than asks nothing (as with one chunk).
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { readInChunksOf } from '../support/read-chunk-bytes.js';
import { col, FAST_SHEETS, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { SLOW, slowResponder, slowTwinRows, TWIN } from '../support/slow-twin.js';

/** About 15 sample rows a chunk: index 12 and index 20 fall in consecutive chunks. */
readInChunksOf(3000);

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const LONG_AGO = '2020-01-01T00:00:00.000Z';

describe('r25c: --recheck-older-than, an old question and its twin in the next chunk', () => {
  it('gives both rows the new answer, and the next run asks nothing', async () => {
    const { rows, slowComment } = slowTwinRows();
    const b = await startBed({
      rows,
      header: [...HEADER, ...OUTPUT_HEADERS],
      config: { sheets: FAST_SHEETS, llm: { max_workers: 3 } },
      llm: {
        latencyMs: 10,
        // The question is slow: the next chunk is selected while it is in flight.
        respond: slowResponder(slowComment),
      },
    });
    bed = b;
    expect((await b.run()).code).toBe(0);
    // The verdict of that question was given long ago: in the cache and in both rows' "Checked at" cells.
    const db = new Database(path.join(b.dir, 'cache.sqlite'));
    db.prepare('UPDATE verdicts SET checked_at = ?').run(LONG_AGO);
    db.close();
    const checkedAt = col(b.values(), 'Checked at');
    // setCell takes 1-based rows and columns.
    b.sheets.setCell(SPREADSHEET_ID, TAB, SLOW + 2, checkedAt + 1, LONG_AGO);
    b.sheets.setCell(SPREADSHEET_ID, TAB, TWIN + 2, checkedAt + 1, LONG_AGO);

    b.llm.reset();
    const recheck = await b.run('--json', '--recheck-older-than', '7d');
    expect(recheck.code, recheck.stderr).toBe(0);
    // One question for both rows (the twin waits for it).
    expect(b.llm.callCount()).toBe(1);
    const values = b.values();
    expect.soft({ original: values[SLOW + 1]?.[checkedAt] === LONG_AGO, twin: values[TWIN + 1]?.[checkedAt] === LONG_AGO }, 'rows still showing the old verdict').toEqual({ original: false, twin: false });

    // The same request again, minutes later: nothing is old any more, nothing is paid for.
    b.llm.reset();
    const again = await b.run('--json', '--recheck-older-than', '7d');
    expect(again.code, again.stderr).toBe(0);
    expect(b.llm.callCount(), 'the question answered minutes ago paid for again').toBe(0);
  }, 60_000);
});
