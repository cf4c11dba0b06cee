/**
 * Invariant 2 on the async Store: a verdict is committed (the put has resolved) before its
 * rows are queued for the sheet, whatever the store's latency; a put that fails queues
 * nothing. The store is a real SqliteStore whose put is delayed (as a network database's is).
 */
import { expect, it } from 'vitest';
import type { CachedVerdict, SqliteStore, Store } from '../../src/cache/index.js';
import type { Config } from '../../src/config/index.js';
import type { Judgement } from '../../src/llm/index.js';
import { roundOf } from '../../src/pipeline/round.js';
import { Settler } from '../../src/pipeline/settle.js';
import { Tally } from '../../src/pipeline/tally.js';
import type { Job } from '../../src/pipeline/select.js';
import type { Entry } from '../../src/sheets/index.js';
import { scratchStoreEach } from '../support/scratch-store.js';

let store: SqliteStore;
let config: Config;
scratchStoreEach('sv-settle-', (made) => ({ store, config } = made));

const entry = (row: number): Entry => ({ row, id: `r${row}`, inputs: { status: 'Done', comment: `comment ${row}`, completion_date: '' }, outputs: { verdict: '', issues: '', suggestion: '', checked_at: '', model: '' }, review: { recheck: '', override: '' } });
const job = (key: string, rows: number[]): Job => ({ key, inputs: entry(rows[0] ?? 0).inputs, entries: rows.map(entry) });
const record = (key: string): CachedVerdict => ({ key, verdict: 'VALID', issues: [], suggestion: '', model: 'gpt-5-mini', provider: 'primary', checkedAt: '2026-12-04T00:00:00.000Z', confidence: 1, promptTokens: 1, completionTokens: 1, cachedTokens: 0 });

function settlerOver(target: Store, queued: Array<{ row: number; committed: boolean }>, judge?: { readonly judgement: Judgement; onJudged(listener: (judgement: Judgement) => void): void }): Settler {
  const tally = new Tally('run-1', config, false, new Date(), [], 'cli');
  return new Settler({
    ...(judge ? { judge } : {}),
    store: target,
    tally,
    enqueue: (e) => {
      // What the store holds at the moment the row is queued for the sheet.
      queued.push({ row: e.row, committed: store.db.prepare('SELECT 1 FROM verdicts WHERE key = ?').get(`k${e.row}`) !== undefined });
    },
    dryRun: false,
    minConfidence: undefined,
    secrets: [],
    now: () => new Date(),
    modelOf: () => 'gpt-5-mini',
  });
}

it('queues a verdict for the sheet only once its put has resolved, however slow the store', async () => {
  let puts = 0;
  const slow = Object.assign(Object.create(store) as Store, {
    put: async (v: CachedVerdict) => {
      puts++;
      await new Promise((resolve) => setTimeout(resolve, 30));
      await store.put(v);
    },
  });
  const queued: Array<{ row: number; committed: boolean }> = [];
  const settler = settlerOver(slow, queued);
  const commits = [settler.commit(job('k2', [2]), record('k2'), roundOf()), settler.commit(job('k3', [3]), record('k3'), roundOf())];
  expect(queued).toEqual([]);
  await Promise.all(commits);
  expect(puts).toBe(2);
  expect(queued).toEqual([
    { row: 2, committed: true },
    { row: 3, committed: true },
  ]);
});

it('queues nothing when the put fails: the sheet never shows a verdict the store does not hold', async () => {
  const failing = Object.assign(Object.create(store) as Store, { put: () => Promise.reject(new Error('database unreachable')) });
  const queued: Array<{ row: number; committed: boolean }> = [];
  await expect(settlerOver(failing, queued).commit(job('k4', [4]), record('k4'), roundOf())).rejects.toThrow('database unreachable');
  expect(queued).toEqual([]);
});

it("holds the ERRORs of every round until judged: judged the configuration's fault, none is written", async () => {
  const listeners: Array<(judgement: Judgement) => void> = [];
  const judge = { judgement: 'open' as Judgement, onJudged: (listener: (judgement: Judgement) => void) => void listeners.push(listener) };
  const queued: Array<{ row: number; committed: boolean }> = [];
  const settler = settlerOver(store, queued, judge);
  const failed = { kind: 'error' as const, reason: 'the model answered nothing usable', usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0 } };
  await settler.settle(job('k5', [5]), failed, roundOf());
  await settler.settle(job('k6', [6]), failed, roundOf());
  expect(queued).toEqual([]);
  judge.judgement = 'config';
  for (const listener of listeners) listener('config');
  // The run's end: nothing was left held.
  settler.release();
  expect(queued).toEqual([]);
});

it("writes the ERRORs held back, every round's, when the run ends undecided", async () => {
  const judge = { judgement: 'open' as Judgement, onJudged: () => undefined };
  const queued: Array<{ row: number; committed: boolean }> = [];
  const settler = settlerOver(store, queued, judge);
  const failed = { kind: 'error' as const, reason: 'the model answered nothing usable', usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0 } };
  await settler.settle(job('k7', [7]), failed, roundOf());
  await settler.settle(job('k8', [8]), failed, roundOf());
  settler.release();
  expect(queued.map((q) => q.row)).toEqual([7, 8]);
});
