import type { RunSummary } from '../pipeline/index.js';

/** The exit codes, a public contract (README, DESIGN.md). */
export const EXIT = {
  /** Every selected row has a verdict. */
  ok: 0,
  /** Fatal: nothing or little done (bad key, no access, the sheet cannot be read). */
  fatal: 1,
  /** Bad usage or bad config. */
  usage: 2,
  /** The run finished but some rows ended in ERROR (they are retried next run). */
  rowErrors: 3,
  /** Another run holds the lock on this sheet. */
  locked: 4,
  /** Interrupted (SIGINT/SIGTERM); pending writes were flushed first. */
  interrupted: 130,
} as const;

export function exitCodeOf(summary: RunSummary): number {
  switch (summary.status) {
    case 'completed':
      return EXIT.ok;
    case 'completed_with_errors':
      return EXIT.rowErrors;
    case 'interrupted':
      return EXIT.interrupted;
    case 'failed':
      return EXIT.fatal;
  }
}
