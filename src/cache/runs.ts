import { hostname } from 'node:os';
import { LockedError } from '../errors.js';
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

interface LockRow {
  run_id: string;
  pid: number;
  host: string;
  started_at: string;
  heartbeat_at: string;
}

/** A lock whose holder has not beaten its heart for this long is taken over. */
const STALE_AFTER_MS = 10 * 60_000;

/**
 * Takes the run lock for one sheet (invariant 8). A holder on this host whose process
 * is gone, or any holder silent for 10 minutes, is considered dead and replaced.
 * Returns a release function and a heartbeat to call while the run goes on.
 */
export function acquireLock(store: CacheStore, name: string, runId: string, now: () => Date = () => new Date()): { release: () => void; heartbeat: () => void } {
  const host = hostname();
  const take = store.db.transaction(() => {
    const holder = store.db.prepare('SELECT * FROM locks WHERE name = ?').get(name) as LockRow | undefined;
    if (holder && isAlive(holder, host, now())) {
      throw new LockedError(
        `Another run is already working on ${name}: run ${holder.run_id}, pid ${holder.pid} on ${holder.host}, started ${holder.started_at}.`,
        { hint: 'Wait for it to finish (or stop it). A lock left by a crashed run is taken over automatically.' },
      );
    }
    const stamp = now().toISOString();
    // The dead holder's run will never record its end: say what became of it.
    if (holder) store.db.prepare(`UPDATE runs SET status = 'killed', ended_at = ? WHERE id = ? AND status = 'running'`).run(stamp, holder.run_id);
    store.db
      .prepare('INSERT OR REPLACE INTO locks (name, run_id, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(name, runId, process.pid, host, stamp, stamp);
  });
  take.immediate();
  return {
    release: () => {
      if (store.db.open) store.db.prepare('DELETE FROM locks WHERE name = ? AND run_id = ?').run(name, runId);
    },
    heartbeat: () => {
      if (store.db.open) store.db.prepare('UPDATE locks SET heartbeat_at = ? WHERE name = ? AND run_id = ?').run(now().toISOString(), name, runId);
    },
  };
}

function isAlive(holder: LockRow, host: string, now: Date): boolean {
  if (holder.host === host) {
    if (holder.pid === process.pid) return true;
    try {
      process.kill(holder.pid, 0);
      return true;
    } catch (error) {
      // EPERM: the process exists but belongs to someone else.
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  return now.getTime() - Date.parse(holder.heartbeat_at) < STALE_AFTER_MS;
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
