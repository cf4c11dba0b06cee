import { VerdictJournal, type Store } from '../cache/index.js';
import { Answering } from './answering.js';
import { cascadeOf, type CascadeRun, type Labelled } from './cascade/index.js';
import { ClaimBook } from './claims.js';
import type { Asking } from './ask.js';
import type { RunEventSink } from './events.js';
import { WorkerPool } from './pool.js';
import { byModel, requestsOf, shareNearDuplicates } from './requests.js';
import { roundOf, type Round } from './round.js';
import type { RunOptions } from './run.js';
import type { RunPlan } from './run-plan.js';
import { semanticPass } from './semantic.js';
import { Settler, type Enqueue } from './settle.js';
import type { Job } from './select.js';

type AnswerPlan = Pick<RunPlan, 'minConfidence' | 'llm' | 'source' | 'fuzzyThreshold'> & Parameters<typeof semanticPass>[0];

/**
 * Asks a run's questions, chunk after chunk of a streamed read (`answer`), with what must
 * be one per run made once: the workers, the requests (a failure that dooms the run stops
 * every chunk's), the Settler (its held ERRORs, its journal), the claims, the cascade
 * (calibrated on the first chunk that has questions, with the reviewer labels found until
 * then), the fallbacks' check. Near-duplicates (dedup.fuzzy_threshold) and the semantic
 * cache are matched within a chunk: its round. A chunk's requests start as the previous
 * chunk's last answers arrive (issue 25, bench B1); `end` waits for the last chunk's.
 */
export class AnswerRun {
  private readonly settler: Settler;
  private readonly storeDown = new AbortController();
  private readonly journal: VerdictJournal | undefined;
  private readonly claims: ClaimBook | undefined;
  private readonly pool: WorkerPool;
  /** Made with the first chunk that has questions (after the cascade, whose validator it asks). */
  private answering: Answering | undefined;
  /** The last chunk's round ending: its requests handled, its answers committed; the run's failure, if one stopped it. */
  private last: Promise<Error | undefined> = Promise.resolve(undefined);
  /** undefined until started; null when the run has no cascade. */
  private cascade: CascadeRun | null | undefined;
  private readonly labelled: Labelled[] = [];
  private fallbacksChecked = false;

  constructor(
    private readonly plan: AnswerPlan,
    private readonly options: RunOptions,
    private readonly store: Store,
    private readonly events: RunEventSink,
    private readonly asking: Asking,
    private readonly run: { enqueue: Enqueue; dryRun: boolean; now: () => Date; secrets: readonly string[] },
  ) {
    // The database unreachable past its patience: nothing more is asked, and the answers in
    // flight, already paid for, are kept in a journal on this machine for the next run to commit.
    this.journal = !run.dryRun && store.kind === 'postgres' ? VerdictJournal.forStore(store) : undefined;
    this.settler = new Settler({
      journal: this.journal,
      onStoreDown: (error) => this.storeDown.abort(error),
      store,
      tally: events,
      enqueue: run.enqueue,
      dryRun: run.dryRun,
      minConfidence: plan.minConfidence,
      secrets: run.secrets,
      now: run.now,
      modelOf: asking.modelOf,
      judge: asking.judge,
    });
    // A dry run commits nothing: no other instance could ever find its answers. Claims are the run's (its lock vouches it is alive).
    this.claims = run.dryRun || options.runId === undefined ? undefined : new ClaimBook(store, options.runId, run.now);
    this.pool = new WorkerPool(plan.llm.max_workers);
  }

