import type { DumpTable } from './contract.js';

/**
 * Rows a restore updates rather than keeps (`cache migrate` run again, as it advises, after a
 * run that was still using the old file ended). A restore otherwise keeps every row the
 * target already holds; two tables hold rows that move on after they were first copied:
 *
 *  - runs: a row copied while its run was running would stay "running" forever; it takes the
 *    source's end (status, ended_at, summary) when the target's row is still running and the
 *    source's is not.
 *  - batch_jobs: a job applied (or polled) in the old file after the first copy; it takes the
 *    source's state while the target's row is not applied yet and the source's is applied or
 *    newer (updated_at, ISO text in both stores, compares as text). An applied row is never
 *    taken back.
 *
 * `set` are the columns taken from the source; `when` is the condition in SQL over the
 * target row's columns and the source's values, written with named slots `:column` that each
 * store turns into its own placeholders.
 */
export interface CatchUp {
  set: readonly string[];
  when: string;
}

export const CATCH_UP: Partial<Record<DumpTable, CatchUp>> = {
  runs: {
    set: ['ended_at', 'status', 'summary'],
    when: `status = 'running' AND :status <> 'running'`,
  },
  batch_jobs: {
    set: ['status', 'updated_at', 'output_file_id', 'error_file_id', 'applied_at', 'applied_summary'],
    when: `applied_at IS NULL AND (:applied_at IS NOT NULL OR updated_at < :updated_at)`,
  },
};

/** The slots a condition names, in order of appearance (a slot may repeat). */
export function slotsOf(when: string): string[] {
  return [...when.matchAll(/:([a-z_]+)/g)].map((m) => m[1] ?? '');
}
