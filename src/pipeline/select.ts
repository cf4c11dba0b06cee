import type { Entry, RowInputs } from '../sheets/index.js';
import { showsVerdict, type OutputCells } from './cells.js';
import { isStale, isTicked, overrideCells, parseOverride, type Override } from './review.js';

/** One distinct question for the model, shared by every row with the same cache key. */
export interface Job {
  key: string;
  inputs: RowInputs;
  entries: Entry[];
  /**
   * A row of this job was selected to be asked again (--force, a ticked box, an old
   * verdict, serve's named rows): the cache's verdict is the one to replace, so only an
   * answer given during this run may stand for it (a portfolio's QuestionBoard).
   */
  again?: boolean;
  /**
   * When the verdict a job asked again is to replace was given (the cache's `checkedAt` as the
   * run selected the row; none when there was no verdict). A verdict in the store with another
   * time was written since: another instance's fresh answer, which stands for this one's
   * (ClaimBook). Compared for equality, never for order: the two may come from two hosts' clocks.
   */
  replaces?: string;
}

export interface Selection {
  /** Rows whose verdict the sheet already shows: nothing to do. */
  upToDate: number;
  /**
   * Rows whose known verdict (cached, or the reviewer's) the sheet does not show.
   * `answersRecheck`: the verdict is newer than the row's request to be asked again (see
   * `answersRequest`), so writing it unticks the box; any other known verdict never does.
   */
  rewrites: Array<{ entry: Entry; cells: OutputCells; answersRecheck?: boolean }>;
  /** Cache misses (or forced rows), one job per distinct key. */
  jobs: Job[];
  /** Rows that share a job with an earlier row (identical inputs). */
  deduplicated: number;
  /** Rows left for a later run by --limit. */
  deferred: number;
  /** Reviewer verdicts found in the sheet, by cache key. */
  overrides: Array<{ key: string; entry: Entry; override: Override }>;
  /** Rows asked again because their box was ticked or their verdict was old. */
  rechecked: number;
  /** Override cells that say neither VALID nor INVALID. */
  unreadableOverrides: number[];
  /** Rows whose recheck box is ticked while a reviewer's verdict stands: the box is left ticked. */
  recheckUnderOverride: number[];
  /**
   * Rows given the answer this run paid for a question an earlier chunk's row asked (a
   * streamed read): a twin of that row, deduplicated as one selection over both would have
   * counted it, not an answer from the cache. `rewrite`: the row is also in `rewrites`.
   */
  shared: Array<{ key: string; rewrite: boolean }>;
}

/** The model's verdict already known for a key (the cache's). */
export interface Known {
  cells: OutputCells;
  /** When the cache's verdict was given (ISO 8601). */
  checkedAt?: string;
  /** When a question about this key was last sent in a Batch API job whose answers were saved (ISO 8601), if ever. */
  askedAt?: () => string | undefined;
}

/**
 * Whether the known verdict is newer than the row's request to ask it again, and so
 * answers it. A run that asks nothing (the write-back after `batch results`, --limit 0)
 * must write such a verdict, and untick the box, instead of taking the row for a new
 * question and deferring it: the question was asked, and paid for (invariant 9).
 * Both requests (a ticked box, a verdict older than --recheck-older-than) are about the
 * verdict the row shows: a Batch API job that asked this question after that verdict was
 * checked (submitted for the request, or while a run set the row aside for it: the same
 * question is never asked twice) answered it, once its answer is the one the cache holds
 * (saved at or after the submission) and, for an age, is not old itself. The cache's time
 * alone is not enough: a verdict saved but never shown (a failed write) may predate a tick.
 */
function answersRequest(entry: Entry, known: Known, staleAfterMs: number | undefined, now: number): boolean {
  const given = Date.parse(known.checkedAt ?? '');
  const asked = Date.parse(known.askedAt?.() ?? '');
  if (!Number.isFinite(given) || !Number.isFinite(asked) || given < asked) return false;
  const shown = Date.parse(entry.outputs.checked_at);
  if (Number.isFinite(shown) && shown >= asked) return false;
  return staleAfterMs === undefined || now - given <= staleAfterMs;
}

