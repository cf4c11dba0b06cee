import { randomUUID } from 'node:crypto';
import { VerdictJournal, openStore, type Store } from '../cache/index.js';
import type { Config, Secrets } from '../config/index.js';
import { StatusValidatorError, redact } from '../errors.js';
import type { ProviderGate } from '../llm/index.js';
import { buildAsking, type Asking } from './ask.js';
import { recordEnd } from './record-end.js';
import { sheetsClientFor } from './sheet-io.js';
import { openRunSheet } from './run-sheet.js';
import { probeWrite, type CellValues, type ChunkRead, type SheetWriter, type SheetsClient } from '../sheets/index.js';
import { Tally } from './tally.js';
import { RunEvents, reportProgress, type RunEvent, type RunEventSink } from './events.js';
import { LockLostError, holdRunLock, type Every, type HeldLock } from './run-lock.js';
import { localDate } from './plan.js';
import { planOf, type RunPlan } from './run-plan.js';
import { AnswerRun } from './answer-all.js';
import type { QuestionBoard } from './board.js';
import { ChunkSelector } from './chunk-select.js';
import type { Enqueue } from './settle.js';
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
  /**
   * Hears every event of the run as it happens (events.ts), after the run's own counters:
   * what a long-running process's metrics can count. What it throws is ignored (a metric never fails a run).
   */
  onEvent?: (event: RunEvent) => void;
  /** The store the command (or the long-running process) opened: the run uses it and leaves it open. Without one, the run opens the config's own and closes it. */
  store?: Store;
  /**
   * The tab's lock, already taken in `store` for this run's `runId` (serve takes it when it
   * admits a request, so that of several instances only one answers 202): the run holds it
   * instead of taking its own, and releases it at its end as it would its own.
   */
  heldLock?: HeldLock;
}

/** One validation pass: read → select → ask → commit → write → summary. */
export async function runValidation(config: Config, secrets: Secrets, options: RunOptions = {}): Promise<RunSummary> {
  // The config resolved once for this run: below here, the steps take the plan.
  const plan = planOf(config, secrets);
  const runId = options.runId ?? randomUUID();
  try {
    const store = options.store ?? (await openStore(plan.cache));
    try {
      const lock = options.heldLock ?? (options.dryRun ? undefined : await holdRunLock(store, plan.lock, runId, { ...(options.now ? { now: options.now } : {}), ...(options.every ? { every: options.every } : {}) }));
      try {
        return await runHolding(plan, secrets, options, store, runId, lock);
      } finally {
        // Every exit path frees the sheet, whatever failed before (watch and schedule live on).
        await lock?.release();
      }
    } finally {
      // Only what this run opened: a store handed down belongs to its caller.
      if (!options.store) await store.close();
    }
  } finally {
    // A lock handed in is this run's to free, even when the run never got to hold it (release is idempotent).
    await options.heldLock?.release();
  }
}

