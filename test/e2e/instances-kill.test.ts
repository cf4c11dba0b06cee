/**
 * Issue 21 item 7: the holder of a tab's lock is SIGKILLed mid-run on one host; an instance on
 * another host takes the tab over. Its session-level advisory lock ends with its connection,
 * so the next instance works within seconds (the seconds are printed: the goal is 5), and
 * nothing the first one answered is asked again.
 */
import { describe, expect, it } from 'vitest';
import { commentOf, expectedCells, waitFor } from '../support/inspect.js';
import { committedComments, delivered, FAST_SHEETS, instancesAfterEach, isChat, runsIn } from '../support/instances.js';
import type { ChatRequest, RecordedRequest } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

const instances = instancesAfterEach();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const commentOfRequest = (r: RecordedRequest) => commentOf(r.body as ChatRequest);

describe('the holder SIGKILLed mid-run', () => {
  it('a second instance on another host works within seconds and asks nothing the first answered', { timeout: 120_000 }, async () => {
    const rows = sampleRows(60);
    const made = await instances.postgresBed({ rows, llm: { latencyMs: 300 }, config: { llm: { max_workers: 3 }, sheets: FAST_SHEETS } });
    const { cluster, database } = made;
    const b = made.bed;
    const first = instances.spawn(['run', '--config', b.configPath], { env: b.env, host: 'host-a' });
    await waitFor('the first instance to have 12 answers', () => b.llm.requests.filter(delivered).length >= 12, 60_000);

    // Quiet kill: new questions hang, so every answer delivered was received long before the
    // SIGKILL and must be committed; the calls still hanging die with the process (never delivered).
    b.llm.setLatency(600_000);
    const killAt = Date.now() + 4_000;
    // Loaded now, it starts its run at the instant of the kill (module loading is not the lock's time).
    const second = instances.spawn(['run', '--config', b.configPath], { env: b.env, host: 'host-b', at: killAt });
    await sleep(killAt - Date.now() - 200);
    b.llm.setLatency(300);
    await sleep(Math.max(0, killAt - Date.now()));
    const lastDelivered = Math.max(...b.llm.requests.filter(delivered).map((r) => r.endedAt ?? 0));
    first.process.kill('SIGKILL');
    const killedAt = Date.now();
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(killedAt - lastDelivered, 'the model was quiet before the kill').toBeGreaterThanOrEqual(300);
    const answeredByFirst = b.llm.requests.filter((r) => delivered(r) && r.startedAt < killedAt);
    const committed = await committedComments(cluster, database);
    // Every answer the first instance received is in the database (invariant 2, across the kill).
    for (const r of answeredByFirst) expect(committed.has(commentOfRequest(r)), commentOfRequest(r)).toBe(true);

    const exit = await second.exited;
    expect(exit.code, second.stderr()).toBe(0);
    const firstCall = Math.min(...b.llm.requests.filter((r) => isChat(r) && r.startedAt >= killedAt).map((r) => r.startedAt));
    const seconds = (firstCall - killedAt) / 1000;
    // The figure issue 21 asks for (goal: 5 s or less).
    console.log(`SIGKILL of the holder → the next instance's first LLM call: ${seconds.toFixed(2)} s`);
    expect(seconds).toBeLessThanOrEqual(10);
    expect(second.stderr()).not.toMatch(/Another run/);

    // Nothing answered by the first is asked again; every row is asked once in all.
    const askedBySecond = b.llm.requests.filter((r) => isChat(r) && r.startedAt >= killedAt).map(commentOfRequest);
    expect(askedBySecond.filter((c) => committed.has(c))).toEqual([]);
    expect(new Set(askedBySecond).size).toBe(askedBySecond.length);
    expect(committed.size + askedBySecond.length).toBe(rows.length);
    const values = b.values();
    const verdictCol = values[0]?.indexOf('Validation') ?? -1;
    rows.forEach((row, i) => expect(values[i + 1]?.[verdictCol], `row ${i + 2}`).toBe(expectedCells(row).verdict));
    // The dead run is recorded as killed (by the instance that took its lock), the second as completed.
    const runs = await runsIn(cluster, database);
    expect(runs.map((r) => r.status)).toEqual(['killed', 'completed']);
  });
});
