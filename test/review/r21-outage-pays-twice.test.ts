/**
 * Review of issue 21 item 4 and the README ("Faults": "past that the run stops with exit 1,
 * naming the server's host:port, having written what was committed, and the next run pays
 * for nothing twice"), invariant 9 ("A question is never paid for twice: not after a crash").
 * The database goes away mid-run for good (past the 30 s patience). The answers to the
 * requests in flight at that moment arrive, are paid for, cannot be committed, and are
 * dropped when the run stops; its summary counts them nowhere but in `llm.calls` and the
 * cost (rows.asked counts only the committed ones, the others are "deferred"). The next run
 * asks those questions again: each is paid twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Bed } from '../support/bed.js';
import { postgresBed } from '../support/instances.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

interface Summary {
  rows: { asked: number; deferred: number };
  llm: { calls: number; retries: number };
}

describe('the database gone mid-run, past the patience', () => {
  it('the stopped run and the next one together pay each question once', { timeout: 180_000 }, async () => {
    const rows = sampleRows(30);
    const made = await postgresBed({ rows, llm: { latencyMs: 200 }, config: { llm: { max_workers: 3 }, output: { write_batch_size: 5 } } });
    bed = made.bed;
    const b = bed;
    const running = b.run('--json');
    await b.llm.waitForCalls(8, 20_000);
    made.cluster.stop('immediate');
    const stopped = await running;
    made.cluster.start();
    expect(stopped.code, stopped.stderr).toBe(1);
    expect(stopped.stderr).toContain(`127.0.0.1:${made.cluster.port}`);
    const first = JSON.parse(stopped.stdout) as Summary;
    const paidFirst = b.llm.callCount();
    // What the summary says it asked is what it paid for (no retries here).
    expect(first.llm.retries).toBe(0);
    const next = await b.run('--json');
    expect(next.code, next.stderr).toBe(0);
    const paidNext = b.llm.callCount() - paidFirst;
    expect(paidFirst + paidNext, `first run paid ${paidFirst} calls and said it asked ${first.rows.asked}; the next paid ${paidNext}`).toBe(rows.length);
  });
});
