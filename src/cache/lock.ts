import { hostname } from 'node:os';
import { LockedError } from '../errors.js';
import { ownStart, processStartOf, sameStart } from './process-start.js';
import type { CacheStore } from './store.js';

/** How often a holder renews its lock. */
export const HEARTBEAT_MS = 30_000;

/**
 * A lock not renewed for this long is stale, on any host and whatever its pid says: a
 * few missed heartbeats, so that a slow disk or a busy event loop is not mistaken for a
 * dead holder, while a frozen or killed one frees the sheet within minutes.
 */
export const STALE_AFTER_MS = 4 * HEARTBEAT_MS;

interface LockRow {
  run_id: string;
  pid: number;
  host: string;
  process_start: string | null;
  started_at: string;
  heartbeat_at: string;
}

/** Runs of this process that hold a lock now: a row of ours naming another run is a leftover. */
const heldHere = new Set<string>();

export interface AcquiredLock {
  /** Renews the lock; false when the row is no longer ours (taken over): the run must stop. */
  heartbeat(): boolean;
  release(): void;
  /** Who held the lock before, and why they no longer do (a warning for the summary). */
  tookOver: string | undefined;
}

/**
 * Takes the run lock for one sheet (invariant 8): check and claim in one BEGIN IMMEDIATE
 * transaction, so two processes never both win. A holder is known by host, pid and its
 * process's start time; it is replaced when it is stale (see `whyStale`).
 */
export function acquireLock(store: CacheStore, name: string, runId: string, now: () => Date = () => new Date(), label = name): AcquiredLock {
  const host = hostname();
  const self = ownStart();
  const selfStart = self.kind === 'known' ? self.start : null;
  let tookOver: string | undefined;
  store.db
    .transaction(() => {
      const holder = store.db.prepare('SELECT * FROM locks WHERE name = ?').get(name) as LockRow | undefined;
      const stale = holder && whyStale(holder, host, selfStart, now());
      if (holder && stale === undefined) {
        throw new LockedError(
          `Another run is already working on ${label}: run ${holder.run_id}, pid ${holder.pid} on ${holder.host}, started ${holder.started_at}, last heartbeat ${holder.heartbeat_at}.`,
          { hint: `Wait for it to finish (or stop it). A lock whose holder has exited, or whose heartbeat is older than ${STALE_AFTER_MS / 60_000} minutes, is taken over automatically.` },
        );
      }
      const stamp = now().toISOString();
      if (holder) {
        tookOver = `took over the lock of run ${holder.run_id} (pid ${holder.pid} on ${holder.host}, started ${holder.started_at}): ${stale ?? ''}`;
        // The dead holder's run will never record its end: say what became of it.
        store.db.prepare(`UPDATE runs SET status = 'killed', ended_at = ? WHERE id = ? AND status = 'running'`).run(stamp, holder.run_id);
      }
      store.db
        .prepare('INSERT OR REPLACE INTO locks (name, run_id, pid, host, process_start, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(name, runId, process.pid, host, selfStart, stamp, stamp);
    })
    .immediate();
  heldHere.add(runId);
  return {
    tookOver,
    heartbeat: () => {
      if (!store.db.open) return true;
      return store.db.prepare('UPDATE locks SET heartbeat_at = ? WHERE name = ? AND run_id = ?').run(now().toISOString(), name, runId).changes > 0;
    },
    release: () => {
      // Forgotten first: should the DELETE fail, this process still takes the row over next time.
      heldHere.delete(runId);
      if (store.db.open) store.db.prepare('DELETE FROM locks WHERE name = ? AND run_id = ?').run(name, runId);
    },
  };
}

/** Why a holder no longer holds the lock, or undefined while it does. */
export function whyStale(holder: LockRow, host: string, selfStart: string | null, now: Date): string | undefined {
  const silentMs = now.getTime() - Date.parse(holder.heartbeat_at);
  // NaN (a damaged row) is stale too.
  if (!(silentMs < STALE_AFTER_MS)) return `its last heartbeat was ${Number.isNaN(silentMs) ? 'unreadable' : `${Math.round(silentMs / 1000)} s ago`}`;
  if (holder.host !== host) return undefined;
  if (holder.pid === process.pid) {
    // Our pid: this very process (a run of watch, schedule or serve), or one that had our pid
    // before (pid 1 of a restarted container).
    const same = sameStart(holder.process_start, selfStart);
    if (same === false) return `pid ${holder.pid} is now another process (started later: this one)`;
    if (same === true && !heldHere.has(holder.run_id)) return 'this process holds no such run (a lock it failed to release)';
    return undefined;
  }
  const current = processStartOf(holder.pid);
  if (current.kind === 'gone' || (current.kind === 'unknown' && !exists(holder.pid))) return `its process (pid ${holder.pid}) has exited`;
  if (current.kind === 'known' && sameStart(holder.process_start, current.start) === false) return `pid ${holder.pid} is now another process`;
  return undefined;
}

/** kill(pid, 0): EPERM means the process exists but belongs to another user. */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
