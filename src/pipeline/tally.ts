import type { WaitingForBatch } from './pending.js';
import { naiveCostOf, priceOf, tierCostOf, type BilledTier, type PriceTable, type Usage } from '../llm/index.js';
import type { Entry, OpenedSheet, WriterStats } from '../sheets/index.js';
import type { Selection } from './select.js';
import { plural, rowList } from '../plural.js';
import { ShownCounts } from './shown.js';
import type { Progress } from './run.js';
import type { RunEvent, RunEventSink, RunEvents } from './events.js';
import { zeroCounters, type RunStatus, type RunSummary } from './summary.js';

/** How many newly INVALID rows a summary lists (all are counted): a notification shows fewer. */
const NEWLY_INVALID_KEPT = 100;
/** How many incomplete rows the warning names (all are counted): rowList shows ten, then "…". */
const INCOMPLETE_NAMED = 11;

/**
 * Accumulates what a run does, as it does it, into its RunSummary: a listener of the
 * run's events (`listen`), or told them directly (`emit`, a RunEventSink: a unit test's
 * settler). The run's start and end (pricing, a fatal error, finish) are told by the run.
 */
export class Tally implements RunEventSink {
  readonly summary: RunSummary;
  readonly progress: Progress = { phase: 'reading', questions: 0, answered: 0, errors: 0, retries: 0, rowsWritten: 0, costUsd: 0 };
  readonly startedAt: string;
  private readonly started: number;
  /** Tokens of the answers received, to price the naive way (one full call per row). */
  private readonly answered = { count: 0, promptTokens: 0, completionTokens: 0 };
  private prices: PriceTable = {};
  /** Each model's usage per billed tier: flex and priority answers are priced apart. */
  private readonly tiers = new Map<string, Map<BilledTier, Usage>>();
  private primaryModel = '';
  /** The verdict cells read, and the writes queued: what the sheet shows at the end. */
  private readonly shown = new ShownCounts();
  /** Where the writer put the verdicts of rows that moved (read-time row → written row): the writer's own map, not a copy. */
  private writtenAt: ReadonlyMap<number, number> = new Map();
  private readonly incompleteRows: number[] = [];
  private rowWarningsAt: number | undefined;
  private readonly unreadable: number[] = [];
  private unreadableCount = 0;
  private readonly underOverride: number[] = [];
  private underOverrideCount = 0;

  /** `config`: the run's target, a Config or the RunPlan resolved from it. */
  constructor(runId: string, config: { target: { name: string }; sheets: { spreadsheet_id: string; sheet: string } }, dryRun: boolean, start: Date, warnings: string[], trigger: string, group?: string) {
    this.started = start.getTime();
    this.startedAt = start.toISOString();
    this.summary = {
      runId,
      status: 'completed',
      trigger,
      target: config.target.name,
      ...(group === undefined ? {} : { group }),
      dryRun,
      spreadsheetId: config.sheets.spreadsheet_id,
      sheet: config.sheets.sheet,
      startedAt: this.startedAt,
      endedAt: this.startedAt,
      ...zeroCounters(),
      warnings: [...warnings],
    };
  }

  /** Builds the counters from the run's events from now on. */
  listen(events: RunEvents): () => void {
    return events.on((event) => this.emit(event));
  }

  /** Counts one event of the run. */
  emit(event: RunEvent): void {
    switch (event.type) {
      case 'read':
        return this.read(event.opened);
      case 'shown':
        return this.sheetRead(event.opened);
      case 'selected':
        return this.selected(event.selection);
      case 'waiting':
        return this.waitingForBatch(event.waiting);
      case 'routed':
        return this.routed(event.model, event.questions);
      case 'asked':
        return this.call(event.model, event.usage, event.billed);
      case 'flex':
        return this.flex(event.flex);
      case 'asked-again':
        this.summary.llm.askedAgainAtFullCap = (this.summary.llm.askedAgainAtFullCap ?? 0) + 1;
        return;
      case 'cascade':
        this.summary.llm.cascade = event.report;
        return;
      case 'connection-failure':
        return this.connectionFailure();
      case 'retried':
        this.progress.retries++;
        return;
      case 'answered':
        return this.answer(event.usage);
      case 'committed':
        return this.verdict(event.verdict, event.rows, event.unsure);
      case 'left':
        this.summary.rows.deferred += event.rows;
        return;
      case 'shared-verdict':
        return this.sharedVerdict(event.verdict, event.unsure);
      case 'error':
        return this.error(event.entries, event.reason);
      case 'deferred':
        return this.deferred(event.rows);
      case 'semantic-reused':
        return this.semanticReused(event.rows);
      case 'fuzzy-shared':
        return this.fuzzyShared(event.rows);
      case 'queued':
        return this.queued(event.entry, event.verdict);
      case 'flushed':
        this.progress.rowsWritten = event.rowsWritten;
        return;
      case 'written':
        return this.written(event.stats);
      case 'sheet-retry':
        return this.sheetRetry();
      case 'warning':
        this.summary.warnings.push(event.text);
        return;
      case 'prompt-cache-key':
        this.promptCacheKey = event.key;
        return;
      case 'phase':
        this.progress.phase = event.phase;
        return;
      case 'request-done':
        return;
    }
  }

