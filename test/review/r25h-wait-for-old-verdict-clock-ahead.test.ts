/**
 * Review of 4a2b809 (ClaimBook compares a question asked again with the verdict it replaces by
 * equality, not by order). split was fixed; waitFor, once it has seen the other instance's
 * claim, still orders the cache's verdict against that claim's time: the verdict this run chose
 * to replace, stamped by a clock running ahead (another host's), is later than the claim, so
 * waitFor hands it back at once as the other instance's fresh answer. The --force run (or the
 * ticked box) then writes the old verdict and asks nothing, and when the other instance's
 * request fails (its claim released without a verdict) nobody asks at all. The very defect the
 * commit names, left in the second path.
 */
import { expect, it } from 'vitest';
import type { SqliteStore} from '../../src/cache/index.js';
import { type CachedVerdict } from '../../src/cache/index.js';
import { ClaimBook } from '../../src/pipeline/claims.js';
import type { Job } from '../../src/pipeline/select.js';
import { scratchStoreEach } from '../support/scratch-store.js';

let store: SqliteStore;
scratchStoreEach('sv-r25h-wait-', (scratch) => (store = scratch.store));

const NOW = new Date('2026-03-01T00:00:00.000Z');
const now = () => NOW;

it('waitFor does not take the verdict a question asked again was chosen to replace, stamped by a clock running ahead, for the answer of the instance holding its claim', async () => {
  // The verdict to replace, stamped ten minutes ahead of this host's clock (another host's).
  const old: CachedVerdict = { key: 'a', verdict: 'VALID', issues: [], suggestion: '', model: 'm', provider: 'p', checkedAt: new Date(NOW.getTime() + 600_000).toISOString(), confidence: 0.9, promptTokens: 10, completionTokens: 5, cachedTokens: 0 };
  await store.put(old);
  // Another instance (holding its run lock: its claims are live) asks the same question again.
  await store.locks.acquire('other target', 'run-other');
  const other = new ClaimBook(store, 'run-other', now);
  const job: Job = { key: 'a', inputs: { status: 'Done', comment: 'a', completion_date: '2026-02-01' }, entries: [], again: true, replaces: old.checkedAt };
  expect((await other.split([job])).mine.map((j) => j.key)).toEqual(['a']);

  const book = new ClaimBook(store, 'run-this', now, 120_000, 20);
  expect((await book.split([job])).theirs.map((j) => j.key)).toEqual(['a']);
  // The other instance's request fails: its claim is released without a verdict.
  const released = new Promise<void>((resolve) => setTimeout(() => void other.release([job]).then(resolve), 300));
  const got = await book.waitFor(job, new AbortController().signal);
  await released;
  // Nobody answered: this run must ask itself (undefined), not write the old verdict as an answer.
  expect(got?.checkedAt).toBeUndefined();
});
