import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheStore, LIMITS_MAX_AGE_MS, LimitMemory, keyHash } from '../../src/cache/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open(): { store: CacheStore; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sv-limits-'));
  dirs.push(dir);
  const file = path.join(dir, 'cache.sqlite');
  return { store: CacheStore.open(file), file };
}

const KEY = 'sk-proj-limits-test-0123456789abcdef';
const of = { provider: 'https://api.openai.com/v1', model: 'gpt-5-mini', apiKey: KEY };

describe('LimitMemory', () => {
  it('recalls the limits learned for a provider, model and key, and nothing for another key or model', () => {
    const { store } = open();
    const memory = new LimitMemory(store.db);
    memory.learn(of, { rpm: 1200, tpm: 200_000 });
    expect(memory.recall(of)).toEqual({ rpm: 1200, tpm: 200_000 });
    expect(memory.recall({ ...of, apiKey: `${KEY}x` })).toBeUndefined();
    expect(memory.recall({ ...of, model: 'gpt-5' })).toBeUndefined();
    store.close();
  });

  it('forgets an entry older than a day, or one a 429 contradicted, until the headers state it again', () => {
    const { store } = open();
    let now = 1_000_000;
    const memory = new LimitMemory(store.db, () => now);
    memory.learn(of, { rpm: 600 });
    now += LIMITS_MAX_AGE_MS + 1;
    expect(memory.recall(of)).toBeUndefined();
    memory.learn(of, { rpm: 600 });
    expect(memory.recall(of)).toEqual({ rpm: 600, tpm: undefined });
    memory.learn(of, undefined);
    expect(memory.recall(of)).toBeUndefined();
    memory.learn(of, { rpm: 500 });
    expect(memory.recall(of)).toEqual({ rpm: 500, tpm: undefined });
    store.close();
  });

  it('never writes the key to the SQLite file, only its sha256', () => {
    const { store, file } = open();
    new LimitMemory(store.db).learn(of, { rpm: 1200 });
    store.close();
    const bytes = readFileSync(file);
    expect(bytes.includes(Buffer.from(KEY))).toBe(false);
    expect(bytes.includes(Buffer.from(keyHash(KEY)))).toBe(true);
  });

  it('keeps any limits a header could state without throwing, recalling positive whole numbers only', () => {
    const { store } = open();
    const memory = new LimitMemory(store.db);
    fc.assert(
      fc.property(fc.option(fc.double(), { nil: undefined }), fc.option(fc.double(), { nil: undefined }), (rpm, tpm) => {
        memory.learn(of, { rpm, tpm });
        const back = memory.recall(of);
        for (const value of [back?.rpm, back?.tpm]) if (value !== undefined) expect(Number.isInteger(value) && value > 0).toBe(true);
      }),
    );
    store.close();
  });
});
