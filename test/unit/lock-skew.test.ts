/**
 * Issue 18, "also seen": lock staleness read another host's heartbeat time with this host's
 * clock, so a host whose clock runs minutes ahead took live locks (and a holder whose clock
 * ran ahead kept a dead lock for as long). For a holder on another host, silence is now its
 * heartbeat count not advancing while this host watches, by this host's clock alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os, { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HEARTBEAT_MS, STALE_AFTER_MS, SqliteStore } from '../../src/cache/index.js';
import { LockedError } from '../../src/errors.js';

const NAME = 'sheet-1/Statuses';
let dir = '';
const stores: SqliteStore[] = [];
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-lock-skew-'));
});
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(): SqliteStore {
  const store = SqliteStore.open(path.join(dir, 'cache.sqlite'));
  stores.push(store);
  return store;
}

/**
 * A run on another host, as its rows show it: it took the lock and renews it every
 * HEARTBEAT_MS by its own clock, which is `skewMs` off this host's.
 */
function remoteHolder(store: SqliteStore, skewMs: number, readerNow: number) {
  const theirs = (ms: number) => new Date(ms + skewMs).toISOString();
  store.db
    .prepare('INSERT INTO locks (name, run_id, pid, host, process_start, started_at, heartbeat_at) VALUES (?, ?, ?, ?, NULL, ?, ?)')
    .run(NAME, 'run-far', 4242, 'other-host.example', theirs(readerNow), theirs(readerNow));
  return {
    beatAt: (ms: number) => store.db.prepare('UPDATE locks SET heartbeat_at = ?, beat = beat + 1 WHERE name = ? AND run_id = ?').run(theirs(ms), NAME, 'run-far'),
  };
}

const holderOf = (store: SqliteStore) => (store.db.prepare('SELECT run_id FROM locks WHERE name = ?').get(NAME) as { run_id: string } | undefined)?.run_id;

/** Takes the lock through the Store's interface, as a run does, at this host's time `at`; the LockedError when refused. */
async function tryAcquire(store: SqliteStore, runId: string, at: number) {
  try {
    return await store.locks.acquire(NAME, runId, { now: () => new Date(at) });
  } catch (error) {
    expect(error).toBeInstanceOf(LockedError);
    return error as LockedError;
  }
}

const T = Date.parse('2026-12-04T09:00:00.000Z');

describe('a lock held from another host', () => {
  it.each([
    ['runs 10 minutes behind this host', -10 * 60_000],
    ['runs an hour behind this host', -60 * 60_000],
  ])('is not taken while its holder beats, though its clock %s', async (_what, skewMs) => {
    const store = open();
    const holder = remoteHolder(store, skewMs, T);
    // Read with this host's clock, the heartbeat looks minutes old: it is not.
    for (let ms = T; ms <= T + 3 * STALE_AFTER_MS; ms += HEARTBEAT_MS) {
      holder.beatAt(ms);
      const got = await tryAcquire(store, 'run-here', ms + 1_000);
      expect(got, `at +${(ms - T) / 1000} s`).toBeInstanceOf(LockedError);
      expect((got as LockedError).message).toContain("by other-host.example's clock");
    }
    expect(holderOf(store)).toBe('run-far');
  });

  it('is taken once this host has watched its heartbeat stand still for the stale bound, by its own clock', async () => {
    const store = open();
    const holder = remoteHolder(store, -10 * 60_000, T);
    holder.beatAt(T);
    // It dies after that beat. The first look only starts the watch; silence is measured from it.
    expect(await tryAcquire(store, 'run-here', T + 1_000)).toBeInstanceOf(LockedError);
    expect(await tryAcquire(store, 'run-here', T + 1_000 + STALE_AFTER_MS - 1)).toBeInstanceOf(LockedError);
    const taken = await tryAcquire(store, 'run-here', T + 1_000 + STALE_AFTER_MS);
    expect(taken).not.toBeInstanceOf(LockedError);
    expect(holderOf(store)).toBe('run-here');
    expect((taken as { tookOver?: string }).tookOver).toMatch(/its heartbeat has not advanced for 120 s \(watched from /);
    // The watch is over with the lock: nothing is left of it.
    expect(store.db.prepare('SELECT count(*) AS n FROM lock_sightings').get()).toEqual({ n: 0 });
  });

  it('whose clock runs an hour ahead is taken within the stale bound of its death, not an hour later', async () => {
    const store = open();
    const holder = remoteHolder(store, 60 * 60_000, T);
    holder.beatAt(T);
    expect(await tryAcquire(store, 'run-here', T + 1_000)).toBeInstanceOf(LockedError);
    expect(await tryAcquire(store, 'run-here', T + 1_000 + STALE_AFTER_MS)).not.toBeInstanceOf(LockedError);
    expect(holderOf(store)).toBe('run-here');
  });

  it('a beat seen between two looks restarts the watch', async () => {
    const store = open();
    const holder = remoteHolder(store, 0, T);
    expect(await tryAcquire(store, 'run-here', T)).toBeInstanceOf(LockedError);
    holder.beatAt(T + STALE_AFTER_MS - 1_000);
    expect(await tryAcquire(store, 'run-here', T + STALE_AFTER_MS + 1)).toBeInstanceOf(LockedError);
    expect(await tryAcquire(store, 'run-here', T + 2 * STALE_AFTER_MS)).toBeInstanceOf(LockedError);
    expect(await tryAcquire(store, 'run-here', T + 2 * STALE_AFTER_MS + 1)).not.toBeInstanceOf(LockedError);
  });

  it("each host's watch is its own: another host's sighting does not shorten this one's", async () => {
    const store = open();
    remoteHolder(store, 0, T);
    store.db.prepare('INSERT INTO lock_sightings (name, host, run_id, beat, seen_at) VALUES (?, ?, ?, 0, ?)').run(NAME, 'third-host.example', 'run-far', new Date(T - 10 * STALE_AFTER_MS).toISOString());
    expect(await tryAcquire(store, 'run-here', T)).toBeInstanceOf(LockedError);
    expect(holderOf(store)).toBe('run-far');
    expect(hostname()).not.toBe('third-host.example');
  });
});

describe('a lock of this host', () => {
  it('is still judged by its heartbeat time at one look (one clock): four missed heartbeats free it', async () => {
    const store = open();
    await store.locks.acquire(NAME, 'run-A', { now: () => new Date(T) });
    expect(await tryAcquire(store, 'run-B', T + STALE_AFTER_MS - 1)).toBeInstanceOf(LockedError);
    expect(await tryAcquire(store, 'run-B', T + STALE_AFTER_MS)).not.toBeInstanceOf(LockedError);
    expect(holderOf(store)).toBe('run-B');
  });
});
