/**
 * Review of e8db74b (src/cache/lock.ts reapIfGone, called by SqliteClaims.holderOf): a claim's
 * holder whose lock row on this host looks stale has that row deleted and its run marked
 * killed, so that a waiting run takes its claims over at once.
 *
 * A run's lock is stamped by the run's clock: acquire(name, runId, { now }) writes started_at
 * and every heartbeat_at with that `now`, and judges an earlier holder with it (watch and
 * schedule pass `now: () => clock.now()`, src/commands/watch.ts, schedule.ts; tests inject a
 * virtual clock). reapIfGone is called by holderOf with no clock at all and judges the row by
 * the wall clock (`now = () => new Date()`). So a LIVE holder, heartbeating on time by its
 * own clock, is judged silent for an hour the moment anybody asks who holds one of its claims:
 * its lock row is deleted, its run marked killed, and a second run takes the same tab while
 * the first still works on it (invariant 8), the first's next heartbeat finding itself taken
 * over. acquire, asked the same question with the same clock a moment before, rightly says
 * the holder is alive: the two judges disagree on one row.
 *
 * Store API on a real SQLite file, one process (as watch/schedule/serve run several runs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/cache/index.js';
import { LockedError } from '../../src/errors.js';

let store: Store | undefined;
let dir: string | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const NAME = 'sheet-1:Statuses';
// The runs' clock (one clock for both runs): an hour behind the wall clock, ticking.
const now = (): Date => new Date(Date.now() - 3_600_000);

describe('a claim holder heartbeating on time by its run clock (sqlite)', () => {
  it('keeps its lock when another run asks who holds its claim', { timeout: 10_000 }, async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sv-r25g-'));
    store = await openStore({ path: path.join(dir, 'cache.sqlite') });
    const a = await store.locks.acquire(NAME, 'run-A', { now });
    await store.runs.start({ id: 'run-A', startedAt: now().toISOString(), trigger: 'schedule', spreadsheetId: 'sheet-1', sheet: 'Statuses' });
    expect(await a.heartbeat()).toBe(true);
    const claimed = await store.claims.claim(['q1'], 'run-A', now().toISOString(), new Date(now().getTime() - 120_000).toISOString());
    expect([...claimed]).toEqual(['q1']);

    // acquire, by the same clock, finds run A alive: the tab is refused.
    await expect(store.locks.acquire(NAME, 'run-B', { now })).rejects.toBeInstanceOf(LockedError);

    // Another run waiting on q1 asks who holds it (ClaimBook.waitFor / split).
    const holder = await store.claims.holderOf('q1');
    expect(holder?.holder).toBe('run-A');
    expect(holder?.live, "run A heartbeats on time by its clock: its claim is live").toBe(true);
    expect((await store.locks.holder(NAME))?.runId, "run A's lock row is still there").toBe('run-A');
    expect((await store.runs.recent(5)).find((r) => r.id === 'run-A')?.status, 'run A is not killed').toBe('running');
    expect(await a.heartbeat(), "run A's next heartbeat finds its lock its own").toBe(true);
    // Invariant 8: no second run on the tab.
    await expect(store.locks.acquire(NAME, 'run-B', { now })).rejects.toBeInstanceOf(LockedError);
    await a.release();
  });
});
