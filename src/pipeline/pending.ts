import type { PendingBatch } from '../cache/index.js';

// The pending questions are read with the run's keys (Store.lookup: KeyLookup.pending).
export type { PendingBatch } from '../cache/index.js';

/** Rows a run leaves to a pending batch job, per job. */
export interface WaitingForBatch extends PendingBatch {
  /** Distinct questions of this run that the job asks. */
  questions: number;
  /** Rows those questions cover. */
  rows: number;
}

/**
 * Splits a run's questions into those to ask now and those a pending batch job will
 * answer (one entry per job, oldest first), so that a sync run never pays for them twice.
 */
export function setAsidePending<J extends { key: string; entries: readonly unknown[] }>(
  questions: readonly J[],
  pending: ReadonlyMap<string, PendingBatch>,
): { ask: J[]; waiting: WaitingForBatch[] } {
  const ask: J[] = [];
  const waiting = new Map<string, WaitingForBatch>();
  for (const question of questions) {
    const batch = pending.get(question.key);
    if (!batch) {
      ask.push(question);
      continue;
    }
    const entry = waiting.get(batch.batchId) ?? { ...batch, questions: 0, rows: 0 };
    entry.questions++;
    entry.rows += question.entries.length;
    waiting.set(batch.batchId, entry);
  }
  return { ask, waiting: [...waiting.values()].sort((a, b) => a.submittedAt.localeCompare(b.submittedAt)) };
}
