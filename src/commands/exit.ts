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

/** A portfolio's exit code is its worst target's: an interruption, then bad usage, a failure, a held lock, rows in ERROR. */
export function worstExit(codes: readonly number[]): number {
  const order: number[] = [EXIT.interrupted, EXIT.usage, EXIT.fatal, EXIT.locked, EXIT.rowErrors];
  for (const code of order) if (codes.includes(code)) return code;
  return codes.find((code) => code !== EXIT.ok) ?? EXIT.ok;
}

/** A target that never ran because another run held its lock exits as a locked run would. */
export function exitCodeOfTarget(outcome: { summary: RunSummary; locked: boolean }): number {
  return outcome.locked ? EXIT.locked : exitCodeOf(outcome.summary);
}