  /** The price table and the model a naive run would have called. */
  pricing(prices: PriceTable, primaryModel: string): void {
    this.prices = prices;
    this.primaryModel = primaryModel;
  }

  set promptCacheKey(key: string) {
    this.summary.llm.promptCacheKey = key;
  }

  /** Rows read (a streamed read tells each chunk): counted, and the first incomplete ones kept to name them. */
  read(opened: Pick<OpenedSheet, 'entries' | 'incomplete'>): void {
    // The rows' warnings go where the whole-tab read put them: after those told before the read.
    this.rowWarningsAt ??= this.summary.warnings.length;
    this.summary.rows.read += opened.entries.length + opened.incomplete.length;
    this.summary.rows.incomplete += opened.incomplete.length;
    for (const row of opened.incomplete) if (this.incompleteRows.length < INCOMPLETE_NAMED) this.incompleteRows.push(row);
  }

  /** The verdict cells as the run found them (call once a results tab's lines are laid over the entries). */
  sheetRead(opened: Pick<OpenedSheet, 'entries' | 'incomplete'>): void {
    this.shown.read(opened.entries, opened.incomplete.length);
  }

  /** A row's cells queued for writing: the sheet shows `verdict` there once the write goes through. */
  queued(entry: Pick<Entry, 'row' | 'id' | 'outputs'>, verdict: string): void {
    this.shown.queue(entry, verdict);
  }

  /** One selection's rows (a streamed read selects chunk by chunk): added to the run's counts. */
  selected(selection: Selection): void {
    const rows = this.summary.rows;
    rows.upToDate += selection.upToDate;
    const shared = selection.shared ?? [];
    rows.fromCache += selection.rewrites.length - shared.filter((s) => s.rewrite).length;
    // A twin of a question this run asked in an earlier chunk: asked and deduplicated, as in one selection.
    rows.asked += selection.jobs.reduce((n, job) => n + job.entries.length, 0) + shared.length;
    rows.deduplicated += selection.deduplicated + shared.length;
    rows.deferred += selection.deferred;
    rows.rechecked += selection.rechecked;
    rows.overridden += selection.overrides.length;
    for (const row of selection.unreadableOverrides) if (this.unreadable.length < INCOMPLETE_NAMED) this.unreadable.push(row);
    this.unreadableCount += selection.unreadableOverrides.length;
    for (const row of selection.recheckUnderOverride) if (this.underOverride.length < INCOMPLETE_NAMED) this.underOverride.push(row);
    this.underOverrideCount += selection.recheckUnderOverride.length;
    this.summary.llm.questions += selection.jobs.length;
    this.progress.questions += selection.jobs.length;
  }

  /** The warnings about rows, once all are read (each names the first rows, as rowList shows them). */
  private rowWarnings(): void {
    const at = this.rowWarningsAt ?? this.summary.warnings.length;
    const told = this.summary.warnings.splice(at);
    const incomplete = this.summary.rows.incomplete;
    if (incomplete > 0) {
      const many = incomplete !== 1;
      this.summary.warnings.push(`${plural(incomplete, 'row')} ${many ? 'have' : 'has'} neither status nor comment and ${many ? 'were' : 'was'} skipped (${rowList(this.incompleteRows, 10, incomplete)})`);
    }
    if (this.unreadableCount > 0) {
      this.summary.warnings.push(
        `${this.unreadableCount === 1 ? 'reviewer verdict' : 'reviewer verdicts'} not understood in ${rowList(this.unreadable, 10, this.unreadableCount)}: write VALID or INVALID, then an optional note`,
      );
    }
    const under = this.underOverrideCount;
    if (under > 0) {
      this.summary.warnings.push(
        `${under === 1 ? 'recheck box ticked in' : 'recheck boxes ticked in'} ${rowList(this.underOverride, 10, under)} ${under === 1 ? 'was' : 'were'} left ticked: a reviewer's verdict stands there; clear the reviewer verdict cell to have the model check the row again`,
      );
    }
    this.summary.warnings.push(...told);
  }

