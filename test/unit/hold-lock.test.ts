/**
 * The run lock's heartbeat on the async Store (issue 21): a renewal that resolves false, or
 * the lock's `lost` signal (a PostgreSQL session that ended), stops the run like a lock taken
 * over; a renewal that throws is tried again at the next beat; a beat still waiting is not
 * doubled; release never rejects. The store is a real SqliteStore; where a test needs a
 * behaviour SQLite has not (a lost session, a failing or slow renewal), its lock is wrapped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore, type AcquiredLock, type Store } from '../../src/cache/index.js';
import { parseConfig, type Config } from '../../src/config/index.js';
import { LockLostError, holdLock, lockNameOf, type Every } from '../../src/pipeline/index.js';

let dir = '';
let store: SqliteStore;
let config: Config;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-hold-lock-'));
  store = SqliteStore.open(path.join(dir, 'cache.sqlite'));
  const yaml = stringify({
    sheets: { spreadsheet_id: 'sheet-1', sheet: 'Statuses' },
    columns: { status: 'Status', comment: 'Comment' },
    rules: { allowed_statuses: ['Done'], text: 'Say what is next.' },
    llm: { providers: [{ name: 'primary', model: 'gpt-5-mini' }] },
  });
  config = parseConfig(yaml, path.join(dir, 'config.yaml'), {});
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

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

  it('stops the run as soon as the store says the lock is lost (its session ended), without waiting for a beat', async () => {
    const session = new AbortController();
    const held = await holdLock(wrapped(() => ({ lost: session.signal })), config, 'run-A', { every: manualEvery().every });
    expect(held.lost.aborted).toBe(false);
    session.abort(new Error('connection terminated'));
    expect(held.lost.aborted).toBe(true);
    expect(held.lost.reason).toBeInstanceOf(LockLostError);
    expect((held.lost.reason as LockLostError).message).toContain('the connection to the store that held it ended');
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
