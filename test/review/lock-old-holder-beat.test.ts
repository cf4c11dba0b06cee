/**
 * Review of issue 18 "also seen" (f), invariant 8: lock staleness of another host's holder
 * is now read from its heartbeat COUNT (locks.beat) alone. A holder started by the
 * previous release (a long `watch` or `serve` on another host, still running while this
 * host is upgraded and migrates the shared cache) renews its lock with
 * `UPDATE locks SET heartbeat_at = ?` only: the migration gave its row beat = 0, and it
 * never moves. Its heartbeat_at advances every 30 s, yet this host finds the beat standing
 * still and takes the live lock after the stale bound: two runs on one tab. The older
 * release opens the migrated file without complaint (migrate() runs nothing for a newer
 * version), so the two do meet. A heartbeat that changes, count or time, is a holder alive.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { HEARTBEAT_MS, STALE_AFTER_MS, SqliteStore } from '../../src/cache/index.js';
import { LockedError } from '../../src/errors.js';
import { insertLock, lockRows } from '../support/inspect.js';

const NAME = 'sheet-1/Statuses';
let dir = '';
let store: SqliteStore | undefined;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-lock-old-'));
});
afterEach(async () => {
  await store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const T = Date.parse('2026-12-04T09:00:00.000Z');

it("a previous release's holder on another host, renewing heartbeat_at every 30 s, keeps its lock", async () => {
  const file = path.join(dir, 'cache.sqlite');
  store = SqliteStore.open(file);
  // The older release's row (no beat, no process_start), and its heartbeat as it wrote it then.
  insertLock(file, { name: NAME, run_id: 'run-old', pid: 4242, host: 'other-host.example', started_at: new Date(T).toISOString(), heartbeat_at: new Date(T).toISOString() });
  const oldHeartbeat = (ms: number) => store!.db.prepare('UPDATE locks SET heartbeat_at = ? WHERE name = ? AND run_id = ?').run(new Date(ms).toISOString(), NAME, 'run-old');
  for (let ms = T; ms <= T + 3 * STALE_AFTER_MS; ms += HEARTBEAT_MS) {
    oldHeartbeat(ms);
    let got: unknown;
    try {
      got = await store.locks.acquire(NAME, 'run-here', { now: () => new Date(ms + 1_000) });
    } catch (error) {
      got = error;
    }
    expect(got, `at +${(ms - T) / 1000} s the live holder's lock was taken`).toBeInstanceOf(LockedError);
  }
  expect(lockRows(file).map((l) => l.run_id)).toEqual(['run-old']);
});

it("a sighting noted before heartbeat times were kept proves nothing: the watch starts again, and a silent holder is taken only after it", async () => {
  const file = path.join(dir, 'cache.sqlite');
  store = SqliteStore.open(file);
  insertLock(file, { name: NAME, run_id: 'run-old', pid: 4242, host: 'other-host.example', started_at: new Date(T).toISOString(), heartbeat_at: new Date(T).toISOString() });
  // As the beat-only release noted it, long ago: same run, same beat, no heartbeat time.
  store.db.prepare('INSERT INTO lock_sightings (name, host, run_id, beat, seen_at) VALUES (?, ?, ?, 0, ?)').run(NAME, os.hostname(), 'run-old', new Date(T - 10 * STALE_AFTER_MS).toISOString());
  const at = async (ms: number): Promise<unknown> => {
    try {
      return await store!.locks.acquire(NAME, 'run-here', { now: () => new Date(ms) });
    } catch (error) {
      return error;
    }
  };
  expect(await at(T + 1_000)).toBeInstanceOf(LockedError);
  expect(await at(T + 1_000 + STALE_AFTER_MS - 1)).toBeInstanceOf(LockedError);
  // Silent (no beat, no new time) for the whole bound since this host's own first look: taken.
  expect(await at(T + 1_000 + STALE_AFTER_MS)).not.toBeInstanceOf(LockedError);
  expect(lockRows(file).map((l) => l.run_id)).toEqual(['run-here']);
});
