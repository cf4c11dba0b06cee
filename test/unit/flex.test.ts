import fc from 'fast-check';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { classifyFailure, type FailureContext } from '../../src/llm/classify.js';
import { KINDS, PROVIDER_KINDS, billedTier, costOf, isFlexCapacity, priceOf, serviceTierProblems, tierCostOf } from '../../src/llm/index.js';

const usage = { promptTokens: 10_000, completionTokens: 2_000, cachedTokens: 4_000 };

describe('prices by the tier that served', () => {
  const price = priceOf('gpt-5-mini');
  if (!price) throw new Error('gpt-5-mini has no price');

  it('bills flex at Batch prices (half), standard at list, priority at its own prices', () => {
    expect(tierCostOf(usage, price, 'standard')).toBeCloseTo(costOf(usage, price), 12);
    expect(tierCostOf(usage, price, 'flex')).toBeCloseTo(costOf(usage, price) / 2, 12);
    // gpt-5-mini priority: $0.45 in, $0.045 cached, $3.60 out per million.
    expect(tierCostOf(usage, price, 'priority')).toBeCloseTo((6_000 * 0.45 + 4_000 * 0.045 + 2_000 * 3.6) / 1_000_000, 12);
  });

  it('gives no figure for priority where the model has no priority prices', () => {
    const nano = priceOf('gpt-5-nano');
    expect(nano && tierCostOf(usage, nano, 'priority')).toBeNull();
  });

  it('reads the tier from the response: OpenAI flex and priority apart, Groq flex at its standard price, anything else standard', () => {
    expect(billedTier('flex', KINDS.openai)).toBe('flex');
    expect(billedTier('priority', KINDS.openai)).toBe('priority');
    expect(billedTier('default', KINDS.openai)).toBe('standard');
    expect(billedTier('flex', KINDS.groq)).toBe('standard');
    expect(billedTier(undefined, KINDS.openai)).toBe('standard');
  });

  it('never throws on any service_tier a server sends back', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(...PROVIDER_KINDS), (value, kind) => {
        const tier = billedTier(value, KINDS[kind]);
        expect(['standard', 'flex', 'priority']).toContain(tier);
        if (value !== 'flex' && value !== 'priority') expect(tier).toBe('standard');
      }),
    );
  });
});

function context(flex: boolean): FailureContext {
  return { name: 'openai', model: 'gpt-5-mini', facts: KINDS.openai, host: 'api.openai.com', timeoutMs: 60_000, apiKeyEnv: 'OPENAI_API_KEY', scrub: (t) => t, flex };
}

const apiError = (status: number, body: Record<string, unknown>) => OpenAI.APIError.generate(status, { error: body }, undefined, new Headers());

