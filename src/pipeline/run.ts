import { randomUUID } from 'node:crypto';
import { setAsidePending } from '../batch/pending.js';
import { openStore, type Store } from '../cache/index.js';
import type { Config, Secrets } from '../config/index.js';
import { StatusValidatorError, redact } from '../errors.js';
import { priceTable, type ProviderGate } from '../llm/index.js';
import { buildAsking } from './ask.js';
import { cascadeOf, type Labelled } from './cascade/index.js';
import { appendRunsRow, resultsTarget, sheetsClientFor } from './sheet-io.js';
import { semanticPass } from './semantic.js';
import { SheetWriter, fingerprintOf, keepColumnLook, keepDashboard, openSheet, probeWrite, type CellValues, type Entry, type SheetsClient } from '../sheets/index.js';
import { Tally } from './tally.js';
import { lookPieces } from './look.js';
import { LockLostError, holdLock, type Every, type HeldLock } from './run-lock.js';
import { keyerOf, layoutConfigOf, localDate, lookupIn, primaryModel, snapshotOf, staleAfterOf } from './plan.js';
import { isTicked } from './review.js';
import { Answering } from './answering.js';
import type { QuestionBoard } from './board.js';
import { byModel, drain, requestsOf, shareNearDuplicates } from './requests.js';
import { selectWork, type Job } from './select.js';
import { Settler, type Enqueue } from './settle.js';
import type { RunSummary } from './summary.js';

export interface Progress {
  phase: 'reading' | 'validating' | 'writing' | 'done';
  questions: number;
  answered: number;
  errors: number;
  retries: number;
  rowsWritten: number;
  /** The cost of the calls made so far; null when a model's price is unknown. */
  costUsd?: number | null;
}

export interface RunOptions {
  dryRun?: boolean;
  force?: boolean;
  limit?: number | undefined;
  trigger?: string;
  /** Aborting stops new work; calls in flight finish, pending writes are flushed. */
  stop?: AbortSignal;
  /** Aborting cancels calls in flight too (a second Ctrl-C, or the stop deadline). */
  abort?: AbortSignal;
  now?: () => Date;
  onProgress?: (progress: Progress) => void;
  /** The run's id, when the caller must know it before the run starts (serve). */
  runId?: string;
  /** A client shared with the caller (watch, serve), so that one pacer keeps all calls in quota. */
  sheets?: SheetsClient;
  /** The tab's values when the caller has just read them (watch): saves the run's first read. */
  preread?: CellValues;
  /** Ask again about rows whose verdict is older than this (overrides review.recheck_older_than). */
  recheckOlderThanMs?: number | undefined;
  /** Warnings (loose key permissions...) found before the run, to carry into its summary. */
  warnings?: string[];
  /** The lock's heartbeat timer (tests drive it by hand). */
  every?: Every;
  /** Only the rows with these ids (columns.id), each asked again: a reviewer's "recheck selected rows" (serve). */
  rows?: readonly string[];
  /**
   * The providers' pacing gates, when several runs share them (the targets of a
   * portfolio, watch and serve): their requests together then stay within the limits.
   */
  gates?: ReadonlyMap<string, ProviderGate>;
  /** The id the runs of one portfolio run share. */
  group?: string;
  /** The questions the targets of a portfolio are asking: none pays for another's. */
  board?: QuestionBoard;
  /** --limit over a portfolio: the rows still to ask this run, taken by each target as it selects its work. */
  limitBudget?: { remaining: number };
  /** The store the command (or the long-running process) opened: the run uses it and leaves it open. Without one, the run opens the config's own and closes it. */
  store?: Store;
}

