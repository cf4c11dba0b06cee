import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it } from 'vitest';

import {
  defaultVerdict,
  formatGoDuration,
  startOpenAIEmulator,
  type Answer,
  type OpenAIEmulator,
  type OpenAIEmulatorOptions,
  type RowInput,
} from '../support/openai-emulator/index.js';

const API_KEY = 'sk-test-emulator-key-0123456789abcd';
const SYSTEM_PROMPT = 'You validate project status rows and answer in JSON.';

const GOOD_ROW: RowInput = {
  id: 'P-001',
  status: 'Done',
  comment: 'Shipped the API; next: docs by 2026-12-01',
  completion_date: '2026-12-01',
};
const VAGUE_ROW: RowInput = { id: 'P-002', status: 'In progress', comment: 'TBD' };

const VERDICT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['is_valid', 'issues', 'rewrite_suggestion'],
  properties: {
    is_valid: { type: 'boolean' },
    issues: { type: 'array', items: { type: 'string' } },
    rewrite_suggestion: { type: 'string' },
  },
};

let emu: OpenAIEmulator | undefined;

async function start(opts: OpenAIEmulatorOptions = {}): Promise<{ emu: OpenAIEmulator; client: OpenAI }> {
  emu = await startOpenAIEmulator({ apiKey: API_KEY, ...opts });
  return { emu, client: new OpenAI({ apiKey: API_KEY, baseURL: emu.url, maxRetries: 0 }) };
}

/** A request shaped like the bot's: system prompt, then the row after `Row to validate:`. */
function botRequest(
  row: RowInput,
  extra: Partial<ChatCompletionCreateParamsNonStreaming> = {},
  system = SYSTEM_PROMPT,
): ChatCompletionCreateParamsNonStreaming {
  return {
    model: 'gpt-4o-mini',
    temperature: 0,
    prompt_cache_key: 'status-validator-v1',
    response_format: { type: 'json_schema', json_schema: { name: 'row_verdict', strict: true, schema: VERDICT_SCHEMA } },
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: `Check this row.\nRow to validate:\n${JSON.stringify(row)}` },
    ],
    ...extra,
  };
}

function contentOf(completion: OpenAI.Chat.Completions.ChatCompletion): string {
  const content = completion.choices[0]?.message.content;
  if (typeof content !== 'string') throw new Error('expected string content');
  return content;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the request to fail');
}

afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