/** The run itself, lock held: its end is recorded whatever happens, and never fails the run. */
async function runHolding(plan: RunPlan, secrets: Secrets, options: RunOptions, store: Store, runId: string, lock: HeldLock | undefined): Promise<RunSummary> {
  const now = options.now ?? (() => new Date());
  const dryRun = options.dryRun ?? false;
  const tally = new Tally(runId, plan, dryRun, now(), options.warnings ?? [], options.trigger ?? 'cli', options.group);
  tally.pricing(plan.prices, plan.primaryModel);
  // The steps tell what happens; the counters and the progress are built from it.
  const events = new RunEvents();
  tally.listen(events);
  if (options.onProgress) reportProgress(events, () => tally.progress, options.onProgress);
  const onEvent = options.onEvent;
  if (onEvent) {
    events.on((event) => {
      try {
        onEvent(event);
      } catch {
        // Another's listener (metrics): never the run's failure.
      }
    });
  }
  if (lock?.tookOver) events.emit({ type: 'warning', text: lock.tookOver });
  // Sheets calls are never aborted: the last writes are what makes an interrupted run lose nothing.
  const sheets = options.sheets ?? sheetsClientFor(plan, secrets, undefined, () => events.emit({ type: 'sheet-retry' }));
  // Each Sheets call this run makes (reads too, with their 429s) is one of its events, for the metrics; heard until the run's end is recorded.
  const unhear = sheets.onCall((call) => events.emit({ type: 'sheet-call', ...call }));
  // A lost lock stops the run like Ctrl-C: nothing new asked, what is answered written.
  const stop = lock ? AbortSignal.any([lock.lost, ...(options.stop ? [options.stop] : [])]) : options.stop;
  if (!dryRun) await store.runs.start({ id: runId, startedAt: tally.startedAt, trigger: options.trigger ?? 'cli', spreadsheetId: plan.sheets.spreadsheet_id, sheet: plan.sheets.sheet, target: plan.target.name, ...(options.group ? { group: options.group } : {}) });
  if (!dryRun && store.kind === 'postgres') {
    // Answers a run here paid for while the database was unreachable: committed before the
    // selection looks the keys up, so that none of them is asked (and paid for) again.
    const journal = VerdictJournal.forStore(store);
    const committed = await journal.commitTo(store);
    if (committed > 0) events.emit({ type: 'warning', text: `${committed} answer${committed === 1 ? '' : 's'} paid for by an earlier run while the cache was unreachable committed from ${journal.file}` });
  }
  try {
    await execute(plan, secrets, { ...options, runId, ...(stop ? { stop } : {}) }, store, events, sheets);
  } catch (error) {
    if (!(error instanceof StatusValidatorError)) throw error;
    tally.fatal(redact(error.message, secrets.all), error.hint);
  } finally {
    const lost: unknown = lock?.lost.reason;
    // A run stopped by a failure first (the database unreachable, which ends the lock's session too) says that failure; the lost lock is a warning then.
    if (lost instanceof LockLostError) {
      if (tally.summary.fatal === undefined) tally.fatal(redact(lost.message, secrets.all), lost.hint);
      else tally.summary.warnings.push(redact(lost.message, secrets.all));
    }
    if (store.isOpen) {
      const average = await store.averageTokens().catch(() => undefined);
      tally.naive(() => average);
    }
    const summary = tally.finish(now(), options.stop?.aborted ?? false);
    if (!dryRun) await recordEnd(plan, secrets, store, sheets, summary).finally(unhear);
    else unhear();
    options.onProgress?.({ ...tally.progress, phase: 'done' });
  }
  return tally.summary;
}

/** Rows the write queue may hold before the next chunk is selected: answers wait in the store, not in memory, while the writes catch up. */
const QUEUE_BOUND = 25_000;
/**
 * Reads made after the run stopped, only to count the rows left for the next run: the reads
 * grow over empty stretches (chunks.ts), so a few reach the end of most tabs; a large tab
 * left mostly unread is not read whole while the user waits for Ctrl-C to end the run.
 */
const LEFT_READS = 4;

