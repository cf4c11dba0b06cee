import { setAsidePending } from './pending.js';
import type { Store } from '../cache/index.js';
import type { Entry, ReadResult } from '../sheets/index.js';
import type { Labelled } from './cascade/index.js';
import type { OutputCells } from './cells.js';
import type { RunEventSink } from './events.js';
import { KeySet } from './key-set.js';
import { lookupIn, snapshotOf } from './plan.js';
import type { RunOptions } from './run.js';
import type { RunPlan } from './run-plan.js';
import { selectWork, type Job, type Known } from './select.js';
import type { Enqueue } from './settle.js';

/**
 * Sorts a streamed read's rows chunk after chunk, with what the whole-tab selection knew
 * across all rows kept run-wide, compactly: the keys asked so far (a question in chunk 1
 * and chunk 30 is paid once: by chunk 30 its verdict is in the store, committed before it
 * was queued, and stands even for --force or a ticked box), the questions that ended in
 * ERROR (their later rows get that ERROR, as rows sharing the question would have), a dry
 * run's answers (nothing is committed: the only place they are), and --limit's budget.
 */
export class ChunkSelector {
  /** The keys this run asked: a known verdict under one is this run's answer (it stands for --force and a ticked box, and a row under it is a twin, counted as deduplicated). */
  private readonly asked = new KeySet();
  private readonly errored = new Map<string, { cells: OutputCells; reason: string }>();
  private readonly dryAnswers: Map<string, OutputCells> | undefined;
  private limitLeft: number | undefined;
  /** The keys of the chunk being answered (its answers are told by entry). */
  private keyOf: (entry: Entry) => string;
  /**
   * The keys the last selections chose to ask: their answers may still be in flight when the
   * next chunk is selected (the chunks overlap: AnswerRun). Only the last chunk's: an earlier
   * chunk has ended by then. A chunk's worth of keys, already held by its jobs.
   */
  private inFlight = new Set<string>();

  constructor(
    private readonly plan: Pick<RunPlan, 'keyOf' | 'minConfidence' | 'staleAfterMs' | 'llm' | 'layout'>,
    private readonly options: RunOptions,
    private readonly store: Store,
    private readonly events: RunEventSink,
    /** The run's write queue. */
    private readonly enqueue: Enqueue,
    private readonly dryRun: boolean,
    private readonly now: () => Date,
  ) {
    this.dryAnswers = dryRun ? new Map() : undefined;
    this.limitLeft = options.limit;
    this.keyOf = plan.keyOf;
  }

  /** What the Settler queues through: the run's queue, remembering the ERRORs (and a dry run's answers) by key. */
  readonly answered: Enqueue = (entry, cells, answered = true) => {
    if (!answered && cells.verdict === 'ERROR') this.errored.set(this.keyOf(entry), { cells, reason: cells.issues });
    else if (answered && this.dryAnswers) this.dryAnswers.set(this.keyOf(entry), cells);
    this.enqueue(entry, cells, answered);
  };

