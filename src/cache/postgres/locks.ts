import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { LockedError, StatusValidatorError } from '../../errors.js';
import type { AcquiredLock, LockHolder, Locks } from '../contract.js';
import { STALE_AFTER_MS } from '../lock.js';
import type { Db } from './db.js';

/**
 * Run locks across hosts (issue 21 item 3, invariant 8). The holder keeps a session-level
 * advisory lock on a connection of its own for as long as it holds the lock: PostgreSQL
 * grants it to one session at a time, and frees it the moment that session ends, so a
 * holder whose process died (its socket closed by the kernel) frees the lock at once. The
 * `locks` row names the holder for messages, and its heartbeat, stamped with the server's
 * clock (one clock for every host), tells a holder that hangs with its connection open: once
 * silent for the stale bound, the next acquirer ends its session (pg_terminate_backend) and
 * takes over.
 */

/** The 64-bit advisory lock key of a lock name (sha256's first 8 bytes, signed, as PostgreSQL's bigint). */
export function advisoryKey(name: string): string {
  return createHash('sha256').update(`status-validator lock:${name}`).digest().readBigInt64BE(0).toString();
}

/** The backend holding the advisory lock of `key` in this database, if any (pg_locks splits a bigint key into classid/objid). */
const ADVISORY_HOLDER = `SELECT pid FROM pg_locks
  WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND classid::bigint = (($1::bigint >> 32) & 4294967295) AND objid::bigint = ($1::bigint & 4294967295)`;

const ROW = `SELECT run_id, pid, host, backend_pid,
  to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS started_at,
  to_char(heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS heartbeat_at,
  (extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS silent_ms
  FROM locks WHERE name = $1`;

interface LockRow {
  run_id: string;
  pid: number;
  host: string;
  backend_pid: number;
  started_at: string;
  heartbeat_at: string;
  silent_ms: number;
}

/** How long an acquirer waits for a terminated holder's session to end, or for a new holder to write its row. */
const SETTLE_MS = 5_000;

export class PostgresLocks implements Locks {
  /** Locks this store holds: closing the store releases them (their sessions would otherwise keep the process alive). */
  private readonly held = new Set<AcquiredLock>();

  constructor(
    private readonly db: Db,
    private readonly staleAfterMs = STALE_AFTER_MS,
  ) {}

  async holder(name: string): Promise<LockHolder | undefined> {
    const [row] = await this.db.rows<LockRow & { alive: boolean }>(`SELECT l.*, l.backend_pid IN (${ADVISORY_HOLDER.replaceAll('$1', '$2')}) AS alive FROM (${ROW}) l`, [name, advisoryKey(name)]);
    // A row whose session has ended is a dead holder's leftover: nobody holds the lock.
    if (!row?.alive) return undefined;
    return { runId: row.run_id, pid: row.pid, host: row.host, startedAt: row.started_at, heartbeatAt: row.heartbeat_at };
  }

  async acquire(name: string, runId: string, options: { now?: () => Date; label?: string } = {}): Promise<AcquiredLock> {
    const label = options.label ?? name;
    const key = advisoryKey(name);
    // The session is the lock: connected (and retried) like any statement, within the commit patience.
    const client = await this.db.retry(() => this.connect(), 'while taking the run lock');
    try {
      const tookOver = await this.claim(client, name, key, runId, label);
      const lock = held(this.db, client, name, key, runId, tookOver, () => this.held.delete(lock));
      this.held.add(lock);
      return lock;
    } catch (error) {
      await client.end().catch(() => {});
      throw error instanceof LockedError ? error : this.db.final(error);
    }
  }

