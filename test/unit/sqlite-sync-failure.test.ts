/**
 * Issue 25 item 3, at the store: once an fdatasync of the WAL failed, every later put of
 * that store fails (put and putUnlessNewer alike) with a message that names the file and
 * says what to do; nothing committed before is lost. The fault is injected at the system
 * call (node:fs's fdatasync, carried to ESM imports by syncBuiltinESMExports), so the
 * store and SQLite run as in production.
 */
import fs, { mkdtempSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore, type CachedVerdict } from '../../src/cache/index.js';
import { StatusValidatorError } from '../../src/errors.js';

const realFdatasync = fs.fdatasync;
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-sync-failure-'));
});
afterEach(() => {
  fs.fdatasync = realFdatasync;
  syncBuiltinESMExports();
  rmSync(dir, { recursive: true, force: true });
});

function verdict(key: string): CachedVerdict {
  return { key, verdict: 'VALID', issues: [], suggestion: 's', model: 'gpt-5-mini', provider: 'primary', checkedAt: '2026-12-01T10:00:00.000Z', confidence: 0.9, promptTokens: 10, completionTokens: 5, cachedTokens: 0 };
}

/** Fails the next fdatasync of the WAL of `file` with EIO; the later ones are real (and "succeed"). */
function failNextWalSync(file: string): void {
  let failed = false;
  fs.fdatasync = ((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
    let target = '';
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // not Linux: every sync is real
    }
    if (failed || target !== `${file}-wal`) return realFdatasync(fd, callback);
    failed = true;
    setImmediate(() => callback(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
  }) as typeof fs.fdatasync;
  syncBuiltinESMExports();
}

describe('a SQLite store whose WAL sync failed once', () => {
  // Linux only, on purpose: the fault is injected for the WAL's descriptor alone, found by its path in
  // /proc/self/fd, which other systems lack (elsewhere every sync would be real and the test prove nothing).
  // CI and the deployments the README documents (Cloud Run, Actions, Kubernetes) are Linux.
  it.skipIf(process.platform !== 'linux')('fails every later put with a message naming the file and what to do, and keeps what was committed before', async () => {
    const file = path.join(dir, 'cache.sqlite');
    const store = SqliteStore.open(file);
    try {
      await store.put(verdict('before'));
      failNextWalSync(realpathSync(file));
      const first = await store.put(verdict('failed')).catch((error: unknown) => error);
      expect(first).toBeInstanceOf(StatusValidatorError);
      const error = first as StatusValidatorError;
      expect(error.message).toContain(`The disk refused to sync the cache file ${realpathSync(file)}`);
      expect(error.message).toMatch(/EIO/);
      expect(error.hint).toMatch(/Check the disk .*run again: the answers committed before the failure are kept/);
      // The next syncs would "succeed": the failure sticks all the same.
      await expect(store.put(verdict('later'))).rejects.toBe(error);
      await expect(store.putUnlessNewer(verdict('later'), '2026-01-01T00:00:00.000Z')).rejects.toBe(error);
      expect(await store.get('before')).toBeDefined();
      expect(await store.get('later')).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
