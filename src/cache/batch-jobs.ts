import type { Database, Statement } from 'better-sqlite3';

export interface BatchJob {
  id: string;
  provider: string;
  model: string;
  spreadsheetId: string;
  sheet: string;
  /** The config's target the job was submitted for (jobs from before targets: their tab). Jobs are matched to a tab by spreadsheetId and sheet. */
  target: string;
  inputFileId: string;
  status: string;
  requests: number;
  createdAt: string;
  updatedAt: string;
  outputFileId: string | null;
  errorFileId: string | null;
  appliedAt: string | null;
}

/**
 * One question in a job; a packed line (llm.rows_per_request > 1) holds several, told apart by label.
 * `I` is the row's inputs, stored as JSON: the cache does not know the sheet's types (they sit above it).
 */
export interface BatchLine<I = unknown> {
  customId: string;
  /** '' for a line asking one row; r1, r2… within a packed line. */
  label: string;
  key: string;
  inputs: I;
}

/** A batch_lines row as both stores select it: inputs still JSON text. */
export interface BatchLineRow {
  customId: string;
  label: string;
  key: string;
  inputs: string;
}

/**
 * A job's lines grouped by the line (custom_id) that asks them, in the rows' order. A damaged
 * line (a hand edit, a restored dump) is skipped: its question counts as unanswered and its row
 * is asked again (the store contract: never fail on damaged JSON).
 */
export function linesByCustomId<I>(rows: readonly BatchLineRow[]): Map<string, BatchLine<I>[]> {
  const out = new Map<string, BatchLine<I>[]>();
  for (const r of rows) {
    let inputs: I;
    try {
      inputs = JSON.parse(r.inputs) as I;
    } catch {
      continue;
    }
    const list = out.get(r.customId) ?? [];
    list.push({ customId: r.customId, label: r.label, key: r.key, inputs });
    out.set(r.customId, list);
  }
  return out;
}

/** A Batch API job that already asks a question: its answer is paid for and on its way. */
export interface PendingBatch {
  batchId: string;
  /** When the job was submitted (ISO 8601). */
  submittedAt: string;
}

const COLUMNS = `id, provider, model, spreadsheet_id AS spreadsheetId, sheet, coalesce(target, sheet) AS target, input_file_id AS inputFileId, status, requests,
  created_at AS createdAt, updated_at AS updatedAt, output_file_id AS outputFileId, error_file_id AS errorFileId, applied_at AS appliedAt`;

/** The Batch API jobs of a SQLite cache: recorded at submit, so they survive restarts (synchronous: SqliteStore wraps it). */
export class SqliteBatchJobs<I = unknown> {
  constructor(private readonly db: Database) {}

  record(job: Omit<BatchJob, 'outputFileId' | 'errorFileId' | 'appliedAt' | 'updatedAt'>, lines: readonly BatchLine<I>[]): void {
    const db = this.db;
    db.transaction(() => {
      db.prepare(
        `INSERT INTO batch_jobs (id, provider, model, spreadsheet_id, sheet, target, input_file_id, status, requests, created_at, updated_at)
         VALUES (@id, @provider, @model, @spreadsheetId, @sheet, @target, @inputFileId, @status, @requests, @createdAt, @createdAt)`,
      ).run(job);
      const line = db.prepare('INSERT INTO batch_lines (batch_id, custom_id, label, key, inputs) VALUES (?, ?, ?, ?, ?)');
      for (const l of lines) line.run(job.id, l.customId, l.label, l.key, JSON.stringify(l.inputs));
    })();
  }

  update(id: string, fields: { status: string; outputFileId?: string | null; errorFileId?: string | null }): void {
    this.db
      .prepare('UPDATE batch_jobs SET status = ?, output_file_id = coalesce(?, output_file_id), error_file_id = coalesce(?, error_file_id), updated_at = ? WHERE id = ?')
      .run(fields.status, fields.outputFileId ?? null, fields.errorFileId ?? null, new Date().toISOString(), id);
  }