/** One validation pass: read → select → ask → commit → write → summary. */
export async function runValidation(config: Config, secrets: Secrets, options: RunOptions = {}): Promise<RunSummary> {
  const runId = options.runId ?? randomUUID();
  const store = options.store ?? (await openStore(config.cache));
  try {
    const lock = options.dryRun ? undefined : await holdLock(store, config, runId, { ...(options.now ? { now: options.now } : {}), ...(options.every ? { every: options.every } : {}) });
    try {
      return await runHolding(config, secrets, options, store, runId, lock);
    } finally {
      // Every exit path frees the sheet, whatever failed before (watch and schedule live on).
      await lock?.release();
    }
  } finally {
    // Only what this run opened: a store handed down belongs to its caller.
    if (!options.store) await store.close();
  }
}

/** The run itself, lock held: its end is recorded whatever happens, and never fails the run. */
async function runHolding(config: Config, secrets: Secrets, options: RunOptions, store: Store, runId: string, lock: HeldLock | undefined): Promise<RunSummary> {
  const now = options.now ?? (() => new Date());
  const dryRun = options.dryRun ?? false;
  const tally = new Tally(runId, config, dryRun, now(), options.warnings ?? [], options.trigger ?? 'cli', options.group);
  if (lock?.tookOver) tally.summary.warnings.push(lock.tookOver);
  // Sheets calls are never aborted: the last writes are what makes an interrupted run lose nothing.
  const sheets = options.sheets ?? sheetsClientFor(config, secrets, undefined, () => tally.sheetRetry());
  // A lost lock stops the run like Ctrl-C: nothing new asked, what is answered written.
  const stop = lock ? AbortSignal.any([lock.lost, ...(options.stop ? [options.stop] : [])]) : options.stop;
  if (!dryRun) await store.runs.start({ id: runId, startedAt: tally.startedAt, trigger: options.trigger ?? 'cli', spreadsheetId: config.sheets.spreadsheet_id, sheet: config.sheets.sheet, target: config.target.name, ...(options.group ? { group: options.group } : {}) });
  try {
    await execute(config, secrets, { ...options, ...(stop ? { stop } : {}) }, store, tally, sheets);
  } catch (error) {
    if (!(error instanceof StatusValidatorError)) throw error;
    tally.fatal(redact(error.message, secrets.all), error.hint);
  } finally {
    const lost: unknown = lock?.lost.reason;
    if (lost instanceof LockLostError) tally.fatal(lost.message, lost.hint);
    if (store.isOpen) {
      const average = await store.averageTokens().catch(() => undefined);
      tally.naive(() => average);
    }
    const summary = tally.finish(now(), options.stop?.aborted ?? false);
    if (!dryRun) await recordEnd(config, secrets, store, sheets, summary);
    options.onProgress?.({ ...tally.progress, phase: 'done' });
  }
  return tally.summary;
}

/** The Runs tab row and the runs table: a failure of either is a warning, not a lost run. */
async function recordEnd(config: Config, secrets: Secrets, store: Store, sheets: SheetsClient, summary: RunSummary): Promise<void> {
  try {
    // A run stopped before it wrote anything (no provider usable, a tab it cannot read)
    // leaves the spreadsheet as it was, Runs tab included; the runs table keeps it.
    const stoppedUnwritten = summary.fatal !== undefined && summary.writes.calls === 0 && summary.writes.headersAdded.length === 0;
    if (config.report.runs_sheet && !stoppedUnwritten) await appendRunsRow(sheets, config.report.runs_sheet, summary, secrets);
    // report.dashboard_sheet: its charts follow the Runs tab; what fails there is a warning (keepDashboard never throws).
    if (config.report.runs_sheet && config.report.dashboard_sheet && !stoppedUnwritten) summary.warnings.push(...(await keepDashboard(sheets, { runsTab: config.report.runs_sheet, dashboardTab: config.report.dashboard_sheet })));
  } catch (error) {
    summary.warnings.push(`could not append this run to the "${config.report.runs_sheet ?? ''}" tab: ${redact(error instanceof Error ? error.message : String(error), secrets.all)}`);
  }
  try {
    await store.runs.end(summary.runId, summary.status, summary);
  } catch (error) {
    summary.warnings.push(`could not record this run's end in the cache (the verdicts are saved; \`runs\` will show it as running): ${redact(error instanceof Error ? error.message : String(error), secrets.all)}`);
  }
}

