import { afterEach, describe, expect, it } from 'vitest';
import { costOf, priceOf } from '../../src/llm/index.js';
import { FLEX_RETRIES } from '../../src/llm/validator.js';
import { startBed, type Bed, type BedOptions } from '../support/bed.js';
import type { OpenAIEmulator } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let beds: Bed[] = [];
afterEach(async () => {
  await Promise.all(beds.map((b) => b.close()));
  beds = [];
});

interface Summary {
  status: string;
  llm: { calls: number; costUsd: number | null; flex?: { requests: number; capacityRefusals: number; fellBack: number } };
  verdicts: { valid: number; invalid: number; error: number };
  warnings: string[];
}

/** An OpenAI provider at the emulator, asking `tier`. */
async function bedAt(tier: string | undefined, options: BedOptions = {}): Promise<Bed> {
  const bed = await startBed(options);
  beds.push(bed);
  bed.setConfig({ llm: { providers: [{ name: 'openai', kind: 'openai', model: 'gpt-5-mini', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY', ...(tier ? { service_tier: tier } : {}) }] } });
  return bed;
}

/** What the emulator billed: each answered request at the prices of the tier it says served it; refusals nothing. */
function billed(llm: OpenAIEmulator): number {
  const price = priceOf('gpt-5-mini');
  if (!price) throw new Error('gpt-5-mini has no price');
  return llm.requests
    .filter((r) => r.usage !== undefined)
    .reduce((sum, r) => {
      const usage = { promptTokens: r.usage?.prompt_tokens ?? 0, completionTokens: r.usage?.completion_tokens ?? 0, cachedTokens: r.usage?.cached_tokens ?? 0 };
      return sum + costOf(usage, price, r.serviceTier === 'flex');
    }, 0);
}

const tierOf = (body: unknown) => (body as { service_tier?: unknown } | undefined)?.service_tier;

describe('flex processing (llm.providers[].service_tier: flex)', () => {
  it('sends service_tier flex, and the same rows cost half of the default tier, priced by the tier the answers say served them', async () => {
    const standard = await bedAt('default', { rows: sampleRows(8) });
    const flex = await bedAt('flex', { rows: sampleRows(8) });
    const a = await standard.run('--json');
    const b = await flex.run('--json');
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const sa = JSON.parse(a.stdout) as Summary;
    const sb = JSON.parse(b.stdout) as Summary;
    expect(flex.llm.requests.every((r) => tierOf(r.body) === 'flex' && r.serviceTier === 'flex')).toBe(true);
    expect(standard.llm.requests.every((r) => tierOf(r.body) === 'default' && r.serviceTier === 'default')).toBe(true);
    expect(sa.llm.costUsd).not.toBeNull();
    expect(sb.llm.costUsd).toBeCloseTo((sa.llm.costUsd ?? 0) / 2, 10);
    expect(sb.llm.costUsd).toBeCloseTo(billed(flex.llm), 10);
    expect(sb.llm.flex).toEqual({ requests: 8, capacityRefusals: 0, fellBack: 0 });
    expect(sa.llm.flex).toBeUndefined();
    // The text summary says it too.
    const text = await flex.run('--force');
    expect(text.stdout).toMatch(/flex\s+8 requests sent at flex; 0 capacity refusals \(not billed\); 0 questions sent again at auto/);
  });

  it('waits for a slow flex answer past llm.request_timeout_seconds (OpenAI advises 15 minutes), not for a standard one', async () => {
    const options = { rows: sampleRows(2), llm: { latencyMs: 1_500 }, config: { llm: { request_timeout_seconds: 1, max_retries: 0 } } };
    const flex = await bedAt('flex', options);
    const standard = await bedAt('default', options);
    const slow = JSON.parse((await flex.run('--json')).stdout) as Summary;
    expect(slow.verdicts.error).toBe(0);
    expect(slow.verdicts.valid + slow.verdicts.invalid).toBe(2);
    const timedOut = await standard.run('--json');
    expect(timedOut.code).toBe(3);
    expect((JSON.parse(timedOut.stdout) as Summary).verdicts.error).toBe(2);
  });

  it('retries a flex capacity 429 with backoff, then sends that request at auto; refusals unbilled, counted in the summary and the runs record', async () => {
    const bed = await bedAt('flex', { rows: sampleRows(6) });
    // PRJ-0002 is refused every time it asks flex; PRJ-0004 once.
    bed.llm.injectFault({ kind: 'flex_unavailable' }, { times: Infinity, match: (row) => String(row?.comment ?? '').includes('PRJ-0002') });
    bed.llm.injectFault({ kind: 'flex_unavailable' }, { times: 1, match: (row) => String(row?.comment ?? '').includes('PRJ-0004') });
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.verdicts.error).toBe(0);
    expect(summary.verdicts.valid + summary.verdicts.invalid).toBe(6);
    const stubborn = bed.llm.requests.filter((r) => String(r.row?.comment ?? '').includes('PRJ-0002'));
    expect(stubborn.map((r) => tierOf(r.body))).toEqual([...Array<string>(FLEX_RETRIES + 1).fill('flex'), 'auto']);
    expect(stubborn.slice(0, -1).every((r) => r.status === 429 && r.usage === undefined)).toBe(true);
    expect(stubborn.at(-1)?.serviceTier).toBe('default');
    expect(summary.llm.flex).toEqual({ requests: 6 + FLEX_RETRIES + 1, capacityRefusals: FLEX_RETRIES + 2, fellBack: 1 });
    // The row that fell back is billed at standard prices, the others at flex prices: as the emulator billed.
    expect(summary.llm.costUsd).toBeCloseTo(billed(bed.llm), 10);
    const runs = await bed.cli(['runs', '--config', bed.configPath, '--json']);
    expect(runs.code).toBe(0);
    const [last] = JSON.parse(runs.stdout) as Array<{ summary: Summary }>;
    expect(last?.summary.llm.flex).toEqual(summary.llm.flex);
  });

  it('a flex capacity 429 does not pause the other workers (no shared cool-down, no halved concurrency)', async () => {
    const bed = await bedAt('flex', { rows: sampleRows(40), llm: { latencyMs: 60 }, config: { llm: { max_workers: 5 } } });
    // One row's flex requests are refused for capacity until it falls back to auto: read as
    // rate limits, each would pause every worker and halve the concurrency.
    bed.llm.injectFault({ kind: 'flex_unavailable' }, { times: Infinity, match: (row) => String(row?.comment ?? '').includes('PRJ-0003') });
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    const refused = bed.llm.requests.filter((r) => r.fault === 'flex_unavailable');
    expect(refused).toHaveLength(FLEX_RETRIES + 1);
    const end = refused[0]?.endedAt ?? 0;
    // Flex capacity is flex's: the four other workers go on. At 60 ms an answer they start
    // about 25 requests in 400 ms; paused, or at a halved concurrency, a few at most.
    const during = bed.llm.requests.filter((r) => r.fault === undefined && r.startedAt > end && r.startedAt < end + 400);
    expect(during.length).toBeGreaterThanOrEqual(8);
    expect((JSON.parse(result.stdout) as Summary).llm.flex).toMatchObject({ capacityRefusals: FLEX_RETRIES + 1, fellBack: 1 });
  });

  it("Groq's flex: sent, its 498 capacity_exceeded retried, and billed at Groq's standard price (flex costs what on_demand does)", async () => {
    const bed = await startBed({ rows: sampleRows(5), llm: { profile: 'groq' } });
    beds.push(bed);
    bed.setConfig({ llm: { providers: [{ name: 'groq', kind: 'groq', model: 'gpt-5-mini', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY', service_tier: 'flex' }] } });
    bed.llm.injectFault({ kind: 'flex_unavailable' }, { times: 1 });
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(bed.llm.requests.find((r) => r.fault === 'flex_unavailable')?.status).toBe(498);
    expect(bed.llm.requests.filter((r) => r.status === 200).every((r) => r.serviceTier === 'flex' && tierOf(r.body) === 'flex')).toBe(true);
    expect(summary.llm.flex).toEqual({ requests: 6, capacityRefusals: 1, fellBack: 0 });
    const price = priceOf('gpt-5-mini');
    const full = bed.llm.requests.reduce((sum, r) => (r.usage && price ? sum + costOf({ promptTokens: r.usage.prompt_tokens, completionTokens: r.usage.completion_tokens, cachedTokens: r.usage.cached_tokens }, price) : sum), 0);
    expect(summary.llm.costUsd).toBeCloseTo(full, 10);
  });

  it('a model without flex refuses the field: it is dropped (said, and remembered), the rows answered at standard prices', async () => {
    const bed = await bedAt('flex', { rows: sampleRows(4) });
    bed.setConfig({ llm: { providers: [{ name: 'openai', kind: 'openai', model: 'gpt-4o-mini', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY', service_tier: 'flex' }] } });
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.verdicts.error).toBe(0);
    expect(summary.warnings.some((w) => w.includes('"service_tier"') && w.includes('left out'))).toBe(true);
    const answered = bed.llm.requests.filter((r) => r.status === 200);
    expect(answered).toHaveLength(4);
    expect(answered.every((r) => tierOf(r.body) === undefined && r.serviceTier === 'default')).toBe(true);
    const price = priceOf('gpt-4o-mini');
    const full = answered.reduce((sum, r) => (r.usage && price ? sum + costOf({ promptTokens: r.usage.prompt_tokens, completionTokens: r.usage.completion_tokens, cachedTokens: r.usage.cached_tokens }, price) : sum), 0);
    expect(summary.llm.costUsd).toBeCloseTo(full, 10);
    // The next run remembers: no request carries the field.
    const before = bed.llm.requests.length;
    expect((await bed.run('--json', '--force')).code).toBe(0);
    expect(bed.llm.requests.slice(before).every((r) => tierOf(r.body) === undefined)).toBe(true);
  });

  it('refuses service_tier on a kind that has none (exit 2, naming the field), warns on a generic endpoint', async () => {
    const bed = await startBed({ rows: sampleRows(2) });
    beds.push(bed);
    bed.setConfig({ llm: { providers: [{ name: 'gemini', kind: 'gemini', model: 'gemini-2.5-flash', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY', service_tier: 'flex' }] } });
    const refused = await bed.run('--json');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('llm.providers[0].service_tier');
    expect(refused.stderr).toMatch(/Google Gemini.*has no service tiers/);
    expect(bed.llm.requests).toHaveLength(0);
    bed.setConfig({ llm: { providers: [{ name: 'groq', kind: 'groq', model: 'gpt-5-mini', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY', service_tier: 'priority' }] } });
    const groq = await bed.run('--json');
    expect(groq.code).toBe(2);
    expect(groq.stderr).toContain('takes service_tier auto or flex, not priority');
    bed.setConfig({ llm: { providers: [{ name: 'gateway', model: 'gpt-5-mini', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY', service_tier: 'flex' }] } });
    const generic = await bed.run('--json');
    expect(generic.code).toBe(0);
    const summary = JSON.parse(generic.stdout) as Summary;
    expect(summary.warnings.some((w) => w.includes('llm.providers[0].service_tier (flex)') && w.includes('kind generic'))).toBe(true);
    expect(bed.llm.requests.every((r) => tierOf(r.body) === 'flex')).toBe(true);
  });
});