  /**
   * One chunk's rows: reviewers' verdicts kept, known verdicts queued, and the questions
   * to ask returned (with the reviewer labels a cascade calibrates on). `answering`: the
   * previous chunk's questions may still be unanswered (its last requests in flight): a row
   * under a key that chunk asks is held back (`later`), to be selected once that chunk has
   * ended, when its fresh verdict (or ERROR) is known: selected now, it would be asked and
   * paid twice (invariant 9), or, for a question asked again (--force, a ticked box, an old
   * verdict), be given the cache's verdict the fresh one replaces.
   */
  async select(chunk: ReadResult, answering = false): Promise<{ ask: Job[]; labelled: Labelled[]; later: Entry[] }> {
    const { plan, options, store, events } = this;
    const now = this.now;
    const staleAfterMs = options.recheckOlderThanMs ?? plan.staleAfterMs;
    // One lookup for the chunk's keys (one read transaction: one snapshot, one round trip), then the sort over it.
    const rows = onlyRows(chunk.entries, options.rows);
    const { keyOf, snapshot } = await snapshotOf(store, rows, plan.keyOf);
    this.keyOf = keyOf;
    const known = lookupIn(snapshot, plan.minConfidence);
    const dry = this.dryAnswers;
    const lookup = dry === undefined ? known : (key: string): Known | undefined => known(key) ?? dryKnown(dry.get(key));
    const entries: Entry[] = [];
    const later: Entry[] = [];
    for (const entry of rows) {
      if (answering && this.inFlight.size > 0 && this.inFlight.has(keyOf(entry))) {
        later.push(entry);
        continue;
      }
      const failed = this.errored.size > 0 && entry.review.override === '' ? this.errored.get(keyOf(entry)) : undefined;
      if (failed === undefined) {
        entries.push(entry);
        continue;
      }
      events.emit({ type: 'error', entries: [entry], reason: failed.reason });
      this.enqueue(entry, failed.cells, false);
    }
    // The budget is read after the lookup's await: another target's selection may have taken from it meanwhile.
    const limit = options.limitBudget?.remaining ?? this.limitLeft;
    const selection = selectWork(entries, keyOf, lookup, {
      force: (options.force ?? false) || options.rows !== undefined,
      limit,
      staleAfterMs,
      now: now().getTime(),
      askedThisRun: (key) => this.asked.size > 0 && this.asked.has(key),
    });
    // Twins of questions asked in earlier chunks (shared) take from the budget as rows sharing a question in one chunk do.
    const asked = selection.jobs.reduce((n, job) => n + job.entries.length, 0) + selection.shared.length;
    if (options.limitBudget) options.limitBudget.remaining -= asked;
    else if (this.limitLeft !== undefined) this.limitLeft -= asked;
    // Questions a pending batch job asks are on their way, paid for: never asked twice (invariant 9).
    const { ask, waiting } = setAsidePending(selection.jobs, snapshot.pending);
    for (const job of ask) this.asked.add(job.key);
    // Held back above only while answering: a re-selection of held rows adds its questions to the chunk's still in flight.
    if (answering) this.inFlight = new Set();
    for (const job of ask) this.inFlight.add(job.key);
    events.emit({ type: 'selected', selection: { ...selection, jobs: ask } });
    for (const { key } of selection.shared) {
      const cached = snapshot.verdicts.get(key);
      if (cached) events.emit({ type: 'shared-verdict', verdict: cached.verdict, unsure: plan.minConfidence !== undefined && cached.confidence < plan.minConfidence });
    }
    events.emit({ type: 'waiting', waiting });
    if (!this.dryRun && selection.overrides.length > 0) {
      // Reviewers' verdicts are ground truth for those inputs: kept before anything else.
      const recordedAt = now().toISOString();
      await store.putOverrides(selection.overrides.map(({ key, override }) => ({ key, ...override, recordedAt })));
    }
    // A known verdict unticks a box only when it answers the request (a batch job's answer, select.ts).
    for (const { entry, cells, answersRecheck } of selection.rewrites) this.enqueue(entry, cells, answersRecheck === true);
    // A reviewer's verdict labels its row for a cascade's calibration.
    const labelled = plan.llm.cascade ? selection.overrides.map(({ key, entry, override }) => ({ key, inputs: entry.inputs, verdict: override.verdict })) : [];
    return { ask, labelled, later };
  }
}

function dryKnown(cells: OutputCells | undefined): Known | undefined {
  return cells && { cells, checkedAt: cells.checked_at };
}

/** The entries a run works on: all, or those whose id was named. */
function onlyRows(entries: Entry[], ids: readonly string[] | undefined): Entry[] {
  if (ids === undefined) return entries;
  const wanted = new Set(ids);
  return entries.filter((entry) => entry.id !== '' && wanted.has(entry.id));
}
