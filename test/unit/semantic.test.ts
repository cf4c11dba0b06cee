import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { SqliteStore, type CachedVerdict } from '../../src/cache/index.js';
import { RemoteError } from '../../src/errors.js';
import { EMBED_CHUNK_SIZE, SemanticCache, semanticText, type SemanticCacheOptions } from '../../src/semantic/index.js';
import { DEFAULT_EMBEDDING_DIMENSIONS, embedText, startOpenAIEmulator, type OpenAIEmulator } from '../support/openai-emulator/index.js';

const API_KEY = 'sk-test-semantic-key-0123456789abcd';
const COMMENT = 'Migrated the billing service to the new cluster; next we switch traffic over and retire the old nodes.';
const NEAR_DUPLICATE = COMMENT.replace('retire', 'remove');
const UNRELATED = 'Waiting for legal to sign the vendor contract before we order the hardware.';
const DATE = '2025-07-15';

let dir = '';
let emu: OpenAIEmulator;
let client: OpenAI;
const stores: SqliteStore[] = [];

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-semantic-'));
  emu = await startOpenAIEmulator({ apiKey: API_KEY });
  client = new OpenAI({ apiKey: API_KEY, baseURL: emu.url, maxRetries: 0 });
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(file = path.join(dir, 'cache.sqlite')): SqliteStore {
  const store = SqliteStore.open(file);
  stores.push(store);
  return store;
}

function cache(store: SqliteStore, options: Partial<SemanticCacheOptions> = {}): SemanticCache {
  return new SemanticCache(store, { client, threshold: 0.92, ...options });
}

function verdict(key: string): CachedVerdict {
  return {
    key,
    verdict: 'INVALID',
    issues: ['Says nothing about the date of the switch.'],
    suggestion: 'Migrated billing; traffic switch on 2025-07-15, old nodes retired after.',
    model: 'gpt-5-mini',
    provider: 'primary',
    checkedAt: '2025-07-01T10:00:00.000Z',
    confidence: 0.8,
    promptTokens: 800,
    completionTokens: 60,
    cachedTokens: 768,
  };
}

/** Embeds the row text of `comment` and remembers it under `key` with a verdict, as the pipeline would. */
async function answer(store: SqliteStore, semantic: SemanticCache, key: string, status: string, comment = COMMENT, date = DATE): Promise<void> {
  const [vector] = await semantic.embed([semanticText({ comment, completion_date: date })]);
  await store.put(verdict(key));
  await semantic.remember(key, status, vector!);
}

async function embedOne(semantic: SemanticCache, comment: string, date = DATE): Promise<Float32Array> {
  const [vector] = await semantic.embed([semanticText({ comment, completion_date: date })]);
  return vector!;
}

