/**
 * What: OpenRouter answers 403 when "your chosen model requires moderation and your input
 * was flagged" (https://openrouter.ai/docs/api/reference/errors-and-debugging: error codes
 * and "Moderation Errors", body {error:{code:403,message,metadata:{reasons,flagged_input,
 * provider_name,model_slug}}}). That is one ROW's content, not the key. The openrouter
 * profile never answers it (kinder than OpenRouter); the fault below is OpenRouter's answer
 * to one flagged row.
 *
 * Why it is a defect: the bot reads every 403 as "the key has no access to this model"
 * (kind auth) and drops the provider for the whole run. One comment the moderation model
 * dislikes then costs every other row its verdict. Only the flagged row should end in
 * ERROR (exit 3), with OpenRouter's reason; the 39 others get their verdicts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const MODEL = 'openai/gpt-4o-mini';

describe('OpenRouter: one row flagged by moderation (403)', () => {
  it('fails that row only; every other row gets its verdict', async () => {
    const rows = sampleRows(40);
    bed = await startBed({ rows, llm: { profile: 'openrouter', models: [MODEL] }, config: { llm: { max_workers: 2, max_retries: 2 } } });
    bed.setConfig({ llm: { providers: [{ name: 'openrouter', kind: 'openrouter', model: MODEL, base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
    const flagged = rows[3]?.[2] ?? '';
    bed.llm.injectFault(
      {
        kind: 'status',
        status: 403,
        body: { error: { code: 403, message: `${MODEL} requires moderation on OpenAI. Your input was flagged for "harassment".`, metadata: { reasons: ['harassment'], flagged_input: flagged.slice(0, 100), provider_name: 'OpenAI', model_slug: MODEL } } },
      },
      { times: Infinity, match: (row) => row?.comment === flagged },
    );
    const result = await bed.run('--json');
    expect(result.code, result.stdout).toBe(3);
    const values = bed.values();
    rows.forEach((row, i) => {
      const verdict = values[i + 1]?.[col(values, 'Validation')];
      if (i === 3) expect(verdict).toBe('ERROR');
      else expect(verdict, row[0]).toBe(expectedCells(row).verdict);
    });
    expect(values[4]?.[col(values, 'Issues')]).toMatch(/flagged/);
  });
});
