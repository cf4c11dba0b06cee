import type { CacheStore } from '../cache/index.js';

/** A Batch API job that already asks a question: its answer is paid for and on its way. */
export interface PendingBatch {
  batchId: string;
  /** When the job was submitted (ISO 8601). */
  submittedAt: string;
}

/** Rows a run leaves to a pending batch job, per job. */
export interface WaitingForBatch extends PendingBatch {
  /** Distinct questions of this run that the job asks. */
  questions: number;
  /** Rows those questions cover. */
  rows: number;
}

/**
 * Questions in a job whose results have not been applied yet, by cache key (invariant 9).
 * A job that ended without answers (failed, cancelled, expired) holds nothing: its rows
 * are asked again. A completed job not yet applied still holds them: `batch results`
 * saves what was paid for.
 */
export function pendingQuestions(store: CacheStore): Map<string, PendingBatch> {
  const rows = store.db
    .prepare(
      `SELECT l.key, j.id AS batchId, j.created_at AS submittedAt FROM batch_lines l JOIN batch_jobs j ON j.id = l.batch_id
       WHERE j.applied_at IS NULL AND j.status NOT IN ('failed', 'cancelled', 'expired') ORDER BY j.created_at`,
    )
    .all() as Array<{ key: string } & PendingBatch>;
  return new Map(rows.map((r) => [r.key, { batchId: r.batchId, submittedAt: r.submittedAt }]));
}

/**
 * When each question was last sent in a Batch API job whose results were applied (its
 * submission time, by cache key): a ticked row's answer, if saved since (src/pipeline/select.ts).
 */
export function answeredBatchQuestions(store: CacheStore): Map<string, string> {
  const rows = store.db
    .prepare(
      `SELECT l.key, MAX(j.created_at) AS submittedAt FROM batch_lines l JOIN batch_jobs j ON j.id = l.batch_id
       WHERE j.applied_at IS NOT NULL GROUP BY l.key`,
    )
    .all() as Array<{ key: string; submittedAt: string }>;
  return new Map(rows.map((r) => [r.key, r.submittedAt]));
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
