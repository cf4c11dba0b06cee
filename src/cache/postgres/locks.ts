import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { LockedError, StatusValidatorError } from '../../errors.js';
import type { AcquiredLock, LockHolder, Locks } from '../contract.js';
import { STALE_AFTER_MS } from '../lock.js';
import { SESSION_SETUP, type Db } from './db.js';
import { decodeRows, encodeText, encodeValues } from './text.js';

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

/** advisoryKey of the lock name an SQL expression holds, computed by the server (a bigint). */
export function advisoryKeySql(name: string): string {
  return `('x' || encode(substring(sha256(convert_to('status-validator lock:' || ${name}, 'UTF8')) FROM 1 FOR 8), 'hex'))::bit(64)::bigint`;
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

/**
 * The row of the session that holds the advisory lock now, if it has written one. Read in one
 * statement with pg_locks: a row whose backend_pid is not the holder's is a dead holder's leftover
 * (a crash leaves its row until the next acquirer replaces it), or the previous holder's while the
 * new one has taken the lock and not yet written its own, and must never be taken for the holder.
 */
const HOLDER_ROW = `SELECT l.* FROM (${ROW}) l WHERE l.backend_pid IN (${ADVISORY_HOLDER.replaceAll('$1', '$2')})`;

/**
 * Ends the holder's session, if it is still the one we judged silent: the same backend holds
 * the advisory lock, the row still names it, and its heartbeat is still stale. The row is locked
 * first (FOR UPDATE in a subquery, so that the session is ended only after the lock is taken): a
 * heartbeat committing meanwhile is waited for, and the silence is then judged on the row it wrote
 * (Read Committed rechecks the WHERE on the new version:
 * https://www.postgresql.org/docs/15/transaction-iso.html#XACT-READ-COMMITTED).
 */
const TERMINATE_SILENT = `SELECT pg_terminate_backend(t.backend_pid) AS ended FROM (
    SELECT backend_pid FROM locks
    WHERE name = $1 AND run_id = $3 AND backend_pid = $4 AND now() - heartbeat_at >= $5::float8 * interval '1 millisecond'
      AND backend_pid IN (${ADVISORY_HOLDER.replaceAll('$1', '$2')})
    FOR UPDATE
  ) t`;

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
  /** Acquires in flight: closing waits for them, and they give up their session rather than hold a lock nobody will release. */
  private readonly pending = new Set<Promise<AcquiredLock>>();
  private closing = false;

  constructor(
    private readonly db: Db,
    private readonly staleAfterMs = STALE_AFTER_MS,
    /** Awaited first by each call that takes or drops a lock: the claims made before it, whose outcome depends on which runs hold one. */
    private readonly before: () => Promise<void> = () => Promise.resolve(),
  ) {}

  async holder(name: string): Promise<LockHolder | undefined> {
    // Db escapes the name as it sends it (text.ts); the key is that of the name as stored.
    const [row] = await this.db.rows<LockRow & { alive: boolean }>(`SELECT l.*, l.backend_pid IN (${ADVISORY_HOLDER.replaceAll('$1', '$2')}) AS alive FROM (${ROW}) l`, [name, advisoryKey(encodeText(name))]);
    // A row whose session has ended is a dead holder's leftover: nobody holds the lock.
    if (!row?.alive) return undefined;
    return { runId: row.run_id, pid: row.pid, host: row.host, startedAt: row.started_at, heartbeatAt: row.heartbeat_at };
  }

  async acquire(name: string, runId: string, options: { now?: () => Date; label?: string } = {}): Promise<AcquiredLock> {
    if (this.closing) throw this.closedError();
    await this.before();
    const attempt = this.acquireOnce(name, runId, options.label ?? name);
    this.pending.add(attempt);
    try {
      return await attempt;
    } finally {
      this.pending.delete(attempt);
    }
  }

  private async acquireOnce(name: string, runId: string, label: string): Promise<AcquiredLock> {
    // The key of the name as stored (escaped: text.ts), which the claims' liveness computes from the row (advisoryKeySql).
    const key = advisoryKey(encodeText(name));
    // The session is the lock: connected (and retried) like any statement, within the commit patience.
    const client = await this.db.retry(() => this.connect(), 'while taking the run lock');
    try {
      if (this.closing) throw this.closedError();
      const tookOver = await this.claim(client, name, key, runId, label);
      // The store began closing while we claimed: releaseAll has already run over `held`, so this session would be left open.
      if (this.closing) throw this.closedError();
      const lock = held(this.db, client, name, key, runId, tookOver, () => this.held.delete(lock), this.before);
      this.held.add(lock);
      return lock;
    } catch (error) {
      // Ending the session frees the advisory lock; a row written is a leftover the next acquirer replaces.
      await client.end().catch(() => {});
      throw error instanceof LockedError || error instanceof StatusValidatorError ? error : this.db.final(error);
    }
  }

  private closedError(): StatusValidatorError {
    return new StatusValidatorError(`The PostgreSQL cache at ${this.db.target.location} is closed: the run lock was not taken.`);
  }

  /** Releases every lock still held, and lets no acquire in flight keep one (the store is closing). */
  async releaseAll(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.pending]);
    await Promise.all([...this.held].map((lock) => lock.release()));
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client(this.db.clientConfig());
    // Its errors are seen by the AcquiredLock (`lost`); without a listener one would crash the process.
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query(SESSION_SETUP);
      // The session is held idle between heartbeats for as long as the run lasts: a server's
      // idle_session_timeout (PostgreSQL 14+) would end it, and with it the lock, under a live
      // run. Read from pg_settings so that an older server, which has no such setting, is not asked.
      await client.query(`SELECT set_config(name, '0', false) FROM pg_settings WHERE name = 'idle_session_timeout'`);
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
  }

  /** Takes the advisory lock and writes our row; the holder we replaced, if any. */
  private async claim(client: pg.Client, name: string, key: string, runId: string, label: string): Promise<string | undefined> {
    let tookOver: string | undefined;
    const first = await tryLock(client, key);
    const session = first.pid;
    if (!first.ok) {
      const row = await holderRow(client, name, key);
      if (row && row.silent_ms >= this.staleAfterMs) {
        // A holder that hangs with its session open: end it, if it is still the one we judged silent.
        const [ended] = await onSession<{ ended: boolean }>(client, TERMINATE_SILENT, [name, key, row.run_id, row.backend_pid, this.staleAfterMs]);
        if (ended?.ended === true) {
          tookOver = `took over the lock of run ${row.run_id} (pid ${row.pid} on ${row.host}, started ${row.started_at}): its heartbeat had not advanced for ${Math.round(row.silent_ms / 1000)} s by the database's clock`;
        }
      }
      if (!(await waitForLock(client, key, tookOver !== undefined ? SETTLE_MS : 0))) {
        throw lockedError(label, (await holderRow(client, name, key)) ?? (await waitForHolderRow(client, name, key)), this.staleAfterMs);
      }
    }
    // Ours now: no other session holds the advisory lock, so a row left behind names a holder whose session ended (its process died, or lost its connection).
    const leftover = await currentRow(client, name);
    if (leftover && tookOver === undefined && leftover.run_id !== runId) {
      tookOver = `took over the lock of run ${leftover.run_id} (pid ${leftover.pid} on ${leftover.host}, started ${leftover.started_at}): its connection to the database had ended (the process exited or lost its connection)`;
    }
    await client.query('BEGIN');
    let written: number | undefined;
    try {
      if (leftover && leftover.run_id !== runId) {
        // The dead holder's run will never record its end: say what became of it (as SQLite's lock does).
        await onSession(client, `UPDATE runs SET status = 'killed', ended_at = $1 WHERE id = $2 AND status = 'running'`, [this.db.options.now().toISOString(), leftover.run_id]);
      }
      const [result] = await onSession<{ backend_pid: number }>(
        client,
        `INSERT INTO locks (name, run_id, pid, host, started_at, heartbeat_at, beat, backend_pid) VALUES ($1, $2, $3, $4, now(), now(), 0, pg_backend_pid())
         ON CONFLICT (name) DO UPDATE SET run_id = excluded.run_id, pid = excluded.pid, host = excluded.host, started_at = excluded.started_at,
           heartbeat_at = excluded.heartbeat_at, beat = 0, backend_pid = excluded.backend_pid
         RETURNING backend_pid`,
        [name, runId, process.pid, hostname()],
      );
      written = result?.backend_pid;
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    if (written !== session) {
      // Two statements of one connection ran in two server sessions: a pooler in transaction
      // mode (PgBouncer pool_mode = transaction, Supabase's or Neon's pooled port) hands each
      // transaction to any server connection, so the session-level advisory lock stays on a
      // connection others then use, and no holder can be told apart.
      await onSession(client, 'DELETE FROM locks WHERE name = $1 AND run_id = $2', [name, runId]).catch(() => {});
      throw new StatusValidatorError(
        `The PostgreSQL cache at ${this.db.target.location} is reached through a pooler in transaction mode (one connection's statements ran in two server sessions), which breaks the run locks.`,
        {
          hint: 'Point cache.url at the server itself, or at a pooler in session mode (PgBouncer pool_mode = session; the direct, non-pooled port of Supabase or Neon).',
        },
      );
    }
    return tookOver;
  }
}

