import { VerdictJournal, type Store } from '../cache/index.js';
import { Answering } from './answering.js';
import { cascadeOf, type CascadeRun, type Labelled } from './cascade/index.js';
import { ClaimBook } from './claims.js';
import type { Asking } from './ask.js';
import type { RunEventSink } from './events.js';
import { byModel, drain, requestsOf, shareNearDuplicates, type Sharing } from './requests.js';
import type { RunOptions } from './run.js';
import type { RunPlan } from './run-plan.js';
import { semanticPass, type SemanticPass } from './semantic.js';
import { Settler, type Enqueue } from './settle.js';
import type { Job } from './select.js';

type AnswerPlan = Pick<RunPlan, 'minConfidence' | 'llm' | 'source' | 'fuzzyThreshold'> & Parameters<typeof semanticPass>[0];

const NO_SEMANTIC: SemanticPass = { reused: [], ask: [], remember: () => Promise.resolve() };

/**
 * Asks a run's questions, chunk after chunk of a streamed read (`answer`), with what must
 * be one per run made once: the Settler (its held ERRORs, its journal), the claims, the
 * cascade (calibrated on the first chunk that has questions, with the reviewer labels
 * found until then), the fallbacks' check. Near-duplicates (dedup.fuzzy_threshold) and
 * the semantic cache are matched within a chunk. `finish` says what the run's end must.
 */
export class AnswerRun {
  private readonly settler: Settler;
  private readonly storeDown = new AbortController();
  private readonly journal: VerdictJournal | undefined;
  private readonly claims: ClaimBook | undefined;
  private current: { sharing: Sharing; semantic: SemanticPass } = { sharing: { leaders: [], followersOf: () => [] }, semantic: NO_SEMANTIC };
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
    const current = () => this.current;
    this.settler = new Settler({
      journal: this.journal,
      onStoreDown: (error) => this.storeDown.abort(error),
      store,
      tally: events,
      enqueue: run.enqueue,
      // The chunk being answered: its near-duplicates share its answers.
      get sharing() {
        return current().sharing;
      },
      dryRun: run.dryRun,
      minConfidence: plan.minConfidence,
      secrets: run.secrets,
      now: run.now,
      modelOf: asking.modelOf,
      onAnswered: (job) => current().semantic.remember(job),
      judge: asking.judge,
    });
    // A dry run commits nothing: no other instance could ever find its answers. Claims are the run's (its lock vouches it is alive).
    this.claims = run.dryRun || options.runId === undefined ? undefined : new ClaimBook(store, options.runId, run.now);
  }

  /** Asks one chunk's questions (the semantic cache's reuses committed first): the failure that stopped the run, if one did. */
  async answer(jobs: Job[], labelled: readonly Labelled[]): Promise<Error | undefined> {
    const { plan, options, store, events, asking, run } = this;
    const sharing = shareNearDuplicates(plan.fuzzyThreshold, jobs, events);
    const semantic = await semanticPass(plan, store, sharing.leaders, run.dryRun, run.now());
    this.current = { sharing, semantic };
    for (const { job, record } of semantic.reused) {
      await this.settler.commit(job, record);
      events.emit({ type: 'semantic-reused', rows: job.entries.length });
    }
    this.labelled.push(...labelled);
    let ask = semantic.ask;
    // llm.cascade: calibrated first (its rows answered by both models), then the rest asked small-first.
    if (this.cascade === undefined && ask.length > 0) {
      this.cascade = (await this.startCascade(ask)) ?? null;
      if (this.cascade) ask = this.cascade.rest;
    }
    const answering = new Answering({
      validator: this.cascade?.validator ?? asking.validator,
      settler: this.settler,
      sharing,
      maxWorkers: plan.llm.max_workers,
      stop: options.stop ? AbortSignal.any([options.stop, this.storeDown.signal]) : this.storeDown.signal,
      abort: options.abort,
      onDeferred: (rows) => events.emit({ type: 'deferred', rows }),
      onRequest: () => events.emit({ type: 'request-done' }),
      board: options.board,
      lookup: options.board ? (key) => store.get(key) : undefined,
      claims: this.claims,
    });
    const routes = byModel(ask, (job) => asking.modelOf(job.inputs));
    for (const [model, routed] of routes) events.emit({ type: 'routed', model, questions: routed.length });
    const { count, requests } = requestsOf(routes, asking.rowsPerRequest);
    if (count > 0 && !this.fallbacksChecked) {
      this.fallbacksChecked = true;
      await asking.checkFallbacks(answering.stop);
    }
    await drain(requests, count, plan.llm.max_workers, answering.answer);
    // The last answers' commits (and the claims released after them) end before the next chunk is selected and before the run's final writes.
    await answering.settled();
    // Never judged (nothing answered, no 400 repeated): the ERRORs held back are the rows' own.
    this.settler.release();
    this.current = { sharing: { leaders: [], followersOf: () => [] }, semantic: NO_SEMANTIC };
    return answering.failure ?? this.settler.failure;
  }

  /** The run's end: a cascade never started still keeps the reviewers' labels; its report, and answers left uncommitted. */
  async finish(): Promise<void> {
    if (this.cascade === undefined) this.cascade = (await this.startCascade([])) ?? null;
    if (this.cascade) this.events.emit({ type: 'cascade', report: this.cascade.report() });
    const uncommitted = this.settler.uncommitted;
    if (uncommitted > 0) this.events.emit({ type: 'warning', text: `${uncommitted} answer${uncommitted === 1 ? '' : 's'} paid for could not be committed (the cache was unreachable): kept in ${this.journal?.file ?? 'a journal'} on this machine, the next run here commits them first instead of asking again` });
  }

  /** The answer sizes learned, for the next run to start from (a failure to save is a warning, never the run's). */
  saveAnswerSizes(): Promise<void> {
    return this.asking.answerSizes.flush();
  }

  private startCascade(jobs: Job[]): Promise<CascadeRun | undefined> {
    const { options, store, run } = this;
    return cascadeOf(this.plan.source, this.asking, { store, dryRun: run.dryRun, now: run.now, jobs, labelled: [...this.labelled], settle: (job, outcome) => this.settler.settle(job, outcome), signal: options.abort, stop: options.stop });
  }
}