  markApplied(id: string, summary: unknown): void {
    this.db.prepare('UPDATE batch_jobs SET applied_at = ?, applied_summary = ? WHERE id = ?').run(new Date().toISOString(), JSON.stringify(summary), id);
  }

  get(id: string): BatchJob | undefined {
    return this.db.prepare(`SELECT ${COLUMNS} FROM batch_jobs WHERE id = ?`).get(id) as BatchJob | undefined;
  }

  /** Newest first; `open` keeps the jobs whose results have not been applied yet. */
  list(filter: { spreadsheetId?: string; sheet?: string; open?: boolean } = {}): BatchJob[] {
    const jobs = this.db.prepare(`SELECT ${COLUMNS} FROM batch_jobs ORDER BY created_at DESC`).all() as BatchJob[];
    return jobs.filter(
      (j) =>
        (filter.spreadsheetId === undefined || j.spreadsheetId === filter.spreadsheetId) &&
        (filter.sheet === undefined || j.sheet === filter.sheet) &&
        (!filter.open || j.appliedAt === null),
    );
  }

  /** The questions of a job, grouped by the line (custom_id) that asks them. */
  lines(id: string): Map<string, BatchLine<I>[]> {
    const rows = this.db
      .prepare('SELECT custom_id AS customId, label, key, inputs FROM batch_lines WHERE batch_id = ? ORDER BY custom_id, label')
      .all(id) as BatchLineRow[];
    return linesByCustomId<I>(rows);
  }

  /** Keys already in a job not yet applied: submitting them again would pay twice. */
  pendingKeys(): Set<string> {
    const rows = this.db
      .prepare('SELECT l.key FROM batch_lines l JOIN batch_jobs j ON j.id = l.batch_id WHERE j.applied_at IS NULL AND j.status NOT IN (\'failed\', \'cancelled\', \'expired\')')
      .all() as Array<{ key: string }>;
    return new Set(rows.map((r) => r.key));
  }
}

/**
 * Questions in a job whose results have not been applied yet, by cache key (invariant 9),
 * among `keys` (a JSON array: one parameter, whatever their number). A job that ended
 * without answers (failed, cancelled, expired) holds nothing: its rows are asked again. A
 * completed job not yet applied still holds them: `batch results` saves what was paid for.
 */
export function pendingQuestionsOf(db: Database, keys: string): Map<string, PendingBatch> {
  const rows = lookupStatements(db).pending.all(keys) as Array<{ key: string } & PendingBatch>;
  return new Map(rows.map((r) => [r.key, { batchId: r.batchId, submittedAt: r.submittedAt }]));
}

/**
 * When each of `keys` was last sent in a Batch API job whose results were applied (its
 * submission time, by cache key): a ticked row's answer, if saved since (src/pipeline/select.ts).
 */
export function answeredBatchQuestionsOf(db: Database, keys: string): Map<string, string> {
  const rows = lookupStatements(db).answered.all(keys) as Array<{ key: string; submittedAt: string }>;
  return new Map(rows.map((r) => [r.key, r.submittedAt]));
}

/** The two reads above, prepared once per connection: a run makes them at every cache lookup, once per turn of the event loop (issue 25). */
const prepared = new WeakMap<Database, { pending: Statement; answered: Statement }>();
function lookupStatements(db: Database): { pending: Statement; answered: Statement } {
  let found = prepared.get(db);
  if (!found) {
    found = {
      pending: db.prepare(
        `SELECT l.key, j.id AS batchId, j.created_at AS submittedAt FROM batch_lines l JOIN batch_jobs j ON j.id = l.batch_id
         WHERE j.applied_at IS NULL AND j.status NOT IN ('failed', 'cancelled', 'expired') AND l.key IN (SELECT value FROM json_each(?)) ORDER BY j.created_at`,
      ),
      answered: db.prepare(
        `SELECT l.key, MAX(j.created_at) AS submittedAt FROM batch_lines l JOIN batch_jobs j ON j.id = l.batch_id
         WHERE j.applied_at IS NOT NULL AND l.key IN (SELECT value FROM json_each(?)) GROUP BY l.key`,
      ),
    };
    prepared.set(db, found);
  }
  return found;
}
