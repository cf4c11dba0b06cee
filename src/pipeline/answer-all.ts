import type { Store } from '../cache/index.js';
import type { Config } from '../config/index.js';
import { Answering } from './answering.js';
import type { Asking } from './ask.js';
import { byModel, drain, requestsOf, type Sharing } from './requests.js';
import type { RunOptions } from './run.js';
import type { SemanticPass } from './semantic.js';
import { Settler, type Enqueue } from './settle.js';
import type { Tally } from './tally.js';

/** Commits the semantic cache's reuses, then asks every question: the failure that stopped the run, if one did. */
export async function answerAll(
  config: Config,
  options: RunOptions,
  store: Store,
  tally: Tally,
  run: { asking: Asking; sharing: Sharing; semantic: SemanticPass; enqueue: Enqueue; dryRun: boolean; now: () => Date; report: () => void; secrets: readonly string[] },
): Promise<Error | undefined> {
  const { asking, sharing, semantic } = run;
  const settler = new Settler({
    store,
    tally,
    enqueue: run.enqueue,
    sharing,
    dryRun: run.dryRun,
    minConfidence: config.review.min_confidence,
    secrets: run.secrets,
    now: run.now,
    modelOf: asking.modelOf,
    onAnswered: semantic.remember,
    judge: asking.judge,
  });
  for (const { job, record } of semantic.reused) {
    await settler.commit(job, record);
    tally.semanticReused(job.entries.length);
  }
  const answering = new Answering({
    validator: asking.validator,
    settler,
    sharing,
    maxWorkers: config.llm.max_workers,
    stop: options.stop,
    abort: options.abort,
    onDeferred: (rows) => tally.deferred(rows),
    onRequest: run.report,
    board: options.board,
    lookup: options.board ? (key) => store.get(key) : undefined,
  });
  const routes = byModel(semantic.ask, (job) => asking.modelOf(job.inputs));
  for (const [model, routed] of routes) tally.routed(model, routed.length);
  const { count, requests } = requestsOf(routes, asking.rowsPerRequest);
  if (count > 0) await asking.checkFallbacks(answering.stop);
  await drain(requests, count, config.llm.max_workers, answering.answer);
  // Never judged (nothing answered, no 400 repeated): the ERRORs held back are the rows' own.
  settler.release();
  return answering.failure;
}

