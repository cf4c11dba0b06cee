import { setMaxListeners } from 'node:events';
import { FatalRunError } from '../errors.js';
import type { CachedVerdict } from '../cache/index.js';
import type { Outcome, Validator } from '../llm/index.js';
import { cachedOutcome, type QuestionBoard } from './board.js';
import type { ClaimBook } from './claims.js';
import { rowsAnswered } from './requests.js';
import type { Round } from './round.js';
import type { Job } from './select.js';
import type { Settler } from './settle.js';

export interface AnsweringOptions {
  /** The run's validator, or a cascade over two of them (src/pipeline/cascade). */
  validator: Pick<Validator, 'validateMany'>;
  settler: Settler;
  maxWorkers: number;
  /** Aborting stops new requests (Ctrl-C, a lost lock). */
  stop?: AbortSignal | undefined;
  /** Aborting cancels requests in flight (a second Ctrl-C, the deadline). */
  abort?: AbortSignal | undefined;
  /** Rows not asked this run (stopped before their turn, or their request failed the run). */
  onDeferred: (rows: number) => void;
  /** After each request, whatever its outcome. */
  onRequest: () => void;
  /** The portfolio's questions in flight: shared by its targets, so that none pays for another's question. */
  board?: QuestionBoard | undefined;
  /** A verdict committed for a key since the run chose its questions, looked up before asking a cache miss (never a question chosen to be asked again). */
  lookup?: ((key: string) => Promise<CachedVerdict | undefined>) | undefined;
  /** Claims in the store (other instances sharing it): a question another instance is asking is waited for, not asked. */
  claims?: ClaimBook | undefined;
}

/**
 * The requests of a run: each asks the validator about a group of jobs (of one round: a
 * chunk's) and hands the outcomes to the settler. One failure that dooms every row (a bad
 * key, no quota) stops the others from starting, whatever their round; the run ends with it
 * (`failure`) once the writes are done.
 */
export class Answering {
  /** Aborted by a failure that dooms the run, or by the caller's stop. */
  readonly stop: AbortSignal;
  private readonly inFlight: AbortSignal;
  private readonly doomed = new AbortController();
  private error: Error | undefined;
  /** Answers received and being committed (then queued for the sheet), each worker's own request already on its way: every round's. */
  private readonly settling = new Set<Promise<void>>();

  constructor(private readonly options: AnsweringOptions) {
    this.stop = AbortSignal.any([this.doomed.signal, ...(options.stop ? [options.stop] : [])]);
    this.inFlight = AbortSignal.any([this.doomed.signal, ...(options.abort ? [options.abort] : [])]);
    // Each worker's request and backoff listens to these while it runs (and only then).
    setMaxListeners(2 * options.maxWorkers + 16, this.stop, this.inFlight);
  }

  /** The failure that stopped the run, if one did. */
  get failure(): Error | undefined {
    return this.error;
  }

  /** Waits until every answer of the round received is committed and queued (or failed): after its last request. */
  async settled(round: Round): Promise<void> {
    while (round.settling.size > 0) await Promise.all([...round.settling]);
  }

  /** One request: a job, or llm.rows_per_request jobs packed together, all of one round. */
  readonly answer = async (group: Job[], round: Round): Promise<void> => {
    if (this.stop.aborted) {
      // Near-duplicates waiting for this answer wait for the next run too.
      this.options.onDeferred(rowsAnswered(group, round.sharing));
      return;
    }
    if (this.options.board) {
      // A commit of another target's answer, or a look-up, failing (the store unreachable) stops the run as a failed request does.
      await this.answerShared(group, this.options.board, round).catch((error: unknown) => this.fail(error, group, round));
    } else if (this.options.claims) {
      await this.askClaimed(group, this.options.claims, round).catch((error: unknown) => this.fail(error, group, round));
    } else void this.track((await this.ask(group, round)).settled, round);
    this.options.onRequest();
    // A store slower than the model (a remote database, a busy disk) holds the workers back, so that answers waiting for their commit stay bounded.
    while (this.settling.size > this.options.maxWorkers) await Promise.race(this.settling);
  };

  /** A request whose rows cannot be answered: they wait for the next run; a failure that dooms the run stops the others. */
  private fail(error: unknown, group: Job[], round: Round): void {
    this.options.onDeferred(rowsAnswered(group, round.sharing));
    if (!this.inFlight.aborted || error instanceof FatalRunError) {
      this.error ??= error instanceof Error ? error : new Error(String(error));
      this.doomed.abort(error);
    }
  }