  /** Rows set aside for pending batch jobs (after `selected`): not asked, not counted as identical-row shares. */
  waitingForBatch(waiting: readonly WaitingForBatch[]): void {
    for (const w of waiting) {
      // A batch job's questions may come in several chunks: one line per job.
      const same = this.summary.waitingForBatch.find((line) => line.batchId === w.batchId);
      if (same) {
        same.questions += w.questions;
        same.rows += w.rows;
      } else this.summary.waitingForBatch.push({ batchId: w.batchId, submittedAt: w.submittedAt, questions: w.questions, rows: w.rows });
      this.summary.rows.waitingForBatch += w.rows;
      this.summary.rows.deduplicated -= w.rows - w.questions;
    }
  }

  /** A request that never reached its provider: counted apart from the calls. */
  connectionFailure(): void {
    this.summary.llm.connectionFailures++;
  }

  call(model: string, usage: Usage, billed: BilledTier = 'standard'): void {
    const llm = this.summary.llm;
    llm.calls++;
    llm.promptTokens += usage.promptTokens;
    llm.completionTokens += usage.completionTokens;
    llm.cachedTokens += usage.cachedTokens;
    const entry = (llm.byModel[model] ??= { calls: 0, promptTokens: 0, completionTokens: 0, cachedTokens: 0, costUsd: 0 });
    entry.calls++;
    entry.promptTokens += usage.promptTokens;
    entry.completionTokens += usage.completionTokens;
    entry.cachedTokens += usage.cachedTokens;
    const byTier = this.tiers.get(model) ?? new Map<BilledTier, Usage>();
    this.tiers.set(model, byTier);
    const inTier = byTier.get(billed) ?? { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };
    byTier.set(billed, { promptTokens: inTier.promptTokens + usage.promptTokens, completionTokens: inTier.completionTokens + usage.completionTokens, cachedTokens: inTier.cachedTokens + usage.cachedTokens });
    const price = priceOf(model, this.prices);
    entry.costUsd = price ? sumOrNull([...byTier].map(([tier, used]) => tierCostOf(used, price, tier))) : null;
    this.progress.costUsd = totalCost(llm.byModel);
  }

  /** Flex at work (ValidatorOptions.onFlex, fired in src/llm/attempts.ts): counted in llm.flex. */
  flex(event: 'sent' | 'refused' | 'fell_back'): void {
    const counts = (this.summary.llm.flex ??= { requests: 0, capacityRefusals: 0, fellBack: 0 });
    if (event === 'sent') counts.requests++;
    else if (event === 'refused') counts.capacityRefusals++;
    else counts.fellBack++;
  }

  /** An answer arrived (after any retries): its total usage prices the naive baseline. */
  answer(usage: Usage): void {
    this.answered.count++;
    this.answered.promptTokens += usage.promptTokens;
    this.answered.completionTokens += usage.completionTokens;
  }

  /**
   * The naive way: every row this run handled asked in one full-price, uncached call. Priced
   * from this run's answers, or from the cache's averages when nothing was asked.
   */
  naive(fallback: () => { promptTokens: number; completionTokens: number } | undefined): void {
    const price = priceOf(this.primaryModel, this.prices);
    // Like with like: the rows this run handled, not those left for later (--limit, an
    // interruption, a pending batch job), whose answers this run's cost does not include.
    const { read, incomplete, deferred, waitingForBatch } = this.summary.rows;
    const rows = read - incomplete - deferred - waitingForBatch;
    const average =
      this.answered.count > 0
        ? { promptTokens: this.answered.promptTokens / this.answered.count, completionTokens: this.answered.completionTokens / this.answered.count }
        : fallback();
    if (!price || !average || rows === 0) return;
    this.summary.llm.naiveCostUsd = rows * naiveCostOf(average.promptTokens, average.completionTokens, price);
  }

