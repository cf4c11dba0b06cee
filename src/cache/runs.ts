import type { Database } from 'better-sqlite3';

export interface RunRecord {
  id: string;
  startedAt: string;
  trigger: string;
  spreadsheetId: string;
  sheet: string;
  /** The config's target; defaults to the tab (a single-target file's target name). */
  target?: string;
  /** The id shared by the runs of the targets started together. */
  group?: string | undefined;
}

export function recordRunStart(db: Database, run: RunRecord): void {
  db
    .prepare(`INSERT INTO runs (id, started_at, trigger, spreadsheet_id, sheet, status, target, run_group) VALUES (?, ?, ?, ?, ?, 'running', ?, ?)`)
    .run(run.id, run.startedAt, run.trigger, run.spreadsheetId, run.sheet, run.target ?? run.sheet, run.group ?? null);
}

/** The run's end; its summary's target and group (RunSummary) are recorded too, whatever the start knew. */
export function recordRunEnd(db: Database, id: string, status: string, summary: unknown): void {
  const { target, group } = namesOf(summary);
  db
    .prepare(`UPDATE runs SET ended_at = ?, status = ?, summary = ?, target = coalesce(?, target), run_group = coalesce(?, run_group) WHERE id = ?`)
    .run(new Date().toISOString(), status, JSON.stringify(summary), target, group, id);
}

function namesOf(summary: unknown): { target: string | null; group: string | null } {
  if (typeof summary !== 'object' || summary === null) return { target: null, group: null };
  const { target, group } = summary as { target?: unknown; group?: unknown };
  return { target: typeof target === 'string' ? target : null, group: typeof group === 'string' ? group : null };
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
export function recordRunRequest(db: Database, id: string, request: RunRequest): void {
  db.prepare(`UPDATE runs SET triggered_by = ?, request = ? WHERE id = ?`).run(request.by, JSON.stringify(request), id);
}

export interface StoredRun {
  id: string;
  startedAt: string;
  endedAt: string | null;
  trigger: string;
  status: string;
  spreadsheetId: string;
  sheet: string;
  /** The target the run checked (runs recorded before targets existed: their tab). */
  target: string;
  /** Shared by the runs of targets started together; null for a run of its own. */
  group: string | null;
  summary: unknown;
  /** Who asked (serve only); null for the CLI, watch and schedule. */
  triggeredBy: string | null;
  request: RunRequest | null;
}

/**
 * The most recent runs first (a run over several targets: a row per target, the group's
 * rows together, in the order they started). `targets` keeps the runs of those targets
 * (their names exactly as the config spells them: the caller resolves --target first).
 */
export function recentRuns(db: Database, limit: number, targets?: readonly string[]): StoredRun[] {
  const only = targets ? [...targets] : undefined;
  const rows = db
    .prepare(
      `SELECT id, started_at AS startedAt, ended_at AS endedAt, trigger, status, spreadsheet_id AS spreadsheetId, sheet,
              coalesce(target, sheet) AS target, run_group AS "group", summary, triggered_by AS triggeredBy, request
       FROM runs
       ${only ? `WHERE coalesce(target, sheet) IN (SELECT value FROM json_each(?))` : ''}
       ORDER BY coalesce((SELECT min(g.started_at) FROM runs g WHERE g.run_group = runs.run_group), started_at) DESC,
                run_group, started_at, rowid
       LIMIT ?`,
    )
    .all(...(only ? [JSON.stringify(only), limit] : [limit])) as Array<Omit<StoredRun, 'summary' | 'request'> & { summary: string | null; request: string | null }>;
  return rows.map((row) => ({
    ...row,
    summary: parsed(row.summary),
    request: parsed(row.request) as RunRequest | null,
  }));
}

/** A stored JSON text; a damaged one (a crash mid-write, a hand edit) shows as null rather than failing the listing. */
function parsed(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
