import type { CascadeReport } from './cascade/report.js';
import type { LostHeader, SkippedWrite } from '../sheets/index.js';

export type RunStatus = 'completed' | 'completed_with_errors' | 'interrupted' | 'failed';

export interface ModelUsage {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  /** null when the model's price is unknown. */
  costUsd: number | null;
}

/**
 * What the tab's verdict column shows once the run is over: every row read, by what its
 * verdict cell says (what this run wrote included). Told apart from the run's own answers
 * (RunSummary.verdicts), which are only the rows this run asked about: a second run asks
 * nothing and finds a sheet full of verdicts.
 */
export interface SheetCounts {
  /** Every row read (the same as rows.read); the fields below add up to it. */
  rows: number;
  valid: number;
  invalid: number;
  /** NEEDS REVIEW: the model was unsure (review.min_confidence). */
  needsReview: number;
  error: number;
  /** VALID (reviewer) / INVALID (reviewer): a reviewer's verdict stands. */
  reviewerValid: number;
  reviewerInvalid: number;
  /** Verdict cell empty: not checked yet (deferred by --limit, a dry run, a failed write...). */
  unchecked: number;
  /** Rows with neither status nor comment: not checked, their cells not looked at. */
  incomplete: number;
  /** Anything else in the verdict cell (typed by a person). */
  other: number;
}

/** What a run did and cost: rendered for the terminal, printed as --json, stored in SQLite. */
export interface FlexCounts {
  requests: number;
  capacityRefusals: number;
  fellBack: number;
}

export interface RunSummary {
  runId: string;
  status: RunStatus;
  /** What started it: cli, schedule, watch, serve. */
  trigger: string;
  /** The config's target this run checked (a file without targets: its tab). */
  target: string;
  /** The id shared by the runs of all targets started together (one `run` over a portfolio). */
  group?: string;
  dryRun: boolean;
  spreadsheetId: string;
  sheet: string;
  startedAt: string;
  endedAt: string;
  wallMs: number;
  rows: {
    read: number;
    /** Rows with neither status nor comment (an id or date only): skipped. */
    incomplete: number;
    upToDate: number;
    /** Rows answered from the cache whose cells needed (re)writing. */
    fromCache: number;
    /** Rows that needed a new answer. */
    asked: number;
    /** Of those, rows that shared a question with an identical row. */
    deduplicated: number;
    /** Rows left for a later run by --limit or an interruption. */
    deferred: number;
    /** Rows asked again because their recheck box was ticked or their verdict was old. */
    rechecked: number;
    /** Rows carrying a reviewer's verdict. */
    overridden: number;
    /** Rows that shared the answer of a near-duplicate (dedup.fuzzy_threshold). */
    fuzzyShared: number;
    /** Rows that reused a similar row's verdict (cache.semantic). */
    semanticReused: number;
    /** Rows not asked because a pending Batch API job asks the same question (see waitingForBatch). */
    waitingForBatch: number;
  };
  /** The pending Batch API jobs this run left rows to, oldest first. */
  waitingForBatch: Array<{ batchId: string; submittedAt: string; questions: number; rows: number }>;
  llm: {
    calls: number;
    retries: number;
    /** Requests that never reached a provider (refused, DNS, TLS): not calls, nothing paid. */
    connectionFailures: number;
    questions: number;
    promptTokens: number;
    completionTokens: number;
    cachedTokens: number;
    /** cachedTokens / promptTokens: how well the provider's prompt cache served the run. */
    cacheHitRate: number | null;
    costUsd: number | null;
    /** What the naive way would have cost: one full-price, uncached call per row. */
    naiveCostUsd: number | null;
    /** naiveCostUsd − costUsd: what the cache, dedup and prompt caching saved. */
    savedUsd: number | null;
    byModel: Record<string, ModelUsage>;
    /** Questions per model asked first (with llm.routing: the small/large split). */
    routing: Record<string, number>;
    /** With llm.cascade: rows kept by the small model, escalated, the calibration and the cost against large-only. */
    cascade?: CascadeReport;
    promptCacheKey: string;
    /**
     * Answers cut at the learned answer size (llm.learn_answer_size) and asked again at the
     * full max_completion_tokens: each cost one more request, never a row.
     */
    askedAgainAtFullCap?: number;
    /**
     * Flex processing (llm.providers[].service_tier flex), when any request went flex:
     * requests sent at flex, those refused for capacity (unbilled), and the questions sent
     * again at auto after FLEX_RETRIES refusals.
     */
    flex?: FlexCounts;
  };
  /**
   * This run's answers, for the rows it asked about (a second run: zeros). needsReview
   * counts rows (of valid + invalid) below review.min_confidence.
   */
  verdicts: { valid: number; invalid: number; error: number; needsReview: number };
  /** What the tab shows now, over all its rows; null when the tab was not read (the run failed first). */
  sheetShows: SheetCounts | null;
  writes: {
    calls: number;
    rowsWritten: number;
    rowsMoved: number;
    skipped: SkippedWrite[];
    sheetRetries: number;
    headersAdded: string[];
    /**
     * Tabs no longer written this run because a header the bot needs vanished (renamed,
     * cleared, its column deleted): their verdicts stay cached for the next run.
     */
    stopped: LostHeader[];
    /** Rows whose verdict was not written because of that. */
    rowsNotWritten: number;
  };
  errors: Array<{ row: number; id: string; reason: string }>;
  /**
   * Rows this run's writes turned INVALID where the sheet did not show INVALID before
   * (what `notify: on: invalid` reports): their count, and the first NEWLY_INVALID_KEPT
   * by the row where they were read. Absent on a run that wrote nothing.
   */
  newlyInvalid?: { count: number; rows: Array<{ row: number; id: string }> };
  warnings: string[];
  fatal?: { message: string; hint?: string };
}

/** A summary's counters before anything was counted: a run's start, or a run that failed before reading. */
export type ZeroCounters = Pick<RunSummary, 'wallMs' | 'rows' | 'waitingForBatch' | 'llm' | 'verdicts' | 'sheetShows' | 'writes' | 'errors'>;

/** Every counter at zero, fresh objects each call (the Tally adds to them in place). Keys in the summary's order. */
export function zeroCounters(): ZeroCounters {
  return {
    wallMs: 0,
    rows: { read: 0, incomplete: 0, upToDate: 0, fromCache: 0, asked: 0, deduplicated: 0, deferred: 0, rechecked: 0, overridden: 0, fuzzyShared: 0, semanticReused: 0, waitingForBatch: 0 },
    waitingForBatch: [],
    llm: { calls: 0, retries: 0, connectionFailures: 0, questions: 0, promptTokens: 0, completionTokens: 0, cachedTokens: 0, cacheHitRate: null, costUsd: 0, naiveCostUsd: null, savedUsd: null, byModel: {}, routing: {}, promptCacheKey: '', askedAgainAtFullCap: 0 },
    verdicts: { valid: 0, invalid: 0, error: 0, needsReview: 0 },
    sheetShows: null,
    writes: { calls: 0, rowsWritten: 0, rowsMoved: 0, skipped: [], sheetRetries: 0, headersAdded: [], stopped: [], rowsNotWritten: 0 },
    errors: [],
  };
}