  verdict(verdict: 'VALID' | 'INVALID', rows: number, unsure: boolean): void {
    if (verdict === 'VALID') this.summary.verdicts.valid += rows;
    else this.summary.verdicts.invalid += rows;
    if (unsure) this.summary.verdicts.needsReview += rows;
    this.progress.answered++;
  }

  /** A row that took the answer this run paid for an earlier chunk's twin: counted among the verdicts, as that twin's row is (no question answered). */
  sharedVerdict(verdict: 'VALID' | 'INVALID', unsure: boolean): void {
    if (verdict === 'VALID') this.summary.verdicts.valid++;
    else this.summary.verdicts.invalid++;
    if (unsure) this.summary.verdicts.needsReview++;
  }

  error(entries: readonly Entry[], reason: string): void {
    this.summary.verdicts.error += entries.length;
    for (const entry of entries) this.summary.errors.push({ row: entry.row, id: entry.id, reason });
    this.progress.answered++;
    this.progress.errors++;
  }

  deferred(rows: number): void {
    this.summary.rows.deferred += rows;
    this.summary.rows.asked -= rows;
  }

  /** Questions sent to each model (routing shows its split here). */
  routed(model: string, questions: number): void {
    this.summary.llm.routing[model] = (this.summary.llm.routing[model] ?? 0) + questions;
  }

  semanticReused(rows: number): void {
    this.summary.rows.semanticReused += rows;
  }

  fuzzyShared(rows: number): void {
    this.summary.rows.fuzzyShared += rows;
  }

  sheetRetry(): void {
    this.summary.writes.sheetRetries++;
  }

  written(stats: WriterStats): void {
    const writes = this.summary.writes;
    writes.calls = stats.writeCalls;
    writes.rowsWritten = stats.rowsWritten;
    writes.rowsMoved = stats.rowsMoved;
    writes.skipped = [...stats.skipped];
    writes.headersAdded = [...stats.headersAdded];
    writes.stopped = stats.stopped ? [stats.stopped] : [];
    writes.rowsNotWritten = stats.rowsNotWritten;
    // Not copied: only the few rows a notification links are looked up in it.
    this.writtenAt = stats.writtenAt;
  }

  fatal(message: string, hint: string | undefined): void {
    this.summary.fatal = hint === undefined ? { message } : { message, hint };
  }

  finish(end: Date, interrupted: boolean): RunSummary {
    const s = this.summary;
    this.rowWarnings();
    s.endedAt = end.toISOString();
    s.wallMs = end.getTime() - this.started;
    s.llm.retries = this.progress.retries;
    s.llm.costUsd = totalCost(s.llm.byModel);
    s.sheetShows = this.shown.after(s.writes);
    if (s.writes.rowsWritten > 0) s.newlyInvalid = this.shown.newlyInvalid(s.writes, NEWLY_INVALID_KEPT, this.writtenAt);
    s.llm.cacheHitRate = s.llm.promptTokens > 0 ? s.llm.cachedTokens / s.llm.promptTokens : null;
    s.llm.savedUsd = s.llm.naiveCostUsd === null || s.llm.costUsd === null ? null : s.llm.naiveCostUsd - s.llm.costUsd;
    // Rows left unwritten by a vanished header are like rows in ERROR: the run is done, a
    // person fixes the sheet, and the next run writes them from the cache (exit 3).
    let status: RunStatus = s.verdicts.error > 0 || s.writes.stopped.length > 0 ? 'completed_with_errors' : 'completed';
    if (interrupted) status = 'interrupted';
    if (s.fatal) status = 'failed';
    s.status = status;
    return s;
  }
}

function sumOrNull(costs: ReadonlyArray<number | null>): number | null {
  return costs.some((c) => c === null) ? null : costs.reduce<number>((a, c) => a + (c ?? 0), 0);
}

/** The cost of all models' calls; null when a model's price is unknown. */
function totalCost(byModel: RunSummary['llm']['byModel']): number | null {
  let sum = 0;
  for (const m of Object.values(byModel)) {
    if (m.costUsd === null) return null;
    sum += m.costUsd;
  }
  return sum;
}
