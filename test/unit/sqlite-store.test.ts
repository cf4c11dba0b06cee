/**
 * SqliteStore as the Store interface (src/cache/contract.ts) promises it: lookup reads the
 * verdicts and the batch questions of many keys in one snapshot (more keys than SQLite's
 * bound-variable limit), overrides are saved together, a dump restored twice adds nothing
 * the second time, and a damaged JSON text never fails a read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DUMP_TABLES, SqliteStore, type CachedVerdict, type DumpChunk } from '../../src/cache/index.js';

let dir = '';
const stores: SqliteStore[] = [];
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-sqlite-store-'));
});
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(name = 'cache.sqlite'): SqliteStore {
  const store = SqliteStore.open(path.join(dir, name));
  stores.push(store);
  return store;
}

function verdict(key: string, overrides: Partial<CachedVerdict> = {}): CachedVerdict {
  return { key, verdict: 'VALID', issues: ['one'], suggestion: 's', model: 'gpt-5-mini', provider: 'primary', checkedAt: '2026-12-01T10:00:00.000Z', confidence: 0.9, promptTokens: 10, completionTokens: 5, cachedTokens: 0, ...overrides };
}

const job = (id: string, createdAt: string) => ({ id, provider: 'primary', model: 'gpt-5-mini', spreadsheetId: 'sheet-1', sheet: 'Statuses', target: 'Statuses', inputFileId: `file-${id}`, status: 'in_progress', requests: 1, createdAt });

describe('SqliteStore.lookup', () => {
  it('finds the verdicts of 40,000 keys (more than SQLite binds in one statement), and only those asked', async () => {
    const store = open();
    const keys = Array.from({ length: 40_000 }, (_, i) => `key-${i}`);
    await store.restore({ table: 'verdicts', rows: keys.filter((_, i) => i % 2 === 0).map((key) => ({ key, verdict: 'INVALID', issues: '[]', suggestion: '', model: 'm', provider: 'p', checked_at: '2026-12-01T00:00:00.000Z', confidence: 1, prompt_tokens: 1, completion_tokens: 1, cached_tokens: 0 })) });
    await store.put(verdict('not-asked'));
    const found = await store.lookup([...keys, ...keys.slice(0, 10)]);
    expect(found.verdicts.size).toBe(20_000);
    expect(found.verdicts.get('key-0')?.verdict).toBe('INVALID');
    expect(found.verdicts.has('key-1')).toBe(false);
    expect(found.verdicts.has('not-asked')).toBe(false);
  });

  it('says which keys a batch job not applied yet asks, and when an applied one last asked the others', async () => {
    const store = open();
    const jobs = store.batchJobs<{ comment: string }>();
    await jobs.record(job('batch-old', '2026-12-01T08:00:00.000Z'), [{ customId: 'c1', label: '', key: 'answered', inputs: { comment: 'a' } }]);
    await jobs.markApplied('batch-old', {});
    await jobs.record(job('batch-new', '2026-12-02T08:00:00.000Z'), [{ customId: 'c2', label: '', key: 'waiting', inputs: { comment: 'b' } }]);
    await jobs.record(job('batch-failed', '2026-12-02T09:00:00.000Z'), [{ customId: 'c3', label: '', key: 'asked-again', inputs: { comment: 'c' } }]);
    await jobs.update('batch-failed', { status: 'failed' });
    const found = await store.lookup(['answered', 'waiting', 'asked-again', 'unknown']);
    expect([...found.pending]).toEqual([['waiting', { batchId: 'batch-new', submittedAt: '2026-12-02T08:00:00.000Z' }]]);
    expect([...found.answeredBatches]).toEqual([['answered', '2026-12-01T08:00:00.000Z']]);
    expect(found.verdicts.size).toBe(0);
  });

  it('skips a verdict whose issues are damaged JSON (a hand edit) instead of failing the run', async () => {
    const store = open();
    await store.put(verdict('fine'));
    await store.put(verdict('damaged'));
    store.db.prepare("UPDATE verdicts SET issues = '[not json' WHERE key = 'damaged'").run();
    const found = await store.lookup(['fine', 'damaged']);
    expect([...found.verdicts.keys()]).toEqual(['fine']);
    expect(await store.get('damaged')).toBeUndefined();
  });

  it('reads a damaged batch line as no question rather than failing', async () => {
    const store = open();
    const jobs = store.batchJobs<{ comment: string }>();
    await jobs.record(job('b1', '2026-12-01T08:00:00.000Z'), [
      { customId: 'c1', label: '', key: 'k1', inputs: { comment: 'a' } },
      { customId: 'c2', label: '', key: 'k2', inputs: { comment: 'b' } },
    ]);
    store.db.prepare("UPDATE batch_lines SET inputs = '{' WHERE custom_id = 'c2'").run();
    expect([...(await jobs.lines('b1')).keys()]).toEqual(['c1']);
  });
});

describe('SqliteStore overrides', () => {
  it('saves reviewers\' verdicts together, keeping the recorded time of one unchanged', async () => {
    const store = open();
    await store.putOverrides([
      { key: 'a', verdict: 'VALID', note: 'ok', recordedAt: '2026-12-01T00:00:00.000Z' },
      { key: 'b', verdict: 'INVALID', note: 'no date', recordedAt: '2026-12-01T00:00:00.000Z' },
    ]);
    await store.putOverrides([
      { key: 'a', verdict: 'VALID', note: 'ok', recordedAt: '2026-12-02T00:00:00.000Z' },
      { key: 'b', verdict: 'VALID', note: 'fixed', recordedAt: '2026-12-02T00:00:00.000Z' },
    ]);
    expect(await store.getOverride('a')).toEqual({ key: 'a', verdict: 'VALID', note: 'ok', recordedAt: '2026-12-01T00:00:00.000Z' });
    expect((await store.allOverrides()).get('b')).toEqual({ key: 'b', verdict: 'VALID', note: 'fixed', recordedAt: '2026-12-02T00:00:00.000Z' });
  });

  it('saves none of them when one is refused (one transaction)', async () => {
    const store = open();
    await expect(
      store.putOverrides([
        { key: 'a', verdict: 'VALID', note: '', recordedAt: '2026-12-01T00:00:00.000Z' },
        { key: 'b', verdict: 'MAYBE' as 'VALID', note: '', recordedAt: '2026-12-01T00:00:00.000Z' },
      ]),
    ).rejects.toThrow(/CHECK constraint/);
    expect((await store.allOverrides()).size).toBe(0);
  });
});

describe('SqliteStore dump and restore', () => {
  async function dumpOf(store: SqliteStore): Promise<DumpChunk[]> {
    const chunks: DumpChunk[] = [];
    for await (const chunk of store.dump()) chunks.push(chunk);
    return chunks;
  }

  it('carries every table into another store; restoring twice adds nothing the second time', async () => {
    const from = open('from.sqlite');
    for (let i = 0; i < 1_203; i++) await from.put(verdict(`k${i}`));
    await from.putOverrides([{ key: 'k1', verdict: 'INVALID', note: 'reviewer', recordedAt: '2026-12-01T00:00:00.000Z' }]);
    await from.runs.start({ id: 'run-1', startedAt: '2026-12-01T00:00:00.000Z', trigger: 'cli', spreadsheetId: 'sheet-1', sheet: 'Statuses' });
    await from.runs.end('run-1', 'ok', { target: 'Statuses' });
    await from.batchJobs().record(job('b1', '2026-12-01T08:00:00.000Z'), [{ customId: 'c1', label: '', key: 'k1', inputs: { comment: 'a' } }]);
    await from.limitMemory().learn({ provider: 'https://api.openai.com/v1', model: 'gpt-5-mini', apiKey: 'sk-test-0123456789' }, { rpm: 500 });
    await from.fieldMemory().learn({ provider: 'https://api.openai.com/v1', model: 'gpt-5-mini' }, 'prompt_cache_key', 'Unknown name');
    await from.embeddings.put('k1', 'done', 'text-embedding-3-small', '', Buffer.from(new Float32Array([1, 0, 0]).buffer));
    await from.calibrations.put('cascade-scope', { threshold: 0.8 }, '2026-12-01T00:00:00.000Z');
    await from.answerSizes.learn({ provider: 'https://api.openai.com/v1', model: 'gpt-5-mini', prompt: 'p/rows-1' }, [150]);

    const chunks = await dumpOf(from);
    expect(new Set(chunks.map((c) => c.table))).toEqual(new Set(DUMP_TABLES));
    expect(chunks.every((c) => c.rows.length <= 500)).toBe(true);
    const rows = chunks.reduce((n, c) => n + c.rows.length, 0);

    const to = open('to.sqlite');
    let added = 0;
    for (const chunk of chunks) added += await to.restore(chunk);
    expect(added).toBe(rows);
    let again = 0;
    for (const chunk of chunks) again += await to.restore(chunk);
    expect(again).toBe(0);

    expect(await to.count()).toBe(1_203);
    expect(await to.get('k7')).toEqual(verdict('k7'));
    expect(await to.getOverride('k1')).toMatchObject({ verdict: 'INVALID', note: 'reviewer' });
    expect((await to.runs.recent(5)).map((r) => [r.id, r.status])).toEqual([['run-1', 'ok']]);
    expect([...(await to.lookup(['k1'])).pending.keys()]).toEqual(['k1']);
    expect(await to.limitMemory().recall({ provider: 'https://api.openai.com/v1', model: 'gpt-5-mini', apiKey: 'sk-test-0123456789' })).toEqual({ rpm: 500, tpm: undefined });
    expect(await to.fieldMemory().recall({ provider: 'https://api.openai.com/v1', model: 'gpt-5-mini' })).toEqual(['prompt_cache_key']);
    const vectors: string[] = [];
    for await (const v of to.embeddings.vectors({ model: 'text-embedding-3-small', scope: '', status: 'done', bytes: 12 })) vectors.push(v.key);
    expect(vectors).toEqual(['k1']);
  });

  it('refuses a column the table does not have (never spliced into SQL)', async () => {
    const store = open();
    await expect(store.restore({ table: 'verdicts', rows: [{ key: 'k', 'verdict) VALUES (1); DROP TABLE verdicts; --': 1 }] })).rejects.toThrow(/has no column/);
    expect(await store.count()).toBe(0);
  });
});

describe('SqliteStore embeddings', () => {
  it('reads a partition of more vectors than one page, each once', async () => {
    const store = open();
    for (let i = 0; i < 2_345; i++) await store.embeddings.put(`k${String(i).padStart(5, '0')}`, 'done', 'm', 's', Buffer.from(new Float32Array([i, 1]).buffer));
    await store.embeddings.put('other', 'open', 'm', 's', Buffer.from(new Float32Array([1, 1]).buffer));
    const partition = { model: 'm', scope: 's', status: 'done', bytes: 8 };
    expect(await store.embeddings.count(partition)).toBe(2_345);
    const seen = new Set<string>();
    for await (const { key } of store.embeddings.vectors(partition)) seen.add(key);
    expect(seen.size).toBe(2_345);
    expect(seen.has('other')).toBe(false);
  });
});