describe('SemanticCache', () => {
  it('reuses the verdict of a near-duplicate comment with the same status', async () => {
    const store = open();
    const semantic = cache(store);
    await answer(store, semantic, 'key-a', 'Done');

    const hit = await semantic.nearest(await embedOne(semantic, NEAR_DUPLICATE), 'Done');

    expect(hit?.key).toBe('key-a');
    expect(hit?.similarity).toBeGreaterThanOrEqual(0.92);
    expect(hit?.similarity).toBeLessThan(1);
    expect((await store.get(hit!.key))?.verdict).toBe('INVALID');
  });

  it('compares statuses trimmed and case-insensitively', async () => {
    const store = open();
    const semantic = cache(store);
    await answer(store, semantic, 'key-a', 'In progress');

    expect((await semantic.nearest(await embedOne(semantic, COMMENT), '  IN PROGRESS '))?.key).toBe('key-a');
  });

  it('never reuses a verdict across statuses, even for the same text', async () => {
    const store = open();
    const semantic = cache(store, { threshold: 0 });
    await answer(store, semantic, 'key-a', 'Done');

    const vector = await embedOne(semantic, COMMENT);
    expect(await semantic.nearest(vector, 'In progress')).toBeUndefined();
    expect((await semantic.nearest(vector, 'Done'))?.similarity).toBeCloseTo(1, 6);
  });

  it('does not reuse a neighbour below the threshold', async () => {
    const store = open();
    const semantic = cache(store);
    await answer(store, semantic, 'key-a', 'Done');
    const near = await embedOne(semantic, NEAR_DUPLICATE);
    const similarity = (await semantic.nearest(near, 'Done'))?.similarity ?? NaN;

    expect(await semantic.nearest(await embedOne(semantic, UNRELATED), 'Done')).toBeUndefined();
    expect((await cache(store, { threshold: similarity }).nearest(near, 'Done'))?.key).toBe('key-a');
    expect(await cache(store, { threshold: Math.min(1, similarity + 1e-6) }).nearest(near, 'Done')).toBeUndefined();
  });

  it('returns the closest of several neighbours', async () => {
    const store = open();
    const semantic = cache(store, { threshold: 0.5 });
    await answer(store, semantic, 'far', 'Done', UNRELATED);
    await answer(store, semantic, 'close', 'Done', NEAR_DUPLICATE);
    await answer(store, semantic, 'other-date', 'Done', COMMENT, '2025-09-30');

    expect((await semantic.nearest(await embedOne(semantic, COMMENT), 'Done'))?.key).toBe('close');
  });

  it('embeds the due date with the comment, so another date is another text', async () => {
    const semantic = cache(open());
    const [same, laterDate, noDate] = await semantic.embed([
      semanticText({ comment: COMMENT, completion_date: DATE }),
      semanticText({ comment: COMMENT, completion_date: '2025-09-30' }),
      semanticText({ comment: COMMENT, completion_date: '' }),
    ]);

    expect(semanticText({ comment: ` ${COMMENT} `, completion_date: ` ${DATE}` })).toBe(`${COMMENT}\nDue date: ${DATE}`);
    expect(semanticText({ comment: COMMENT, completion_date: '' })).toBe(`${COMMENT}\nDue date: none`);
    expect(cosine(same!, laterDate!)).toBeLessThan(0.99);
    expect(cosine(same!, noDate!)).toBeLessThan(0.99);
  });

  it('keeps the vectors of different embedding models apart', async () => {
    const store = open();
    const small = cache(store, { model: 'text-embedding-3-small', threshold: 0 });
    const large = cache(store, { model: 'text-embedding-3-large', threshold: 0 });
    await answer(store, small, 'key-a', 'Done');
    // The emulator gives every model the same vectors: only the cache can keep them apart.
    const vector = await embedOne(large, COMMENT);

    expect(await large.nearest(vector, 'Done')).toBeUndefined();
    expect((await small.nearest(vector, 'Done'))?.key).toBe('key-a');
    const models = emu.requests.filter((r) => r.path === '/v1/embeddings').map((r) => r.model);
    expect(models).toEqual(['text-embedding-3-small', 'text-embedding-3-large']);
  });

  it('keeps the vectors of different scopes (rulebooks) apart', async () => {
    const store = open();
    await answer(store, cache(store, { scope: 'rules-v1', threshold: 0 }), 'key-a', 'Done');
    const vector = await embedOne(cache(store), COMMENT);

    expect(await cache(store, { scope: 'rules-v2', threshold: 0 }).nearest(vector, 'Done')).toBeUndefined();
    expect(await cache(store, { threshold: 0 }).nearest(vector, 'Done')).toBeUndefined();
    expect((await cache(store, { scope: 'rules-v1', threshold: 0 }).nearest(vector, 'Done'))?.key).toBe('key-a');
  });

  it('never compares vectors of another dimension', async () => {
    const store = open();
    const semantic = cache(store, { threshold: 0 });
    await semantic.remember('tiny', 'Done', new Float32Array([1, 0, 0]));

    expect(await semantic.nearest(await embedOne(semantic, COMMENT), 'Done')).toBeUndefined();
    expect(await semantic.nearest(new Float32Array([2, 0, 0]), 'Done')).toEqual({ key: 'tiny', similarity: 1 });
  });

  it('finds the stored vectors again after the database is reopened', async () => {
    const file = path.join(dir, 'reopened.sqlite');
    const first = open(file);
    await answer(first, cache(first), 'key-a', 'Done');
    await first.close();

    const again = open(file);
    const semantic = cache(again);
    const hit = await semantic.nearest(await embedOne(semantic, COMMENT), 'Done');

    expect(hit?.key).toBe('key-a');
    expect(hit?.similarity).toBeCloseTo(1, 6);
    expect((await again.get('key-a'))?.suggestion).toBe(verdict('key-a').suggestion);
  });

  it('sees rows remembered after its first lookup, and forgets a replaced vector', async () => {
    const store = open();
    const semantic = cache(store);
    const vector = await embedOne(semantic, COMMENT);
    expect(await semantic.nearest(vector, 'Done')).toBeUndefined();

    await semantic.remember('key-a', 'Done', vector);
    expect((await semantic.nearest(vector, 'Done'))?.key).toBe('key-a');

    await semantic.remember('key-a', 'Cancelled', vector);
    expect(await semantic.nearest(vector, 'Done')).toBeUndefined();
    expect((await semantic.nearest(vector, 'cancelled'))?.key).toBe('key-a');
  });

  it('sends one embeddings request per 256 texts and keeps the order', async () => {
    const semantic = cache(open());
    const texts = Array.from({ length: 2 * EMBED_CHUNK_SIZE + 88 }, (_, i) => `Row ${i}: shipped part ${i} of the rollout`);

    const vectors = await semantic.embed(texts);

    expect(emu.embeddingCallCount()).toBe(3);
    const sizes = emu.requests.map((r) => (r.body as { input: string[] }).input.length);
    expect(sizes).toEqual([256, 256, 88]);
    expect(vectors).toHaveLength(texts.length);
    for (const i of [0, 255, 256, 511, 512, texts.length - 1]) expect(vectors[i]).toEqual(embedText(texts[i]!));
  });

  it('asks for shorter vectors when told the dimensions', async () => {
    const semantic = cache(open(), { dimensions: 64 });

    const [vector] = await semantic.embed(['Done, shipped to prod']);

    expect(vector).toHaveLength(64);
    expect((emu.requests[0]?.body as { dimensions?: number }).dimensions).toBe(64);
    expect(() => cache(open(), { dimensions: 0 })).toThrow(/dimensions must be a positive integer/);
  });

  it('sends nothing for no texts, and rejects an empty text before any request', async () => {
    const semantic = cache(open());

    expect(await semantic.embed([])).toEqual([]);
    await expect(semantic.embed(['fine', ''])).rejects.toThrow(/texts\[1\] must be a non-empty string/);
    expect(emu.embeddingCallCount()).toBe(0);
  });

  it('decodes the base64 float32 vectors exactly', async () => {
    const semantic = cache(open());
    const texts = ['Done, shipped to prod', 'Ünïcode — 完成 ✓'];

    const decoded = await semantic.embed(texts);
    const sdkDefault = await client.embeddings.create({ model: 'text-embedding-3-small', input: texts });
    const asFloats = await client.embeddings.create({ model: 'text-embedding-3-small', input: texts[0]!, encoding_format: 'float' });

    expect((emu.requests[0]?.body as { encoding_format?: string }).encoding_format).toBe('base64');
    expect(decoded.map((v) => v.length)).toEqual([DEFAULT_EMBEDDING_DIMENSIONS, DEFAULT_EMBEDDING_DIMENSIONS]);
    expect(decoded[0]).toEqual(embedText(texts[0]!));
    expect(decoded[1]).toEqual(embedText(texts[1]!));
    expect(Array.from(decoded[0]!)).toEqual(sdkDefault.data[0]?.embedding);
    expect(Array.from(decoded[1]!)).toEqual(sdkDefault.data[1]?.embedding);
    expect(Array.from(decoded[0]!)).toEqual(asFloats.data[0]?.embedding);
    expect(asFloats.usage.prompt_tokens).toBeGreaterThan(0);
    expect(emu.embeddingCallCount()).toBe(3);
  });

  it('reports an API failure as a RemoteError that never shows the key', async () => {
    const wrongKey = 'sk-wrong-semantic-key-9876543210zyxw';
    const semantic = new SemanticCache(open(), { client: new OpenAI({ apiKey: wrongKey, baseURL: emu.url, maxRetries: 0 }), threshold: 0.9 });

    const error: unknown = await semantic.embed(['some text']).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).status).toBe(401);
    expect((error as RemoteError).message).toMatch(/embeddings request .* failed \(401/);
    expect((error as RemoteError).message).not.toContain(wrongKey);
  });

  it('rejects a threshold outside 0..1 and a vector that is not one', async () => {
    const store = open();

    for (const threshold of [-0.1, 1.01, Number.NaN]) expect(() => cache(store, { threshold })).toThrow(/threshold must be a number from 0 to 1/);
    await expect(cache(store).remember('k', 'Done', new Float32Array(4))).rejects.toThrow(/vector must be a non-empty vector/);
    await expect(cache(store).nearest(new Float32Array([Number.NaN]), 'Done')).rejects.toThrow(RangeError);
  });
});

