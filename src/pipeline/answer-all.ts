import { VerdictJournal, type Store } from '../cache/index.js';
import { Answering } from './answering.js';
import { cascadeOf, type Labelled } from './cascade/index.js';
import { ClaimBook } from './claims.js';
import type { Asking } from './ask.js';
import type { RunEventSink } from './events.js';
import { byModel, drain, requestsOf, type Sharing } from './requests.js';
import type { RunOptions } from './run.js';
import type { RunPlan } from './run-plan.js';
import type { SemanticPass } from './semantic.js';
import { Settler, type Enqueue } from './settle.js';

/** Commits the semantic cache's reuses, then asks every question: the failure that stopped the run, if one did. */
export async function answerAll(
  plan: Pick<RunPlan, 'minConfidence' | 'llm' | 'source'>,
  options: RunOptions,
  store: Store,
  events: RunEventSink,
  run: { asking: Asking; sharing: Sharing; semantic: SemanticPass; enqueue: Enqueue; dryRun: boolean; now: () => Date; secrets: readonly string[]; labelled: readonly Labelled[] },
): Promise<Error | undefined> {
  const { asking, sharing, semantic } = run;
  // The database unreachable past its patience: nothing more is asked, and the answers in
  // flight, already paid for, are kept in a journal on this machine for the next run to commit.
  const storeDown = new AbortController();
  const journal = !run.dryRun && store.kind === 'postgres' ? VerdictJournal.forStore(store) : undefined;
  const settler = new Settler({
    journal,
    onStoreDown: (error) => storeDown.abort(error),
    store,
    tally: events,
    enqueue: run.enqueue,
    sharing,
    dryRun: run.dryRun,
    minConfidence: plan.minConfidence,
    secrets: run.secrets,
    now: run.now,
    modelOf: asking.modelOf,
    onAnswered: semantic.remember,
    judge: asking.judge,
  });
  for (const { job, record } of semantic.reused) {
    await settler.commit(job, record);
    events.emit({ type: 'semantic-reused', rows: job.entries.length });
  }
  // llm.cascade: calibrated first (its rows answered by both models), then the rest asked small-first.
  const cascade = await cascadeOf(plan.source, asking, { store, dryRun: run.dryRun, now: run.now, jobs: semantic.ask, labelled: [...run.labelled], settle: (job, outcome) => settler.settle(job, outcome), signal: options.abort, stop: options.stop });
  const answering = new Answering({
    validator: cascade?.validator ?? asking.validator,
    settler,
    sharing,
    maxWorkers: plan.llm.max_workers,
    stop: options.stop ? AbortSignal.any([options.stop, storeDown.signal]) : storeDown.signal,
    abort: options.abort,
    onDeferred: (rows) => events.emit({ type: 'deferred', rows }),
    onRequest: () => events.emit({ type: 'request-done' }),
    board: options.board,
    lookup: options.board ? (key) => store.get(key) : undefined,
    // A dry run commits nothing: no other instance could ever find its answers. Claims are the run's (its lock vouches it is alive).
    claims: run.dryRun || options.runId === undefined ? undefined : new ClaimBook(store, options.runId, run.now),
  });
  const routes = byModel(cascade?.rest ?? semantic.ask, (job) => asking.modelOf(job.inputs));
  for (const [model, routed] of routes) events.emit({ type: 'routed', model, questions: routed.length });
  const { count, requests } = requestsOf(routes, asking.rowsPerRequest);
  if (count > 0) await asking.checkFallbacks(answering.stop);
  await drain(requests, count, plan.llm.max_workers, answering.answer);
  // The last answers' commits (and the claims released after them) end before the run's final writes.
  await answering.settled();
  // Never judged (nothing answered, no 400 repeated): the ERRORs held back are the rows' own.
  settler.release();
  if (cascade) events.emit({ type: 'cascade', report: cascade.report() });
  if (settler.uncommitted > 0) events.emit({ type: 'warning', text: `${settler.uncommitted} answer${settler.uncommitted === 1 ? '' : 's'} paid for could not be committed (the cache was unreachable): kept in ${journal?.file ?? 'a journal'} on this machine, the next run here commits them first instead of asking again` });
  return answering.failure ?? settler.failure;
}
