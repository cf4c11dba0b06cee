/**
 * Review of 4a2b809 (ClaimBook compares a question asked again with the verdict it replaces by
 * equality: "ordering them would ... refuse a fresh one from a clock running behind (paid
 * twice)"). waitFor still orders once it has seen a claim: the answer awaited must be at least
 * as late as the first claim seen. Three instances run --force on the same rows: X claims the
 * question (X's clock), its request fails and it releases the claim; Y, waiting too, claims it
 * at once, asks and commits its answer stamped by Y's clock, which runs behind X's. This run,
 * which saw X's claim first, refuses Y's fresh answer for being earlier than X's claim, finds
 * the claim gone, and asks the question a second time: paid twice (invariant 9).
 */
import { expect, it } from 'vitest';
import type { SqliteStore} from '../../src/cache/index.js';
import { type CachedVerdict } from '../../src/cache/index.js';
import { ClaimBook } from '../../src/pipeline/claims.js';
import type { Job } from '../../src/pipeline/select.js';
import { scratchStoreEach } from '../support/scratch-store.js';

let store: SqliteStore;
scratchStoreEach('sv-r25h-behind-', (scratch) => (store = scratch.store));

const NOW = new Date('2026-03-01T00:00:00.000Z');
const at = (ms: number) => () => new Date(NOW.getTime() + ms);

function verdict(checkedAt: string): CachedVerdict {
  return { key: 'a', verdict: 'VALID', issues: [], suggestion: '', model: 'm', provider: 'p', checkedAt, confidence: 0.9, promptTokens: 10, completionTokens: 5, cachedTokens: 0 };
}

it("waitFor takes another instance's fresh answer to a question asked again, though that instance's clock runs behind the first claimant's", async () => {
  const old = verdict('2026-02-01T00:00:00.000Z');
  await store.put(old);
  const job: Job = { key: 'a', inputs: { status: 'Done', comment: 'a', completion_date: '2026-02-01' }, entries: [], again: true, replaces: old.checkedAt };
  // X and Y hold their run locks (their claims are live); X's clock runs a minute ahead of this host's, Y's a minute behind.
  await store.locks.acquire('target x', 'run-x');
  await store.locks.acquire('target y', 'run-y');
  const x = new ClaimBook(store, 'run-x', at(60_000));
  const y = new ClaimBook(store, 'run-y', at(-60_000));
  expect((await x.split([job])).mine.map((j) => j.key)).toEqual(['a']);

  const book = new ClaimBook(store, 'run-this', at(0), 120_000, 200);
  expect((await book.split([job])).theirs.map((j) => j.key)).toEqual(['a']);
  const waiting = book.waitFor(job, new AbortController().signal);
  // Let waitFor see X's claim first.
  await new Promise((resolve) => setTimeout(resolve, 50));
  // X's request fails: claim released without a verdict; Y, waiting too, takes it, answers and releases.
  await x.release([job]);
  expect((await y.split([job])).mine.map((j) => j.key)).toEqual(['a']);
  const fresh = verdict(at(-60_000)().toISOString());
  await store.put(fresh);
  await y.release([job]);

  const got = await waiting;
  expect(got?.checkedAt, "Y's answer (not the replaced verdict) stands for this run's: undefined makes this run ask and pay again").toBe(fresh.checkedAt);
});
