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
}

export interface Selection {
  /** Rows whose verdict the sheet already shows: nothing to do. */
  upToDate: number;
  /** Rows whose known verdict (cached, or the reviewer's) the sheet does not show. */
  rewrites: Array<{ entry: Entry; cells: OutputCells }>;
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
}

/** The model's verdict already known for a key (the cache's). */
export type Known = { cells: OutputCells };

export interface SelectOptions {
  force: boolean;
  /** At most this many rows get a new answer; undefined = no limit. */
  limit: number | undefined;
  /** Rows whose verdict is older than this are asked again. */
  staleAfterMs?: number | undefined;
  now?: number;
}

/** Sorts the rows into nothing-to-do, write-a-known-verdict and ask-the-model. */
export function selectWork(
  entries: readonly Entry[],
  keyOf: (entry: Entry) => string,
  lookup: (key: string) => Known | undefined,
  options: SelectOptions,
): Selection {
  const selection: Selection = { upToDate: 0, rewrites: [], jobs: [], deduplicated: 0, deferred: 0, overrides: [], rechecked: 0, unreadableOverrides: [], recheckUnderOverride: [] };
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
    const recheck = isTicked(entry.review.recheck) || (options.staleAfterMs !== undefined && isStale(entry, options.staleAfterMs, now));
    const known = lookup(key);
    if (known && !options.force && !recheck) {
      if (showsVerdict(entry, known.cells) && !isTicked(entry.review.recheck)) selection.upToDate++;
      else selection.rewrites.push({ entry, cells: known.cells });
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
    if (job) {
      job.entries.push(entry);
      if (again) job.again = true;
      selection.deduplicated++;
    } else {
      jobs.set(key, { key, inputs: entry.inputs, entries: [entry], ...(again ? { again } : {}) });
    }
  }
  selection.jobs = [...jobs.values()];
  return selection;
}