describe('the embeddings emulator', () => {
  it('puts near-identical texts close and unrelated texts far apart', () => {
    expect(cosine(embedText(COMMENT), embedText(NEAR_DUPLICATE))).toBeGreaterThan(0.9);
    expect(cosine(embedText(COMMENT), embedText(COMMENT.toUpperCase()))).toBeCloseTo(1, 6);
    expect(Math.abs(cosine(embedText(COMMENT), embedText(UNRELATED)))).toBeLessThan(0.2);
  });

  it('answers the API errors for bad input', async () => {
    await expect(client.embeddings.create({ model: 'text-embedding-3-small', input: '' })).rejects.toMatchObject({ status: 400, param: 'input' });
    await expect(client.embeddings.create({ model: 'text-embedding-3-small', input: 'x', dimensions: 0 })).rejects.toMatchObject({ status: 400, param: 'dimensions' });
    const sized = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x', dimensions: 1536 });
    expect(sized.data[0]?.embedding).toHaveLength(1536);
    expect(emu.embeddingCallCount()).toBe(3);
  });
});

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}

describe('VectorIndex growth', () => {
  it('keeps every vector when it grows past its first capacity', async () => {
    const { VectorIndex } = await import('../../src/semantic/vectors.js');
    const index = new VectorIndex(2, 1);
    const unit = (a: number) => new Float32Array([Math.cos(a), Math.sin(a)]);
    for (let i = 0; i < 5; i++) index.add(`k${i}`, unit(i));
    expect(index.size).toBe(5);
    expect(index.best(unit(3))?.key).toBe('k3');
  });
});
