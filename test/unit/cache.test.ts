import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os, { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheStore, acquireLock, cacheKey, type CachedVerdict, type KeyParts } from '../../src/cache/index.js';
import { LockedError } from '../../src/errors.js';

let dir = '';
const stores: CacheStore[] = [];
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-cache-'));
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill();
  for (const store of stores.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(file = path.join(dir, 'cache.sqlite')): CacheStore {
  const store = CacheStore.open(file);
  stores.push(store);
  return store;
}

function verdict(key: string, overrides: Partial<CachedVerdict> = {}): CachedVerdict {
  return {
    key,
    verdict: 'INVALID',
    issues: ['No due date.', 'Статус не из списка.'],
    suggestion: 'Say what is next and by when.',
    model: 'gpt-5-mini',
    provider: 'primary',
    checkedAt: '2025-06-30T10:00:00.000Z',
    confidence: 0.9,
    promptTokens: 812,
    completionTokens: 64,
    cachedTokens: 768,
    ...overrides,
  };
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

  it('is the same for the same parts', () => {
    expect(cacheKey(base)).toBe(cacheKey({ ...base, inputs: { ...base.inputs }, allowedStatuses: [...base.allowedStatuses] }));
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with each part: every input, the rules, the allowed statuses, the prompt, the model, the schema', () => {
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

  it('does not change with anything else: the row id, the row number, the date of the run', () => {
    const withExtras = { ...base, inputs: { ...base.inputs, id: 'P-1', row: 7 }, id: 'P-1', today: '2031-01-01' };
    expect(cacheKey(withExtras)).toBe(cacheKey(base));
  });

  it('keeps fields apart, so text moving from one input to the next is a different key', () => {
    const a = cacheKey({ ...base, inputs: { status: 'Do', comment: 'neShipped', completion_date: '' } });
    const b = cacheKey({ ...base, inputs: { status: 'Done', comment: 'Shipped', completion_date: '' } });
    expect(a).not.toBe(b);
  });
});

describe('CacheStore', () => {
  it('gives back what was put, field for field', () => {
    const store = open();
    const stored = verdict('k1');
    store.put(stored);
    expect(store.get('k1')).toEqual(stored);
  });

  it('gives undefined for a key it never saw', () => {
    expect(open().get('absent')).toBeUndefined();
  });

  it('replaces the verdict of a key put twice, keeping one row', () => {
    const store = open();
    store.put(verdict('k1'));
    store.put(verdict('k1', { verdict: 'VALID', issues: [], suggestion: '', promptTokens: 5 }));
    expect(store.get('k1')).toMatchObject({ verdict: 'VALID', issues: [], suggestion: '', promptTokens: 5 });
    expect(store.count()).toBe(1);
  });

  it('counts the verdicts it holds', () => {
    const store = open();
    expect(store.count()).toBe(0);
    for (let i = 0; i < 7; i++) store.put(verdict(`k${i}`));
    expect(store.count()).toBe(7);
  });

  it('keeps its data when reopened, in WAL mode', () => {
    const file = path.join(dir, 'cache.sqlite');
    const first = open(file);
    expect(first.db.pragma('journal_mode', { simple: true })).toBe('wal');
    first.put(verdict('kept'));
    first.put(verdict('also kept', { verdict: 'VALID' }));
    first.close();

    const second = open(file);
    expect(second.count()).toBe(2);
    expect(second.get('kept')).toEqual(verdict('kept'));
    expect(second.get('also kept')?.verdict).toBe('VALID');
  });

  it('sees a verdict committed by another connection at once', () => {
    const file = path.join(dir, 'cache.sqlite');
    const writer = open(file);
    const reader = open(file);
    writer.put(verdict('shared'));
    expect(reader.get('shared')).toEqual(verdict('shared'));
  });

  it('creates the folder of the cache file', () => {
    const file = path.join(dir, 'a', 'b', 'cache.sqlite');
    open(file).put(verdict('k'));
    expect(existsSync(file)).toBe(true);
  });

  it('refuses to store a verdict other than VALID or INVALID', () => {
    const store = open();
    expect(() => store.put(verdict('k', { verdict: 'ERROR' as 'VALID' }))).toThrow(/CHECK constraint/);
    expect(store.count()).toBe(0);
  });

  it('explains a cache path it cannot open', () => {
    const blocked = path.join(dir, 'not-a-folder');
    open(blocked).close();
    expect(() => CacheStore.open(path.join(blocked, 'cache.sqlite'))).toThrow(/Cannot open the cache/);
  });
});

describe('acquireLock', () => {
  const startedAt = new Date('2025-06-30T08:15:00.000Z');
  const at = (date: Date) => () => date;

  function insertLock(store: CacheStore, row: { pid: number; host: string; runId: string; heartbeatAt?: string }): void {
    store.db
      .prepare('INSERT INTO locks (name, run_id, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run('sheet-1/Statuses', row.runId, row.pid, row.host, startedAt.toISOString(), row.heartbeatAt ?? startedAt.toISOString());
  }

  function lockedError(fn: () => unknown): LockedError {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(LockedError);
      return error as LockedError;
    }
    throw new Error('expected a LockedError, but the lock was taken');
  }

  function holder(store: CacheStore): { run_id: string; pid: number } | undefined {
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

  it('refuses a second run while the first holds the lock, naming its pid, host and start time', () => {
    const file = path.join(dir, 'cache.sqlite');
    acquireLock(open(file), 'sheet-1/Statuses', 'run-A', at(startedAt));

    const error = lockedError(() => acquireLock(open(file), 'sheet-1/Statuses', 'run-B'));
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

    const error = lockedError(() => acquireLock(store, 'sheet-1/Statuses', 'run-B'));
    expect(error.message).toContain(`pid ${child.pid}`);
    expect(holder(store)?.run_id).toBe('run-live');
  });

  it('takes over a lock whose process on this host is gone', async () => {
    const store = open();
    const pid = await deadPid();
    insertLock(store, { pid, host: hostname(), runId: 'run-crashed' });

    acquireLock(store, 'sheet-1/Statuses', 'run-B');
    expect(holder(store)).toEqual({ run_id: 'run-B', pid: process.pid });
  });

  it('takes over a lock from another host that stopped beating its heart 10 minutes ago', () => {
    const store = open();
    insertLock(store, { pid: 1, host: 'other-host', runId: 'run-far', heartbeatAt: '2025-06-30T08:00:00.000Z' });
    acquireLock(store, 'sheet-1/Statuses', 'run-B', at(new Date('2025-06-30T08:10:00.001Z')));
    expect(holder(store)?.run_id).toBe('run-B');
  });

  it('refuses a lock from another host whose heart beat recently', () => {
    const store = open();
    insertLock(store, { pid: 1, host: 'other-host', runId: 'run-far', heartbeatAt: '2025-06-30T08:00:00.000Z' });
    const error = lockedError(() => acquireLock(store, 'sheet-1/Statuses', 'run-B', at(new Date('2025-06-30T08:09:00.000Z'))));
    expect(error.message).toContain('on other-host');
  });

  it('lets another run acquire once released', () => {
    const file = path.join(dir, 'cache.sqlite');
    const first = acquireLock(open(file), 'sheet-1/Statuses', 'run-A');
    const other = open(file);
    lockedError(() => acquireLock(other, 'sheet-1/Statuses', 'run-B'));
    first.release();
    acquireLock(other, 'sheet-1/Statuses', 'run-B');
    expect(holder(other)?.run_id).toBe('run-B');
  });

  it('keeps locks on different sheets apart', () => {
    const store = open();
    acquireLock(store, 'sheet-1/Statuses', 'run-A');
    expect(() => acquireLock(store, 'sheet-1/Archive', 'run-B')).not.toThrow();
  });

  it('does not release a lock that another run has taken over', async () => {
    const store = open();
    const first = acquireLock(store, 'sheet-1/Statuses', 'run-A');
    // run-A's process is presumed dead (its pid is gone), so run-B takes the lock over.
    store.db.prepare('UPDATE locks SET pid = ? WHERE run_id = ?').run(await deadPid(), 'run-A');
    const second = acquireLock(store, 'sheet-1/Statuses', 'run-B');
    first.release();
    expect(holder(store)?.run_id).toBe('run-B');
    second.release();
    expect(holder(store)).toBeUndefined();
  });

  it('moves the heartbeat forward', () => {
    const store = open();
    let now = startedAt;
    const lock = acquireLock(store, 'sheet-1/Statuses', 'run-A', () => now);
    now = new Date('2025-06-30T09:00:00.000Z');
    lock.heartbeat();
    const row = store.db.prepare('SELECT started_at, heartbeat_at FROM locks').get() as { started_at: string; heartbeat_at: string };
    expect(row).toEqual({ started_at: startedAt.toISOString(), heartbeat_at: '2025-06-30T09:00:00.000Z' });
  });

  it('ignores release and heartbeat after the store is closed', () => {
    const store = open();
    const lock = acquireLock(store, 'sheet-1/Statuses', 'run-A');
    store.close();
    expect(() => {
      lock.heartbeat();
      lock.release();
    }).not.toThrow();
  });
});