async function execute(plan: RunPlan, secrets: Secrets, options: RunOptions, store: Store, events: RunEventSink, sheets: SheetsClient): Promise<void> {
  const dryRun = options.dryRun ?? false;
  const now = options.now ?? (() => new Date());
  events.emit({ type: 'phase', phase: 'reading' });
  const { writer, enqueue, chunks, readAhead } = await openRunSheet(plan, options, events, sheets);
  const selector = new ChunkSelector(plan, options, store, events, enqueue, dryRun, now);
  // A failure while answering (above all the store unreachable past its patience: a commit
  // that never resolved) or while reading a later chunk stops the run, and what was committed
  // before it is still written: every cell queued so far holds a committed verdict (invariant
  // 2), and answers paid for belong in the sheet now, not in the next run's.
  let failure: Error | undefined;
  let answers: AnswerRun | undefined;
  /**
   * The headers (or the results tab) are made only before the first write, after answers are
   * paid for: on a tab the bot has not written to yet, where a share made read-only by mistake
   * is most likely, write access is checked first with a write no person sees (probeWrite),
   * so that a refusal costs no answer. Made once, by whichever needs it first: the run before
   * it asks, or the writer before its first write that makes something (which waits for it).
   */
  let check: Promise<void> | undefined;
  const checkWrites = (): Promise<void> => {
    if (check === undefined) {
      check = probeWrite(sheets);
      // Awaited by what needs it; a selection that fails first is the run's failure, not an unhandled rejection of this.
      check.catch(() => undefined);
    }
    return check;
  };
  if (!dryRun) writer.checkBeforeMaking(checkWrites);
  let leaving: 'stopped' | 'moved' | undefined;
  let leftReads = 0;
  try {
    // Select, ask and queue as the chunks arrive; the next chunk is read while this one is asked (readChunks).
    // Once the run stops (Ctrl-C, a lost lock) or the tab's columns moved under it, the rows
    // not read yet are counted as left for the next run (rows.deferred), as a whole-tab read
    // counted them: a few more reads, never asked; past LEFT_READS the rest is only said to exist.
    for await (const chunk of chunks) {
      events.emit({ type: 'read', opened: chunk });
      events.emit({ type: 'shown', opened: chunk });
      if (leaving === undefined && chunk.unverified !== undefined) {
        leaving = 'moved';
        events.emit({ type: 'warning', text: chunk.unverified });
      }
      if (leaving !== undefined) {
        events.emit({ type: 'left', rows: onlyNamed(chunk, options.rows) });
        if (++leftReads >= LEFT_READS) {
          events.emit({ type: 'warning', text: `the run stopped reading "${plan.layout.sheet}" at row ${chunk.lastRow}: the rows under it were not counted, and are read next run` });
          break;
        }
        continue;
      }
      // On a tab where no verdict can show yet (every row read will be asked or written), the
      // write check (checkWrites below) is sent before the rows are sorted: its round trip is
      // spent sorting them, not before the first question (bench B1).
      if (!dryRun && check === undefined && chunk.entries.length > 0 && writer.nothingShown) {
        void checkWrites();
        // One turn of the event loop: the Sheets client sends the request only after one,
        // and the work below would otherwise hold it back until it is done.
        await new Promise((resolve) => setImmediate(resolve));
      }
      // The providers are made (the HTTP client loaded, what earlier runs learned read from
      // the store) while the write check travels and the rows are sorted: all three are
      // needed before the first question.
      const asking = answers === undefined ? askingFor(plan, secrets, options, store, events, dryRun, now, afterFirstSent(readAhead)) : undefined;
      asking?.catch(() => undefined);
      // The previous chunk's last answers may still be in flight (AnswerRun): rows under their keys wait for them (`later`).
      const { ask, labelled, later } = await selector.select(chunk, answers !== undefined);
      // Nothing is asked before write access is known, wherever the first write makes
      // something or a check was made (by the writer, too): its failure is the run's, and the
      // questions it never asked are left for the next run.
      const before = !dryRun && ask.length > 0 && (check !== undefined || writer.firstWriteMakes) ? checkWrites() : undefined;
      try {
        await before;
      } catch (error) {
        events.emit({ type: 'deferred', rows: ask.reduce((n, job) => n + job.entries.length, 0) });
        throw error;
      }
      // Made above for the first chunk (its failure, if the check passed, is the run's): the run has no answering yet.
      answers ??= startAnswering(plan, options, store, events, await (asking as Promise<Asking>), { enqueue: selector.answered, dryRun, now, secrets: secrets.all });
      failure = await answers.answer(ask, labelled);
      if (failure === undefined && later.length > 0) {
        // The previous chunk has ended: the verdicts (or ERRORs) those rows wait for are known.
        const again = await selector.select({ ...chunk, entries: later });
        if (again.ask.length > 0) failure = await answers.answer(again.ask, again.labelled);
      } else if (later.length > 0) {
        // The run stopped before they were sorted: left for the next run, as its unasked questions are.
        events.emit({ type: 'left', rows: later.length });
      }
      if (failure !== undefined) break;
      if (options.stop?.aborted) {
        leaving = 'stopped';
        continue;
      }
      await roomInQueue(writer, options.stop);
    }
    // Past the reads: a failure from here on is the run's, even while it stops.
    leaving = undefined;
    const last = await answers?.end();
    failure ??= last;
    await answers?.finish();
  } catch (error) {
    // Before the providers were made (the first rows unreadable, write access refused, no
    // provider usable): nothing was paid for, and the tab is left as it was.
    if (answers === undefined) throw error;
    // A read made only to count the rows left (the run already stopping): a warning, not the run's failure.
    if (leaving !== undefined) events.emit({ type: 'warning', text: `the rows of "${plan.layout.sheet}" left for the next run could not all be counted: ${redact(error instanceof Error ? error.message : String(error), secrets.all)}` });
    else failure = error instanceof Error ? error : new Error(String(error));
  }
  // A failure above (a later chunk unreadable) may have left the last chunk's answers in
  // flight: they are committed and queued before the final writes.
  await answers?.end();
  // The answer sizes learned, for the next run to start from, whatever stopped the run: saved
  // while the last writes travel (the store and the sheet wait on each other for nothing; a
  // failure to save is a warning, never the run's).
  const sizesSaved = answers?.saveAnswerSizes();

  events.emit({ type: 'phase', phase: 'writing' });
  try {
    await writer.close();
  } catch (error) {
    if (failure === undefined) throw error;
    events.emit({ type: 'warning', text: `some verdicts could not be written to the sheet after the run stopped: ${redact(error instanceof Error ? error.message : String(error), secrets.all)}` });
  } finally {
    await sizesSaved;
    events.emit({ type: 'written', stats: writer.stats });
  }
  if (failure !== undefined) throw failure;
}

