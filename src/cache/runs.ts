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

export interface StoredRun {
  id: string;
  startedAt: string;
  endedAt: string | null;
  trigger: string;
  status: string;
  spreadsheetId: string;
  sheet: string;
  summary: unknown;
}

/** The most recent runs first. */
export function recentRuns(store: CacheStore, limit: number): StoredRun[] {
  const rows = store.db
    .prepare(
      `SELECT id, started_at AS startedAt, ended_at AS endedAt, trigger, status, spreadsheet_id AS spreadsheetId, sheet, summary
       FROM runs ORDER BY started_at DESC LIMIT ?`,
    )
    .all(limit) as Array<Omit<StoredRun, 'summary'> & { summary: string | null }>;
  return rows.map((row) => ({ ...row, summary: row.summary === null ? null : (JSON.parse(row.summary) as unknown) }));
}
