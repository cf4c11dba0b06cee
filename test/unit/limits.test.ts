import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { LIMITS_MAX_AGE_MS, SqliteStore, keyHash } from '../../src/cache/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open(): { store: SqliteStore; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sv-limits-'));
  dirs.push(dir);
  const file = path.join(dir, 'cache.sqlite');
  return { store: SqliteStore.open(file), file };
}

const KEY = 'sk-proj-limits-test-0123456789abcdef';
const of = { provider: 'https://api.openai.com/v1', model: 'gpt-5-mini', apiKey: KEY };

describe('the store\'s limit memory', () => {
  it('recalls the limits learned for a provider, model and key, and nothing for another key or model', async () => {
    const { store } = open();
    const memory = store.limitMemory();
    await memory.learn(of, { rpm: 1200, tpm: 200_000 });
    expect(await memory.recall(of)).toEqual({ rpm: 1200, tpm: 200_000 });
    expect(await memory.recall({ ...of, apiKey: `${KEY}x` })).toBeUndefined();
    expect(await memory.recall({ ...of, model: 'gpt-5' })).toBeUndefined();
    await store.close();
  });

  it('forgets an entry older than a day, or one a 429 contradicted, until the headers state it again', async () => {
    const { store } = open();
    let now = 1_000_000;
    const memory = store.limitMemory(() => now);
    await memory.learn(of, { rpm: 600 });
    now += LIMITS_MAX_AGE_MS + 1;
    expect(await memory.recall(of)).toBeUndefined();
    await memory.learn(of, { rpm: 600 });
    expect(await memory.recall(of)).toEqual({ rpm: 600, tpm: undefined });
    await memory.learn(of, undefined);
    expect(await memory.recall(of)).toBeUndefined();
    await memory.learn(of, { rpm: 500 });
    expect(await memory.recall(of)).toEqual({ rpm: 500, tpm: undefined });
    await store.close();
  });

  it('never writes the key to the SQLite file, only its sha256', async () => {
    const { store, file } = open();
    await store.limitMemory().learn(of, { rpm: 1200 });
    await store.close();
    const bytes = readFileSync(file);
    expect(bytes.includes(Buffer.from(KEY))).toBe(false);
    expect(bytes.includes(Buffer.from(keyHash(KEY)))).toBe(true);
  });

  it('keeps any limits a header could state without throwing, recalling positive whole numbers only', async () => {
    const { store } = open();
    const memory = store.limitMemory();
    await fc.assert(
      fc.asyncProperty(fc.option(fc.double(), { nil: undefined }), fc.option(fc.double(), { nil: undefined }), async (rpm, tpm) => {
        await memory.learn(of, { rpm, tpm });
        const back = await memory.recall(of);
        for (const value of [back?.rpm, back?.tpm]) if (value !== undefined) expect(Number.isInteger(value) && value > 0).toBe(true);
      }),
    );
    await store.close();
  });
});
