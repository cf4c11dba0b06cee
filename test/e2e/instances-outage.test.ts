/**
 * Issue 21 item 4: the PostgreSQL server stopped mid-run for longer than the commit bound
 * (30 s). The run stops asking, exits 1 naming host and port, and has written to the sheet
 * what was committed and nothing else (invariant 2); no row is marked ERROR for the outage.
 * With the server back, the next run pays only for the rows nothing was committed for.
 */
import { describe, expect, it } from 'vitest';
import { commentOf, expectedCells, waitFor } from '../support/inspect.js';
import { committedComments, delivered, FAST_SHEETS, instancesAfterEach, isChat } from '../support/instances.js';
import type { ChatRequest } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

const instances = instancesAfterEach();

const WORKERS = 3;

describe('the database gone for longer than the bound, mid-run', () => {
  it('the run stops with exit 1 naming host and port, having written exactly what was committed; the next run pays only for the rest', { timeout: 150_000 }, async () => {
    const rows = sampleRows(80);
    const made = await instances.postgresBed({ rows, llm: { latencyMs: 200 }, config: { llm: { max_workers: WORKERS }, sheets: FAST_SHEETS } });
    const b = made.bed;
    const { cluster, database } = made;
    const run = instances.spawn(['run', '--config', b.configPath, '--json'], { env: b.env, host: 'host-a' });
    await waitFor('a quarter of the answers', () => b.llm.requests.filter(delivered).length >= 20, 60_000);
    cluster.stop('fast');
    const stoppedAt = Date.now();
    const exit = await run.exited;
    const seconds = (Date.now() - stoppedAt) / 1000;
    expect(exit.code, run.stderr()).toBe(1);
    // The bound (30 s) and the way out (the writes, the run's end tried once): not minutes.
    expect(seconds).toBeLessThan(60);
    const where = `127.0.0.1:${cluster.port}/${database}`;
    expect(run.stderr()).toContain(`The PostgreSQL cache at ${where} stayed unreachable for`);
    expect(run.stderr()).toMatch(/the run stops/);
    const summary = JSON.parse(run.stdout()) as { status: string; fatal?: { message: string; hint?: string }; verdicts: { error: number } };
    expect(summary.status).toBe('failed');
    expect(summary.fatal?.message).toContain(where);
    expect(summary.fatal?.hint).toMatch(/every verdict committed so far is kept/);
    // Not one row marked ERROR for the outage: the rows not committed wait for the next run.
    expect(summary.verdicts.error).toBe(0);
    for (const text of [run.stdout(), run.stderr(), JSON.stringify(b.values())]) expect(text).not.toContain(cluster.password);
    // No question asked once the database was known gone (past the bound), beyond those in flight then.
    const askedAfter = b.llm.requests.filter((r) => isChat(r) && r.startedAt > stoppedAt + 1_000).length;
    expect(askedAfter).toBeLessThanOrEqual(WORKERS);

    cluster.start();
    const committed = await committedComments(cluster, database);
    const values = b.values();
    const [verdictCol, suggestionCol] = ['Validation', 'Suggested rewrite'].map((h) => values[0]?.indexOf(h) ?? -1);
    const shown = values.slice(1).filter((r) => (r[suggestionCol ?? -1] ?? '') !== '').map((r) => String(r[2] ?? '').trim());
    expect(values.slice(1).filter((r) => r[verdictCol ?? -1] === 'ERROR')).toEqual([]);
    // Invariant 2: every verdict in the sheet is in the database.
    expect(shown.filter((c) => !committed.has(c))).toEqual([]);
    // And what was committed is in the sheet, but for a commit the server made as it shut down
    // whose acknowledgement never came back (at most one per worker): that run never knew it.
    expect(committed.size - shown.length).toBeLessThanOrEqual(WORKERS);
    expect(committed.size).toBeGreaterThanOrEqual(20 - WORKERS);

    // The server back: the next run asks only for the rows nothing was committed for.
    const before = b.llm.requests.filter(isChat).length;
    const next = instances.spawn(['run', '--config', b.configPath, '--json'], { env: b.env, host: 'host-b' });
    expect((await next.exited).code, next.stderr()).toBe(0);
    const askedNext = b.llm.requests.filter(isChat).slice(before).map((r) => commentOf(r.body as ChatRequest));
    expect(askedNext.filter((c) => committed.has(c))).toEqual([]);
    // Invariant 9: nor for an answer the stopped run was paid for but could not commit (in
    // flight when the server went): kept in its journal, committed by this run before it asks.
    const paidFirst = new Set(b.llm.requests.filter(isChat).slice(0, before).filter(delivered).map((r) => commentOf(r.body as ChatRequest)));
    expect(askedNext.filter((c) => paidFirst.has(c))).toEqual([]);
    expect(askedNext.length).toBe(rows.length - paidFirst.size);
    const final = b.values();
    rows.forEach((row, i) => expect(final[i + 1]?.[verdictCol ?? -1], `row ${i + 2}`).toBe(expectedCells(row).verdict));
  });
});
