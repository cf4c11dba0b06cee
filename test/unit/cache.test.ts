import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import os, { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HEARTBEAT_MS, STALE_AFTER_MS, SqliteStore, cacheKey, type AcquiredLock, type CachedVerdict, type KeyParts } from '../../src/cache/index.js';
import { fromProcStat, ownStart, processStartOf, sameStart } from '../../src/cache/process-start.js';
import fc from 'fast-check';
import { LockedError, type StatusValidatorError } from '../../src/errors.js';
import { verdictOf } from '../contract/store-contract.js';

let dir = '';
const stores: SqliteStore[] = [];
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-cache-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill();
  for (const store of stores.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(file = path.join(dir, 'cache.sqlite')): SqliteStore {
  const store = SqliteStore.open(file);
  stores.push(store);
  return store;
}

/** Takes a lock through the Store's interface, as a run does. */
function acquireLock(store: SqliteStore, name: string, runId: string, now?: () => Date): Promise<AcquiredLock> {
  return store.locks.acquire(name, runId, now ? { now } : {});
}

/** The contract's verdict, with this file's own time, confidence and token counts. */
function verdict(key: string, overrides: Partial<CachedVerdict> = {}): CachedVerdict {
  return verdictOf(key, { checkedAt: '2025-06-30T10:00:00.000Z', confidence: 0.9, promptTokens: 812, completionTokens: 64, cachedTokens: 768, ...overrides });
}

describe('cacheKey', () => {
  const base: KeyParts = {
    inputs: { status: 'Done', comment: 'Shipped', completion_date: '2025-06-30' },
    rulesText: 'Say what is next.',
    allowedStatuses: ['Planned', 'Done'],
    promptVersion: 'prompt-v1',
    model: 'gpt-5-mini',
    schemaVersion: 'answer-v1',
  };

  it('is the same for the same parts', async () => {
    expect(cacheKey(base)).toBe(cacheKey({ ...base, inputs: { ...base.inputs }, allowedStatuses: [...base.allowedStatuses] }));
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with each part: every input, the rules, the allowed statuses, the prompt, the model, the schema', async () => {
    const variants: KeyParts[] = [
      { ...base, inputs: { ...base.inputs, status: 'Planned' } },
      { ...base, inputs: { ...base.inputs, comment: 'Shipped!' } },
      { ...base, inputs: { ...base.inputs, completion_date: '2025-07-01' } },
      { ...base, rulesText: 'Say what is next, and by when.' },
      { ...base, allowedStatuses: ['Planned', 'Done', 'Cancelled'] },
      { ...base, promptVersion: 'prompt-v2' },
      { ...base, model: 'gpt-4o-mini' },
      { ...base, schemaVersion: 'answer-v2' },
    ];
    const keys = new Set([cacheKey(base), ...variants.map(cacheKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('does not change with anything else: the row id, the row number, the date of the run', async () => {
    const withExtras = { ...base, inputs: { ...base.inputs, id: 'P-1', row: 7 }, id: 'P-1', today: '2031-01-01' };
    expect(cacheKey(withExtras)).toBe(cacheKey(base));
  });

  it('keeps fields apart, so text moving from one input to the next is a different key', async () => {
    const a = cacheKey({ ...base, inputs: { status: 'Do', comment: 'neShipped', completion_date: '' } });
    const b = cacheKey({ ...base, inputs: { status: 'Done', comment: 'Shipped', completion_date: '' } });
    expect(a).not.toBe(b);
  });
});

describe('SqliteStore', () => {
  it('gives back what was put, field for field', async () => {
    const store = open();
    const stored = verdict('k1');
    await store.put(stored);
    expect(await store.get('k1')).toEqual(stored);
  });

  it('gives undefined for a key it never saw', async () => {
    expect(await open().get('absent')).toBeUndefined();
  });

  it('replaces the verdict of a key put twice, keeping one row', async () => {
    const store = open();
    await store.put(verdict('k1'));
    await store.put(verdict('k1', { verdict: 'VALID', issues: [], suggestion: '', promptTokens: 5 }));
    expect(await store.get('k1')).toMatchObject({ verdict: 'VALID', issues: [], suggestion: '', promptTokens: 5 });
    expect(await store.count()).toBe(1);
  });

  it('counts the verdicts it holds', async () => {
    const store = open();
    expect(await store.count()).toBe(0);
    for (let i = 0; i < 7; i++) await store.put(verdict(`k${i}`));
    expect(await store.count()).toBe(7);
  });

  it('keeps its data when reopened, in WAL mode', async () => {
    const file = path.join(dir, 'cache.sqlite');
    const first = open(file);
    expect(first.db.pragma('journal_mode', { simple: true })).toBe('wal');
    await first.put(verdict('kept'));
    await first.put(verdict('also kept', { verdict: 'VALID' }));
    await first.close();

    const second = open(file);
    expect(await second.count()).toBe(2);
    expect(await second.get('kept')).toEqual(verdict('kept'));
    expect((await second.get('also kept'))?.verdict).toBe('VALID');
  });

  it('sees a verdict committed by another connection at once', async () => {
    const file = path.join(dir, 'cache.sqlite');
    const writer = open(file);
    const reader = open(file);
    await writer.put(verdict('shared'));
    expect(await reader.get('shared')).toEqual(verdict('shared'));
  });

  it('creates the folder of the cache file', async () => {
    const file = path.join(dir, 'a', 'b', 'cache.sqlite');
    await open(file).put(verdict('k'));
    expect(existsSync(file)).toBe(true);
  });

  it('refuses to store a verdict other than VALID or INVALID', async () => {
    const store = open();
    await expect(store.put(verdict('k', { verdict: 'ERROR' as 'VALID' }))).rejects.toThrow(/CHECK constraint/);
    expect(await store.count()).toBe(0);
  });

  /** The hint SqliteStore.open gives for a file it cannot open. */
  function hintFor(file: string): string {
    try {
      SqliteStore.open(file).db.close();
    } catch (error) {
      return (error as StatusValidatorError).hint ?? '';
    }
    throw new Error(`${file} opened`);
  }

  it('never tells the user to throw away a damaged cache (which would pay for every row again), and says how to salvage it', async () => {
    const file = path.join(dir, 'damaged.sqlite');
    writeFileSync(file, 'this is not an SQLite database, but it might be the only copy of one'.repeat(100));
    const hint = hintFor(file);
    expect(hint).toContain('Keep it');
    expect(hint).toContain('.recover');
    expect(hint).not.toMatch(/move it away|delete/i);
  });

  it('tells the user to upgrade when the file was written by a newer version, and leaves it untouched', async () => {
    const file = path.join(dir, 'newer.sqlite');
    await open(file).close();
    const raw = new Database(file);
    raw.pragma('user_version = 999');
    raw.close();
    expect(hintFor(file)).toContain('Upgrade status-validator');
    const again = new Database(file, { readonly: true });
    expect(again.pragma('user_version', { simple: true })).toBe(999);
    again.close();
  });

  it('explains a cache path it cannot open', async () => {
    const blocked = path.join(dir, 'not-a-folder');
    await open(blocked).close();
    expect(() => SqliteStore.open(path.join(blocked, 'cache.sqlite'))).toThrow(/Cannot open the cache/);
  });
});

describe('process start times', () => {
  it('tell this process from a process started later with the same pid', async () => {
    const mine = ownStart();
    expect(mine.kind).toBe('known');
    const start = mine.kind === 'known' ? mine.start : '';
    expect(sameStart(start, start)).toBe(true);
    expect(sameStart(start, start.replace(/:(\d+)$/, (_m, t: string) => `:${Number(t) + 1}`))).toBe(false);
  });

  it('say a process that has exited is gone', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const pid = child.pid ?? -1;
    await once(child, 'exit');
    expect(processStartOf(pid)).toEqual({ kind: 'gone' });
  });

  it('tolerate the second by which Linux boot time drifts, and leave another boot (or machine) to the heartbeat', async () => {
    expect(sameStart('linux:1700000000:500', 'linux:1700000001:500')).toBe(true);
    expect(sameStart('linux:1700000000:500', 'linux:1700000001:501')).toBe(false);
    expect(sameStart('linux:1700000000:500', 'linux:1700086400:500')).toBeUndefined();
    expect(sameStart('linux:1700000000:500', 'linux:1700086400:900')).toBeUndefined();
    expect(sameStart('linux:1700000000:500', null)).toBeUndefined();
    expect(sameStart('linux:1700000000:500', 'ps:Tue Dec  1 20:00:00 2026')).toBeUndefined();
  });

  it('read a command name holding spaces and parentheses, and a zombie as gone', async () => {
    const fields = (state: string) => [state, ...Array.from({ length: 18 }, (_, i) => String(i)), '123456', '0', '0'].join(' ');
    expect(fromProcStat(`42 (my) (odd name) ${fields('S')}`, 1700000000)).toEqual({ kind: 'known', start: 'linux:1700000000:123456' });
    expect(fromProcStat(`42 (node) ${fields('Z')}`, 1700000000)).toEqual({ kind: 'gone' });
  });

  it('never throw on any /proc/<pid>/stat text, and never claim a start they cannot read', async () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        const start = fromProcStat(text, 1700000000);
        if (start.kind === 'known') expect(start.start).toMatch(/^linux:1700000000:\d+$/);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('acquireLock', () => {
  const startedAt = new Date('2025-06-30T08:15:00.000Z');
  const at = (date: Date) => () => date;

  function insertLock(store: SqliteStore, row: { pid: number; host: string; runId: string; heartbeatAt?: string; processStart?: string | null }): void {
    store.db
      .prepare('INSERT OR REPLACE INTO locks (name, run_id, pid, host, process_start, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run('sheet-1/Statuses', row.runId, row.pid, row.host, row.processStart ?? null, startedAt.toISOString(), row.heartbeatAt ?? new Date().toISOString());
  }

  const own = () => {
    const start = ownStart();
    if (start.kind !== 'known') throw new Error('this test needs /proc or ps to tell when a process started');
    return start.start;
  };
  /** The start of a process that began a tick after this one (same boot). */
  const laterStart = () => own().replace(/:(\d+)$/, (_m, ticks: string) => `:${Number(ticks) + 1}`);

  it('records the holder by host, pid and process start', async () => {
    const store = open();
    await acquireLock(store, 'sheet-1/Statuses', 'run-A');
    expect(store.db.prepare('SELECT pid, host, process_start FROM locks').get()).toEqual({ pid: process.pid, host: hostname(), process_start: own() });
  });

  it('takes over at once a lock left by another process that had this pid (a restarted container: same host, same pid)', async () => {
    const store = open();
    insertLock(store, { pid: process.pid, host: hostname(), runId: 'run-before-restart', processStart: laterStart() });
    const lock = await acquireLock(store, 'sheet-1/Statuses', 'run-B');
    expect(holder(store)?.run_id).toBe('run-B');
    expect(lock.tookOver).toContain(`pid ${process.pid} is now another process`);
  });

  it('takes over a lock whose pid now belongs to another live process (a recycled pid)', async () => {
    const store = open();
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(child);
    await once(child, 'spawn');
    insertLock(store, { pid: child.pid ?? -1, host: hostname(), runId: 'run-recycled', processStart: laterStart().replace(/:\d+$/, ':1') });
    await acquireLock(store, 'sheet-1/Statuses', 'run-B');
    expect(holder(store)?.run_id).toBe('run-B');
  });

  it('takes over a lock this very process failed to release (watch and schedule do not lock themselves out)', async () => {
    const store = open();
    insertLock(store, { pid: process.pid, host: hostname(), runId: 'run-never-released', processStart: own() });
    await acquireLock(store, 'sheet-1/Statuses', 'run-B');
    expect(holder(store)?.run_id).toBe('run-B');
  });

  it('takes over a lock whose live holder on this host stopped beating its heart, whatever its pid says', async () => {
    const store = open();
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(child);
    await once(child, 'spawn');
    const start = processStartOf(child.pid ?? -1);
    insertLock(store, { pid: child.pid ?? -1, host: hostname(), runId: 'run-frozen', processStart: start.kind === 'known' ? start.start : null, heartbeatAt: new Date(Date.now() - STALE_AFTER_MS).toISOString() });
    const lock = await acquireLock(store, 'sheet-1/Statuses', 'run-B');
    expect(holder(store)?.run_id).toBe('run-B');
    expect(lock.tookOver).toContain('its last heartbeat was');
  });

  it('says a heartbeat found the lock taken over', async () => {
    const store = open();
    const lock = await acquireLock(store, 'sheet-1/Statuses', 'run-A');
    expect(await lock.heartbeat()).toBe(true);
    insertLock(store, { pid: 4242, host: 'other-host', runId: 'run-thief' });
    expect(await lock.heartbeat()).toBe(false);
  });

  async function lockedError(fn: () => Promise<unknown>): Promise<LockedError> {
    try {
      await fn();
    } catch (error) {
      expect(error).toBeInstanceOf(LockedError);
      return error as LockedError;
    }
    throw new Error('expected a LockedError, but the lock was taken');
  }

  function holder(store: SqliteStore): { run_id: string; pid: number } | undefined {
    return store.db.prepare('SELECT run_id, pid FROM locks WHERE name = ?').get('sheet-1/Statuses') as { run_id: string; pid: number } | undefined;
  }

  async function deadPid(): Promise<number> {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    children.push(child);
    const pid = child.pid;
    await once(child, 'exit');
    if (pid === undefined) throw new Error('the child process did not start');
    return pid;
  }

  it('refuses a second run while the first holds the lock, naming its pid, host and start time', async () => {
    const file = path.join(dir, 'cache.sqlite');
    await acquireLock(open(file), 'sheet-1/Statuses', 'run-A', at(startedAt));

    const error = await lockedError(() => acquireLock(open(file), 'sheet-1/Statuses', 'run-B', at(new Date(startedAt.getTime() + 60_000))));
    expect(error.message).toContain('run run-A');
    expect(error.message).toContain(`pid ${process.pid}`);
    expect(error.message).toContain(`on ${hostname()}`);
    expect(error.message).toContain(`started ${startedAt.toISOString()}`);
    expect(error.hint).toContain('taken over automatically');
  });

  it('refuses while another live process on this host holds the lock', async () => {
    const store = open();
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(child);
    await once(child, 'spawn');
    insertLock(store, { pid: child.pid ?? -1, host: hostname(), runId: 'run-live' });

    const error = await lockedError(() => acquireLock(store, 'sheet-1/Statuses', 'run-B'));
    expect(error.message).toContain(`pid ${child.pid}`);
    expect(holder(store)?.run_id).toBe('run-live');
  });

  it('takes over a lock whose process on this host is gone', async () => {
    const store = open();
    const pid = await deadPid();
    insertLock(store, { pid, host: hostname(), runId: 'run-crashed' });

    await acquireLock(store, 'sheet-1/Statuses', 'run-B');
    expect(holder(store)).toEqual({ run_id: 'run-B', pid: process.pid });
  });

  it('takes over a lock from another host once this host has watched it miss four heartbeats (its clock is not ours: lock-skew.test.ts)', async () => {
    const store = open();
    insertLock(store, { pid: 1, host: 'other-host', runId: 'run-far', heartbeatAt: '2025-06-30T08:00:00.000Z' });
    const first = Date.parse('2025-06-30T08:00:00.000Z');
    await lockedError(() => acquireLock(store, 'sheet-1/Statuses', 'run-B', at(new Date(first))));
    await acquireLock(store, 'sheet-1/Statuses', 'run-B', at(new Date(first + 4 * HEARTBEAT_MS)));
    expect(holder(store)?.run_id).toBe('run-B');
  });

  it('refuses a lock from another host whose heart beat within the last few heartbeats', async () => {
    const store = open();
    insertLock(store, { pid: 1, host: 'other-host', runId: 'run-far', heartbeatAt: '2025-06-30T08:00:00.000Z' });
    const error = await lockedError(() => acquireLock(store, 'sheet-1/Statuses', 'run-B', at(new Date(Date.parse('2025-06-30T08:00:00.000Z') + STALE_AFTER_MS - 1))));
    expect(error.message).toContain('on other-host');
  });

  it('lets another run acquire once released', async () => {
    const file = path.join(dir, 'cache.sqlite');
    const first = await acquireLock(open(file), 'sheet-1/Statuses', 'run-A');
    const other = open(file);
    await lockedError(() => acquireLock(other, 'sheet-1/Statuses', 'run-B'));
    await first.release();
    await acquireLock(other, 'sheet-1/Statuses', 'run-B');
    expect(holder(other)?.run_id).toBe('run-B');
  });

  it('keeps locks on different sheets apart', async () => {
    const store = open();
    await acquireLock(store, 'sheet-1/Statuses', 'run-A');
    await expect(acquireLock(store, 'sheet-1/Archive', 'run-B')).resolves.toBeDefined();
  });

  it('does not release a lock that another run has taken over', async () => {
    const store = open();
    const first = await acquireLock(store, 'sheet-1/Statuses', 'run-A');
    // run-A's process is presumed dead (its pid is gone), so run-B takes the lock over.
    store.db.prepare('UPDATE locks SET pid = ? WHERE run_id = ?').run(await deadPid(), 'run-A');
    const second = await acquireLock(store, 'sheet-1/Statuses', 'run-B');
    await first.release();
    expect(holder(store)?.run_id).toBe('run-B');
    await second.release();
    expect(holder(store)).toBeUndefined();
  });

  it('moves the heartbeat forward', async () => {
    const store = open();
    let now = startedAt;
    const lock = await acquireLock(store, 'sheet-1/Statuses', 'run-A', () => now);
    now = new Date('2025-06-30T09:00:00.000Z');
    await lock.heartbeat();
    const row = store.db.prepare('SELECT started_at, heartbeat_at FROM locks').get() as { started_at: string; heartbeat_at: string };
    expect(row).toEqual({ started_at: startedAt.toISOString(), heartbeat_at: '2025-06-30T09:00:00.000Z' });
  });

  it('ignores release and heartbeat after the store is closed', async () => {
    const store = open();
    const lock = await acquireLock(store, 'sheet-1/Statuses', 'run-A');
    await store.close();
    await expect(lock.heartbeat()).resolves.toBe(true);
    await expect(lock.release()).resolves.toBeUndefined();
  });
});
