/** The journal of answers paid for while the database was unreachable (src/cache/journal.ts). */
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/cache/index.js';
import { VerdictJournal, parseVerdict } from '../../src/cache/journal.js';
import { verdictOf } from '../contract/store-contract.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('VerdictJournal', () => {
  it('keeps answers durably and commits them once, a newer verdict in the store winning; a torn line is skipped', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sv-journal-'));
    const store = SqliteStore.open(path.join(dir, 'cache.sqlite'));
    try {
      const journal = VerdictJournal.forStore({ location: 'db.example:5432/bot' }, dir);
      expect(journal.file).not.toContain('db.example');
      journal.keep(verdictOf('a'));
      journal.keep(verdictOf('b', { checkedAt: '2026-01-01T00:00:00.000Z', suggestion: 'older' }));
      appendFileSync(journal.file, '{"key":"torn","verd');
      await store.put(verdictOf('b', { checkedAt: '2026-06-01T00:00:00.000Z', suggestion: 'newer' }));
      expect(await journal.commitTo(store)).toBe(3);
      expect(await store.get('a')).toEqual(verdictOf('a'));
      expect((await store.get('b'))?.suggestion).toBe('newer');
      expect(await store.get('torn')).toBeUndefined();
      expect(existsSync(journal.file)).toBe(false);
      expect(await journal.commitTo(store)).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('a commit failing puts the answers back for the next run', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sv-journal-'));
    const journal = new VerdictJournal(path.join(dir, 'j.jsonl'));
    journal.keep(verdictOf('a'));
    journal.keep(verdictOf('b'));
    await expect(journal.commitTo({ putUnlessNewer: () => Promise.reject(new Error('unreachable')) })).rejects.toThrow('unreachable');
    const kept: string[] = [];
    expect(await journal.commitTo({ putUnlessNewer: (v) => (kept.push(v.key), Promise.resolve(true)) })).toBe(2);
    expect(kept).toEqual(['a', 'b']);
  });

  it('reads any line without throwing (a damaged file is skipped line by line)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), (line) => {
        const parsed = parseVerdict(line);
        if (parsed) expect(typeof parsed.key).toBe('string');
      }),
    );
    expect(parseVerdict(JSON.stringify(verdictOf('x')))).toEqual(verdictOf('x'));
  });
});
