import { setMaxListeners } from 'node:events';
import { FatalRunError } from '../errors.js';
import type { CachedVerdict } from '../cache/index.js';
import type { Outcome, Validator } from '../llm/index.js';
import { shared, type QuestionBoard } from './board.js';
import type { ClaimBook } from './claims.js';
import { rowsAnswered, type Sharing } from './requests.js';
import type { Job } from './select.js';
import type { Settler } from './settle.js';

export interface AnsweringOptions {
  /** The run's validator, or a cascade over two of them (src/pipeline/cascade). */
  validator: Pick<Validator, 'validateMany'>;
  settler: Settler;
  sharing: Sharing;
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
 * The requests of a run: each asks the validator about a group of jobs and hands the
 * outcomes to the settler. One failure that dooms every row (a bad key, no quota) stops
 * the others from starting; the run ends with it (`failure`) once the writes are done.
 */
export class Answering {
  /** Aborted by a failure that dooms the run, or by the caller's stop. */
  readonly stop: AbortSignal;
  private readonly inFlight: AbortSignal;
  private readonly doomed = new AbortController();
  private error: Error | undefined;

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

  /** One request: a job, or llm.rows_per_request jobs packed together. */
  readonly answer = async (group: Job[]): Promise<void> => {
    if (this.stop.aborted) {
      // Near-duplicates waiting for this answer wait for the next run too.
      this.options.onDeferred(rowsAnswered(group, this.options.sharing));
      return;
    }
    if (this.options.board) {
      // A commit of another target's answer, or a look-up, failing (the store unreachable) stops the run as a failed request does.
      await this.answerShared(group, this.options.board).catch((error: unknown) => this.fail(error, group));
    } else if (this.options.claims) {
      await this.askClaimed(group, this.options.claims).catch((error: unknown) => this.fail(error, group));
    } else await this.ask(group);
    this.options.onRequest();
  };

  /** A request whose rows cannot be answered: they wait for the next run; a failure that dooms the run stops the others. */
  private fail(error: unknown, group: Job[]): void {
    this.options.onDeferred(rowsAnswered(group, this.options.sharing));
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
   */
  private async answerShared(group: Job[], board: QuestionBoard): Promise<void> {
    const { settler, lookup } = this.options;
    const open: Job[] = [];
    for (const job of group) {
      // The board's own answer first (a dry run's, not in the cache); a question asked again
      // takes the cache's only once this run gave it.
      const known = board.keeps(job.key) || (job.again && !board.answered(job.key)) ? undefined : await lookup?.(job.key);
      if (known) await settler.commit(job, known);
      else open.push(job);
    }
    const { mine, theirs, settle } = board.claim(open.map((job) => job.key));
    const outcomes = mine.length > 0 ? await this.ask(mine.map((i) => open[i] as Job)) : [];
    mine.forEach((i, k) => settle(i, outcomes?.[k]));
    for (const { index, answer } of theirs) {
      const job = open[index] as Job;
      const outcome = await answer;
      if (outcome) await settler.settle(job, shared(outcome));
      else if (this.stop.aborted) this.options.onDeferred(rowsAnswered([job], this.options.sharing));
      // Their request failed (a timeout, an abort of theirs): this target asks for itself.
      else await this.ask([job]);
    }
  }

  /**
   * Across instances: the group's questions another instance claimed are waited for (their
   * verdict committed here as a known one), the rest asked; a claim released without a
   * verdict, or gone stale, is claimed again and asked.
   */
  private async askClaimed(group: Job[], claims: ClaimBook): Promise<void> {
    const { mine, theirs } = await claims.split(group);
    const waiting = Promise.all(
      theirs.map(async (job) => {
        const verdict = await claims.waitFor(job, this.stop);
        if (verdict) await this.options.settler.commit(job, verdict);
        else if (this.stop.aborted) this.options.onDeferred(rowsAnswered([job], this.options.sharing));
        else await this.askClaimed([job], claims);
      }),
    );
    try {
      if (mine.length > 0) await this.ask(mine);
    } finally {
      // Released once settled (committed, or failed): a waiter then finds the verdict, or asks itself.
      if (mine.length > 0) await claims.release(mine).catch(() => undefined);
    }
    await waiting;
  }

  /** Asks the validator and settles each job; undefined when the request failed (the rows are deferred). */
  private async ask(group: Job[]): Promise<Array<Outcome | undefined> | undefined> {
    const { validator, settler } = this.options;
    try {
      const outcomes = await validator.validateMany(
        group.map((job) => job.inputs),
        this.inFlight,
      );
      // In order, each committed before the next (invariant 2 holds per verdict, whatever the store's latency).
      for (const [i, job] of group.entries()) {
        const outcome = outcomes[i];
        if (outcome) await settler.settle(job, outcome);
      }
      return outcomes;
    } catch (error) {
      this.fail(error, group);
      return undefined;
    }
  }
}
