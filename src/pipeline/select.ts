import type { CachedVerdict } from '../cache/index.js';
import type { Entry, RowInputs } from '../sheets/index.js';
import { showsVerdict, verdictCells } from './cells.js';

/** One distinct question for the model, shared by every row with the same cache key. */
export interface Job {
  key: string;
  inputs: RowInputs;
  entries: Entry[];
}

export interface Selection {
  /** Rows whose cached verdict the sheet already shows: nothing to do. */
  upToDate: number;
  /** Rows with a cached verdict the sheet does not show (empty, stale, overwritten). */
  rewrites: Array<{ entry: Entry; cached: CachedVerdict }>;
  /** Cache misses (or all rows with --force), one job per distinct key. */
  jobs: Job[];
  /** Rows that share a job with an earlier row (identical inputs). */
  deduplicated: number;
  /** Rows left for a later run by --limit. */
  deferred: number;
}

export interface SelectOptions {
  force: boolean;
  /** At most this many rows get a new answer; undefined = no limit. */
  limit: number | undefined;
}

/** Sorts the rows into nothing-to-do, write-from-cache and ask-the-model. */
export function selectWork(
  entries: readonly Entry[],
  keyOf: (entry: Entry) => string,
  lookup: (key: string) => CachedVerdict | undefined,
  options: SelectOptions,
): Selection {
  const selection: Selection = { upToDate: 0, rewrites: [], jobs: [], deduplicated: 0, deferred: 0 };
  const jobs = new Map<string, Job>();
  let asked = 0;
  for (const entry of entries) {
    const key = keyOf(entry);
    const cached = options.force ? undefined : lookup(key);
    if (cached) {
      if (showsVerdict(entry, verdictCells(cached))) selection.upToDate++;
      else selection.rewrites.push({ entry, cached });
      continue;
    }
    if (options.limit !== undefined && asked >= options.limit) {
      selection.deferred++;
      continue;
    }
    asked++;
    const job = jobs.get(key);
    if (job) {
      job.entries.push(entry);
      selection.deduplicated++;
    } else {
      jobs.set(key, { key, inputs: entry.inputs, entries: [entry] });
    }
  }
  selection.jobs = [...jobs.values()];
  return selection;
}
