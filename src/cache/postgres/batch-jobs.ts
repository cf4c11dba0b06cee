import { linesByCustomId, type BatchJob, type BatchLine, type BatchLineRow } from '../batch-jobs.js';
import type { BatchJobStore } from '../contract.js';
import type { Db } from './db.js';

const COLUMNS = `id, provider, model, spreadsheet_id AS "spreadsheetId", sheet, coalesce(target, sheet) AS target, input_file_id AS "inputFileId", status, requests,
  created_at AS "createdAt", updated_at AS "updatedAt", output_file_id AS "outputFileId", error_file_id AS "errorFileId", applied_at AS "appliedAt"`;

/** Lines per INSERT: 5 parameters each, far below PostgreSQL's 65,535 per statement. */
const LINES_PER_INSERT = 1_000;

/** The Batch API jobs, as SQLite's BatchJobs keeps them (src/cache/batch-jobs.ts). */
export class PostgresBatchJobs<I = unknown> implements BatchJobStore<I> {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date,
  ) {}

  async record(job: Omit<BatchJob, 'outputFileId' | 'errorFileId' | 'appliedAt' | 'updatedAt'>, lines: readonly BatchLine<I>[]): Promise<void> {
    await this.db.tx(async (client) => {
      // A job and its lines commit together: a job already there is this very transaction
      // committed before the connection dropped its acknowledgement (the provider's ids are unique).
      const inserted = await client.query(
        `INSERT INTO batch_jobs (id, provider, model, spreadsheet_id, sheet, target, input_file_id, status, requests, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT (id) DO NOTHING`,
        [job.id, job.provider, job.model, job.spreadsheetId, job.sheet, job.target, job.inputFileId, job.status, job.requests, job.createdAt],
      );
      if (inserted.rowCount === 0) return;
      for (let i = 0; i < lines.length; i += LINES_PER_INSERT) {
        const chunk = lines.slice(i, i + LINES_PER_INSERT);
        await client.query(
          'INSERT INTO batch_lines (batch_id, custom_id, label, key, inputs) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])',
          [job.id, chunk.map((l) => l.customId), chunk.map((l) => l.label), chunk.map((l) => l.key), chunk.map((l) => JSON.stringify(l.inputs))],
        );
      }
    });
  }

  async update(id: string, fields: { status: string; outputFileId?: string | null; errorFileId?: string | null }): Promise<void> {
    await this.db.query('UPDATE batch_jobs SET status = $1, output_file_id = coalesce($2, output_file_id), error_file_id = coalesce($3, error_file_id), updated_at = $4 WHERE id = $5', [
      fields.status,
      fields.outputFileId ?? null,
      fields.errorFileId ?? null,
      this.now().toISOString(),
      id,
    ]);
  }

  async markApplied(id: string, summary: unknown): Promise<void> {
    await this.db.query('UPDATE batch_jobs SET applied_at = $1, applied_summary = $2 WHERE id = $3', [this.now().toISOString(), JSON.stringify(summary), id]);
  }

  async get(id: string): Promise<BatchJob | undefined> {
    const [job] = await this.db.rows<BatchJob>(`SELECT ${COLUMNS} FROM batch_jobs WHERE id = $1`, [id]);
    return job;
  }

  async list(filter: { spreadsheetId?: string; sheet?: string; open?: boolean } = {}): Promise<BatchJob[]> {
    return this.db.rows<BatchJob>(
      `SELECT ${COLUMNS} FROM batch_jobs
       WHERE ($1::text IS NULL OR spreadsheet_id = $1) AND ($2::text IS NULL OR sheet = $2) AND (NOT $3 OR applied_at IS NULL)
       ORDER BY created_at DESC`,
      [filter.spreadsheetId ?? null, filter.sheet ?? null, filter.open === true],
    );
  }

  async lines(id: string): Promise<Map<string, BatchLine<I>[]>> {
    const rows = await this.db.rows<BatchLineRow>(
      'SELECT custom_id AS "customId", label, key, inputs FROM batch_lines WHERE batch_id = $1 ORDER BY custom_id, label',
      [id],
    );
    return linesByCustomId<I>(rows);
  }

  async pendingKeys(): Promise<Set<string>> {
    const rows = await this.db.rows<{ key: string }>(
      `SELECT DISTINCT l.key FROM batch_lines l JOIN batch_jobs j ON j.id = l.batch_id WHERE j.applied_at IS NULL AND j.status NOT IN ('failed', 'cancelled', 'expired')`,
    );
    return new Set(rows.map((r) => r.key));
  }
}
