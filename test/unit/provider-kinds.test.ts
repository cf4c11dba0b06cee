/**
 * Issue 20, item 1: the provider kinds. Detection from base_url, the facts table (every
 * row cites its sources), error bodies of any shape read without ever throwing, the
 * fields a 400 names, the Azure connection, and the dialect layer that hands the SDK
 * OpenAI-shaped answers.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/cache/index.js';
import { parseConfig } from '../../src/config/index.js';
import { KINDS, PROVIDER_KINDS, connectionOf, detectKind, dialectFetch, factsOf, readErrorBody, unsupportedField } from '../../src/llm/index.js';

describe('detectKind', () => {
  it.each([
    ['https://api.openai.com/v1', 'openai'],
    ['https://my-res.openai.azure.com/openai/v1/', 'azure'],
    ['https://my-res.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21', 'azure'],
    ['https://my-res.cognitiveservices.azure.com/openai/v1', 'azure'],
    ['https://generativelanguage.googleapis.com/v1beta/openai/', 'gemini'],
    ['https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/endpoints/openapi', 'vertex'],
    ['http://localhost:11434/v1', 'ollama'],
    ['https://ollama.com/v1', 'ollama'],
    ['https://api.anthropic.com/v1/', 'anthropic'],
    ['https://openrouter.ai/api/v1', 'openrouter'],
    ['https://api.groq.com/openai/v1', 'groq'],
    ['http://gpu-box:8000/v1', 'generic'],
    ['https://evil-api.openai.com.example.org/v1', 'generic'],
    ['not a url', 'generic'],
  ] as const)('%s → %s', (url, kind) => {
    expect(detectKind(url)).toBe(kind);
  });

  it('a configured kind wins over the URL', () => {
    expect(factsOf({ base_url: 'http://gpu-box:8000/v1', kind: 'vllm' }).kind).toBe('vllm');
    expect(factsOf({ base_url: 'https://api.groq.com/openai/v1' }).kind).toBe('groq');
  });
});

describe('the facts table', () => {
  it('has one row per kind, each citing https sources', () => {
    expect(Object.keys(KINDS).sort()).toEqual([...PROVIDER_KINDS].sort());
    for (const kind of PROVIDER_KINDS) {
      expect(KINDS[kind].kind).toBe(kind);
      expect(KINDS[kind].sources.length).toBeGreaterThan(0);
      for (const source of KINDS[kind].sources) expect(source).toMatch(/^https:\/\//);
    }
  });

  it('says what the issue measured: Gemini gets no prompt_cache_key, Ollama max_tokens, Anthropic no json_object, Groq per-day requests', () => {
    expect(KINDS.gemini.request.promptCacheKey).toBe(false);
    expect(KINDS.gemini.limits.retryInfoBody).toBe(true);
    expect(KINDS.ollama.request.maxTokensField).toBe('max_tokens');
    expect(KINDS.anthropic.request.jsonObject).toBe(false);
    expect(KINDS.anthropic.cachedTokens).toBe('none');
    expect(KINDS.groq.limits.requestsHeader).toBe('day');
    expect(KINDS.openrouter.keyCheck).toBe('key');
    expect(KINDS.azure.auth).toBe('api-key');
  });

  it('the config takes llm.providers[].kind, and refuses an unknown one naming the choices', () => {
    const yaml = (kind: string) =>
      `sheets: {spreadsheet_id: x, sheet: S, credentials_file: ./k.json}\ncolumns: {id: A, status: B, comment: C, completion_date: D}\nrules: {text: t}\nllm: {providers: [{name: g, model: gemini-2.5-flash, base_url: "https://generativelanguage.googleapis.com/v1beta/openai/", kind: ${kind}}]}\n`;
    expect(() => parseConfig(yaml('gemini'), '/tmp/c.yaml', {})).not.toThrow();
    expect(() => parseConfig(yaml('gemeni'), '/tmp/c.yaml', {})).toThrow(/kind.*expected one of openai, azure, gemini/s);
  });
});

describe('readErrorBody', () => {
  it('reads every shape the providers send', () => {
    const gemini = JSON.stringify([{ error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '38s' }] } }]);
    expect(readErrorBody(gemini)).toMatchObject({ message: 'Quota exceeded', type: 'RESOURCE_EXHAUSTED', code: '429', retryAfterMs: 38_000 });
    expect(readErrorBody('{"error":"model \\"x\\" not found, try pulling it first"}').message).toBe('model "x" not found, try pulling it first');
    expect(readErrorBody('{"object":"error","message":"The model `x` does not exist.","type":"NotFoundError","param":null,"code":404}')).toMatchObject({ message: 'The model `x` does not exist.', code: '404' });
    expect(readErrorBody('{"type":"error","error":{"type":"invalid_request_error","message":"response_format.type: Input should be \'json_schema\'"}}').message).toContain("Input should be 'json_schema'");
    expect(readErrorBody('upstream connect error').message).toBe('upstream connect error');
    expect(readErrorBody('').message).toBeUndefined();
    expect(readErrorBody(null).message).toBeUndefined();
    expect(readErrorBody('[{"error":{"details":[{"retryDelay":{"seconds":2,"nanos":500000000}}]}}]').retryAfterMs).toBe(2500);
  });

  it('never throws, whatever the body (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v)), fc.jsonValue().map((v) => JSON.stringify([{ error: v }]))), (text) => {
        const read = readErrorBody(text);
        expect(read.message === undefined || typeof read.message === 'string').toBe(true);
        expect(read.retryAfterMs === undefined || (Number.isFinite(read.retryAfterMs) && read.retryAfterMs >= 0)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('unsupportedField', () => {
  it.each([
    ['Invalid JSON payload received. Unknown name "prompt_cache_key": Cannot find field.', 'prompt_cache_key'],
    ["property 'prompt_cache_key' is unsupported", 'prompt_cache_key'],
    ['Unrecognized request argument supplied: service_tier', 'service_tier'],
    ['Validation error at #/max_completion_tokens: Extra inputs are not permitted', 'max_completion_tokens'],
    ["Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", 'max_tokens'],
    ['Invalid JSON payload received. Unknown name "response_format.json_schema.strict": Cannot find field.', 'response_format'],
  ])('%s → %s', (message, field) => {
    expect(unsupportedField(message)).toBe(field);
  });

  it('names nothing for other 400s, and reads an "unrecognized argument" code with its param', () => {
    expect(unsupportedField('max_tokens is too large: 32000.')).toBeUndefined();
    expect(unsupportedField(undefined)).toBeUndefined();
    expect(unsupportedField('bad', 'unrecognized_request_argument', 'prompt_cache_key')).toBe('prompt_cache_key');
    fc.assert(fc.property(fc.string(), fc.option(fc.string(), { nil: undefined }), (message, code) => void unsupportedField(message, code, message)));
  });
});

describe('connectionOf', () => {
  it("Azure's classic URL: the api-version goes with every request, the key in api-key (no bearer)", () => {
    const c = connectionOf(KINDS.azure, 'https://res.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21', 'azkey');
    expect(c).toEqual({ baseURL: 'https://res.openai.azure.com/openai/deployments/gpt4o', defaultQuery: { 'api-version': '2024-10-21' }, defaultHeaders: { 'api-key': 'azkey', Authorization: null } });
  });

  it('others: the base_url as given, bearer auth', () => {
    expect(connectionOf(KINDS.gemini, 'https://generativelanguage.googleapis.com/v1beta/openai/', 'k')).toEqual({ baseURL: 'https://generativelanguage.googleapis.com/v1beta/openai', defaultQuery: undefined, defaultHeaders: {} });
  });
});

describe('dialectFetch', () => {
  const through = (facts: (typeof KINDS)[keyof typeof KINDS], status: number, body: string | null, headers: Record<string, string> = {}) =>
    dialectFetch(facts, () => Promise.resolve(new Response(body, { status, headers })))('http://x/v1/chat/completions', { method: 'POST', body: '{}' });

  it("turns Gemini's JSON-array 429 into OpenAI's shape, with its RetryInfo as retry-after-ms", async () => {
    const response = await through(KINDS.gemini, 429, JSON.stringify([{ error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' }] } }]));
    expect(response.headers.get('retry-after-ms')).toBe('1500');
    expect(await response.json()).toEqual({ error: { message: 'Quota exceeded', type: 'RESOURCE_EXHAUSTED', code: '429', param: null } });
  });

  it('puts the refused field in param, from the provider’s own words', async () => {
    const response = await through(KINDS.gemini, 400, JSON.stringify([{ error: { code: 400, message: 'Invalid JSON payload received. Unknown name "prompt_cache_key": Cannot find field.', status: 'INVALID_ARGUMENT' } }]));
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe('prompt_cache_key');
  });

  it("renames Groq's per-day request headers, leaves its per-minute token ones", async () => {
    const response = await through(KINDS.groq, 200, '{}', { 'x-ratelimit-limit-requests': '14400', 'x-ratelimit-remaining-requests': '14399', 'x-ratelimit-limit-tokens': '6000' });
    expect(response.headers.get('x-ratelimit-limit-requests')).toBeNull();
    expect(response.headers.get('x-ratelimit-limit-requests-day')).toBe('14400');
    expect(response.headers.get('x-ratelimit-limit-tokens')).toBe('6000');
  });

  it("reads OpenRouter's X-RateLimit-Reset (epoch ms) on a 429 as the wait", async () => {
    const response = await through(KINDS.openrouter, 429, '{"error":{"code":429,"message":"Rate limit exceeded"}}', { 'X-RateLimit-Reset': String(Date.now() + 2000) });
    expect(Number(response.headers.get('retry-after-ms'))).toBeGreaterThan(1500);
  });

  it('hands back an OpenAI-shaped JSON error for any body and status, never throwing (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PROVIDER_KINDS), fc.integer({ min: 400, max: 599 }), fc.oneof(fc.string(), fc.json(), fc.constant(null)), async (kind, status, body) => {
        const response = await through(KINDS[kind], status, body);
        expect(response.status).toBe(status);
        const json = (await response.json()) as { error: { message: unknown } };
        expect(typeof json.error.message).toBe('string');
      }),
      { numRuns: 200 },
    );
  });
});

describe('the store\'s field memory', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('remembers a refused field per endpoint and model, for a week', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sv-fields-'));
    const store = SqliteStore.open(path.join(dir, 'c.sqlite'));
    let now = 1_000_000;
    const memory = store.fieldMemory(() => now);
    const gemini = { provider: 'https://generativelanguage.googleapis.com/v1beta/openai/', model: 'gemini-2.5-flash' };
    expect(await memory.recall(gemini)).toEqual([]);
    await memory.learn(gemini, 'prompt_cache_key', 'Unknown name "prompt_cache_key"');
    expect(await memory.recall(gemini)).toEqual(['prompt_cache_key']);
    expect(await memory.recall({ ...gemini, model: 'gemini-2.5-pro' })).toEqual([]);
    now += 8 * 24 * 60 * 60 * 1000;
    expect(await memory.recall(gemini)).toEqual([]);
    await store.close();
  });
});
