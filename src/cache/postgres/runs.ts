import type { RunLog } from '../contract.js';
import type { RunRecord, RunRequest, StoredRun } from '../runs.js';
import type { Db } from './db.js';
import { parsedJson } from './json.js';

/** The run history, as SQLite's runs table keeps it (src/cache/runs.ts). */
export class PostgresRunLog implements RunLog {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date,
  ) {}

  /** ON CONFLICT DO NOTHING: a retry after a commit whose acknowledgement the connection lost must not fail on its own row (run ids are unique). */
  async start(run: RunRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO runs (id, started_at, trigger, spreadsheet_id, sheet, status, target, run_group) VALUES ($1, $2, $3, $4, $5, 'running', $6, $7)
       ON CONFLICT (id) DO NOTHING`,
      [run.id, run.startedAt, run.trigger, run.spreadsheetId, run.sheet, run.target ?? run.sheet, run.group ?? null],
    );
  }

  async end(id: string, status: string, summary: unknown): Promise<void> {
    const { target, group } = namesOf(summary);
    await this.db.query(
      `UPDATE runs SET ended_at = $1, status = $2, summary = $3, target = coalesce($4, target), run_group = coalesce($5, run_group) WHERE id = $6`,
      [this.now().toISOString(), status, JSON.stringify(summary), target, group, id],
    );
  }

  async request(id: string, request: RunRequest): Promise<void> {
    await this.db.query('UPDATE runs SET triggered_by = $1, request = $2 WHERE id = $3', [request.by, JSON.stringify(request), id]);
  }

  /** Newest first; a group's runs together, in the order they started (NULLS FIRST: SQLite's order for a run of its own). */
  async recent(limit: number, targets?: readonly string[]): Promise<StoredRun[]> {
    const rows = await this.db.rows<Omit<StoredRun, 'summary' | 'request'> & { summary: string | null; request: string | null }>(
      `SELECT id, started_at AS "startedAt", ended_at AS "endedAt", trigger, status, spreadsheet_id AS "spreadsheetId", sheet,
              coalesce(target, sheet) AS target, run_group AS "group", summary, triggered_by AS "triggeredBy", request
       FROM runs
       WHERE $2::text[] IS NULL OR coalesce(target, sheet) = ANY($2::text[])
       ORDER BY coalesce((SELECT min(g.started_at) FROM runs g WHERE g.run_group = runs.run_group), started_at) DESC,
                run_group NULLS FIRST, started_at, seq
       LIMIT $1`,
      [Math.max(0, Math.floor(limit)), targets ? [...targets] : null],
    );
    return rows.map((row) => ({ ...row, summary: parsedJson(row.summary), request: parsedJson(row.request) as RunRequest | null }));
  }
}

function namesOf(summary: unknown): { target: string | null; group: string | null } {
  if (typeof summary !== 'object' || summary === null) return { target: null, group: null };
  const { target, group } = summary as { target?: unknown; group?: unknown };
  return { target: typeof target === 'string' ? target : null, group: typeof group === 'string' ? group : null };
}