async function execute(config: Config, secrets: Secrets, options: RunOptions, store: Store, tally: Tally, sheets: SheetsClient): Promise<void> {
  const dryRun = options.dryRun ?? false;
  const now = options.now ?? (() => new Date());
  const report = () => options.onProgress?.(tally.progress);
  tally.progress.phase = 'reading';
  report();
  const { writer, enqueue, jobs, labelled } = await prepare(config, options, store, tally, sheets, report);
  // The headers (or the results tab) are made only before the first write, after answers
  // are paid for: on a tab the bot has not written to yet, where a share made read-only
  // by mistake is most likely, write access is checked first with a write no person
  // sees (probeWrite), so that a refusal costs no answer.
  if (!dryRun && jobs.length > 0 && writer.firstWriteMakes) await probeWrite(sheets);

  const asking = await buildAsking(config, secrets, {
    today: localDate(now()),
    onRetry: () => {
      tally.progress.retries++;
      report();
    },
    onCall: (model, usage) => tally.call(model, usage),
    onConnectionFailure: () => tally.connectionFailure(),
    onWarning: (text) => tally.summary.warnings.push(redact(text, secrets.all)),
    limits: dryRun ? undefined : store.limitMemory(),
    fields: dryRun ? undefined : store.fieldMemory(),
    gates: options.gates,
  });
  const { validator } = asking;
  tally.promptCacheKey = asking.promptCacheKeys.join(', ');
  const sharing = shareNearDuplicates(config, jobs, tally);
  const semantic = await semanticPass(config, secrets, store, sharing.leaders, dryRun, now());

  tally.progress.phase = 'validating';
  report();
  const settler = new Settler({
    store,
    tally,
    enqueue,
    sharing,
    dryRun,
    minConfidence: config.review.min_confidence,
    secrets: secrets.all,
    now,
    modelOf: asking.modelOf,
    onAnswered: semantic.remember,
    judge: asking.judge,
  });
  for (const { job, record } of semantic.reused) {
    await settler.commit(job, record);
    tally.semanticReused(job.entries.length);
  }
  // llm.cascade: calibrated first (its rows answered by both models), then the rest asked small-first.
  const cascade = await cascadeOf(config, asking, { store, dryRun, now, jobs: semantic.ask, labelled, settle: (job, outcome) => settler.settle(job, outcome), signal: options.abort, stop: options.stop });
  const answering = new Answering({
    validator: cascade?.validator ?? validator,
    settler,
    sharing,
    maxWorkers: config.llm.max_workers,
    stop: options.stop,
    abort: options.abort,
    onDeferred: (rows) => tally.deferred(rows),
    onRequest: report,
    board: options.board,
    lookup: options.board ? (key) => store.get(key) : undefined,
  });
  const routes = byModel(cascade?.rest ?? semantic.ask, (job) => asking.modelOf(job.inputs));
  for (const [model, routed] of routes) tally.routed(model, routed.length);
  const { count, requests } = requestsOf(routes, asking.rowsPerRequest);
  if (count > 0) await asking.checkFallbacks(answering.stop);
  await drain(requests, count, config.llm.max_workers, answering.answer);
  // Never judged (nothing answered, no 400 repeated): the ERRORs held back are the rows' own.
  settler.release();
  if (cascade) tally.summary.llm.cascade = cascade.report();

  tally.progress.phase = 'writing';
  report();
  try {
    await writer.close();
  } finally {
    tally.written(writer.stats);
  }
  if (answering.failure !== undefined) throw answering.failure;
}

/**
 * Reads the tab and sorts its rows; keeps the reviewers' verdicts; queues the known
 * verdicts the sheet does not show. Returns the writer and the questions to ask: the
 * rows read are no longer held once this returns, only the rows of those questions.
 */