  /** Releases every lock still held (the store is closing). */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.held].map((lock) => lock.release()));
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client(this.db.clientConfig());
    // Its errors are seen by the AcquiredLock (`lost`); without a listener one would crash the process.
    client.on('error', () => {});
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
  }

  /** Takes the advisory lock and writes our row; the holder we replaced, if any. */
  private async claim(client: pg.Client, name: string, key: string, runId: string, label: string): Promise<string | undefined> {
    let tookOver: string | undefined;
    if (!(await tryLock(client, key))) {
      const row = await currentRow(client, name);
      if (row && row.silent_ms >= this.staleAfterMs) {
        // A holder that hangs with its session open: end the session that holds the advisory lock.
        const holderPid = (await client.query<{ pid: number }>(ADVISORY_HOLDER, [key])).rows[0]?.pid;
        if (holderPid !== undefined) await client.query('SELECT pg_terminate_backend($1)', [holderPid]);
        tookOver = `took over the lock of run ${row.run_id} (pid ${row.pid} on ${row.host}, started ${row.started_at}): its heartbeat had not advanced for ${Math.round(row.silent_ms / 1000)} s by the database's clock`;
      }
      if (!(await waitForLock(client, key, tookOver !== undefined ? SETTLE_MS : 0))) {
        throw lockedError(label, (await currentRow(client, name)) ?? (await waitForRow(client, name)), this.staleAfterMs);
      }
    }
    // Ours now. A row left behind names a holder whose session ended (its process died, or lost its connection).
    const leftover = await currentRow(client, name);
    if (leftover && tookOver === undefined && leftover.run_id !== runId) {
      tookOver = `took over the lock of run ${leftover.run_id} (pid ${leftover.pid} on ${leftover.host}, started ${leftover.started_at}): its connection to the database had ended (the process exited or lost its connection)`;
    }
    await client.query('BEGIN');
    try {
      if (leftover && leftover.run_id !== runId) {
        // The dead holder's run will never record its end: say what became of it (as SQLite's lock does).
        await client.query(`UPDATE runs SET status = 'killed', ended_at = $1 WHERE id = $2 AND status = 'running'`, [this.db.options.now().toISOString(), leftover.run_id]);
      }
      await client.query(
        `INSERT INTO locks (name, run_id, pid, host, started_at, heartbeat_at, beat, backend_pid) VALUES ($1, $2, $3, $4, now(), now(), 0, pg_backend_pid())
         ON CONFLICT (name) DO UPDATE SET run_id = excluded.run_id, pid = excluded.pid, host = excluded.host, started_at = excluded.started_at,
           heartbeat_at = excluded.heartbeat_at, beat = 0, backend_pid = excluded.backend_pid`,
        [name, runId, process.pid, hostname()],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    return tookOver;
  }
}

async function tryLock(client: pg.Client, key: string): Promise<boolean> {
  return (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [key])).rows[0]?.ok === true;
}

/** Tries the advisory lock again for up to `patienceMs` (a terminated session takes a moment to end). */
async function waitForLock(client: pg.Client, key: string, patienceMs: number): Promise<boolean> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    if (await tryLock(client, key)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function currentRow(client: pg.Client, name: string): Promise<LockRow | undefined> {
  return (await client.query<LockRow>(ROW, [name])).rows[0];
}

/** A holder between taking the advisory lock and writing its row: give it a moment to name itself. */
async function waitForRow(client: pg.Client, name: string): Promise<LockRow | undefined> {
  const deadline = Date.now() + 1_000;
  for (;;) {
    const row = await currentRow(client, name);
    if (row || Date.now() >= deadline) return row;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function lockedError(label: string, row: LockRow | undefined, staleAfterMs: number): LockedError {
  const who = row
    ? `run ${row.run_id}, pid ${row.pid} on ${row.host}, started ${row.started_at}, last heartbeat ${row.heartbeat_at} (by the database's clock)`
    : 'a run that has not named itself yet';
  return new LockedError(`Another run is already working on ${label}: ${who}.`, {
    hint: `Wait for it to finish (or stop it). A holder whose process has exited frees the lock at once (its database session ends); one whose heartbeat has stood still for ${Math.round(staleAfterMs / 60_000)} minutes is taken over automatically.`,
  });
}

/** The lock as its holder sees it: heartbeats and the release go through the lock's own session. */
function held(db: Db, client: pg.Client, name: string, key: string, runId: string, tookOver: string | undefined, forget: () => void): AcquiredLock {
  const controller = new AbortController();
  let released = false;
  const lose = () => {
    if (!controller.signal.aborted) controller.abort(new StatusValidatorError(`The run lock's connection to the PostgreSQL cache at ${db.target.location} was lost: another instance may take over.`));
  };
  // The session, and with it the advisory lock, is gone: stop at once rather than at the next heartbeat.
  client.on('error', lose);
  client.on('end', () => {
    if (!released) lose();
  });
  return {
    tookOver,
    lost: controller.signal,
    async heartbeat() {
      if (released || controller.signal.aborted) return false;
      try {
        const result = await client.query('UPDATE locks SET heartbeat_at = now(), beat = beat + 1 WHERE name = $1 AND run_id = $2 AND backend_pid = pg_backend_pid()', [name, runId]);
        return (result.rowCount ?? 0) > 0;
      } catch {
        // The session failed: the advisory lock may already be another's.
        lose();
        return false;
      }
    },
    async release() {
      if (released) return;
      released = true;
      forget();
      try {
        if (!controller.signal.aborted) {
          await client.query('DELETE FROM locks WHERE name = $1 AND run_id = $2 AND backend_pid = pg_backend_pid()', [name, runId]);
          await client.query('SELECT pg_advisory_unlock($1)', [key]);
        }
      } catch {
        // Ending the session below frees the advisory lock all the same; a row left behind is a leftover the next acquirer replaces.
      } finally {
        await client.end().catch(() => {});
      }
    },
  };
}

