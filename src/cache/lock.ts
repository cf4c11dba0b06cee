import { hostname } from 'node:os';
import { LockedError } from '../errors.js';
import type { LockHolder } from './contract.js';
import { ownStart, processStartOf, sameStart } from './process-start.js';
import type { Database } from 'better-sqlite3';

/** How often a holder renews its lock. */
export const HEARTBEAT_MS = 30_000;

/**
 * A lock not renewed for this long is stale, on any host and whatever its pid says: a
 * few missed heartbeats, so that a slow disk or a busy event loop is not mistaken for a
 * dead holder, while a frozen or killed one frees the sheet within minutes. On this host
 * the silence is read from heartbeat_at (one clock); for a holder on another host, from
 * its heartbeat (count or time) not changing while this host watched, by this host's clock: the
 * two clocks may be minutes apart, and a host whose clock runs ahead must not find a live
 * holder silent.
 */
export const STALE_AFTER_MS = 4 * HEARTBEAT_MS;

interface LockRow {
  run_id: string;
  pid: number;
  host: string;
  process_start: string | null;
  started_at: string;
  heartbeat_at: string;
  /** Heartbeats so far (0 in a row written before the count existed). */
  beat: number;
}

/** What this host saw of another host's lock: its beat and heartbeat time, and when (by this host's clock). */
export interface Sighting {
  run_id: string;
  beat: number;
  /** The holder's heartbeat_at as seen (its clock: compared for a change, never with ours); null in a sighting noted before it was kept. */
  heartbeat_at: string | null;
  seen_at: string;
}

/**
 * The holder is as this host last saw it: same run, same beat and same heartbeat time. A
 * holder of the release before the beat count renews heartbeat_at only, so a change of
 * either is a sign of life. A sighting without the time (noted by the release before this
 * one) proves nothing: the watch starts again from the next look.
 */
function unchangedSince(holder: LockRow, sighting: Sighting | undefined): sighting is Sighting {
  return sighting !== undefined && sighting.run_id === holder.run_id && sighting.beat === holder.beat && sighting.heartbeat_at !== null && sighting.heartbeat_at === holder.heartbeat_at;
}

/** Runs of this process that hold a lock now: a row of ours naming another run is a leftover. */
const heldHere = new Set<string>();

