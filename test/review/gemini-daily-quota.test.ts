/**
 * What: Gemini's free and paid tiers have a requests-per-DAY quota per model
 * (https://ai.google.dev/gemini-api/docs/rate-limits). Once it is spent, every request is a
 * 429 RESOURCE_EXHAUSTED whose QuotaFailure names quotaId
 * "GenerateRequestsPerDayPerProjectPerModel(-FreeTier)" (bodies as received:
 * https://github.com/langgenius/dify/issues/19838,
 * https://github.com/google-gemini/gemini-cli/issues/8437), still with a short RetryInfo.
 * The gemini profile only ever says per MINUTE (kinder than Google); the fault below is
 * Google's answer for the rest of the day.
 *
 * Why it is a defect: the bot reads any Gemini 429 as "wait and retry": it waits out each
 * retryDelay, gives up per row and writes ERROR into every row (exit 3), where OpenAI's
 * "no quota left" stops the run at once, writes nothing and says what to do. A quota
 * that will not come back before tomorrow is the same case: exit 1, nothing written, the
 * message naming the daily quota.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const MODEL = 'gemini-2.5-flash';

const perDay = [
  {
    error: {
      code: 429,
      message: 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
      status: 'RESOURCE_EXHAUSTED',
      details: [
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', quotaDimensions: { location: 'global', model: MODEL }, quotaValue: '250' }] },
        { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }] },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '0.2s' },
      ],
    },
  },
];

describe("Gemini: the day's request quota spent", () => {
  it('stops the run (exit 1), names the daily quota, writes nothing', async () => {
    const rows = sampleRows(12);
    bed = await startBed({ rows, llm: { profile: 'gemini', models: [MODEL] }, config: { llm: { max_workers: 3, max_retries: 2 } } });
    bed.setConfig({ llm: { providers: [{ name: 'gemini', kind: 'gemini', model: MODEL, base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
    bed.llm.injectFault({ kind: 'status', status: 429, body: perDay }, { times: Infinity });
    const result = await bed.run('--json');
    const summary = JSON.parse(result.stdout) as { fatal?: { message: string; hint?: string } };
    expect(result.code, result.stdout).toBe(1);
    expect(`${summary.fatal?.message} ${summary.fatal?.hint}`).toMatch(/PerDay|per day|daily/i);
    expect(bed.values().slice(1)).toEqual(rows);
  });
});
