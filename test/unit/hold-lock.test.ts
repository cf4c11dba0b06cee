/**
 * The run lock's heartbeat on the async Store (issue 21): a renewal that resolves false, or
 * the lock's `lost` signal (a PostgreSQL session that ended) when the lock cannot be taken
 * again, stops the run like a lock taken over (a session that ended with nobody taking the
 * tab is taken again, and the run goes on); a renewal that throws is tried again at the next
 * beat; a beat still waiting is not doubled; release never rejects. The store is a real SqliteStore; where a test needs a
 * behaviour SQLite has not (a lost session, a failing or slow renewal), its lock is wrapped.
 */
import { describe, expect, it } from 'vitest';
import type { AcquiredLock, SqliteStore, Store } from '../../src/cache/index.js';
import type { Config } from '../../src/config/index.js';
import { LockLostError, holdLock, lockNameOf, type Every } from '../../src/pipeline/index.js';
import { StatusValidatorError } from '../../src/errors.js';
import { scratchStoreEach } from '../support/scratch-store.js';

let store: SqliteStore;
let config: Config;
scratchStoreEach('sv-hold-lock-', (made) => ({ store, config } = made), { spreadsheetId: 'sheet-1', rulesText: 'Say what is next.' });

/** Lets the promise callbacks already queued run (the store's calls resolve without I/O waits). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** A heartbeat timer driven by hand: `beat()` runs one tick and waits for what it started. */
function manualEvery(): { every: Every; beat: () => Promise<void>; stopped: () => boolean } {
  let tick: (() => void) | undefined;
  let stopped = false;
  return {
    every: (_ms, t) => {
      tick = t;
      return () => {
        stopped = true;
      };
    },
    beat: async () => {
      tick?.();
      await settle();
    },
    stopped: () => stopped,
  };
}

/** The store with its lock's heartbeat (and `lost`) replaced by the test's. */
function wrapped(change: (lock: AcquiredLock) => Partial<AcquiredLock>): Store {
  const locks = {
    ...store.locks,
    acquire: async (...args: Parameters<Store['locks']['acquire']>) => {
      const lock = await store.locks.acquire(...args);
      return { ...lock, heartbeat: () => lock.heartbeat(), release: () => lock.release(), tookOver: lock.tookOver, ...change(lock) };
    },
  };
  return Object.assign(Object.create(store) as Store, { locks });
}

/**
 * The store with a session per lock, as PostgreSQL's: `sessions[i]` aborts the i-th lock's
 * `lost`, `inner[i]` is the lock under it. `failAgain` makes every acquire after the first throw.
 */
function sessionStore(failAgain?: () => never): { store: Store; sessions: AbortController[]; inner: AcquiredLock[] } {
  const sessions: AbortController[] = [];
  const inner: AcquiredLock[] = [];
  const locks = {
    ...store.locks,
    acquire: async (...args: Parameters<Store['locks']['acquire']>): Promise<AcquiredLock> => {
      if (failAgain && inner.length > 0) failAgain();
      const lock = await store.locks.acquire(...args);
      const session = new AbortController();
      sessions.push(session);
      inner.push(lock);
      return { heartbeat: async () => !session.signal.aborted && (await lock.heartbeat()), release: () => lock.release(), tookOver: lock.tookOver, lost: session.signal };
    },
  };
  return { store: Object.assign(Object.create(store) as Store, { locks }), sessions, inner };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
}