  /**
   * In a portfolio: a question another target has answered during this run (then in the
   * cache), or is asking now (the board), takes that answer; only the rest is asked (and
   * paid for) here. A question chosen to be asked AGAIN takes the cache's verdict only
   * when the board says this run gave it: before, that is the verdict to replace. In a dry
   * run the cache never gets this run's answers: the board's kept answer is taken instead.
   * With claims (other instances sharing the store), what this target asks goes through
   * them as a single target's questions do: the board alone kept this run's targets from
   * paying twice, not two instances each running a portfolio (invariant 9).
   */
  private async answerShared(group: Job[], board: QuestionBoard, round: Round): Promise<void> {
    const { settler, lookup } = this.options;
    const open: Job[] = [];
    for (const job of group) {
      // The board's own answer first (a dry run's, not in the cache); a question asked again
      // takes the cache's only once this run gave it.
      const known = board.keeps(job.key) || (job.again && !board.answered(job.key)) ? undefined : await lookup?.(job.key);
      if (known) await settler.commit(job, known, round);
      else open.push(job);
    }
    const { mine, theirs, settle } = board.claim(open.map((job) => job.key));
    let outcomes: Array<Outcome | undefined> | undefined;
    try {
      const asked = mine.length > 0 ? await this.askOwn(mine.map((i) => open[i] as Job), round) : undefined;
      // Committed before the other targets hear of it: one asking again looks the cache up once the board says this run answered.
      await asked?.settled;
      outcomes = asked?.outcomes;
    } finally {
      // Whatever happened (the store refused the claims: the request fails the run), the other
      // targets waiting on these keys hear of it; left unsettled, they would wait forever.
      mine.forEach((i, k) => settle(i, outcomes?.[k]));
    }
    for (const { index, answer } of theirs) {
      const job = open[index] as Job;
      const outcome = await answer;
      // The outcome as the target that asked got it, usage included: what this target pays is counted from its own calls (none for it), and its naive baseline is priced at what asking would have cost.
      if (outcome) await settler.settle(job, outcome, round);
      else if (this.stop.aborted) this.options.onDeferred(rowsAnswered([job], round.sharing));
      // Their request failed (a timeout, an abort of theirs): this target asks for itself.
      else await (await this.askOwn([job], round)).settled;
    }
  }

  /** Asks the jobs, through the store's claims when other instances share it: an outcome per job (undefined when none came) and when they are all committed. */
  private async askOwn(jobs: Job[], round: Round): Promise<{ outcomes: Array<Outcome | undefined> | undefined; settled: Promise<void> }> {
    const claims = this.options.claims;
    if (!claims) return this.ask(jobs, round);
    const { outcomes, settled } = await this.askClaimed(jobs, claims, round);
    return { outcomes: jobs.map((job) => outcomes.get(job)), settled };
  }

  /**
   * Across instances: the group's questions another instance claimed are waited for (their
   * verdict committed here as a known one), those it answered since this run selected them
   * committed likewise (ClaimBook.split), the rest asked; a claim released without a
   * verdict, or gone stale, is claimed again and asked.
   */
  private async askClaimed(group: Job[], claims: ClaimBook, round: Round): Promise<{ outcomes: Map<Job, Outcome | undefined>; settled: Promise<void> }> {
    const outcomes = new Map<Job, Outcome | undefined>();
    const { mine, theirs, known } = await claims.split(group);
    // Answered by another instance since this run selected them: committed here as the cache's (no cost), then released.
    const committing = (async () => {
      try {
        for (const { job, verdict } of known) {
          await this.options.settler.commit(job, verdict, round);
          outcomes.set(job, cachedOutcome(verdict));
        }
      } finally {
        if (known.length > 0) await claims.release(known.map(({ job }) => job));
      }
    })();
    const waiting = Promise.all(
      theirs.map(async (job) => {
        const verdict = await claims.waitFor(job, this.stop);
        if (verdict) {
          await this.options.settler.commit(job, verdict, round);
          outcomes.set(job, cachedOutcome(verdict));
        } else if (this.stop.aborted) this.options.onDeferred(rowsAnswered([job], round.sharing));
        else {
          const alone = await this.askClaimed([job], claims, round);
          await alone.settled;
          outcomes.set(job, alone.outcomes.get(job));
        }
      }),
    );
    // Awaited below, after this run's own request: a failed commit meanwhile is not an unhandled rejection (it fails the request there).
    void Promise.all([committing, waiting]).catch(() => undefined);
    let settled = Promise.resolve();
    try {
      if (mine.length > 0) {
        const asked = await this.ask(mine, round);
        settled = asked.settled;
        mine.forEach((job, k) => outcomes.set(job, asked.outcomes?.[k]));
      }
    } finally {
      // Released once settled (committed, or failed): a waiter then finds the verdict, or asks itself.
      if (mine.length > 0) void this.track(settled.then(() => claims.release(mine)).catch(() => undefined), round);
    }
    await Promise.all([committing, waiting]);
    return { outcomes, settled };
  }

  /**
   * Asks the validator, then settles each job while the worker goes on to its next request:
   * a commit's wait (a sync of the disk, a database's round trip) is not added to every
   * worker's turn (issue 25, bench B1). `outcomes` is undefined when the request failed
   * (the rows are deferred); `settled` resolves once the jobs are committed and queued (it
   * never rejects: a failure is the run's, through fail()). The caller tracks or awaits it.
   */
  private async ask(group: Job[], round: Round): Promise<{ outcomes: Array<Outcome | undefined> | undefined; settled: Promise<void> }> {
    const { validator, settler } = this.options;
    let outcomes: Array<Outcome | undefined>;
    try {
      outcomes = await validator.validateMany(
        group.map((job) => job.inputs),
        this.inFlight,
      );
    } catch (error) {
      this.fail(error, group, round);
      return { outcomes: undefined, settled: Promise.resolve() };
    }
    const settled = (async () => {
      // In order, each committed before the next (invariant 2 holds per verdict, whatever the store's latency).
      for (const [i, job] of group.entries()) {
        const outcome = outcomes[i];
        if (outcome) await settler.settle(job, outcome, round);
      }
    })().catch((error: unknown) => this.fail(error, group, round));
    return { outcomes, settled };
  }

  /** Keeps a settling answer in view, the run's and its round's, until it is done (it never rejects: failures are the run's, through fail()). */
  private track(settling: Promise<void>, round: Round): Promise<void> {
    this.settling.add(settling);
    round.settling.add(settling);
    void settling.finally(() => {
      this.settling.delete(settling);
      round.settling.delete(settling);
    });
    return settling;
  }
}