describe('a flex capacity refusal is not a rate limit', () => {
  const capacity = { message: 'Resource Unavailable: not enough flex capacity', type: 'resource_unavailable', code: 'resource_unavailable' };

  it('is flex_capacity (retryable) on a flex request, by its code or by its words alone', () => {
    for (const body of [capacity, { message: 'Resource unavailable' }, { message: 'x', code: 'resource_unavailable' }]) {
      const error = classifyFailure(apiError(429, body), context(true));
      expect(error.kind).toBe('flex_capacity');
      expect(error.retryable).toBe(true);
      expect(error.message).toContain('no flex capacity');
    }
    // Groq's flex: 498 capacity_exceeded (https://console.groq.com/docs/flex-processing).
    expect(classifyFailure(apiError(498, { message: 'Capacity exceeded', code: 'capacity_exceeded' }), context(true)).kind).toBe('flex_capacity');
  });

  it('stays a rate limit on a flex request when it is one, and on a request not sent at flex', () => {
    expect(classifyFailure(apiError(429, { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' }), context(true)).kind).toBe('rate_limit');
    expect(classifyFailure(apiError(429, capacity), context(false)).kind).toBe('rate_limit');
    expect(classifyFailure(apiError(429, { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' }), context(true)).kind).toBe('quota');
  });

  it('never throws on any error body', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.dictionary(fc.constantFrom('code', 'type', 'message', 'param'), fc.jsonValue()), (status, body) => {
        expect(typeof isFlexCapacity(status, body)).toBe('boolean');
        classifyFailure(apiError(status, body), context(true));
      }),
    );
  });
});

describe('service_tier against the kind', () => {
  const provider = (kind: string | undefined, tier: string) => ({ name: 'p', base_url: 'https://example.test/v1', ...(kind ? { kind } : {}), service_tier: tier }) as Parameters<typeof serviceTierProblems>[0][number];

  it('takes what the kind takes, refuses the rest naming the field, warns on generic', () => {
    expect(serviceTierProblems([provider('openai', 'flex'), provider('openai', 'priority'), provider('groq', 'flex')])).toEqual({ problems: [], warnings: [] });
    const { problems } = serviceTierProblems([provider('openai', 'flex'), provider('anthropic', 'flex'), provider('groq', 'default')]);
    expect(problems.map((p) => p.path)).toEqual(['llm.providers[1].service_tier', 'llm.providers[2].service_tier']);
    expect(problems[0]?.message).toContain('has no service tiers');
    expect(problems[1]?.hint).toBe('Set service_tier to auto or flex, or remove it.');
    const generic = serviceTierProblems([provider(undefined, 'flex')]);
    expect(generic.problems).toEqual([]);
    expect(generic.warnings[0]).toContain('llm.providers[0].service_tier (flex)');
  });

  it('the config takes service_tier auto, default, flex or priority, and refuses anything else naming the choices', () => {
    const yaml = (tier: string) =>
      `sheets: {spreadsheet_id: x, sheet: S, credentials_file: ./k.json}\ncolumns: {id: A, status: B, comment: C, completion_date: D}\nrules: {text: t}\nllm: {providers: [{name: o, model: gpt-5-mini, service_tier: ${tier}}]}\n`;
    for (const tier of ['auto', 'default', 'flex', 'priority']) expect(parseConfig(yaml(tier), '/tmp/c.yaml', {}).llm.providers[0]?.service_tier).toBe(tier);
    expect(() => parseConfig(yaml('turbo'), '/tmp/c.yaml', {})).toThrow(/service_tier.*expected one of auto, default, flex, priority/s);
    expect(parseConfig(yaml('flex').replace(', service_tier: flex', ''), '/tmp/c.yaml', {}).llm.providers[0]?.service_tier).toBeUndefined();
  });

  it('every kind that refuses unknown fields has no tiers (Gemini, Vertex, Anthropic, Azure)', () => {
    for (const kind of ['gemini', 'vertex', 'anthropic', 'azure'] as const) expect(KINDS[kind].request.serviceTiers).toEqual([]);
  });
});

describe('the emulator and service_tier', () => {
  const ask = async (profile: 'openai' | 'gemini' | 'anthropic' | 'azure' | 'groq', tier: unknown) => {
    const { startOpenAIEmulator } = await import('../support/openai-emulator/index.js');
    const llm = await startOpenAIEmulator({ apiKey: 'sk-test', profile });
    try {
      const headers = profile === 'azure' ? { 'api-key': 'sk-test' } : { authorization: 'Bearer sk-test' };
      const response = await fetch(`${llm.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'gpt-5-mini', messages: [{ role: 'user', content: 'hi' }], service_tier: tier }),
      });
      return { status: response.status, body: (await response.json()) as { service_tier?: unknown; error?: { param?: unknown } } };
    } finally {
      await llm.close();
    }
  };

  it('answers with the tier that served, refuses an unknown tier, and the profiles that refuse unknown fields refuse it (Anthropic ignores it)', async () => {
    expect((await ask('openai', 'flex')).body.service_tier).toBe('flex');
    expect((await ask('openai', 'auto')).body.service_tier).toBe('default');
    expect((await ask('groq', 'flex')).status).toBe(200);
    const bad = await ask('openai', 'turbo');
    expect(bad.status).toBe(400);
    expect(bad.body.error?.param).toBe('service_tier');
    for (const profile of ['gemini', 'azure'] as const) expect((await ask(profile, 'flex')).status).toBe(400);
    // Anthropic's layer ignores fields it does not know: a flex asked there is not flex (hence the config error).
    const ignored = await ask('anthropic', 'flex');
    expect(ignored.status).toBe(200);
    expect(ignored.body.service_tier).not.toBe('flex');
  });
});