  /**
   * Starts asking one chunk's questions (the semantic cache's reuses committed first) and
   * returns once they are all in the workers' hands and the previous chunk has ended: the
   * failure that stopped the run, if one did. Until this chunk ends (the next call, or
   * `end`), its questions may still be unanswered: the next chunk's selection holds back
   * the rows under them (ChunkSelector.select, `answering`).
   */
  async answer(jobs: Job[], labelled: readonly Labelled[]): Promise<Error | undefined> {
    const { plan, store, events, asking, run } = this;
    const sharing = await shareNearDuplicates(plan.fuzzyThreshold, jobs, events);
    // The semantic cache matches against the answers committed so far: the previous chunk's first.
    if (plan.semantic && sharing.leaders.length > 0) {
      const failure = await this.last;
      if (failure) {
        // Never asked: left for the next run, as the questions a doomed run had not reached.
        events.emit({ type: 'deferred', rows: jobs.reduce((n, job) => n + job.entries.length, 0) });
        return failure;
      }
    }
    const semantic = await semanticPass(plan, store, sharing.leaders, run.dryRun, run.now());
    const round = roundOf(sharing, semantic.remember);
    for (const { job, record } of semantic.reused) {
      await this.settler.commit(job, record, round);
      events.emit({ type: 'semantic-reused', rows: job.entries.length });
    }
    this.labelled.push(...labelled);
    let ask = semantic.ask;
    // llm.cascade: calibrated first (its rows answered by both models), then the rest asked small-first.
    if (this.cascade === undefined && ask.length > 0) {
      this.cascade = (await this.startCascade(ask, round)) ?? null;
      if (this.cascade) ask = this.cascade.rest;
    }
    const routes = byModel(ask, (job) => asking.modelOf(job.inputs));
    for (const [model, routed] of routes) events.emit({ type: 'routed', model, questions: routed.length });
    const { count, requests } = requestsOf(routes, asking.rowsPerRequest);
    const answering = count > 0 ? this.answeringFor() : this.answering;
    if (count > 0 && !this.fallbacksChecked) {
      this.fallbacksChecked = true;
      await asking.checkFallbacks((answering as Answering).stop);
    }
    const { taken, done } = answering ? this.pool.add(requests, count, (group) => answering.answer(group, round)) : { taken: Promise.resolve(), done: Promise.resolve() };
    const previous = this.last;
    this.last = this.ending(previous, done, round, answering);
    const failure = await previous;
    if (failure) return failure;
    await taken;
    return answering?.failure ?? this.settler.failure;
  }

  /**
   * Waits for the last chunk's answers, then writes the ERRORs held back if no judgement came
   * (they are the rows' own): the failure that stopped the run, if one did (never rejects).
   */
  async end(): Promise<Error | undefined> {
    const failure = await this.last;
    this.settler.release();
    return failure;
  }

  /** The run's end: a cascade never started still keeps the reviewers' labels; its report, and answers left uncommitted. */
  async finish(): Promise<void> {
    if (this.cascade === undefined) this.cascade = (await this.startCascade([], roundOf())) ?? null;
    if (this.cascade) this.events.emit({ type: 'cascade', report: this.cascade.report() });
    const uncommitted = this.settler.uncommitted;
    if (uncommitted > 0) this.events.emit({ type: 'warning', text: `${uncommitted} answer${uncommitted === 1 ? '' : 's'} paid for could not be committed (the cache was unreachable): kept in ${this.journal?.file ?? 'a journal'} on this machine, the next run here commits them first instead of asking again` });
  }

  /** The answer sizes learned, for the next run to start from (a failure to save is a warning, never the run's). */
  saveAnswerSizes(): Promise<void> {
    return this.asking.answerSizes.flush();
  }

  /**
   * A chunk's end, after the previous chunk's (rounds end in order): its requests handled,
   * its answers committed (and the claims released after them) before the run's final
   * writes. Its ERRORs held back wait for a judgement, or the run's end (`end`).
   */
  private async ending(previous: Promise<Error | undefined>, done: Promise<void>, round: Round, answering: Answering | undefined): Promise<Error | undefined> {
    const before = await previous;
    let failure: Error | undefined;
    try {
      await done;
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    await answering?.settled(round);
    return before ?? failure ?? answering?.failure ?? this.settler.failure;
  }

  /** The run's requests, made once (their validator is the cascade's, when the run has one). */
  private answeringFor(): Answering {
    const { plan, options, store, events, asking } = this;
    this.answering ??= new Answering({
      validator: this.cascade?.validator ?? asking.validator,
      settler: this.settler,
      maxWorkers: plan.llm.max_workers,
      stop: options.stop ? AbortSignal.any([options.stop, this.storeDown.signal]) : this.storeDown.signal,
      abort: options.abort,
      onDeferred: (rows) => events.emit({ type: 'deferred', rows }),
      onRequest: () => events.emit({ type: 'request-done' }),
      board: options.board,
      lookup: options.board ? (key) => store.get(key) : undefined,
      claims: this.claims,
    });
    return this.answering;
  }

  private startCascade(jobs: Job[], round: Round): Promise<CascadeRun | undefined> {
    const { options, store, run } = this;
    return cascadeOf(this.plan.source, this.asking, { store, dryRun: run.dryRun, now: run.now, jobs, labelled: [...this.labelled], settle: (job, outcome) => this.settler.settle(job, outcome, round), signal: options.abort, stop: options.stop });
  }
}