export interface SelectOptions {
  force: boolean;
  /** At most this many rows get a new answer; undefined = no limit. */
  limit: number | undefined;
  /** Rows whose verdict is older than this are asked again. */
  staleAfterMs?: number | undefined;
  now?: number;
  /**
   * Keys this run has already asked (a streamed read selects chunk by chunk): their known
   * verdict is this run's answer, so it stands for --force and a ticked box or an old
   * verdict too, as a row sharing the question in one selection would have got it.
   */
  askedThisRun?: (key: string) => boolean;
}

/** Sorts the rows into nothing-to-do, write-a-known-verdict and ask-the-model. */
export function selectWork(
  entries: readonly Entry[],
  keyOf: (entry: Entry) => string,
  lookup: (key: string) => Known | undefined,
  options: SelectOptions,
): Selection {
  const selection: Selection = { upToDate: 0, rewrites: [], jobs: [], deduplicated: 0, deferred: 0, overrides: [], rechecked: 0, unreadableOverrides: [], recheckUnderOverride: [], shared: [] };
  const jobs = new Map<string, Job>();
  const now = options.now ?? Date.now();
  const checkedAt = new Date(now).toISOString();
  let asked = 0;
  for (const entry of entries) {
    const key = keyOf(entry);
    const override = parseOverride(entry.review.override);
    if (override === null) selection.unreadableOverrides.push(entry.row);
    if (override) {
      // The reviewer's verdict wins while its cell says so, for this row only; it is
      // never sent to the model. A ticked box is left ticked (and reported): the row is
      // not rechecked while the override stands, so unticking it would hide that.
      selection.overrides.push({ key, entry, override });
      if (isTicked(entry.review.recheck)) selection.recheckUnderOverride.push(entry.row);
      const cells = overrideCells(override, checkedAt);
      if (showsVerdict(entry, cells)) selection.upToDate++;
      else selection.rewrites.push({ entry, cells });
      continue;
    }
    // A cleared override is simply no override: the model's verdict (cached, else asked).
    const ticked = isTicked(entry.review.recheck);
    const stale = options.staleAfterMs !== undefined && isStale(entry, options.staleAfterMs, now);
    const known = lookup(key);
    const givenNow = known !== undefined && (options.askedThisRun?.(key) ?? false);
    const answered = known !== undefined && (ticked || stale) && (givenNow || answersRequest(entry, known, options.staleAfterMs, now));
    const recheck = (ticked || stale) && !answered;
    if (known && (!options.force || givenNow) && !recheck) {
      if (givenNow) {
        // A twin of a question this run asked in an earlier chunk counts as one selection
        // counts a row sharing a question: against --limit (past it, the row waits), and as
        // rechecked when its box is ticked or its verdict old.
        if (options.limit !== undefined && asked >= options.limit) {
          selection.deferred++;
          continue;
        }
        asked++;
        if (ticked || stale) selection.rechecked++;
      }
      // An old twin shows this run's verdict with its old "Checked at": rewritten with the fresh one, as it would be in one selection (else the next run finds it old again).
      const upToDate = showsVerdict(entry, known.cells) && !ticked && !(givenNow && stale);
      if (givenNow) selection.shared.push({ key, rewrite: !upToDate });
      if (upToDate) {
        if (!givenNow) selection.upToDate++;
      } else selection.rewrites.push({ entry, cells: known.cells, ...(answered && ticked ? { answersRecheck: true } : {}) });
      continue;
    }
    if (options.limit !== undefined && asked >= options.limit) {
      selection.deferred++;
      continue;
    }
    asked++;
    if (recheck) selection.rechecked++;
    const again = options.force || recheck;
    const job = jobs.get(key);
    const replaces = again ? known?.checkedAt : undefined;
    if (job) {
      job.entries.push(entry);
      if (again) job.again = true;
      if (replaces !== undefined) job.replaces = replaces;
      selection.deduplicated++;
    } else {
      jobs.set(key, { key, inputs: entry.inputs, entries: [entry], ...(again ? { again } : {}), ...(replaces !== undefined ? { replaces } : {}) });
    }
  }
  selection.jobs = [...jobs.values()];
  return selection;
}