async function prepare(
  config: Config,
  options: RunOptions,
  store: Store,
  tally: Tally,
  sheets: SheetsClient,
  report: () => void,
): Promise<{ writer: SheetWriter; enqueue: Enqueue; jobs: Job[]; labelled: Labelled[] }> {
  const dryRun = options.dryRun ?? false;
  const now = options.now ?? (() => new Date());
  // Nothing is written here: the headers a write needs are made before the first write (SheetWriter).
  const opened = await openSheet(sheets, layoutConfigOf(config), options.preread);
  tally.read(opened);
  const target = await resultsTarget(config, sheets, opened, tally);
  tally.sheetRead(opened);

  tally.pricing(priceTable(config.pricing), primaryModel(config));
  const staleAfterMs = staleAfterOf(config, options.recheckOlderThanMs);
  // One lookup for all the rows' keys (one read transaction: one snapshot, one round trip), then the sort over it.
  const entries = onlyRows(opened.entries, options.rows);
  const { keyOf, snapshot } = await snapshotOf(store, entries, keyerOf(config));
  // The budget is read after the lookup's await: another target's selection may have taken from it meanwhile.
  const selection = selectWork(entries, keyOf, lookupIn(snapshot, config.review.min_confidence), { force: (options.force ?? false) || options.rows !== undefined, limit: options.limitBudget?.remaining ?? options.limit, staleAfterMs, now: now().getTime() });
  if (options.limitBudget) options.limitBudget.remaining -= selection.jobs.reduce((n, job) => n + job.entries.length, 0);
  // Questions a pending batch job asks are on their way, paid for: never asked twice (invariant 9).
  const { ask, waiting } = setAsidePending(selection.jobs, snapshot.pending);
  tally.selected({ ...selection, jobs: ask });
  tally.waitingForBatch(waiting);
  if (!dryRun) {
    // Reviewers' verdicts are ground truth for those inputs: kept before anything else.
    const recordedAt = now().toISOString();
    if (selection.overrides.length > 0) await store.putOverrides(selection.overrides.map(({ key, override }) => ({ key, ...override, recordedAt })));
  }

  const writer = new SheetWriter(sheets, opened.layout, {
    batchSize: config.output.write_batch_size,
    ...(target ? { target } : {}),
    // output.format: the columns' look is checked (and made) after a run's writes; not on a run that writes nothing, nor an interrupted one.
    afterWrites: async () => {
      if (!options.stop?.aborted) tally.summary.warnings.push(...(await keepColumnLook(sheets, lookPieces(config))));
    },
    onFlush: (stats) => {
      tally.progress.rowsWritten = stats.rowsWritten;
      report();
    },
  });
  const enqueue: Enqueue = (entry, cells, answered = true) => {
    const clearRecheck = answered && isTicked(entry.review.recheck);
    // The identity the write is checked against: hashed only for rows being written.
    if (dryRun) return;
    writer.enqueue({ row: entry.row, id: entry.id, fingerprint: fingerprintOf(entry.id, entry.inputs, entry.review.override), cells, clearRecheck });
    tally.queued(entry, cells.verdict);
  };
  // A known verdict unticks a box only when it answers the request (a batch job's answer, select.ts).
  for (const { entry, cells, answersRecheck } of selection.rewrites) enqueue(entry, cells, answersRecheck === true);
  // A reviewer's verdict labels its row for a cascade's calibration.
  const labelled = config.llm.cascade ? selection.overrides.map(({ key, entry, override }) => ({ key, inputs: entry.inputs, verdict: override.verdict })) : [];
  return { writer, enqueue, jobs: ask, labelled };
}

/** The entries a run works on: all, or those whose id was named. */
function onlyRows(entries: Entry[], ids: readonly string[] | undefined): Entry[] {
  if (ids === undefined) return entries;
  const wanted = new Set(ids);
  return entries.filter((entry) => entry.id !== '' && wanted.has(entry.id));
}
