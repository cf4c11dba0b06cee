/**
 * Issue 18, "also seen": under WAL, synchronous = NORMAL lets the last commits roll back
 * after a power loss (https://www.sqlite.org/pragma.html#pragma_synchronous,
 * https://www.sqlite.org/wal.html), while the sheet already shows those verdicts: they
 * would be asked, and paid for, again (invariant 2). Every connection the store opens
 * syncs the WAL at each commit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore, openStore } from '../../src/cache/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the cache store on SQLite', () => {
  it('opens every connection in WAL mode with synchronous = FULL (2), a new file and an existing one alike', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sv-durable-'));
    dirs.push(dir);
    const file = path.join(dir, 'cache.sqlite');
    for (let i = 0; i < 2; i++) {
      // As every command opens it.
      const store = await openStore({ path: file });
      try {
        expect(store).toBeInstanceOf(SqliteStore);
        if (!(store instanceof SqliteStore)) return;
        expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
      } finally {
        await store.close();
      }
    }
  });
});
