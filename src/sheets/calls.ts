import { SheetsError } from '../errors.js';
import { backoffDelay, retryAfterMs, sleep, type BackoffOptions } from '../retry/index.js';
import { explainFailure, headersOf, statusOf, type FailedSheet } from './failure.js';
import type { QuotaPacer } from './quota.js';

/** One attempt of a Sheets API call: its kind, and the HTTP status it failed with (none: a network error) when `failed`. */
export type SheetsCallListener = (call: { kind: 'read' | 'write'; failed: boolean; status?: number | undefined }) => void;

export interface SheetsCallsOptions {
  /** The spreadsheet called, for the messages of failed calls. */
  sheet: FailedSheet;
  reads: QuotaPacer;
  writes: QuotaPacer;
  /** Retries of one call on 429 / 5xx / network errors. */
  maxRetries?: number | undefined;
  backoff?: BackoffOptions | undefined;
  signal?: AbortSignal | undefined;
  /** Told about each retry, for the run's counters and progress. */
  onRetry?: ((info: { kind: 'read' | 'write'; what: string; attempt: number; waitMs: number; status?: number | undefined }) => void) | undefined;
}

/**
 * How every Sheets API call is made: through the read or write pacer (Sheets' per-minute
 * quotas), retried on 429 / 5xx / network errors with backoff, told to the listeners, and
 * failed with a SheetsError that says what to do.
 */
export class SheetsCalls {
  private readonly listeners = new Set<SheetsCallListener>();

  constructor(private readonly options: SheetsCallsOptions) {}

  /** Hears of every call's attempt (a run's metrics, while it runs) until the returned function is called; a listener that throws is ignored. */
  onCall(listener: SheetsCallListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private told(call: Parameters<SheetsCallListener>[0]): void {
    for (const listener of this.listeners) {
      try {
        listener(call);
      } catch {
        // A listener's bug (metrics) never fails a Sheets call.
      }
    }
  }

  /** Sends a call, paced and retried (`retries`: this call's own limit, else the client's); `what` names it in messages. */
  async call<T>(kind: 'read' | 'write', what: string, retries: number | undefined, send: () => Promise<T>): Promise<T> {
    const maxRetries = retries ?? this.options.maxRetries ?? 6;
    const pacer = kind === 'read' ? this.options.reads : this.options.writes;
    for (let attempt = 0; ; attempt++) {
      await pacer.take(this.options.signal);
      try {
        const result = await send();
        this.told({ kind, failed: false });
        return result;
      } catch (error) {
        this.told({ kind, failed: true, status: statusOf(error) });
        const waitMs = this.retryWait(kind, error, attempt, maxRetries, what);
        if (waitMs === undefined) throw explainFailure(error, what, attempt, this.options.sheet);
        await sleep(waitMs, this.options.signal);
      }
    }
  }

  /**
   * For callers that retry themselves (`write(…, { retry: false })`): when the failure
   * of attempt `attempt` (0 = the first) is worth another try, waits as long as Sheets
   * asked (Retry-After) or the backoff says, and returns true; false when it is not.
   */
  async retryPause(kind: 'read' | 'write', error: unknown, attempt: number): Promise<boolean> {
    const raw = error instanceof SheetsError && error.cause !== undefined ? error.cause : error;
    const waitMs = this.retryWait(kind, raw, attempt, this.options.maxRetries ?? 6, 'retry a write');
    if (waitMs === undefined) return false;
    await sleep(waitMs, this.options.signal);
    return true;
  }

  /** How long to wait before retrying a failed call (telling the pacer and onRetry), or undefined: give up. */
  private retryWait(kind: 'read' | 'write', error: unknown, attempt: number, maxRetries: number, what: string): number | undefined {
    const status = statusOf(error);
    const transient = status === undefined || status === 408 || status === 429 || status >= 500;
    if (!transient || attempt >= maxRetries || this.options.signal?.aborted) return undefined;
    const waitMs = retryAfterMs(headersOf(error)) ?? backoffDelay(attempt, this.options.backoff);
    if (status === 429) (kind === 'read' ? this.options.reads : this.options.writes).penalize(waitMs);
    this.options.onRetry?.({ kind, what, attempt: attempt + 1, waitMs, status });
    return waitMs;
  }
}
