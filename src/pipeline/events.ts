import type { WaitingForBatch } from './pending.js';
import type { BilledTier, RetryEvent, Usage } from '../llm/index.js';
import type { CascadeReport } from './cascade/index.js';
import type { Entry, OpenedSheet, WriterStats } from '../sheets/index.js';
import type { Progress } from './run.js';
import type { Selection } from './select.js';

/**
 * What happens in a run, as it happens: the steps say it here, and the run's counters
 * (the Tally, the progress reporter, and whoever else listens: RunOptions.onEvent) are
 * built from it. No step reads or pokes another's counters.
 */
export type RunEvent =
  /** The tab was read: its rows, and those skipped as incomplete. */
  | { type: 'read'; opened: Pick<OpenedSheet, 'entries' | 'incomplete'> }
  /** The verdict cells as the run found them (results-tab lines laid over the entries). */
  | { type: 'shown'; opened: Pick<OpenedSheet, 'entries' | 'incomplete'> }
  | { type: 'selected'; selection: Selection }
  /** Rows set aside for pending batch jobs (after `selected`). */
  | { type: 'waiting'; waiting: readonly WaitingForBatch[] }
  /** Questions sent to a model (routing's split). */
  | { type: 'routed'; model: string; questions: number }
  /** A call answered by a provider, with its usage (a retried call is several); `failed` when it answered with an error ('rate_limited': a 429). */
  | { type: 'asked'; provider: string; model: string; usage: Usage; billed: BilledTier; failed?: 'rate_limited' | 'failed' }
  /** llm.cascade: what the cascade did (kept, escalated, calibration rows, the bound), once its questions are answered. */
  | { type: 'cascade'; report: CascadeReport }
  /** Flex at work: a request sent at flex, a capacity refusal, a question sent again at auto. */
  | { type: 'flex'; flex: 'sent' | 'refused' | 'fell_back' }
  /** A request that never reached its provider. */
  | { type: 'connection-failure' }
  /** An answer cut at the learned answer size, asked again at the full max_completion_tokens (llm.learn_answer_size). */
  | { type: 'asked-again' }
  | { type: 'retried'; retry: RetryEvent }
  /** A question's answer arrived (after any retries): its total usage. */
  | { type: 'answered'; usage: Usage }
  /** A verdict committed to the store for `rows` rows (a question's, a near-duplicate's, a reused one). */
  | { type: 'committed'; verdict: 'VALID' | 'INVALID'; rows: number; unsure: boolean }
  /** A row given the answer this run committed for an earlier chunk's twin (streamed read). */
  /** Rows not read to be asked because the run stopped (or the columns moved) before their chunk: left for the next run. */
  | { type: 'left'; rows: number }
  | { type: 'shared-verdict'; verdict: 'VALID' | 'INVALID'; unsure: boolean }
  /** Rows that end in ERROR. */
  | { type: 'error'; entries: readonly Entry[]; reason: string }
  /** Rows not asked this run (stopped before their turn, or their request failed the run). */
  | { type: 'deferred'; rows: number }
  /** A request finished, whatever its outcome. */
  | { type: 'request-done' }
  | { type: 'semantic-reused'; rows: number }
  | { type: 'fuzzy-shared'; rows: number }
  /** A row's cells queued for writing: the sheet shows `verdict` once the write goes through. */
  | { type: 'queued'; entry: Pick<Entry, 'row' | 'id' | 'outputs'>; verdict: string }
  /** A flush went through: the rows written so far. */
  | { type: 'flushed'; rowsWritten: number }
  /** The writer closed: what it did. */
  | { type: 'written'; stats: WriterStats }
  | { type: 'sheet-retry' }
  /** A Sheets API call went out (each attempt): its kind, and the HTTP status it failed with, if it failed (429: throttled). */
  | { type: 'sheet-call'; kind: 'read' | 'write'; status?: number | undefined; failed: boolean }
  | { type: 'warning'; text: string }
  /** The prompt_cache_key of each model asked first, as the summary shows them. */
  | { type: 'prompt-cache-key'; key: string }
  | { type: 'phase'; phase: Exclude<Progress['phase'], 'done'> };

/** Where a step tells what happened. */
export interface RunEventSink {
  emit(event: RunEvent): void;
}

export type RunListener = (event: RunEvent) => void;

/**
 * A run's event channel: each event goes to every listener, in the order they listened,
 * before `emit` returns (the counters are up to date when the step goes on). A listener
 * that throws is a bug in it, thrown to the step that emitted once every listener has heard
 * the event (the counters stay whole). A listener that must never fail the run guards itself.
 */
export class RunEvents implements RunEventSink {
  private readonly listeners: RunListener[] = [];

  /** Listens until the returned function is called. */
  on(listener: RunListener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  emit(event: RunEvent): void {
    let failure: Error | undefined;
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        failure ??= error instanceof Error ? error : new Error('a listener of the run\'s events threw something other than an Error');
      }
    }
    if (failure !== undefined) throw failure;
  }
}

/**
 * The progress reporter: after each event that moves the progress (a phase, a retry, a
 * request done, a flush), the caller hears the run's progress (read once the Tally, which
 * listened first, has counted the event).
 */
export function reportProgress(events: RunEvents, progress: () => Progress, onProgress: (progress: Progress) => void): () => void {
  return events.on((event) => {
    if (event.type === 'phase' || event.type === 'retried' || event.type === 'request-done' || event.type === 'flushed') onProgress(progress());
  });
}
