import type { CacheStore } from './store.js';

export interface RunRecord {
  id: string;
  startedAt: string;
  trigger: string;
  spreadsheetId: string;
  sheet: string;
}

export function recordRunStart(store: CacheStore, run: RunRecord): void {
  store.db
    .prepare(`INSERT INTO runs (id, started_at, trigger, spreadsheet_id, sheet, status) VALUES (?, ?, ?, ?, ?, 'running')`)
    .run(run.id, run.startedAt, run.trigger, run.spreadsheetId, run.sheet);
}

export function recordRunEnd(store: CacheStore, id: string, status: string, summary: unknown): void {
  store.db.prepare(`UPDATE runs SET ended_at = ?, status = ?, summary = ? WHERE id = ?`).run(new Date().toISOString(), status, JSON.stringify(summary), id);
}

/** What a caller of serve asked for: recorded with the run, shown by `runs` and the Runs tab. */
export interface RunRequest {
  /** An email, or "token" for the shared machine token. */
  by: string;
  /** The row ids asked for; undefined for the whole sheet. */
  rows: string[] | undefined;
  force: boolean;
  /** The estimate made before the run started (US dollars; null when the model has no price). */
  estimatedUsd: number | null;
}

/** Adds the request to a run's record (the run has already recorded its start). */
export function recordRunRequest(store: CacheStore, id: string, request: RunRequest): void {
  store.db.prepare(`UPDATE runs SET triggered_by = ?, request = ? WHERE id = ?`).run(request.by, JSON.stringify(request), id);
}

export interface StoredRun {
  id: string;
  startedAt: string;
  endedAt: string | null;
  trigger: string;
  status: string;
  spreadsheetId: string;
  sheet: string;
  summary: unknown;
  /** Who asked (serve only); null for the CLI, watch and schedule. */
  triggeredBy: string | null;
  request: RunRequest | null;
}

/** The most recent runs first. */
export function recentRuns(store: CacheStore, limit: number): StoredRun[] {
  const rows = store.db
    .prepare(
      `SELECT id, started_at AS startedAt, ended_at AS endedAt, trigger, status, spreadsheet_id AS spreadsheetId, sheet, summary,
              triggered_by AS triggeredBy, request
       FROM runs ORDER BY started_at DESC LIMIT ?`,
    )
    .all(limit) as Array<Omit<StoredRun, 'summary' | 'request'> & { summary: string | null; request: string | null }>;
  return rows.map((row) => ({
    ...row,
    summary: row.summary === null ? null : (JSON.parse(row.summary) as unknown),
    request: row.request === null ? null : (JSON.parse(row.request) as RunRequest),
  }));
}