describe('openai emulator: answers', () => {
  it('answers a good row with a valid verdict that names the row', async () => {
    const { client } = await start();
    const completion = await client.chat.completions.create(botRequest(GOOD_ROW));
    const answer = JSON.parse(contentOf(completion)) as Answer;
    expect(answer).toEqual({
      is_valid: true,
      issues: [],
      rewrite_suggestion: 'Rewrite: Shipped the API; next: docs by 2026-12-01',
      confidence: 0.9,
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.choices[0]?.message.refusal).toBeNull();
  });

  it('answers a vague row as invalid with an issue naming the row', async () => {
    const { client, emu } = await start();
    const completion = await client.chat.completions.create(botRequest(VAGUE_ROW));
    expect(JSON.parse(contentOf(completion))).toEqual(defaultVerdict(VAGUE_ROW));
    expect(defaultVerdict(VAGUE_ROW)).toEqual({
      is_valid: false,
      issues: ['Comment "TBD" is too vague'],
      rewrite_suggestion: 'Rewrite: TBD',
      confidence: 0.9,
    });
    expect(emu.requests[0]?.row).toEqual(VAGUE_ROW);
  });

  it('judges comments by length and whole vague words only', () => {
    expect(defaultVerdict({ id: 'a', comment: '   exactly twenty ch   ' }).is_valid).toBe(false); // 17 after trim
    expect(defaultVerdict({ id: 'a', comment: 'twenty characters!!!' }).is_valid).toBe(true);
    expect(defaultVerdict({ id: 'a', comment: 'Badge printing finished for all sites' }).is_valid).toBe(true);
    expect(defaultVerdict({ id: 'a', comment: 'Status is unclear after the vendor call' }).is_valid).toBe(false);
    expect(defaultVerdict({}).issues).toEqual(['Comment "" is too vague']);
  });

  it('returns the x-request-id it recorded, visible through withResponse()', async () => {
    const { client, emu } = await start();
    const { response, request_id } = await client.chat.completions.create(botRequest(GOOD_ROW)).withResponse();
    expect(request_id).toMatch(/^req_[0-9a-f]+$/);
    expect(response.headers.get('x-request-id')).toBe(request_id);
    expect(emu.requests[0]?.requestId).toBe(request_id);
    expect(emu.requests[0]?.status).toBe(200);
    expect(emu.requests[0]?.promptCacheKey).toBe('status-validator-v1');
    expect(emu.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('sends a custom responder string raw as the content and a custom verdict as JSON', async () => {
    const { client, emu } = await start({ respond: (row) => `raw for ${String(row.id)}` });
    expect(contentOf(await client.chat.completions.create(botRequest(GOOD_ROW)))).toBe('raw for P-001');
    emu.setRespond(() => ({ is_valid: false, issues: ['x'], rewrite_suggestion: 'y' }));
    expect(JSON.parse(contentOf(await client.chat.completions.create(botRequest(GOOD_ROW))))).toEqual({
      is_valid: false,
      issues: ['x'],
      rewrite_suggestion: 'y',
    });
  });
});

describe('openai emulator: usage and prompt caching', () => {
  const longSystem = `${SYSTEM_PROMPT}\n${'Rule: every comment must say what was done and what is next. '.repeat(100)}`;

  it('reports cached tokens for a second request sharing a long prefix under the same prompt_cache_key', async () => {
    const { client } = await start();
    const first = await client.chat.completions.create(botRequest(GOOD_ROW, {}, longSystem));
    const second = await client.chat.completions.create(botRequest(VAGUE_ROW, {}, longSystem));

    const promptChars = longSystem.length + `Check this row.\nRow to validate:\n${JSON.stringify(VAGUE_ROW)}`.length;
    expect(second.usage?.prompt_tokens).toBe(Math.ceil(promptChars / 4));
    expect(second.usage?.completion_tokens).toBe(Math.ceil(contentOf(second).length / 4));
    expect(second.usage?.total_tokens).toBe((second.usage?.prompt_tokens ?? 0) + (second.usage?.completion_tokens ?? 0));
    expect(first.usage?.prompt_tokens_details?.cached_tokens).toBe(0);

    // Shared prefix: the system prompt plus `Check this row.\nRow to validate:\n{"id":"P-00`.
    const prefixTokens = Math.floor((longSystem.length + 'Check this row.\nRow to validate:\n{"id":"P-00'.length) / 4);
    expect(prefixTokens).toBeGreaterThanOrEqual(1024);
    expect(second.usage?.prompt_tokens_details?.cached_tokens).toBe(Math.floor(prefixTokens / 128) * 128);
  });

  it('reports no cached tokens when the prompt_cache_key differs or the shared prefix is short', async () => {
    const { client } = await start();
    await client.chat.completions.create(botRequest(GOOD_ROW, {}, longSystem));
    const otherKey = await client.chat.completions.create(botRequest(VAGUE_ROW, { prompt_cache_key: 'other-key' }, longSystem));
    expect(otherKey.usage?.prompt_tokens_details?.cached_tokens).toBe(0);

    await client.chat.completions.create(botRequest(GOOD_ROW, { prompt_cache_key: 'short' }));
    const short = await client.chat.completions.create(botRequest(VAGUE_ROW, { prompt_cache_key: 'short' }));
    expect(short.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
  });
});

describe('openai emulator: errors through the SDK', () => {
  it('rejects a wrong API key with 401 invalid_api_key showing only its last 4 characters', async () => {
    const { emu } = await start();
    const wrongKey = 'sk-wrong-secret-value-WXYZ';
    const client = new OpenAI({ apiKey: wrongKey, baseURL: emu.url, maxRetries: 0 });
    const err = await rejection(client.chat.completions.create(botRequest(GOOD_ROW)));
    expect(err).toBeInstanceOf(AuthenticationError);
    const authErr = err as AuthenticationError;
    expect(authErr.status).toBe(401);
    expect(authErr.code).toBe('invalid_api_key');
    expect(authErr.type).toBe('invalid_request_error');
    expect(authErr.message).toContain('sk-...WXYZ');
    expect(authErr.message).not.toContain('wrong-secret');
    expect(authErr.requestID).toMatch(/^req_/);
  });

  it('surfaces an injected 429 with its retry-after-ms header on the SDK error', async () => {
    const { client, emu } = await start();
    emu.injectFault({ kind: 'rate_limit', retryAfterMs: 250, retryAfterSeconds: 1 });
    const err = await rejection(client.chat.completions.create(botRequest(GOOD_ROW)));
    expect(err).toBeInstanceOf(RateLimitError);
    const rl = err as RateLimitError;
    expect(rl.code).toBe('rate_limit_exceeded');
    expect(rl.headers.get('retry-after-ms')).toBe('250');
    expect(rl.headers.get('retry-after')).toBe('1');
    expect(emu.requests[0]?.fault).toBe('rate_limit');
    // The fault was used up: the next request succeeds.
    await expect(client.chat.completions.create(botRequest(GOOD_ROW))).resolves.toBeDefined();
  });

  it('lets an SDK with retries wait out an injected 429 and then succeed', async () => {
    const { emu } = await start();
    const client = new OpenAI({ apiKey: API_KEY, baseURL: emu.url, maxRetries: 1 });
    emu.injectFault({ kind: 'rate_limit', retryAfterMs: 20 });
    const completion = await client.chat.completions.create(botRequest(GOOD_ROW));
    expect(JSON.parse(contentOf(completion))).toEqual(defaultVerdict(GOOD_ROW));
    expect(emu.callCount()).toBe(2);
    expect(emu.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('answers insufficient_quota as a 429 with that type and code', async () => {
    const { client, emu } = await start();
    emu.injectFault({ kind: 'insufficient_quota' });
    const err = await rejection(client.chat.completions.create(botRequest(GOOD_ROW)));
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).code).toBe('insufficient_quota');
    expect((err as RateLimitError).type).toBe('insufficient_quota');
    expect((err as RateLimitError).message).toContain('You exceeded your current quota');
  });

  it('answers an injected 503 status fault as the SDK InternalServerError', async () => {
    const { client, emu } = await start();
    emu.injectFault({ kind: 'status', status: 503 });
    const err = await rejection(client.chat.completions.create(botRequest(GOOD_ROW)));
    expect(err).toBeInstanceOf(InternalServerError);
    expect((err as InternalServerError).status).toBe(503);
    expect((err as InternalServerError).requestID).toMatch(/^req_/);
  });

  it('applies a fault only to requests its match accepts, as many times as asked', async () => {
    const { client, emu } = await start();
    emu.injectFault({ kind: 'status', status: 500 }, { times: 2, match: (row) => row?.id === 'P-002' });
    await expect(client.chat.completions.create(botRequest(GOOD_ROW))).resolves.toBeDefined();
    await expect(client.chat.completions.create(botRequest(VAGUE_ROW))).rejects.toBeInstanceOf(InternalServerError);
    expect(emu.pendingFaults()).toBe(1);
    await expect(client.chat.completions.create(botRequest(VAGUE_ROW))).rejects.toBeInstanceOf(InternalServerError);
    await expect(client.chat.completions.create(botRequest(VAGUE_ROW))).resolves.toBeDefined();
    expect(emu.pendingFaults()).toBe(0);
  });

  it('resets the connection so the SDK throws APIConnectionError', async () => {
    const { client, emu } = await start();
    emu.injectFault({ kind: 'reset' });
    const err = await rejection(client.chat.completions.create(botRequest(GOOD_ROW)));
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect(emu.requests[0]?.fault).toBe('reset');
    expect(emu.requests[0]?.status).toBe(0);
  });

  it('hangs until the SDK times out, then counts the request as finished', async () => {
    const { client, emu } = await start();
    emu.injectFault({ kind: 'hang' });
    const err = await rejection(client.chat.completions.create(botRequest(GOOD_ROW), { timeout: 300 }));
    expect(err).toBeInstanceOf(APIConnectionTimeoutError);
    await expect.poll(() => emu.inFlight).toBe(0);
    expect(emu.requests[0]?.endedAt).toBeDefined();
  });

  it('close() destroys hanging and sleeping requests and leaves nothing in flight', async () => {
    const { client, emu } = await start({ latencyMs: 10_000 });
    emu.injectFault({ kind: 'hang' });
    const hanging = rejection(client.chat.completions.create(botRequest(GOOD_ROW)));
    const sleeping = rejection(client.chat.completions.create(botRequest(VAGUE_ROW)));
    await emu.waitForCalls(2);
    await expect.poll(() => emu.inFlight).toBe(2);
    await emu.close();
    expect(emu.inFlight).toBe(0);
    expect(await hanging).toBeInstanceOf(APIConnectionError);
    expect(await sleeping).toBeInstanceOf(APIConnectionError);
    expect(emu.requests.map((r) => r.status)).toEqual([0, 0]);
  });

  it('rejects json_schema with 400 on param response_format when unsupported, but serves json_object', async () => {
    const { client } = await start({ supportsJsonSchema: false });
    const err = await rejection(client.chat.completions.create(botRequest(GOOD_ROW)));
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).param).toBe('response_format');
    expect((err as BadRequestError).type).toBe('invalid_request_error');

    const completion = await client.chat.completions.create(botRequest(GOOD_ROW, { response_format: { type: 'json_object' } }));
    expect(JSON.parse(contentOf(completion))).toEqual(defaultVerdict(GOOD_ROW));
  });

  it('rejects json_object mode when no message mentions JSON, as OpenAI does', async () => {
    const { client } = await start();
    const err = await rejection(
      client.chat.completions.create(botRequest(GOOD_ROW, { response_format: { type: 'json_object' } }, 'Validate rows.')),
    );
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).param).toBe('messages');
  });

  it('answers an unknown model with 404 model_not_found when models are listed', async () => {
    const { client } = await start({ models: ['gpt-4o-mini'] });
    const err = await rejection(client.chat.completions.create(botRequest(GOOD_ROW, { model: 'gpt-9' })));
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).code).toBe('model_not_found');
  });

  it('lists its models on GET /models, for a valid key only', async () => {
    const { client, emu } = await start();
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toContain('gpt-5-mini');
    expect(page.data[0]).toMatchObject({ object: 'model', owned_by: 'system' });
    const res = await fetch(`${emu.url}/models`, { headers: { authorization: 'Bearer sk-wrong-key-123456' } });
    expect(res.status).toBe(401);
  });

  it('refuses a max_completion_tokens above the model output cap with 400, as OpenAI does', async () => {
    const { client } = await start();
    const asked = client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 20_000 });
    const error = (await asked.catch((e: unknown) => e)) as { status?: number; param?: string; message?: string };
    expect(error).toMatchObject({ status: 400, param: 'max_completion_tokens' });
    expect(error.message).toMatch(/is too large: 20000\. This model supports at most 16384 completion tokens/);
    const fits = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 16_384 });
    expect(fits.choices).toHaveLength(1);
  });

  it('answers other endpoints with 404 and invalid JSON with 400, both in OpenAI error shape', async () => {
    const { client, emu } = await start();
    await expect(client.moderations.create({ input: 'x' })).rejects.toBeInstanceOf(NotFoundError);

    const res = await fetch(`${emu.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: '{"model": "gpt-4o-mini", "messages": [',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: null, code: null });
    expect(typeof body.error['message']).toBe('string');
  });
});

describe('openai emulator: rate limits', () => {
  it("enforces a per-minute limit per second by default: the second's share at once, then 429 though the minute is far from spent", async () => {
    let clock = 1_000_000;
    const { client, emu } = await start({ rateLimit: { rpm: 1200 }, now: () => clock });
    // 1,200 a minute enforced per second: 20 may go at once, not 1,200.
    const answers = await Promise.allSettled(Array.from({ length: 30 }, () => client.chat.completions.create(botRequest(GOOD_ROW))));
    expect(answers.filter((a) => a.status === 'fulfilled')).toHaveLength(20);
    const err = (answers.find((a) => a.status === 'rejected') as PromiseRejectedResult).reason as RateLimitError;
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.type).toBe('requests');
    expect(err.headers.get('x-ratelimit-limit-requests')).toBe('1200');
    expect(err.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    // The 10 rejected requests counted too: 10 in debt, then one more to fit (50 ms each).
    expect(emu.requests.filter((r) => r.fault === 'rate_limit:requests')).toHaveLength(10);
    clock += 10 * 50;
    await expect(client.chat.completions.create(botRequest(GOOD_ROW))).rejects.toBeInstanceOf(RateLimitError);
    clock += 2 * 50;
    const ok = await client.chat.completions.create(botRequest(GOOD_ROW)).withResponse();
    // What is left in the window, expressed per minute like the limit; reset = until the window is full.
    expect(ok.response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(ok.response.headers.get('x-ratelimit-reset-requests')).toBe('1s');
    clock += 500;
    const later = await client.chat.completions.create(botRequest(GOOD_ROW)).withResponse();
    expect(later.response.headers.get('x-ratelimit-remaining-requests')).toBe('540');
    expect(later.response.headers.get('x-ratelimit-reset-requests')).toBe('550ms');
  });

  it('in the full-minute mode: a bucket of a whole minute, 429 with retry-after that counts the rejected request, remaining/reset headers', async () => {
    let clock = 1_000_000;
    const { client } = await start({ rateLimit: { rpm: 2, windowMs: 60_000 }, now: () => clock });

    // rpm 2: one request refills every 30 s; the bucket starts full.
    const first = await client.chat.completions.create(botRequest(GOOD_ROW)).withResponse();
    expect(first.response.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.response.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect(first.response.headers.get('x-ratelimit-reset-requests')).toBe('30s');
    const second = await client.chat.completions.create(botRequest(GOOD_ROW)).withResponse();
    expect(second.response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(second.response.headers.get('x-ratelimit-reset-requests')).toBe('1m0s');

    clock += 10_000;
    const err = await rejection(client.chat.completions.create(botRequest(GOOD_ROW)));
    expect(err).toBeInstanceOf(RateLimitError);
    const rl = err as RateLimitError;
    expect(rl.code).toBe('rate_limit_exceeded');
    expect(rl.type).toBe('requests');
    expect(rl.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    // 1/3 refilled, then the rejected request took one: 5/3 missing, 30 s each.
    expect(rl.headers.get('retry-after-ms')).toBe('50000');
    expect(rl.headers.get('retry-after')).toBe('50');
    expect(rl.message).toMatch(/Limit 2, Used 2, Requested 1\. Please try again in 50s/);

    clock += 49_999;
    await expect(client.chat.completions.create(botRequest(GOOD_ROW))).rejects.toBeInstanceOf(RateLimitError);
    // Retrying early cost another request: waiting what the first 429 said is no longer enough.
    clock += 1;
    await expect(client.chat.completions.create(botRequest(GOOD_ROW))).rejects.toBeInstanceOf(RateLimitError);
  });

  it('refills continuously, not in fixed windows: a spent minute budget admits one request per 1/rpm minute', async () => {
    let clock = 0;
    const { client, emu } = await start({ rateLimit: { rpm: 60, windowMs: 60_000 }, now: () => clock });
    await Promise.all(Array.from({ length: 60 }, () => client.chat.completions.create(botRequest(GOOD_ROW))));
    await expect(client.chat.completions.create(botRequest(GOOD_ROW))).rejects.toBeInstanceOf(RateLimitError);

    // 6 s later, 6 have refilled, one of them taken by the rejected request (a fixed window would refuse until 60 s).
    clock += 6_000;
    for (let i = 0; i < 5; i++) await client.chat.completions.create(botRequest(GOOD_ROW));
    const err = (await rejection(client.chat.completions.create(botRequest(GOOD_ROW)))) as RateLimitError;
    expect(err.headers.get('retry-after-ms')).toBe('2000');
    expect(err.headers.get('retry-after')).toBe('2');
    expect(emu.requests.filter((r) => r.status === 200)).toHaveLength(65);
    expect(emu.requests.filter((r) => r.fault === 'rate_limit:requests')).toHaveLength(2);

    // The bucket never holds more than one minute's budget.
    clock += 10 * 60_000;
    const full = await client.chat.completions.create(botRequest(GOOD_ROW)).withResponse();
    expect(full.response.headers.get('x-ratelimit-remaining-requests')).toBe('59');
    expect(full.response.headers.get('x-ratelimit-reset-requests')).toBe('1s');
  });

  it('enforces tpm counting prompt tokens plus max_completion_tokens, refilling over the window', async () => {
    let clock = 5_000;
    // 6,000 a minute over 10 s windows: 1,000 tokens a window, refilled at 10 ms per token.
    const { client } = await start({ rateLimit: { tpm: 6_000, windowMs: 10_000 }, now: () => clock });
    const ok = await client.chat.completions.create(botRequest(GOOD_ROW, { max_completion_tokens: 800 })).withResponse();
    const cost = 800 + (ok.data.usage?.prompt_tokens ?? 0);
    expect(Number(ok.response.headers.get('x-ratelimit-limit-tokens'))).toBe(6_000);
    expect(Number(ok.response.headers.get('x-ratelimit-remaining-tokens'))).toBe(6 * (1_000 - cost));
    expect(ok.response.headers.get('x-ratelimit-reset-tokens')).toBe(formatGoDuration(cost * 10));

    const err = (await rejection(client.chat.completions.create(botRequest(GOOD_ROW, { max_completion_tokens: 800 })))) as RateLimitError;
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.type).toBe('tokens');
    const wait = (cost - (1_000 - cost)) * 10;
    expect(err.headers.get('retry-after-ms')).toBe(String(wait));

    clock += wait - 10;
    await expect(client.chat.completions.create(botRequest(GOOD_ROW, { max_completion_tokens: 800 }))).rejects.toBeInstanceOf(RateLimitError);
    clock += 10;
    await expect(client.chat.completions.create(botRequest(GOOD_ROW, { max_completion_tokens: 800 }))).resolves.toBeDefined();
  });

  it('answers a request larger than the whole per-minute token limit with 429 "Request too large"', async () => {
    const { client } = await start({ rateLimit: { tpm: 1_000, windowMs: 60_000 } });
    const err = (await rejection(client.chat.completions.create(botRequest(GOOD_ROW, { max_completion_tokens: 5_000 })))) as RateLimitError;
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.type).toBe('tokens');
    expect(err.message).toMatch(/Request too large/);
    // The token bucket is untouched.
    const ok = await client.chat.completions.create(botRequest(GOOD_ROW, { max_completion_tokens: 100 })).withResponse();
    expect(Number(ok.response.headers.get('x-ratelimit-remaining-tokens'))).toBe(1_000 - 100 - (ok.data.usage?.prompt_tokens ?? 0));
  });
});

describe('openai emulator: concurrency accounting', () => {
  it('counts concurrent requests in peakInFlight and drains inFlight back to 0', async () => {
    const { client, emu } = await start({ latencyMs: 150 });
    const rows = [1, 2, 3, 4, 5].map((n) => ({ ...GOOD_ROW, id: `P-00${n}` }));
    const answers = await Promise.all(rows.map((row) => client.chat.completions.create(botRequest(row))));
    expect(answers.map((a) => (JSON.parse(contentOf(a)) as Answer).rewrite_suggestion)).toEqual(
      rows.map((row) => defaultVerdict(row).rewrite_suggestion),
    );
    expect(emu.peakInFlight).toBe(5);
    expect(emu.inFlight).toBe(0);
    expect(emu.callCount()).toBe(5);
    for (const r of emu.requests) {
      expect((r.endedAt ?? 0) - r.startedAt).toBeGreaterThanOrEqual(140);
    }
  });

  it('sees a single request at a time when the client sends them one by one', async () => {
    const { client, emu } = await start({ latencyMs: { mean: 10, jitter: 5 } });
    for (const row of [GOOD_ROW, VAGUE_ROW, GOOD_ROW]) await client.chat.completions.create(botRequest(row));
    expect(emu.peakInFlight).toBe(1);
    emu.reset();
    expect(emu.requests).toHaveLength(0);
    expect(emu.callCount()).toBe(0);
  });
});

describe('openai emulator: broken answers', () => {
  it('answers truncated with finish_reason length and content cut mid-JSON', async () => {
    const { client, emu } = await start();
    emu.injectFault({ kind: 'truncated' });
    const completion = await client.chat.completions.create(botRequest(GOOD_ROW));
    expect(completion.choices[0]?.finish_reason).toBe('length');
    const content = contentOf(completion);
    expect(JSON.stringify(defaultVerdict(GOOD_ROW)).startsWith(content)).toBe(true);
    expect(() => JSON.parse(content) as unknown).toThrow();
  });

  it('answers a refusal with message.refusal set and null content', async () => {
    const { client, emu } = await start();
    emu.injectFault({ kind: 'refusal' });
    const completion = await client.chat.completions.create(botRequest(GOOD_ROW));
    expect(completion.choices[0]?.message.content).toBeNull();
    expect(completion.choices[0]?.message.refusal).toMatch(/can't help/);
    expect(emu.requests[0]?.fault).toBe('refusal');
  });

  it('answers malformed, wrong_types and fixed content faults with 200s the bot must reject itself', async () => {
    const { client, emu } = await start();
    emu.injectFault({ kind: 'malformed' });
    emu.injectFault({ kind: 'wrong_types' });
    emu.injectFault({ kind: 'content', content: '{"is_valid":true}' });
    const malformed = contentOf(await client.chat.completions.create(botRequest(GOOD_ROW)));
    expect(() => JSON.parse(malformed) as unknown).toThrow();
    expect(JSON.parse(contentOf(await client.chat.completions.create(botRequest(GOOD_ROW))))).toEqual({
      is_valid: 'false',
      issues: 'none',
    });
    expect(contentOf(await client.chat.completions.create(botRequest(GOOD_ROW)))).toBe('{"is_valid":true}');
    expect(emu.requests.map((r) => r.fault)).toEqual(['malformed', 'wrong_types', 'content']);
  });
});