/** The providers and what asks them, made with the first chunk, while its rows are sorted and the write check travels. */
function askingFor(plan: RunPlan, secrets: Secrets, options: RunOptions, store: Store, events: RunEventSink, dryRun: boolean, now: () => Date, onSent: () => void): Promise<Asking> {
  return buildAsking(plan, {
    today: localDate(now()),
    onRetry: (retry) => events.emit({ type: 'retried', retry }),
    onCall: (provider, model, usage, billed, failed) => events.emit({ type: 'asked', provider, model, usage, billed, ...(failed ? { failed } : {}) }),
    onFlex: (flex) => events.emit({ type: 'flex', flex }),
    onConnectionFailure: () => events.emit({ type: 'connection-failure' }),
    onAskedAgain: () => events.emit({ type: 'asked-again' }),
    onSent,
    onWarning: (text) => events.emit({ type: 'warning', text: redact(text, secrets.all) }),
    limits: dryRun ? undefined : store.limitMemory(),
    fields: dryRun ? undefined : store.fieldMemory(),
    sizes: dryRun ? undefined : store.answerSizes,
    gates: options.gates,
  });
}

/**
 * The rest of the tab is read once the run's first question is on its way (StreamedSheet.readAhead):
 * read sooner, its answer (a chunk of a thousand rows or more, ~10 ms to take in) arrives
 * while the first rows are sorted and the write access checked, and holds back the first
 * question, which every worker then waits behind (the probe: src/llm/gate-core.ts; bench
 * B1). Read then, it arrives during the model's latency, when the run has nothing else to
 * do. Told as the request is written (ValidatorOptions.onSent); the read starts once that
 * write is done.
 */
function afterFirstSent(readAhead: () => void): () => void {
  let sent = false;
  return () => {
    if (sent) return;
    sent = true;
    setImmediate(readAhead);
  };
}

/** The run's answering, from the providers made. */
function startAnswering(plan: RunPlan, options: RunOptions, store: Store, events: RunEventSink, asking: Asking, run: { enqueue: Enqueue; dryRun: boolean; now: () => Date; secrets: readonly string[] }): AnswerRun {
  events.emit({ type: 'prompt-cache-key', key: asking.promptCacheKeys.join(', ') });
  events.emit({ type: 'phase', phase: 'validating' });
  return new AnswerRun(plan, options, store, events, asking, run);
}

/** Back-pressure: while the writes lag (the write quota sets their pace), no more rows are read and asked. */
async function roomInQueue(writer: SheetWriter, stop: AbortSignal | undefined): Promise<void> {
  while (writer.pendingCount > QUEUE_BOUND && writer.error === undefined && !stop?.aborted) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** The data rows of a chunk not read to be asked (the named rows only, for a run of named rows): left for the next run. */
function onlyNamed(chunk: ChunkRead, ids: readonly string[] | undefined): number {
  if (ids === undefined) return chunk.entries.length;
  const wanted = new Set(ids);
  return chunk.entries.filter((entry) => entry.id !== '' && wanted.has(entry.id)).length;
}
