/**
 * What: OpenRouter answers 402 when "your account or API key has insufficient credits. Add
 * more credits and retry the request" (https://openrouter.ai/docs/api/reference/errors-and-debugging,
 * body {error:{code:402,message}}). The openrouter profile never answers it (kinder than
 * OpenRouter); the fault below is its answer to every request once the credits are gone.
 *
 * Why it is a defect: OpenAI's "no quota left" (429 insufficient_quota) stops the run with
 * a message that says to add credit; OpenRouter's own way of saying the same is read as a
 * row's "rejected" failure, so ERROR is written into every row and the run exits 3. A
 * provider-wide condition must stop the run early, write nothing into the rows, and say
 * to add credits (issue 20: a config error at a provider stops the run early).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const MODEL = 'openai/gpt-4o-mini';

describe('OpenRouter: out of credits (402)', () => {
  it('stops the run (exit 1), says credits, writes nothing', async () => {
    const rows = sampleRows(40);
    bed = await startBed({ rows, llm: { profile: 'openrouter', models: [MODEL] }, config: { llm: { max_workers: 5, max_retries: 3 } } });
    bed.setConfig({ llm: { providers: [{ name: 'openrouter', kind: 'openrouter', model: MODEL, base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
    bed.llm.injectFault(
      {
        kind: 'status',
        status: 402,
        body: { error: { code: 402, message: 'Insufficient credits. This account never purchased credits. Make sure your key is on the correct account or org, and if so, purchase more at https://openrouter.ai/settings/credits' } },
      },
      { times: Infinity },
    );
    const result = await bed.run('--json');
    const summary = JSON.parse(result.stdout) as { fatal?: { message: string; hint?: string } };
    expect(result.code, result.stdout).toBe(1);
    expect(`${summary.fatal?.message} ${summary.fatal?.hint}`).toMatch(/credits/i);
    expect(bed.values().slice(1)).toEqual(rows);
    expect(bed.llm.requests.filter((r) => r.path === '/v1/chat/completions').length).toBeLessThanOrEqual(5);
  });
});