describe('holdLock on the async Store', () => {
  it('stops the run when a renewal finds the lock taken over, naming the new holder', async () => {
    const timer = manualEvery();
    const held = await holdLock(store, config, 'run-A', { every: timer.every });
    await timer.beat();
    expect(held.lost.aborted).toBe(false);
    store.db.prepare('UPDATE locks SET run_id = ?, pid = ?, host = ? WHERE name = ?').run('run-thief', 4242, 'other-host.example', lockNameOf(config));
    await timer.beat();
    expect(held.lost.aborted).toBe(true);
    expect(held.lost.reason).toBeInstanceOf(LockLostError);
    expect((held.lost.reason as LockLostError).message).toContain('run run-thief (pid 4242 on other-host.example) took it over');
    await held.release();
    expect(timer.stopped()).toBe(true);
    expect((await store.locks.holder(lockNameOf(config)))?.runId).toBe('run-thief');
  });

  it('tries a renewal that failed again at the next beat, without stopping the run', async () => {
    const timer = manualEvery();
    let failures = 1;
    let renewals = 0;
    const flaky = wrapped((lock) => ({
      heartbeat: async () => {
        renewals++;
        if (failures-- > 0) throw new Error('SQLITE_BUSY: database is locked');
        return lock.heartbeat();
      },
    }));
    const held = await holdLock(flaky, config, 'run-A', { every: timer.every });
    await timer.beat();
    expect(held.lost.aborted).toBe(false);
    await timer.beat();
    expect(renewals).toBe(2);
    expect(held.lost.aborted).toBe(false);
    await held.release();
    expect(await store.locks.holder(lockNameOf(config))).toBeUndefined();
  });

  it('takes the lock again when its session ends and nobody took the tab (a database restart is no takeover): the run goes on, its beats renew the new lock', async () => {
    const timer = manualEvery();
    const { store: restarting, sessions, inner } = sessionStore();
    const held = await holdLock(restarting, config, 'run-A', { every: timer.every });
    // The server restarts: the session ends, and the lock with it (as PostgreSQL ends an advisory lock with its session).
    await inner[0]?.release();
    sessions[0]?.abort(new Error('terminating connection due to administrator command'));
    await until(() => inner.length === 2);
    expect(held.lost.aborted).toBe(false);
    expect((await store.locks.holder(lockNameOf(config)))?.runId).toBe('run-A');
    await timer.beat();
    expect(held.lost.aborted).toBe(false);
    // Ended again later: taken again again.
    await inner[1]?.release();
    sessions[1]?.abort(new Error('connection lost'));
    await until(() => inner.length === 3);
    expect(held.lost.aborted).toBe(false);
    await held.release();
    expect(await store.locks.holder(lockNameOf(config))).toBeUndefined();
  });

  it('stops the run when its session ended and another run took the tab before it could be taken again, naming that run', async () => {
    const { store: restarting, sessions, inner } = sessionStore();
    const held = await holdLock(restarting, config, 'run-A', { every: manualEvery().every });
    await inner[0]?.release();
    const thief = await store.locks.acquire(lockNameOf(config), 'run-thief');
    sessions[0]?.abort(new Error('connection lost'));
    await until(() => held.lost.aborted);
    expect(held.lost.reason).toBeInstanceOf(LockLostError);
    const message = (held.lost.reason as LockLostError).message;
    expect(message).toContain('the connection to the store that held it ended');
    expect(message).toMatch(/run run-thief \(pid \d+ on [^)]+\) took it/);
    await held.release();
    // The thief's lock is untouched by the loser's release.
    expect((await store.locks.holder(lockNameOf(config)))?.runId).toBe('run-thief');
    await thief.release();
  });

  it('stops the run when its session ended and the store cannot be reached to take it again, saying why', async () => {
    const { store: restarting, sessions, inner } = sessionStore(() => {
      throw new StatusValidatorError('The PostgreSQL cache at db.example:5432/cache stayed unreachable for 30 s while taking the run lock (ECONNREFUSED: connection refused); the run stops.');
    });
    const held = await holdLock(restarting, config, 'run-A', { every: manualEvery().every });
    await inner[0]?.release();
    sessions[0]?.abort(new Error('connection lost'));
    await until(() => held.lost.aborted);
    const message = (held.lost.reason as LockLostError).message;
    expect(message).toContain('the connection to the store that held it ended and it could not be taken again');
    expect(message).toContain('db.example:5432');
    expect(message).toContain('another instance may take the sheet');
    await held.release();
  });

  it('does not start a second renewal while one is still waiting', async () => {
    const timer = manualEvery();
    let started = 0;
    let finish: ((held: boolean) => void) | undefined;
    const slow = wrapped(() => ({
      heartbeat: () => {
        started++;
        return new Promise<boolean>((resolve) => (finish = resolve));
      },
    }));
    const held = await holdLock(slow, config, 'run-A', { every: timer.every });
    await timer.beat();
    await timer.beat();
    expect(started).toBe(1);
    finish?.(true);
    await settle();
    await timer.beat();
    expect(started).toBe(2);
    finish?.(true);
    await held.release();
  });

  it('releases without rejecting, even when the store fails, and only once', async () => {
    let releases = 0;
    const failing = wrapped(() => ({
      release: () => {
        releases++;
        return Promise.reject(new Error('database unreachable'));
      },
    }));
    const held = await holdLock(failing, config, 'run-A', { every: manualEvery().every });
    await expect(held.release()).resolves.toBeUndefined();
    await expect(held.release()).resolves.toBeUndefined();
    expect(releases).toBe(1);
  });
});