/** The SQLite lock as better-sqlite3 gives it: synchronous (SqliteStore's `locks` wraps it in the Store's async AcquiredLock). */
export interface SqliteLock {
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
export function acquireLock(db: Database, name: string, runId: string, now: () => Date = () => new Date(), label = name): SqliteLock {
  const host = hostname();
  const self = ownStart();
  const selfStart = self.kind === 'known' ? self.start : null;
  let tookOver: string | undefined;
  const refused = db
    .transaction((): LockRow | undefined => {
      const holder = db.prepare('SELECT * FROM locks WHERE name = ?').get(name) as LockRow | undefined;
      const sighting = holder && holder.host !== host ? (db.prepare('SELECT run_id, beat, heartbeat_at, seen_at FROM lock_sightings WHERE name = ? AND host = ?').get(name, host) as Sighting | undefined) : undefined;
      const stale = holder && whyStale(holder, host, selfStart, now(), sighting);
      if (holder && stale === undefined) {
        // Kept (the transaction commits): the next look measures the silence from here.
        if (holder.host !== host) noteSighting(db, name, host, holder, sighting, now());
        return holder;
      }
      const stamp = now().toISOString();
      if (holder) {
        tookOver = `took over the lock of run ${holder.run_id} (pid ${holder.pid} on ${holder.host}, started ${holder.started_at}): ${stale ?? ''}`;
        // The dead holder's run will never record its end: say what became of it.
        db.prepare(`UPDATE runs SET status = 'killed', ended_at = ? WHERE id = ? AND status = 'running'`).run(stamp, holder.run_id);
      }
      db
        .prepare('INSERT OR REPLACE INTO locks (name, run_id, pid, host, process_start, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(name, runId, process.pid, host, selfStart, stamp, stamp);
      db.prepare('DELETE FROM lock_sightings WHERE name = ?').run(name);
      return undefined;
    })
    .immediate();
  if (refused) {
    throw new LockedError(
      `Another run is already working on ${label}: run ${refused.run_id}, pid ${refused.pid} on ${refused.host}, started ${refused.started_at}, last heartbeat ${refused.heartbeat_at}${refused.host === host ? '' : ` (by ${refused.host}'s clock)`}.`,
      {
        hint: `Wait for it to finish (or stop it). A lock whose holder has exited, or whose heartbeat has stood still for ${STALE_AFTER_MS / 60_000} minutes (another host's: watched from here, by this host's clock; run again then), is taken over automatically.`,
      },
    );
  }
  heldHere.add(runId);
  return {
    tookOver,
    heartbeat: () => {
      if (!db.open) return true;
      return db.prepare('UPDATE locks SET heartbeat_at = ?, beat = beat + 1 WHERE name = ? AND run_id = ?').run(now().toISOString(), name, runId).changes > 0;
    },
    release: () => {
      // Forgotten first: should the DELETE fail, this process still takes the row over next time.
      heldHere.delete(runId);
      if (db.open) db.prepare('DELETE FROM locks WHERE name = ? AND run_id = ?').run(name, runId);
    },
  };
}

/** Why a holder no longer holds the lock, or undefined while it does. */
export function whyStale(holder: LockRow, host: string, selfStart: string | null, now: Date, sighting?: Sighting): string | undefined {
  if (holder.host !== host) {
    // Silent only if this host has seen the same beat and heartbeat time of the same run for long enough.
    if (!unchangedSince(holder, sighting)) return undefined;
    const watchedMs = now.getTime() - Date.parse(sighting.seen_at);
    return watchedMs >= STALE_AFTER_MS || Number.isNaN(watchedMs) ? `its heartbeat has not advanced for ${Number.isNaN(watchedMs) ? 'long' : `${Math.round(watchedMs / 1000)} s`} (watched from ${host})` : undefined;
  }
  const silentMs = now.getTime() - Date.parse(holder.heartbeat_at);
  // NaN (a damaged row) is stale too.
  if (!(silentMs < STALE_AFTER_MS)) return `its last heartbeat was ${Number.isNaN(silentMs) ? 'unreadable' : `${Math.round(silentMs / 1000)} s ago`}`;
  return processGone(holder, selfStart);
}

/** Why the holder's process, on this host, is gone: exited, its pid another process now, or this process without that run. */
function processGone(holder: LockRow, selfStart: string | null): string | undefined {
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

/** Notes another host's lock as first seen now; a sighting of the same beat and heartbeat time keeps its time. */
function noteSighting(db: Database, name: string, host: string, holder: LockRow, sighting: Sighting | undefined, now: Date): void {
  if (unchangedSince(holder, sighting)) return;
  db
    .prepare('INSERT OR REPLACE INTO lock_sightings (name, host, run_id, beat, heartbeat_at, seen_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(name, host, holder.run_id, holder.beat ?? 0, holder.heartbeat_at, now.toISOString());
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

/** Who holds a lock now, if anyone: named when a run finds its lock taken over. */
export function lockHolder(db: Database, name: string): LockHolder | undefined {
  return db.prepare('SELECT run_id AS runId, pid, host, started_at AS startedAt, heartbeat_at AS heartbeatAt FROM locks WHERE name = ?').get(name) as LockHolder | undefined;
}

/**
 * Frees the lock rows of run `runId` whose holder's process, on this host, is gone (exited,
 * or its pid another process now), as acquire judges it: what the next acquirer of that
 * sheet would do, done here for the run's claims, which count as live while their run holds
 * a lock row (./sqlite/claims.ts). A killed instance otherwise held its questions for
 * CLAIM_STALE_MS against every other run on the same rows. A silent heartbeat is left to
 * acquire: it is judged by the holder's clock, which a run may be given (watch, schedule),
 * and this one is not. Another host's holder too: acquire watches its silence. True when a
 * row was freed.
 */
export function reapIfGone(db: Database, runId: string, now: () => Date = () => new Date()): boolean {
  const host = hostname();
  const self = ownStart();
  const selfStart = self.kind === 'known' ? self.start : null;
  return db
    .transaction((): boolean => {
      const rows = db.prepare('SELECT * FROM locks WHERE run_id = ? AND host = ?').all(runId, host) as Array<LockRow & { name: string }>;
      let freed = false;
      for (const row of rows) {
        if (processGone(row, selfStart) === undefined) continue;
        db.prepare(`UPDATE runs SET status = 'killed', ended_at = ? WHERE id = ? AND status = 'running'`).run(now().toISOString(), row.run_id);
        db.prepare('DELETE FROM locks WHERE name = ? AND run_id = ?').run(row.name, row.run_id);
        freed = true;
      }
      return freed;
    })
    .immediate();
}
