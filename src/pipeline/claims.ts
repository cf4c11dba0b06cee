import type { CachedVerdict, Store } from '../cache/index.js';
import type { Job } from './select.js';

/**
 * How long a claim holds without its verdict before another instance takes it over (its
 * holder presumed gone: killed, or its host cut off). Longer than a request with its retries
 * normally takes; a holder still asking past it may see its question asked twice.
 */
export const CLAIM_STALE_MS = 120_000;
/** How often a waiting instance looks for the verdict of a question another one is asking. */
export const CLAIM_POLL_MS = 200;

/**
 * Invariant 9 across instances sharing one store (two hosts, two targets with the same rows):
 * a question is claimed in the store before it is asked; an instance that finds it claimed by
 * another waits for that one's verdict (polling the store) instead of paying for it too, and
 * asks itself only when the claim is released without a verdict (the request failed) or goes
 * stale. Within one process the QuestionBoard does this without the store.
 */
export class ClaimBook {
  constructor(
    private readonly store: Pick<Store, 'claims' | 'get' | 'lookup'>,
    /** The run asking: its claims hold while it holds its run lock (a killed run's are taken over with its lock). */
    private readonly holder: string,
    private readonly now: () => Date,
    private readonly staleMs: number = CLAIM_STALE_MS,
    private readonly pollMs: number = CLAIM_POLL_MS,
  ) {}

  /** The look-up gathering this turn's keys (verdictsOf), until it is sent. */
  private reading: { keys: string[]; read: Promise<ReadonlyMap<string, CachedVerdict>> } | undefined;

  /**
   * Claims the jobs' keys: those this instance asks (mine), those another is asking (theirs),
   * and those it claimed whose verdict another instance committed since this run selected
   * them (known: to be committed as the cache's, then released). The run selects a chunk
   * seconds before a worker claims its questions; meanwhile another instance may have asked
   * one, committed its verdict and released its claim, so winning the claim does not mean
   * nobody answered (invariant 9). One batched read (Store.lookup) looks them up. For a
   * question chosen to be asked again (--force, a ticked box, an old verdict) the cache's
   * verdict is the one to replace, unless it is another one (`answeredSince`): then another
   * instance asked it again after this run chose it, and that is the answer wanted.
   */
  async split(jobs: readonly Job[]): Promise<{ mine: Job[]; theirs: Job[]; known: Array<{ job: Job; verdict: CachedVerdict }> }> {
    const at = this.now();
    const held = await this.store.claims.claim(
      jobs.map((j) => j.key),
      this.holder,
      at.toISOString(),
      new Date(at.getTime() - this.staleMs).toISOString(),
    );
    const won = jobs.filter((j) => held.has(j.key));
    const theirs = jobs.filter((j) => !held.has(j.key));
    if (won.length === 0) return { mine: won, theirs, known: [] };
    const verdicts = await this.verdictsOf(won.map((j) => j.key));
    if (verdicts.size === 0) return { mine: won, theirs, known: [] };
    const mine: Job[] = [];
    const known: Array<{ job: Job; verdict: CachedVerdict }> = [];
    for (const job of won) {
      const verdict = verdicts.get(job.key);
      if (verdict && (!job.again || answeredSince(job, verdict))) known.push({ job, verdict });
      else mine.push(job);
    }
    return { mine, theirs, known };
  }

  /**
   * The verdicts stored under these keys, read with those of every other request claimed in
   * this turn of the event loop (the store resolves a turn's claims together): one Store.lookup
   * per turn, not per request. Each read also commits the verdicts waiting for their group
   * commit (the store's order of calls): one per request (30,000 reads) cost a 30,000-row run ~2-3 s of
   * CPU (bench B7, 50 workers); gathered per turn, ~2,100 reads, no measurable cost.
   *
   * Sent by process.nextTick, not setImmediate: the claims of a turn resolve together, and
   * their callers reach this in the microtasks that follow; a tick runs once those have all
   * run (Node drains the microtask queue before its tick queue), so it gathers the same keys
   * without waiting for the next turn, behind every answer that arrives meanwhile. That wait
   * was ~0.5 ms of each request's turn in bench B1 (issue 25), 40 turns a worker.
   */
  private verdictsOf(keys: readonly string[]): Promise<ReadonlyMap<string, CachedVerdict>> {
    if (!this.reading) {
      const gathered: string[] = [];
      const read = new Promise<ReadonlyMap<string, CachedVerdict>>((resolve, reject) => {
        process.nextTick(() => {
          this.reading = undefined;
          this.store.lookup(gathered).then(({ verdicts }) => resolve(verdicts), reject);
        });
      });
      this.reading = { keys: gathered, read };
    }
    const batch = this.reading;
    batch.keys.push(...keys);
    return batch.read;
  }

  /**
   * Waits for the verdict of a question another instance claimed: the verdict once committed
   * (for a question asked again, only one that is not the verdict it replaces), or undefined once the
   * claim is gone without one, its run holds no lock any more, or it is stale (the caller then claims and asks itself) or `stop` aborts.
   */
  async waitFor(job: Job, stop: AbortSignal): Promise<CachedVerdict | undefined> {
    for (;;) {
      const claim = await this.store.claims.holderOf(job.key);
      const verdict = await this.store.get(job.key);
      // A question asked again has a verdict to replace: only another one is the answer awaited.
      if (verdict && (!job.again || answeredSince(job, verdict))) return verdict;
      if (!claim || !claim.live || claim.holder === this.holder || Date.parse(claim.claimedAt) < this.now().getTime() - this.staleMs || stop.aborted) return undefined;
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  async release(jobs: readonly Job[]): Promise<void> {
    await this.store.claims.release(
      jobs.map((j) => j.key),
      this.holder,
    );
  }
}

/**
 * Whether the store's verdict for a question asked again is not the one the run chose to
 * replace: another instance answered it since. By equality of the two times, which the
 * same writer stamped or two writers' clocks did: ordering them would take a verdict from a
 * clock running ahead for a fresh one (--force then asking nothing), or refuse a fresh one
 * from a clock running behind (paid twice).
 */
function answeredSince(job: Job, verdict: CachedVerdict): boolean {
  return verdict.checkedAt !== job.replaces;
}