async function tryLock(client: pg.Client, key: string): Promise<{ ok: boolean; pid: number }> {
  const row = (await client.query<{ ok: boolean; pid: number }>('SELECT pg_try_advisory_lock($1) AS ok, pg_backend_pid() AS pid', [key])).rows[0];
  return { ok: row?.ok === true, pid: row?.pid ?? -1 };
}

/** Tries the advisory lock again for up to `patienceMs` (a terminated session takes a moment to end). */
async function waitForLock(client: pg.Client, key: string, patienceMs: number): Promise<boolean> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    if ((await tryLock(client, key)).ok) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A statement on a lock's own session, which speaks to the server directly rather than
 * through Db: its texts escaped on the way in and out as Db's are (text.ts), so that the row
 * it writes is the one holder() and the claims (through Db) read, whatever the tab's name.
 */
async function onSession<R extends pg.QueryResultRow>(client: pg.Client, text: string, values: unknown[]): Promise<R[]> {
  return decodeRows((await client.query<R>(text, encodeValues(values))).rows);
}

async function currentRow(client: pg.Client, name: string): Promise<LockRow | undefined> {
  return (await onSession<LockRow>(client, ROW, [name]))[0];
}

async function holderRow(client: pg.Client, name: string, key: string): Promise<LockRow | undefined> {
  return (await onSession<LockRow>(client, HOLDER_ROW, [name, key]))[0];
}

/** A holder between taking the advisory lock and writing its row: give it a moment to name itself. */
async function waitForHolderRow(client: pg.Client, name: string, key: string): Promise<LockRow | undefined> {
  const deadline = Date.now() + 1_000;
  for (;;) {
    const row = await holderRow(client, name, key);
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
function held(db: Db, client: pg.Client, name: string, key: string, runId: string, tookOver: string | undefined, forget: () => void, before: () => Promise<void>): AcquiredLock {
  const controller = new AbortController();
  let released = false;
  const lose = () => {
    // A heartbeat in flight when release() ends the session fails: that is not a lost lock.
    if (!released && !controller.signal.aborted) controller.abort(new StatusValidatorError(`The run lock's connection to the PostgreSQL cache at ${db.target.location} was lost: another instance may take over.`));
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
        const result = await client.query('UPDATE locks SET heartbeat_at = now(), beat = beat + 1 WHERE name = $1 AND run_id = $2 AND backend_pid = pg_backend_pid()', encodeValues([name, runId]));
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
      await before();
      try {
        if (!controller.signal.aborted) {
          await onSession(client, 'DELETE FROM locks WHERE name = $1 AND run_id = $2 AND backend_pid = pg_backend_pid()', [name, runId]);
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

